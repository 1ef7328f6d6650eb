//! Checks on the two real mainnet markets committed upstream
//! (`programs/manifest/tests/testdata/`, `tests/data/venues/manifest/`) and on the swap
//! vectors of the program's own tests (`programs/manifest/tests/cases/swap.rs`). The
//! TypeScript SDK's decoding of the same accounts is `tests/engine/test_manifest.py`.

use super::*;
use crate::error::EngineError;
use crate::venues::Curve;

const SOL_USDC: &[u8] = include_bytes!(
    "../../../../../../tests/data/venues/manifest/ENhU8LsaR7vDD2G1CsWcsuSGNrih9Cv5WZEk7q9kPapQ.bin"
);
const USDT_USDC: &[u8] = include_bytes!(
    "../../../../../../tests/data/venues/manifest/8sjV1AqBFvFuADBCQHhotaRq5DFFYSjjg1jMyVWMqXvZ.bin"
);
const SOL_USDC_SLOT: u32 = 330_442_322;
const USDT_USDC_SLOT: u32 = 330_620_981;

#[test]
fn decodes_the_real_markets() {
    let m = decode_manifest_market(SOL_USDC, Some(&PROGRAM)).unwrap();
    assert_eq!(
        (m.bids.len(), m.asks.len(), m.seats, m.free_blocks),
        (21, 50, 341, 4)
    );
    assert_eq!((m.base_mint_decimals, m.quote_mint_decimals), (9, 6));
    assert_eq!(
        b58::encode(&m.base_vault),
        "AKjfJDv4ywdpCDrj7AURuNkGA3696GTVFgrMwk4TjkKs"
    );
    assert_eq!(
        vault_address(&PROGRAM_KEY_OF_SOL_USDC, &m.base_mint).unwrap(),
        m.base_vault
    );
    let (b, a) = (m.bids[0], m.asks[0]);
    assert_eq!(
        (b.price, b.base_atoms, b.sequence_number, b.last_valid_slot),
        (
            125_527_191_000_000_000,
            1_967_941_262,
            4_240_500,
            330_442_808
        )
    );
    assert_eq!(
        (a.price, a.base_atoms, a.sequence_number),
        (125_897_856_000_000_000, 198_573_674, 4_240_503)
    );
    // best first, ties oldest first
    for side in [&m.bids[..], &m.asks[..]] {
        for w in side.windows(2) {
            let better = if w[0].is_bid {
                w[0].price >= w[1].price
            } else {
                w[0].price <= w[1].price
            };
            assert!(better);
            if w[0].price == w[1].price {
                assert!(w[0].sequence_number < w[1].sequence_number);
            }
        }
    }
    let m = decode_manifest_market(USDT_USDC, None).unwrap();
    assert_eq!(
        (m.bids.len(), m.asks.len(), m.seats, m.free_blocks),
        (21, 22, 17, 2)
    );
}

const PROGRAM_KEY_OF_SOL_USDC: Key = b58::key("ENhU8LsaR7vDD2G1CsWcsuSGNrih9Cv5WZEk7q9kPapQ");

#[test]
fn refuses_what_is_not_a_market() {
    assert!(matches!(
        decode_manifest_market(SOL_USDC, Some(&SYSVAR_CLOCK)),
        Err(EngineError::WrongOwner(_))
    ));
    assert!(matches!(
        decode_manifest_market(&SOL_USDC[..SOL_USDC.len() - 80], None),
        Err(EngineError::Decode(_))
    ));
    let mut d = SOL_USDC.to_vec();
    d[0] ^= 1;
    assert!(matches!(
        decode_manifest_market(&d, None),
        Err(EngineError::WrongDiscriminator(_))
    ));
    // a loop in a tree is an error, not a hang
    let mut d = SOL_USDC.to_vec();
    let best = u32::from_le_bytes(d[160..164].try_into().unwrap()) as usize;
    let at = MARKET_FIXED_SIZE + best;
    d[at..at + 4].copy_from_slice(&(best as u32).to_le_bytes()); // left = itself
    assert!(decode_manifest_market(&d, None).is_err());
    // random bytes behind the header never panic
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..200 {
        let mut d = SOL_USDC[..256 + 800].to_vec();
        d[152..156].copy_from_slice(&800u32.to_le_bytes());
        for b in d[156..].iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                *b = (x >> 8) as u8;
            }
        }
        let _ = decode_manifest_market(&d, None);
    }
}

fn price(mantissa: u128, exponent: i32) -> u128 {
    let e = 18 + exponent;
    mantissa * 10u128.pow(e as u32)
}

fn order(p: u128, base: u64, lvs: u32, order_type: u8, is_bid: bool, trader: u8) -> Order {
    Order {
        index: 0,
        price: p,
        base_atoms: base,
        sequence_number: 0,
        trader_index: 0,
        trader: [trader; 32],
        last_valid_slot: lvs,
        is_bid,
        order_type,
        reverse_spread: 0,
    }
}

/// `swap.rs:57-165`: sell 3 SOL into [1 @ 10.00000001, 1 @ same expiring at slot 10,
/// 4 @ 5.00000001] after the expiry: 20,000,001 USDC atoms.
#[test]
fn the_programs_exact_in_sell() {
    let p1 = price(1_000_000_001, -11);
    let bids = [
        order(p1, 1_000_000_000, 0, LIMIT, true, 1),
        order(p1, 1_000_000_000, 10, LIMIT, true, 1),
        order(price(500_000_001, -11), 4_000_000_000, 0, LIMIT, true, 1),
    ];
    let s = swap(&bids, &[], 3_000_000_000, true, 30, None).unwrap();
    assert_eq!(
        (s.amount_in, s.amount_out, s.fills, s.removed),
        (3_000_000_000, 20_000_001, 2, 1)
    );
}

/// `swap.rs:280-379`: buy with 40 USDC from [1 @ 10.00000001, 1 expiring, 3 @
/// 15.00000001]: 2,999,999,998 lamports for all 40 USDC.
#[test]
fn the_programs_exact_in_buy() {
    let asks = [
        order(price(1_000_000_001, -11), 1_000_000_000, 0, LIMIT, false, 1),
        order(
            price(1_000_000_001, -11),
            1_000_000_000,
            10,
            LIMIT,
            false,
            1,
        ),
        order(price(1_500_000_001, -11), 3_000_000_000, 0, LIMIT, false, 1),
    ];
    let s = swap(&[], &asks, 40_000_000, false, 30, None).unwrap();
    assert_eq!((s.amount_in, s.amount_out), (40_000_000, 2_999_999_998));
}

/// `swap_global_not_backed` (`swap.rs:1089-1205`): an unbacked global bid at the top is
/// removed and the limit bid behind it fills; without the global the walk stops.
#[test]
fn global_orders_backed_or_not() {
    let bids = [
        order(price(2_000, -6), 1_000_000_000, 0, GLOBAL, true, 7),
        order(price(1_000, -6), 1_000_000_000, 0, LIMIT, true, 8),
    ];
    let none: [(Key, u64); 0] = [];
    let s = swap(&bids, &[], 1_000_000_000, true, 1, Some(&none)).unwrap();
    assert_eq!((s.amount_out, s.fills, s.removed), (1_000_000, 1, 1));
    let backed = [([7u8; 32], 2_000_000u64)];
    let s = swap(&bids, &[], 1_000_000_000, true, 1, Some(&backed)).unwrap();
    assert_eq!((s.amount_out, s.global_fills), (2_000_000, 1));
    let s = swap(&bids, &[], 1_000_000_000, true, 1, None).unwrap();
    assert!(s.missing_global && s.amount_out == 0);
    // one maker's two global orders: the deposit backs the first only
    let asks = [
        order(price(1, 0), 100, 0, GLOBAL, false, 7),
        order(price(1, 0), 100, 0, GLOBAL, false, 7),
        order(price(2, 0), 100, 0, LIMIT, false, 8),
    ];
    let dep = [([7u8; 32], 150u64)];
    let w = place_order(&asks, true, 300, 1, Some(&dep)).unwrap();
    assert_eq!(
        (w.base_atoms, w.quote_atoms, w.fills, w.removed),
        (200, 300, 2, 1)
    );
    // impact (not decrementing) counts both: the buy's walk then spends more than it has
    let s = swap(&[], &asks, 300, false, 1, Some(&dep));
    assert_eq!(s.map(|s| s.amount_out), Ok(200));
}

#[test]
fn price_conversions_overflow_as_the_program() {
    assert_eq!(
        quote_for_base(PRICE_MAX, u64::MAX, true),
        Err(ERR_QUOTE_PRODUCT_OVERFLOW)
    );
    assert_eq!(
        quote_for_base(D18 * 2, u64::MAX, false),
        Err(ERR_QUOTE_OVERFLOW)
    );
    assert_eq!(base_for_quote(1, u64::MAX, false), Err(ERR_BASE_OVERFLOW));
    assert_eq!(quote_for_base(D18 + 1, 3, true), Ok(4));
    assert_eq!(quote_for_base(D18 + 1, 3, false), Ok(3));
}

/// Regression numbers of both backends on the real markets at their slots (the swap
/// emulation; the TypeScript SDK decodes but does not quote).
#[test]
fn quotes_on_the_real_markets() {
    let m = decode_manifest_market(SOL_USDC, None).unwrap();
    let s = BookState::new(&m, SOL_USDC_SLOT, None, None);
    assert_eq!(
        s.quote_steps(100_000_000, false).map(|q| q.0),
        Ok(793_381_192)
    );
    assert_eq!(
        s.quote_steps(10_000_000_000, false).map(|q| q.0),
        Ok(78_329_745_141)
    );
    assert_eq!(s.quote_steps(1_000_000_000, true), Ok((125_527_191, 1)));
    let m = decode_manifest_market(USDT_USDC, None).unwrap();
    let s = BookState::new(&m, USDT_USDC_SLOT, None, None);
    assert_eq!(
        s.quote_steps(100_000_000, false).map(|q| q.0),
        Ok(100_015_336)
    );
    assert_eq!(
        s.quote_steps(10_000_000_000, false).map(|q| q.0),
        Ok(9_999_867_297)
    );
    assert_eq!(
        s.quote_steps(1_000_000_000, true).map(|q| q.0),
        Ok(999_824_363)
    );
    // the whole book is not enough
    assert_eq!(s.quote_steps(u64::MAX / 2, true), Err(NoQuote::Unfillable));
    let l = s.ladder(5);
    assert!(l.bids.len() <= 5 && l.best_bid < l.best_ask);
    // one free block: the swap would pay to grow the market, refused
    let mut one = s.clone();
    one.free_blocks = 1;
    assert_eq!(one.quote_steps(1_000_000, true), Err(NoQuote::Unfillable));
}

/// The program has no match limit; the engine quotes no swap reaching more than
/// `MAX_STEPS` maker orders (fills and removals alike).
#[test]
fn a_walk_past_max_steps_has_no_quote() {
    let asks: Vec<Order> = (0..45u128)
        .map(|i| order(D18 + i, 10, 0, LIMIT, false, 1))
        .collect();
    let s = BookState {
        base_decimals: 9,
        quote_decimals: 6,
        bids: Arc::from(Vec::new()),
        asks: asks.into(),
        base_global: None,
        quote_global: None,
        now_slot: 1,
        free_blocks: 2,
    };
    // 40 orders of 10 base atoms: 400 atoms and some quote
    assert_eq!(s.quote_steps(400, false).map(|q| q.1), Ok(40));
    assert_eq!(s.quote_steps(420, false), Err(NoQuote::Unfillable));
}

/// A filled reverse ask places its maker's bid, sized by the quote it got at the flipped
/// price: a conversion the program's `?` fails (base atoms past u64) fails the swap.
#[test]
fn a_reverse_flip_that_overflows_fails_the_swap() {
    let mut ask = order(D18, 10_000_000_000_000_000_000, 0, REVERSE, false, 1);
    ask.reverse_spread = 65_535;
    assert_eq!(reverse_price(&ask), Some(D18 * 34_465 / 100_000));
    let r = swap(&[], &[ask], 10_000_000_000_000_000_000, false, 1, None);
    assert_eq!(r, Err(ERR_BASE_OVERFLOW));
    ask.reverse_spread = 200; // a small spread flips within u64
    let r = swap(&[], &[ask], 10_000_000_000_000_000_000, false, 1, None).unwrap();
    assert_eq!(r.amount_out, 10_000_000_000_000_000_000);
    // the same order as a limit order is filled
    ask.order_type = LIMIT;
    ask.reverse_spread = 65_535;
    assert!(swap(&[], &[ask], 10_000_000_000_000_000_000, false, 1, None).is_ok());
}
