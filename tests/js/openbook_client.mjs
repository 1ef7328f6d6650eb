// The official OpenBook v2 TypeScript client (@openbook-dex/openbook-v2 from npm, pinned in
// package.json) as an oracle for the engine's OpenBook v2 decoders and L2 ladder
// (tests/support/jsbook.py drives it). Reads one JSON request on stdin, prints one JSON answer:
//   {"op": "random", "seed": N, "bids": N, "asks": N, "pegged": N, "events": N, "now": T,
//    "boundary": bool, "empty_root_garbage": bool}
//       -> {"market", "bids", "asks", "event_heap": base64 bytes, "now": T,
//           "oracle_price_lots": the book's centre, where its pegged orders interleave}
//   {"op": "decode", "market", "bids", "asks", "event_heap"?: base64, "now": T,
//    "oracle_price_lots": N | null, "depth": N}
//       -> the client's view (see decodeAll)
//   {"op": "time", "market", "bids", "asks": base64, "iterations": N, "depth": N, "now": T}
//       -> {"median_ns": N}
//   {"op": "take_ix", "market": base64, "market_key", "user_base", "user_quote": base58,
//    "args": {side, price_lots, max_base_lots, max_quote_lots_including_fees, order_type, limit}}
//       -> {"wallet", "program_id", "data": base64, "keys": [{pubkey, signer, writable}]}
//   {"op": "many", "requests": [request, ...]} -> [{"ok": answer} | {"error": ...}, ...]
//
// Everything that decodes is the client's own code: the Anchor coder built from the
// package's IDL (client.program.coder) for Market and EventHeap, BookSide.decodeAccountfromBuffer
// (what Market.loadBids/loadAsks use), BookSide.fixedItems/items (its tree walk and its merge of
// the fixed and oracle-pegged trees), Order.isExpired (with BookSide.clusterTime = now),
// BookSide.getL2 (its L2 aggregation) and Market.priceLotsToUi/baseLotsToUi (UI units).
//
// Two things the client does not do and this script does, each marked below:
//  * oracle-pegged prices: the package's Order constructor throws 'Not implemented yet' for a
//    pegged order. Pegged leaves are walked by the client's own fixedItems (on a view of the
//    BookSide whose fixed root is the pegged root), and their price is then set by the
//    program's rule (bookside_iterator.rs oracle_pegged_price: oracle + offset, Skipped
//    outside 1..i64::MAX, Invalid past peg_limit). Without an oracle price the program's
//    iterator yields no pegged order at all (rank_orders), so neither does this script.
//  * skipping invalid orders: getL2 aggregates every order, expired ones included. The
//    "valid" ladder runs the client's getL2 over the client's items() minus the orders the
//    client itself flags isExpired (and pegged orders the program counts invalid); the raw
//    getL2 is returned too.
//
// The "random" op writes the accounts independently of the engine: its own crit-bit tree writer
// (inner/leaf/free node slots as programs/openbook-v2/src/state/orderbook/ordertree.rs lays them
// out) and event-heap lists (heap.rs), encoded with the client's Anchor coder.
import pkg from '@openbook-dex/openbook-v2';
import anchor from '@coral-xyz/anchor';
import { Connection, Keypair, PublicKey } from '@solana/web3.js';

const { OpenBookV2Client, BookSide, Market, EventHeap, SideUtils, nameToString } = pkg;
const { AnchorProvider, BN, Wallet } = anchor;

const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (c) => { text += c; });
  process.stdin.on('end', () => resolve(text));
}));

// A client that never connects: decoding needs only its program's coder.
const provider = new AnchorProvider(new Connection('http://127.0.0.1:9'),
  new Wallet(Keypair.fromSeed(new Uint8Array(32))), {});
const client = new OpenBookV2Client(provider);
const coder = client.program.coder;

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const PEG_ZERO = 1n << 63n; // oracle_pegged_price_data(0) (nodes.rs)

// The client's coder.accounts.encode, whose scratch buffer is 1000 bytes (Anchor 0.29), with room
// for the 90 KB book sides and event heap: the same IDL layout and discriminator.
function encodeAccount(name, account) {
  const layout = coder.accounts.accountLayouts.get(name);
  const buffer = Buffer.alloc(layout.span > 0 ? layout.span : 200000);
  const len = layout.encode(account, buffer);
  return Buffer.concat([anchor.BorshAccountsCoder.accountDiscriminator(name), buffer.subarray(0, len)]);
}

// ---------------------------------------------------------------------------- random accounts

function rng(seed) { // splitmix64 over BigInt: same stream for the same seed
  let s = BigInt.asUintN(64, BigInt(seed) * 0x9E3779B97F4A7C15n + 0x2545F4914F6CDD1Dn);
  const next = () => {
    s = BigInt.asUintN(64, s + 0x9E3779B97F4A7C15n);
    let z = s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94D049BB133111EBn);
    return z ^ (z >> 31n);
  };
  const r = {
    u64: next,
    int: (lo, hi) => lo + Number(next() % BigInt(hi - lo + 1)), // lo..=hi, small ranges
    big: (lo, hi) => lo + next() % (hi - lo + 1n),
    chance: (p) => Number(next() % 1000000n) < p * 1000000,
    pick: (xs) => xs[Number(next() % BigInt(xs.length))],
    bytes: (n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = Number(next() & 0xFFn); return b; },
    key: () => new PublicKey(r.bytes(32)),
    shuffle: (xs) => { for (let i = xs.length - 1; i > 0; i--) { const j = r.int(0, i); [xs[i], xs[j]] = [xs[j], xs[i]]; } return xs; },
  };
  return r;
}

const bn = (x) => new BN(BigInt.asUintN(128, BigInt(x)).toString());
const bnI64 = (x) => new BN(BigInt(x).toString()); // negative values as BN; borsh writes two's complement
const opt = (k) => ({ key: k });

function randomMarketAccount(r, bidsKey, asksKey, heapKey) {
  const name = new Uint8Array(16);
  // some names hold bytes after a NUL or start with NULs: the client's nameToString stops at
  // the first NUL, the program's Market::name trims NULs at both ends only (market.rs)
  const text = r.pick([`OB-${r.int(0, 99)}\0junk`, `\0\0OB-${r.int(0, 99)}`, `OB-${r.int(0, 99999)}`,
    `OB-${r.int(0, 99999)}`, `OB-${r.int(0, 99999)}`]);
  for (let i = 0; i < text.length; i++) name[i] = text.charCodeAt(i);
  const zeroOr = () => (r.chance(0.5) ? PublicKey.default : r.key());
  const takerFee = r.big(0n, 2000n);
  const makerFee = r.big(0n, takerFee + 1000n) - takerFee;
  return {
    bump: r.int(0, 255), baseDecimals: r.int(0, 9), quoteDecimals: r.int(0, 9), padding1: [0, 0, 0, 0, 0],
    marketAuthority: r.key(), timeExpiry: bnI64(r.chance(0.3) ? r.big(0n, 2000000000n) : 0n),
    collectFeeAdmin: r.key(), openOrdersAdmin: opt(zeroOr()), consumeEventsAdmin: opt(zeroOr()),
    closeMarketAdmin: opt(zeroOr()), name: Array.from(name), bids: bidsKey, asks: asksKey, eventHeap: heapKey,
    oracleA: opt(zeroOr()), oracleB: opt(zeroOr()),
    oracleConfig: { confFilter: r.int(0, 1000) / 1000, maxStalenessSlots: bnI64(r.chance(0.5) ? -1n : r.big(0n, 1000n)), reserved: new Array(72).fill(0) },
    quoteLotSize: bnI64(r.pick([1n, 10n, 100n, 1000n, 7n, 1000000n])),
    baseLotSize: bnI64(r.pick([1n, 10n, 100n, 1000n, 1000000n, 100000000n, 3n])),
    seqNum: bn(r.big(0n, 1000000n)), registrationTime: bnI64(r.big(1600000000n, 1800000000n)),
    // fees create_market.rs accepts: taker >= 0, a maker rebate no larger than the taker fee
    makerFee: bnI64(makerFee), takerFee: bnI64(takerFee),
    feesAccrued: bn(r.u64()), feesToReferrers: bn(r.u64()), referrerRebatesAccrued: bn(r.u64()),
    feesAvailable: bn(r.u64()), makerVolume: bn(r.u64()), takerVolumeWoOo: bn(r.u64()),
    baseMint: r.key(), quoteMint: r.key(), marketBaseVault: r.key(), baseDepositTotal: bn(r.u64()),
    marketQuoteVault: r.key(), quoteDepositTotal: bn(r.u64()), reserved: new Array(128).fill(0),
  };
}

function expiryOf(o) { return o.timeInForce === 0 ? U64_MAX : o.timestamp + BigInt(o.timeInForce); }

function randomOrders(r, side, count, pegged, now, boundary, seq, center) {
  const orders = [];
  const bid = side === 'bid';
  const spread = BigInt(r.int(1, 50));
  const width = BigInt(Math.max(2, Math.ceil(count / r.int(1, 4)))); // a few orders per level
  for (let i = 0; i < count; i++) {
    let priceData;
    if (pegged) { // an offset from the oracle price, as oracle_pegged_price_data (nodes.rs)
      const offset = bid ? -r.big(0n, 60n) + 10n : r.big(0n, 60n) - 10n;
      priceData = BigInt.asUintN(64, offset + PEG_ZERO);
    } else {
      const step = r.big(0n, width);
      priceData = bid ? center - spread - step : center + spread + step;
      if (priceData < 1n) priceData = 1n;
    }
    const s = seq.next++;
    const low = bid ? BigInt.asUintN(64, ~s) : s; // new_node_key (nodes.rs)
    const timeInForce = r.chance(0.5) ? 0 : r.int(1, 3000);
    let timestamp = BigInt(now) - r.big(0n, 2500n);
    if (boundary && timeInForce && r.chance(0.2)) timestamp = BigInt(now) - BigInt(timeInForce); // expires exactly at now
    // a peg limit near the centre: some pegged orders are past it at the oracle price (Invalid)
    const pegLimit = pegged && r.chance(0.5) ? center + r.big(0n, 60n) - 30n : -1n;
    orders.push({
      key: (priceData << 64n) | low, ownerSlot: r.int(0, 255), timeInForce, owner: r.key(),
      quantity: r.chance(0.1) ? r.big(1n, 1n << 40n) : r.big(1n, 5000n), timestamp,
      pegLimit: pegged ? pegLimit : r.pick([-1n, 0n]), clientOrderId: r.u64(),
    });
  }
  // keys are unique: seq numbers are
  return orders;
}

function clz128(x) { let n = 0; for (let b = 127n; b >= 0n; b--) { if ((x >> b) & 1n) return n; n++; } return 128; }

// Lays one crit-bit tree (ordertree.rs: an inner node's children share its top prefix_len key bits,
// the left child has a 0 at the next bit, the right a 1; child_earliest_expiry per child) into
// slots taken from `slots`. Returns [handle, earliest expiry].
function layTree(r, orders, slots, nodes) {
  if (orders.length === 1) {
    const o = orders[0];
    const h = slots.pop();
    nodes[h] = { leaf: o };
    return [h, expiryOf(o)];
  }
  const sorted = [...orders].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const prefixLen = clz128(sorted[0].key ^ sorted[sorted.length - 1].key);
  const mask = 1n << BigInt(127 - prefixLen);
  const left = sorted.filter((o) => (o.key & mask) === 0n);
  const right = sorted.filter((o) => (o.key & mask) !== 0n);
  const h = slots.pop();
  const [lh, le] = layTree(r, left, slots, nodes);
  const [rh, re] = layTree(r, right, slots, nodes);
  nodes[h] = { inner: { prefixLen, key: r.pick(sorted).key, children: [lh, rh], expiry: [le, re] } };
  return [h, le < re ? le : re];
}

async function randomBookSide(r, side, nFixed, nPegged, now, boundary, emptyRootGarbage, center) {
  const seq = { next: r.big(0n, 1n << 40n) };
  const fixed = randomOrders(r, side, nFixed, false, now, boundary, seq, center);
  const pegged = randomOrders(r, side, nPegged, true, now, boundary, seq, center);
  const used = (fixed.length ? 2 * fixed.length - 1 : 0) + (pegged.length ? 2 * pegged.length - 1 : 0);
  const nFree = Math.min(r.int(0, 40), 1024 - used);
  const bump = Math.min(1024, used + nFree + (r.chance(0.3) ? 0 : 0));
  const slots = r.shuffle([...Array(bump).keys()]);
  const nodes = new Array(1024).fill(null);
  const roots = [];
  for (const tree of [fixed, pegged]) {
    if (tree.length === 0) roots.push({ maybeNode: emptyRootGarbage ? r.int(0, 1023) : 0, leafCount: 0 });
    else roots.push({ maybeNode: layTree(r, tree, slots, nodes)[0], leafCount: tree.length });
  }
  // what remains are free slots: a stack whose bottom is LastFreeNode (ordertree.rs remove)
  const free = slots;
  free.forEach((h, i) => { nodes[h] = { free: { last: i === 0, next: i === 0 ? r.int(0, 1023) : free[i - 1] } }; });
  const anyNodes = nodes.map((n) => {
    if (n === null) return { tag: 0, data: new Array(87).fill(0) };
    let bytes;
    if (n.leaf) {
      const o = n.leaf;
      bytes = coder.types.encode('LeafNode', {
        tag: 2, ownerSlot: o.ownerSlot, timeInForce: o.timeInForce, padding: [0, 0, 0, 0], key: bn(o.key),
        owner: o.owner, quantity: bnI64(o.quantity), timestamp: bn(o.timestamp), pegLimit: bnI64(o.pegLimit),
        clientOrderId: bn(o.clientOrderId),
      });
    } else if (n.inner) {
      const i = n.inner;
      bytes = coder.types.encode('InnerNode', {
        tag: 1, padding: [0, 0, 0], prefixLen: i.prefixLen, key: bn(i.key), children: i.children,
        childEarliestExpiry: i.expiry.map(bn), reserved: new Array(40).fill(0),
      });
    } else {
      bytes = Buffer.alloc(88);
      bytes[0] = n.free.last ? 4 : 3;
      bytes.writeUInt32LE(n.free.next, 4);
    }
    return { tag: bytes[0], data: Array.from(bytes.subarray(1, 88)) };
  });
  const account = {
    roots, reservedRoots: new Array(4).fill(0).map(() => ({ maybeNode: 0, leafCount: 0 })),
    reserved: new Array(256).fill(0),
    nodes: {
      orderTreeType: side === 'bid' ? 0 : 1, padding: [0, 0, 0], bumpIndex: bump, freeListLen: free.length,
      freeListHead: free.length ? free[free.length - 1] : 0, reserved: new Array(512).fill(0), nodes: anyNodes,
    },
  };
  return encodeAccount('bookSide', account);
}

async function randomEventHeap(r, count, now) {
  const NO_NODE = 0xFFFF;
  const slots = r.shuffle([...Array(600).keys()]);
  const usedSlots = slots.slice(0, count);
  const freeSlots = slots.slice(count);
  const nodes = new Array(600);
  // used: a circular doubly linked list from used_head (heap.rs push_back)
  usedSlots.forEach((s, i) => {
    const kind = r.chance(0.6) ? 0 : 1;
    let ev;
    if (kind === 0) {
      ev = coder.types.encode('FillEvent', {
        eventType: 0, takerSide: r.int(0, 1), makerOut: r.int(0, 1), makerSlot: r.int(0, 255), padding: [0, 0, 0, 0],
        timestamp: bn(BigInt(now) - r.big(0n, 100n)), seqNum: bn(r.big(0n, 1n << 40n)), maker: r.key(),
        makerTimestamp: bn(BigInt(now) - r.big(0n, 5000n)), taker: r.key(), takerClientOrderId: bn(r.u64()),
        price: bnI64(r.big(1n, 1000000n)), pegLimit: bnI64(r.pick([-1n, r.big(1n, 1000n)])),
        quantity: bnI64(r.big(1n, 100000n)), makerClientOrderId: bn(r.u64()), reserved: new Array(8).fill(0),
      });
    } else {
      ev = coder.types.encode('OutEvent', {
        eventType: 1, side: r.int(0, 1), ownerSlot: r.int(0, 255), padding0: new Array(5).fill(0),
        timestamp: bn(BigInt(now) - r.big(0n, 100n)), seqNum: bn(r.big(0n, 1n << 40n)), owner: r.key(),
        quantity: bnI64(r.big(1n, 100000n)), padding1: new Array(80).fill(0),
      });
    }
    nodes[s] = {
      next: usedSlots[(i + 1) % count], prev: usedSlots[(i + count - 1) % count], pad: [0, 0, 0, 0],
      event: { eventType: ev[0], padding: Array.from(ev.subarray(1, 144)) },
    };
  });
  freeSlots.forEach((s, i) => {
    nodes[s] = { next: i + 1 < freeSlots.length ? freeSlots[i + 1] : NO_NODE, prev: NO_NODE, pad: [0, 0, 0, 0],
      event: { eventType: 0, padding: new Array(143).fill(0) } };
  });
  const header = { freeHead: freeSlots.length ? freeSlots[0] : NO_NODE, usedHead: count ? usedSlots[0] : NO_NODE,
    count, padd: 0, seqNum: bn(r.big(0n, 1n << 40n)) };
  return encodeAccount('eventHeap', { header, nodes, reserved: new Array(64).fill(0) });
}

async function randomAccounts(q) {
  const r = rng(q.seed);
  const now = q.now ?? 1700000000;
  const keys = [r.key(), r.key(), r.key()];
  const market = encodeAccount('market', randomMarketAccount(r, ...keys));
  const pegged = q.pegged ?? 0;
  const center = r.big(60n, 100000n);
  const bids = await randomBookSide(r, 'bid', q.bids ?? 20, pegged, now, !!q.boundary, !!q.empty_root_garbage, center);
  const asks = await randomBookSide(r, 'ask', q.asks ?? 20, pegged, now, !!q.boundary, !!q.empty_root_garbage, center);
  const eventHeap = await randomEventHeap(r, q.events ?? 10, now);
  return { market: market.toString('base64'), bids: bids.toString('base64'), asks: asks.toString('base64'),
    event_heap: eventHeap.toString('base64'), now, oracle_price_lots: Number(center) };
}

// ---------------------------------------------------------------------------- the client's view

const s = (x) => x.toString();
const pk = (x) => x.toBase58();

function plainMarket(m, market) {
  const a = m;
  return {
    bump: a.bump, base_decimals: a.baseDecimals, quote_decimals: a.quoteDecimals,
    market_authority: pk(a.marketAuthority), time_expiry: s(a.timeExpiry), collect_fee_admin: pk(a.collectFeeAdmin),
    open_orders_admin: pk(a.openOrdersAdmin.key), consume_events_admin: pk(a.consumeEventsAdmin.key),
    close_market_admin: pk(a.closeMarketAdmin.key), name: nameToString(a.name), bids: pk(a.bids), asks: pk(a.asks),
    event_heap: pk(a.eventHeap), oracle_a: pk(a.oracleA.key), oracle_b: pk(a.oracleB.key),
    conf_filter: a.oracleConfig.confFilter, max_staleness_slots: s(a.oracleConfig.maxStalenessSlots),
    quote_lot_size: s(a.quoteLotSize), base_lot_size: s(a.baseLotSize), seq_num: s(a.seqNum),
    registration_time: s(a.registrationTime), maker_fee: s(a.makerFee), taker_fee: s(a.takerFee),
    fees_accrued: s(a.feesAccrued), fees_to_referrers: s(a.feesToReferrers),
    referrer_rebates_accrued: s(a.referrerRebatesAccrued), fees_available: s(a.feesAvailable),
    maker_volume: s(a.makerVolume), taker_volume_wo_oo: s(a.takerVolumeWoOo), base_mint: pk(a.baseMint),
    quote_mint: pk(a.quoteMint), market_base_vault: pk(a.marketBaseVault), base_deposit_total: s(a.baseDepositTotal),
    market_quote_vault: pk(a.marketQuoteVault), quote_deposit_total: s(a.quoteDepositTotal),
    // the client's derived UI factors (accounts/market.ts)
    tick_size: s(market.tickSize), min_order_size: s(market.minOrderSize),
  };
}

// The program's effective price of a pegged order (bookside_iterator.rs oracle_pegged_price):
// [state, price]; the client has none (Order throws 'Not implemented yet').
function peggedPrice(oracle, leaf, bid) {
  const offset = BigInt.asIntN(64, BigInt(leaf.key.ushrn(64).toString()) - PEG_ZERO);
  let price = BigInt(oracle) + offset;
  if (price > I64_MAX) price = I64_MAX; // saturating_add
  if (price < -(1n << 63n)) price = -(1n << 63n);
  if (price >= 1n && price < I64_MAX) {
    const limit = BigInt(leaf.pegLimit.toString());
    const better = bid ? price > limit : price < limit; // Side::is_price_better
    return [limit !== -1n && better ? 'invalid' : 'valid', price];
  }
  return ['skipped', price < 1n ? 1n : price];
}

function clientBookSide(market, data, side, now, oracle) {
  const bs = new BookSide(market, PublicKey.default, BookSide.decodeAccountfromBuffer(data), side);
  bs.clusterTime = new BN(now);
  const bid = side === SideUtils.Bid;
  // the client's own walk of the pegged tree: a view whose fixed root is the pegged root
  const peggedView = Object.create(bs);
  peggedView.account = { ...bs.account, roots: [bs.account.roots[1], { maybeNode: 0, leafCount: 0 }] };
  bs.oraclePeggedItems = function* pegged() {
    if (oracle === null || oracle === undefined) return; // the program yields none without an oracle
    let started = false;
    for (const o of BookSide.prototype.fixedItems.call(peggedView)) {
      const [state, price] = peggedPrice(oracle, o.leafNode, bid);
      if (!started && state === 'skipped') continue; // BookSideIter::next skips these at the front
      started = true;
      o.priceLots = new BN(price.toString());
      o.isOraclePegged = true;
      o.pegState = state;
      yield o;
    }
  };
  return bs;
}

function plainOrder(o) {
  const l = o.leafNode;
  return {
    price_lots: s(o.priceLots), size_lots: s(o.sizeLots), price: o.price, size: o.size, key: s(l.key),
    seq_num: s(o.seqNum), owner: pk(l.owner), owner_slot: l.ownerSlot, timestamp: s(l.timestamp),
    time_in_force: l.timeInForce, peg_limit: s(l.pegLimit), client_order_id: s(l.clientOrderId),
    pegged: o.isOraclePegged, expired: o.isExpired, peg_state: o.pegState ?? null,
  };
}

function validView(bs) { // the client's items() minus what the client flags expired (and invalid pegs)
  const v = Object.create(bs);
  v.items = function* valid() {
    for (const o of BookSide.prototype.items.call(bs)) {
      if (!o.isExpired && (o.pegState === undefined || o.pegState === 'valid')) yield o;
    }
  };
  return v;
}

const level = ([price, size, priceLots, sizeLots]) => ({ price, size, price_lots: s(priceLots), size_lots: s(sizeLots) });

function decodeAll(q) {
  const marketAccount = coder.accounts.decode('market', Buffer.from(q.market, 'base64'));
  const market = new Market(client, PublicKey.default, marketAccount);
  const out = { market: plainMarket(marketAccount, market) };
  const depth = q.depth ?? 1000;
  for (const [name, side] of [['bids', SideUtils.Bid], ['asks', SideUtils.Ask]]) {
    if (!q[name]) continue;
    const bs = clientBookSide(market, Buffer.from(q[name], 'base64'), side, q.now, q.oracle_price_lots);
    const raw = bs.account;
    const fixedCount = raw.roots[0].leafCount;
    const peggedCount = raw.roots[1].leafCount;
    const orders = [...bs.items()].map(plainOrder);
    const valid = validView(bs);
    const l2 = valid.getL2(depth).map(level);
    const best = valid.best();
    out[name] = {
      order_tree_type: raw.nodes.orderTreeType, bump_index: raw.nodes.bumpIndex,
      free_list_len: raw.nodes.freeListLen, free_list_head: raw.nodes.freeListHead,
      fixed_leaf_count: fixedCount, pegged_leaf_count: peggedCount,
      orders, l2, best: best ? plainOrder(best) : null,
      // the client's getL2 as it is: every order, expired ones included
      l2_all: bs.getL2(depth).map(level),
    };
  }
  if (q.event_heap) {
    const heapAccount = coder.accounts.decode('eventHeap', Buffer.from(q.event_heap, 'base64'));
    const heap = new EventHeap(PublicKey.default, heapAccount, market);
    const h = heapAccount.header;
    const plain = (v) => (v instanceof PublicKey ? pk(v) : BN.isBN(v) ? s(v) : v);
    out.event_heap = {
      header: { free_head: h.freeHead, used_head: h.usedHead, count: h.count, seq_num: s(h.seqNum) },
      events: [...parsedEvents(heap)].map((e) => Object.fromEntries(
        Object.entries(e).filter(([k]) => !k.startsWith('padding') && k !== 'reserved').map(([k, v]) => [k, plain(v)]))),
    };
  }
  return out;
}

// EventHeap.parsedEvents as the client writes it, with one fix: it destructures
// `const { decode } = ...coder.types` and so calls decode without its `this`, which throws
// (TypeError reading 'typeLayouts') on any heap holding an event (package 0.2.10). The walk is the
// client's rawEvents; each event is decoded by the client's coder as parsedEvents would.
function* parsedEvents(heap) {
  for (const event of heap.rawEvents()) {
    const buffer = Buffer.from([event.eventType].concat(event.padding));
    if (event.eventType === 0) yield { kind: 'fill', ...coder.types.decode('FillEvent', buffer) };
    else if (event.eventType === 1) yield { kind: 'out', ...coder.types.decode('OutEvent', buffer) };
  }
}

// The client's decode of the market and both book sides plus their L2 rebuild, timed by node.
function timeLadder(q) {
  const m = Buffer.from(q.market, 'base64');
  const b = Buffer.from(q.bids, 'base64');
  const a = Buffer.from(q.asks, 'base64');
  const depth = q.depth ?? 1000;
  const once = () => {
    const market = new Market(client, PublicKey.default, coder.accounts.decode('market', m));
    const bids = clientBookSide(market, b, SideUtils.Bid, q.now ?? 0, null);
    const asks = clientBookSide(market, a, SideUtils.Ask, q.now ?? 0, null);
    return bids.getL2(depth).length + asks.getL2(depth).length;
  };
  for (let i = 0; i < Math.min(20, q.iterations); i++) once(); // warm the JIT
  const times = [];
  let sink = 0;
  for (let i = 0; i < q.iterations; i++) {
    const t0 = process.hrtime.bigint();
    sink += once();
    times.push(Number(process.hrtime.bigint() - t0));
  }
  times.sort((x, y) => x - y);
  return { median_ns: times[Math.floor(times.length / 2)], levels: sink / q.iterations };
}

// The client's own taker instruction (OpenBookV2Client.placeTakeOrderIx, its Anchor
// methods builder): the market's accounts as the client fills them in from the decoded Market,
// the provider's wallet as signer and penalty payer.
const ORDER_TYPES = ['Limit', 'ImmediateOrCancel', 'PostOnly', 'Market', 'PostOnlySlide', 'FillOrKill'];
async function takeIx(q) {
  const market = coder.accounts.decode('market', Buffer.from(q.market, 'base64'));
  const a = q.args;
  const args = {
    side: a.side === 0 ? SideUtils.Bid : SideUtils.Ask, priceLots: new BN(String(a.price_lots)),
    maxBaseLots: new BN(String(a.max_base_lots)),
    maxQuoteLotsIncludingFees: new BN(String(a.max_quote_lots_including_fees)),
    orderType: pkg.PlaceOrderTypeUtils[ORDER_TYPES[a.order_type]], limit: a.limit,
  };
  const admin = market.openOrdersAdmin.key.equals(PublicKey.default) ? null : market.openOrdersAdmin.key;
  const [ix] = await client.placeTakeOrderIx(new PublicKey(q.market_key), market,
    new PublicKey(q.user_base), new PublicKey(q.user_quote), admin, args, []);
  return {
    wallet: pk(client.walletPk), program_id: pk(ix.programId), data: ix.data.toString('base64'),
    keys: ix.keys.map((k) => ({ pubkey: pk(k.pubkey), signer: k.isSigner, writable: k.isWritable })),
  };
}

async function answer(q) {
  try {
    if (q.op === 'random') return { ok: await randomAccounts(q) };
    if (q.op === 'decode') return { ok: decodeAll(q) };
    if (q.op === 'time') return { ok: timeLadder(q) };
    if (q.op === 'take_ix') return { ok: await takeIx(q) };
    if (q.op === 'many') { // several requests in one process: [{"ok"|"error"}, ...]
      const out = [];
      for (const one of q.requests) out.push(await answer(one));
      return { ok: out };
    }
    return { error: { name: 'BadOp', message: `unknown op ${q.op}` } };
  } catch (e) {
    return { error: { name: e.name, message: String(e.message ?? e), stack: process.env.OB_STACK ? e.stack : undefined } };
  }
}
process.stdout.write(JSON.stringify(await answer(input)));
