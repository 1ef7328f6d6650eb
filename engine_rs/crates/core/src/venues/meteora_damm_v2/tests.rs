//! Unit checks of the DAMM v2 math on hand-made states; the oracle (the Rust SDK's
//! quotes on real pool accounts) is `tests/engine/test_meteora_damm_v2.py`.

use super::math::*;
use super::*;
use crate::venues::Curve as _;

fn concentrated(liquidity: u128, sqrt_price: u128) -> DammState {
    DammState {
        base_fee: BaseFee::Time {
            cliff_fee_numerator: 2_500_000,
            exponential: false,
            number_of_period: 0,
            period_frequency: 0,
            reduction_factor: 0,
        },
        dynamic: Dynamic::default(),
        protocol_fee_percent: 20,
        referral_fee_percent: 20,
        compounding_fee_bps: 0,
        init_sqrt_price: sqrt_price,
        sqrt_price,
        curve: Curve::Concentrated {
            liquidity,
            sqrt_price,
            sqrt_min_price: 4_295_048_016,
            sqrt_max_price: 79_226_673_521_066_979_257_578_248_091,
        },
        collect_fee_mode: BOTH_TOKEN,
        fee_version: 0,
        activation_type: 0,
        activation_point: 0,
        pool_status: 0,
        point: 10,
    }
}

#[test]
fn a_swap_keeps_the_fee_split_whole_and_moves_the_price_its_way() {
    let s = concentrated(1u128 << 100, 1u128 << 64);
    let r = s.swap(1_000_000, true, false).unwrap();
    let f = r.fee;
    assert_eq!(
        r.output_amount + f.claiming_fee + f.compounding_fee + f.protocol_fee + f.referral_fee,
        s.curve.swap_in(1_000_000, true).unwrap().0
    );
    assert!(r.next_sqrt_price < 1u128 << 64);
    let back = s.swap(1_000_000, false, false).unwrap();
    assert!(back.next_sqrt_price > 1u128 << 64);
    // fee 0.25 %, price 1: a little under 997,500 either way
    assert!(
        (997_000..=997_500).contains(&r.output_amount),
        "{}",
        r.output_amount
    );
}

#[test]
fn the_program_refuses_what_it_refuses() {
    let mut s = concentrated(1u128 << 80, 1u128 << 64);
    s.pool_status = 1;
    assert_eq!(s.swap(5, true, false), Err(Fail::PoolDisabled));
    s.pool_status = 0;
    s.activation_point = 11;
    assert_eq!(s.swap(5, true, false), Err(Fail::PoolDisabled));
    s.activation_point = 0;
    assert_eq!(s.swap(0, true, false), Err(Fail::AmountIsZero));
    assert_eq!(
        s.swap(u64::MAX, false, false),
        Err(Fail::PriceRangeViolation)
    );
    s.fee_version = 2;
    assert_eq!(s.swap(5, true, false), Err(Fail::InvalidPoolVersion));
    assert_eq!(
        crate::venues::Curve::quote_checked(&s, 5, true),
        Err(NoQuote::Unfillable)
    );
    assert_eq!(crate::venues::Curve::quote_checked(&s, 0, true), Ok(0));
    assert_eq!(s.spot_rate(true), f64::MIN_POSITIVE);
}

#[test]
fn pow_and_the_exponential_scheduler_match_closed_forms() {
    assert_eq!(pow_q64(ONE_Q64 / 2, 0), Some(ONE_Q64));
    assert_eq!(pow_q64(ONE_Q64 / 2, 3), Some(ONE_Q64 / 8));
    // 1 % a period, 10 periods: 0.99^10 = 0.904382
    let fee = fee_in_period(100_000_000, 100, 10).unwrap();
    assert!((90_438_000..=90_439_000).contains(&fee), "{fee}");
    assert_eq!(fee_in_period(5, 0, 9), Ok(5));
    assert_eq!(fee_in_period(5, 10_001, 1), Err(Fail::MathOverflow));
}

#[test]
fn the_rate_limiter_charges_each_reference_amount_more() {
    // cliff 1 %, +1 % per reference amount of 1,000, up to 5 %
    let f = |x| rate_limited(10_000_000, 100, 500, 1_000, x).unwrap();
    assert_eq!(f(1_000), 10_000_000);
    // 2,000 in: 1,000 at 1 % + 1,000 at 2 % = 30 -> 1.5 %
    assert_eq!(f(2_000), 15_000_000);
    // far past the cap the average fee tends to 5 %
    assert!(f(10_000_000) > 49_000_000 && f(10_000_000) <= 50_000_000);
    assert_eq!(rate_limited(1, 1, 1, 0, 5), Err(Fail::Panic));
}

#[test]
fn a_compounding_pool_is_constant_product_on_its_reserves() {
    let mut s = concentrated(0, 0);
    s.collect_fee_mode = COMPOUNDING;
    s.curve = Curve::Compounding {
        token_a_amount: 1_000_000,
        token_b_amount: 4_000_000,
    };
    let r = s.swap(10_000, true, false).unwrap();
    // fee off the output: 4e6·1e4/1.01e6 = 39,603 then 0.25 % off
    assert_eq!(s.curve.swap_in(10_000, true).unwrap().0, 39_603);
    assert_eq!(r.output_amount, 39_603 - 100);
    // b -> a: fee off the input
    let r = s.swap(10_000, false, false).unwrap();
    assert_eq!(r.excluded_fee_input_amount, 10_000 - 25);
    assert!(r.fees_on_input);
    assert_eq!(sqrt_price_from_amounts(1, 4), Ok(2u128 << 64));
}

#[test]
fn the_event_reads_back_its_fields() {
    let mut raw = DISC_EVT_SWAP2.to_vec();
    raw.extend([7u8; 32]);
    raw.extend([1, 2, 0]);
    for v in 0u64..(EVT_SWAP2_SIZE as u64 - 43) / 8 + 1 {
        raw.extend(v.to_le_bytes());
    }
    raw.truncate(EVT_SWAP2_SIZE);
    let ev = MeteoraDammV2::parse_event(&raw).unwrap().unwrap();
    assert_eq!(ev.pool, [7u8; 32]);
    assert_eq!(
        (ev.trade_direction, ev.collect_fee_mode, ev.has_referral),
        (1, 2, false)
    );
    assert_eq!(ev.amount_0, 0);
    assert!(MeteoraDammV2::parse_event(&raw[..100]).unwrap().is_err());
}
