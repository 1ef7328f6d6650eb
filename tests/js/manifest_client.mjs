// Manifest's TypeScript SDK (@cks-systems/manifest-sdk from npm, pinned in package.json) as an
// oracle for the engine's Manifest market decoder. Reads one JSON request on stdin, prints one
// JSON answer {"ok": answer} or {"error": message}:
//   {"op": "decode", "markets": [{"address": base58, "data": base64 account data, "slot": string}]}
//     -> per market, as the SDK's Market.loadFromBuffer decodes it at that slot: the header
//        fields, "bids" and "asks" (Market.bids() / asks(): the orders the SDK keeps, best first)
//        each {"trader", "num_base_atoms", "sequence_number", "last_valid_slot", "token_price",
//        "order_type", "spread_bps"} (integers as decimal strings; the price the SDK's float of
//        quote tokens per base token), and "seats" (Market.claimedSeats(): trader keys).
// Everything decoded is the SDK's own code; nothing here talks to a node.
import { Market } from '@cks-systems/manifest-sdk';
import { PublicKey } from '@solana/web3.js';

const text = (v) => (v === undefined || v === null ? null : v.toString());

function order(o) {
    return {
        trader: o.trader.toBase58(),
        num_base_atoms: text(o.numBaseTokens),
        sequence_number: text(o.sequenceNumber),
        last_valid_slot: text(o.lastValidSlot),
        token_price: o.tokenPrice,
        order_type: o.orderType,
        spread_bps: o.spreadBps ?? null,
    };
}

function decode(m) {
    const market = Market.loadFromBuffer({
        address: new PublicKey(m.address),
        buffer: Buffer.from(m.data, 'base64'),
        slot: Number(m.slot),
    });
    return {
        base_mint: market.baseMint().toBase58(),
        quote_mint: market.quoteMint().toBase58(),
        base_decimals: market.baseDecimals(),
        quote_decimals: market.quoteDecimals(),
        quote_volume: text(market.quoteVolume()),
        bids: market.bids().map(order),
        asks: market.asks().map(order),
        seats: market.claimedSeats().map((s) => s.publicKey.toBase58()),
    };
}

let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
    try {
        const req = JSON.parse(input);
        if (req.op !== 'decode') throw new Error(`unknown op ${req.op}`);
        process.stdout.write(JSON.stringify({ ok: req.markets.map(decode) }));
    } catch (e) {
        process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }));
    }
});
