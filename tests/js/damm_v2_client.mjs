// Meteora's DAMM v2 (cp-amm) TypeScript SDK (@meteora-ag/cp-amm-sdk from npm, pinned in package.json)
// as an oracle for the engine's DAMM v2 swap quote. Reads one JSON request on stdin, prints one JSON
// answer {"ok": answer} or {"error": message}:
//   {"op": "quote", "cases": [{"pool": base64 account data (with the 8-byte discriminator),
//        "timestamp": string, "slot": string, "amount_in": string (decimal strings; JSON numbers
//        are accepted only while they are safe integers, as JSON.parse reads numbers as doubles),
//        "a_to_b": bool, "has_referral": bool}, ...]}
//     -> one answer per case, in order: the exact-input quote's fields as decimal strings
//        {"included_fee_input_amount", "excluded_fee_input_amount", "amount_left", "output_amount",
//         "next_sqrt_price", "claiming_fee", "protocol_fee", "compounding_fee", "referral_fee"},
//        or {"error": message} when the SDK throws. When the quote function throws only in its
//        price-impact step (zero output), "swap_result" holds the SDK's swap result beside the error.
//   {"op": "decode", "pools": [base64, ...]} -> the pool as the SDK decodes it (camelCase fields,
//        integers and keys as strings), for checking a decoder.
// Everything computed is the SDK's own code: the pool is decoded by the SDK's Anchor program coder
// (as CpAmm.fetchPoolState does), the current point is chosen as CpAmm.getQuote chooses it
// (timestamp when activationType is non-zero, else slot), and the quote is swapQuoteExactInput
// (which CpAmm.getQuote calls; slippage 0, no Token-2022 transfer fee), whose swap result is
// getSwapResultFromExactInput (with applySwapResult for compounding pools).
import BN from 'bn.js';
import {
    CpAmm, getFeeMode, getSwapResultFromExactInput, isSwapEnabled, swapQuoteExactInput,
} from '@meteora-ag/cp-amm-sdk';
import { Connection, PublicKey } from '@solana/web3.js';
import { serve } from './serve.mjs';

// The connection is never used: nothing here talks to a node.
const cpAmm = new CpAmm(new Connection('http://127.0.0.1:1'));
const FIELDS = [
    ['included_fee_input_amount', 'includedFeeInputAmount'],
    ['excluded_fee_input_amount', 'excludedFeeInputAmount'],
    ['amount_left', 'amountLeft'],
    ['output_amount', 'outputAmount'],
    ['next_sqrt_price', 'nextSqrtPrice'],
    ['claiming_fee', 'claimingFee'],
    ['protocol_fee', 'protocolFee'],
    ['compounding_fee', 'compoundingFee'],
    ['referral_fee', 'referralFee'],
];

const decodePool = (b64) => cpAmm._program.coder.accounts.decode('pool', Buffer.from(b64, 'base64'));
const fields = (r) => Object.fromEntries(FIELDS.map(([snake, camel]) => [snake, r[camel].toString()]));
function int(v, name) {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) {
        throw new Error(`${name} ${v} is not a safe integer: send integers as decimal strings`);
    }
    return new BN(String(v));
}
const message = (e) => (e && e.message ? e.message : String(e));

function quote(c) {
    const pool = decodePool(c.pool);
    const currentPoint = pool.activationType ? int(c.timestamp, 'timestamp') : int(c.slot, 'slot');
    const amountIn = int(c.amount_in, 'amount_in');
    try {
        return fields(swapQuoteExactInput(pool, currentPoint, amountIn, 0, Boolean(c.a_to_b),
            Boolean(c.has_referral), 0, 0));
    } catch (e) {
        const out = { error: message(e) };
        // swapQuoteExactInput's guards passed and its swap result was computed before it threw?
        if (!amountIn.lte(new BN(0)) && isSwapEnabled(pool, currentPoint)) {
            const direction = c.a_to_b ? 0 : 1;
            try {
                const feeMode = getFeeMode(pool.collectFeeMode, direction, Boolean(c.has_referral));
                out.swap_result = fields(getSwapResultFromExactInput(pool, amountIn, feeMode, direction, currentPoint));
            } catch (_) { /* the swap itself threw: the error above is its */ }
        }
        return out;
    }
}

function plain(v) {
    if (v === null || v === undefined) return v;
    if (BN.isBN(v)) return v.toString();
    if (v instanceof PublicKey) return v.toBase58();
    if (Array.isArray(v)) return v.map(plain);
    if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
}

function answer(req) {
    if (req.op === 'quote') return req.cases.map(quote);
    if (req.op === 'decode') return req.pools.map((b) => plain(decodePool(b)));
    throw new Error(`unknown op ${req.op}`);
}

serve(answer);
