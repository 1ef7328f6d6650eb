//! Spec §8.1–8.5 vectors (copied from the Whirlpool program's and SDK's own tests).

use super::*;
use crate::error::ClmmErrorCode as E;
use crate::venues::orca_whirlpool::math::{
    compute_swap, delta_a, delta_b, div_small_quotient, fee_growth_of, sqrt_price_at, tick_at,
    Divider, FeeRate, Step,
};

const Q64: u128 = 1 << 64;

// ---- §8.3 tick math --------------------------------------------------------------

#[test]
fn exact_bit_values() {
    let table: [(i32, u128, u128); 20] = [
        (0, 18446744073709551616, 18446744073709551616),
        (1, 18447666387855959850, 18445821805675392311),
        (2, 18448588748116922571, 18444899583751176498),
        (4, 18450433606991734263, 18443055278223354162),
        (8, 18454123878217468680, 18439367220385604838),
        (16, 18461506635090006701, 18431993317065449817),
        (32, 18476281010653910144, 18417254355718160513),
        (64, 18505865242158250041, 18387811781193591352),
        (128, 18565175891880433522, 18329067761203520168),
        (256, 18684368066214940582, 18212142134806087854),
        (512, 18925053041275764671, 17980523815641551639),
        (1024, 19415764168677886926, 17526086738831147013),
        (2048, 20435687552633177494, 16651378430235024244),
        (4096, 22639080592224303007, 15030750278693429944),
        (8192, 27784196929998399742, 12247334978882834399),
        (16384, 41848122137994986128, 8131365268884726200),
        (32768, 94936283578220370716, 3584323654723342297),
        (65536, 488590176327622479860, 696457651847595233),
        (131072, 12941056668319229769860, 26294789957452057),
        (262144, 9078618265828848800676189, 37481735321082),
    ];
    for (t, pos, neg) in table {
        assert_eq!(sqrt_price_from_tick(t), Ok(pos), "{t}");
        assert_eq!(sqrt_price_from_tick(-t), Ok(neg), "-{t}");
    }
}

#[test]
fn tick_math_boundaries() {
    assert_eq!(sqrt_price_from_tick(MAX_TICK_INDEX), Ok(MAX_SQRT_PRICE_X64));
    assert_eq!(sqrt_price_from_tick(MIN_TICK_INDEX), Ok(MIN_SQRT_PRICE_X64));
    assert_eq!(tick_from_sqrt_price(MAX_SQRT_PRICE_X64), Ok(MAX_TICK_INDEX));
    assert_eq!(
        tick_from_sqrt_price(MAX_SQRT_PRICE_X64 - 1),
        Ok(MAX_TICK_INDEX - 1)
    );
    assert_eq!(tick_from_sqrt_price(MIN_SQRT_PRICE_X64), Ok(MIN_TICK_INDEX));
    assert_eq!(
        tick_from_sqrt_price(MIN_SQRT_PRICE_X64 + 1),
        Ok(MIN_TICK_INDEX)
    );
    assert_eq!(tick_from_sqrt_price(Q64), Ok(0));
    assert_eq!(tick_from_sqrt_price(Q64 + 1), Ok(0));
    assert_eq!(tick_from_sqrt_price(Q64 - 1), Ok(-1));
    for bad in [MIN_TICK_INDEX - 1, MAX_TICK_INDEX + 1, i32::MIN, i32::MAX] {
        assert!(matches!(
            sqrt_price_from_tick(bad),
            Err(EngineError::InvalidTick(_))
        ));
    }
    for bad in [0, MIN_SQRT_PRICE_X64 - 1, MAX_SQRT_PRICE_X64 + 1, u128::MAX] {
        assert!(matches!(
            tick_from_sqrt_price(bad),
            Err(EngineError::InvalidTick(_))
        ));
    }
}

#[test]
fn round_trip_every_tick() {
    let mut prev = 0;
    for t in MIN_TICK_INDEX..=MAX_TICK_INDEX {
        let sp = sqrt_price_at(t);
        assert!(sp > prev, "strictly increasing at {t}");
        assert_eq!(tick_at(sp), t, "tick({t})");
        if t > MIN_TICK_INDEX {
            assert_eq!(tick_at(sp - 1), t - 1, "tick(sqrt({t}) - 1)");
        }
        prev = sp;
    }
}

// ---- §8.2 amount deltas ------------------------------------------------------------

#[test]
fn amount_deltas() {
    for up in [true, false] {
        assert_eq!(delta_a(4 * Q64, 2 * Q64, 4, up), Ok(1));
        assert_eq!(delta_b(4 * Q64, 2 * Q64, 4, up), Ok(8));
        assert_eq!(delta_a(4 * Q64, 4 * Q64, 4, up), Ok(0));
        assert_eq!(delta_b(4 * Q64, 4 * Q64, 4, up), Ok(0));
    }
    assert!(delta_a(Q64, 2 * Q64, u128::MAX, true).is_err());
    assert!(delta_a(Q64, 2 * Q64, u128::from(u64::MAX) * 2, true).is_ok());
}

// ---- §8.1 compute_swap ---------------------------------------------------------------

#[test]
fn compute_swap_vectors() {
    // (amount, is_input, a_to_b, fee_rate, amount_in, amount_out, next_price, fee)
    #[allow(clippy::type_complexity)]
    let cases: [(u64, bool, bool, u32, u64, u64, u128, u64); 9] = [
        (
            100,
            true,
            true,
            20_000,
            98,
            4723,
            98_789_174_874_080_904_523,
            2,
        ),
        (1000, true, true, 20_000, 180, 6480, 4 * Q64, 4),
        (1000, true, true, 10_000, 180, 6480, 4 * Q64, 2),
        (
            4723,
            false,
            true,
            20_000,
            98,
            4723,
            98_795_409_425_631_171_116,
            2,
        ),
        (10_000, false, true, 20_000, 180, 6480, 4 * Q64, 4),
        (
            2000,
            true,
            false,
            20_000,
            1960,
            20,
            193_918_550_355_107_200_012,
            40,
        ),
        (20_000, true, false, 20_000, 9072, 63, 16 * Q64, 186),
        (
            20,
            false,
            false,
            20_000,
            1882,
            20,
            192_798_228_383_286_926_568,
            39,
        ),
        (80, false, false, 20_000, 9072, 63, 16 * Q64, 186),
    ];
    for (amount, is_input, a_to_b, fee, amount_in, amount_out, next_price, fee_amount) in cases {
        let target = if a_to_b { 4 * Q64 } else { 16 * Q64 };
        let mut rate = FeeRate::new(fee);
        let step = compute_swap(amount, &mut rate, 1296, 9 * Q64, target, is_input, a_to_b);
        assert_eq!(
            step,
            Ok(Step {
                amount_in,
                amount_out,
                next_price,
                fee_amount
            }),
            "{amount} {is_input} {a_to_b} {fee}"
        );
    }
    // zero amount: nothing moves; zero liquidity: straight to the target for free
    let zero = compute_swap(
        0,
        &mut FeeRate::new(3000),
        1296,
        9 * Q64,
        4 * Q64,
        true,
        true,
    );
    assert_eq!(
        zero.map(|s| (s.amount_in, s.amount_out, s.next_price, s.fee_amount)),
        Ok((0, 0, 9 * Q64, 0))
    );
    let empty = compute_swap(
        1000,
        &mut FeeRate::new(3000),
        0,
        9 * Q64,
        4 * Q64,
        true,
        true,
    );
    assert_eq!(
        empty.map(|s| (s.amount_in, s.amount_out, s.next_price, s.fee_amount)),
        Ok((0, 0, 4 * Q64, 0))
    );
}

// ---- §8.4 full-swap vectors ----------------------------------------------------------

/// The program's integration-test setup: no initialized ticks, 3 arrays, limit at the end.
#[allow(clippy::too_many_arguments)]
fn fixture_swap(
    ts: u16,
    fee: u32,
    protocol: u16,
    liquidity: u128,
    tick: i32,
    amount: u64,
    is_input: bool,
    a_to_b: bool,
) -> Result<(u64, u64, u128, i32, u128, u128, u64)> {
    let size = TICK_ARRAY_SIZE * i32::from(ts);
    let start = tick.div_euclid(size) * size;
    let last = if a_to_b {
        start - 2 * size
    } else {
        start + 3 * size - 1
    };
    let last = last.clamp(MIN_TICK_INDEX, MAX_TICK_INDEX);
    let pool = ClmmPool::new(sqrt_price_from_tick(tick)?, liquidity, tick, ts, fee, &[])?;
    let r = pool.swap(
        amount,
        a_to_b,
        is_input,
        Some(sqrt_price_from_tick(last)?),
        protocol,
    )?;
    let (a, b) = if a_to_b {
        (r.amount_in, r.amount_out)
    } else {
        (r.amount_out, r.amount_in)
    };
    Ok((
        a,
        b,
        r.liquidity,
        r.tick_current,
        r.sqrt_price_x64,
        r.fee_growth_x64,
        r.protocol_fee,
    ))
}

#[test]
fn spec_sample_swap_cases() {
    let l = Q64;
    // (id, fee, protocol, tick, amount, is_input, a_to_b, amountA, amountB, next tick,
    //  next sqrt price, fee growth, protocol fee)
    #[allow(clippy::type_complexity)]
    let cases: [(
        u32,
        u32,
        u16,
        i32,
        u64,
        bool,
        bool,
        u64,
        u64,
        i32,
        u128,
        u128,
        u64,
    ); 8] = [
        (
            1397,
            65535,
            600,
            0,
            1_000_000_000_000,
            true,
            true,
            1_000_000_000_000,
            934_464_952_662,
            -1,
            18_446_743_139_244_598_954,
            61_602_900_000,
            3_932_100_000,
        ),
        (
            1398,
            65535,
            600,
            0,
            1_000_000_000_000,
            true,
            false,
            934_464_952_662,
            1_000_000_000_000,
            0,
            18_446_745_008_174_551_616,
            61_602_900_000,
            3_932_100_000,
        ),
        (
            1399,
            65535,
            600,
            0,
            1_000_000_000_000,
            false,
            true,
            1_070_131_095_559,
            1_000_000_000_000,
            -1,
            18_446_743_073_709_551_616,
            65_923_178_868,
            4_207_862_480,
        ),
        (
            1400,
            65535,
            600,
            0,
            1_000_000_000_000,
            false,
            false,
            1_000_000_000_000,
            1_070_131_095_559,
            0,
            18_446_745_073_709_605_827,
            65_923_178_868,
            4_207_862_480,
        ),
        (
            1417,
            65535,
            600,
            223_027,
            1_000_000_000,
            true,
            true,
            1_000_000_000,
            4_529_150_841_451_380_342,
            223_026,
            1_284_238_925_406_443_588_235_241,
            61_602_900,
            3_932_100,
        ),
        (
            1429,
            65535,
            600,
            -223_027,
            1_000_000_000_000,
            true,
            true,
            1_000_000_000_000,
            192,
            -223_028,
            264_967_180_259_444,
            65_249_178_213,
            4_164_841_162,
        ),
        (
            2357,
            700,
            300,
            0,
            1_000_000_000_000,
            true,
            true,
            1_000_000_000_000,
            999_299_945_865,
            -1,
            18_446_743_074_409_605_751,
            679_000_000,
            21_000_000,
        ),
        (
            2358,
            700,
            300,
            0,
            1_000_000_000_000,
            true,
            false,
            999_299_945_865,
            1_000_000_000_000,
            0,
            18_446_745_073_009_551_616,
            679_000_000,
            21_000_000,
        ),
    ];
    for (id, fee, protocol, tick, amount, is_input, a_to_b, a, b, next_tick, sp, growth, pf) in
        cases
    {
        assert_eq!(
            fixture_swap(8, fee, protocol, l, tick, amount, is_input, a_to_b),
            Ok((a, b, l, next_tick, sp, growth, pf)),
            "case {id}"
        );
    }
    // test 1: near the max tick with 2^110 liquidity, exact-in a->b overflows
    let big = 1u128 << 110;
    let err = fixture_swap(1, 10_000, 2500, big, 443_500, u64::MAX, true, true);
    assert!(
        matches!(
            err,
            Err(EngineError::Clmm {
                code: E::MultiplicationOverflow,
                ..
            })
        ),
        "{err:?}"
    );
    // test 2: the same b->a
    let ok = fixture_swap(1, 10_000, 2500, big, 443_500, u64::MAX, true, false);
    assert_eq!(
        ok.map(|r| (r.0, r.1, r.4, r.5, r.6)),
        Ok((
            1,
            u64::MAX,
            78_689_786_464_075_983_699_239_131_409,
            1966,
            46_126_711_808_458_751
        ))
    );
}

// ---- §8.5 SDK quote vectors (every tick initialized: crossing) ----------------------

fn sdk_pool(liquidity: u128) -> Result<ClmmPool> {
    let mut ticks = Vec::new();
    for start in [-352, -176, 0, 176, 352] {
        for i in 0..88 {
            ticks.push((start + 2 * i, if start < 0 { 1000 } else { -1000 }));
        }
    }
    ClmmPool::new(Q64, liquidity, 0, 2, 3000, &ticks)
}

#[test]
fn sdk_quote_vectors() -> Result<()> {
    // (liquidity, a_to_b, exact_in, estimated amount, fee)
    let cases = [
        (100_000_000, true, true, 996, 3),
        (265_000, true, true, 920, 38),
        (100_000_000, false, true, 996, 3),
        (265_000, false, true, 918, 39),
        (100_000_000, true, false, 1005, 4),
        (265_000, true, false, 1088, 42),
        (100_000_000, false, false, 1005, 4),
        (265_000, false, false, 1088, 42),
    ];
    for (liquidity, a_to_b, exact_in, est, fee) in cases {
        let r = sdk_pool(liquidity)?.swap(1000, a_to_b, exact_in, None, 0)?;
        let got = if exact_in {
            (r.amount_in, r.amount_out)
        } else {
            (r.amount_out, r.amount_in)
        };
        assert_eq!(
            (got, r.fee_amount),
            ((1000, est), fee),
            "{liquidity} {a_to_b} {exact_in}"
        );
    }
    Ok(())
}

// ---- validation and the array model --------------------------------------------------

#[test]
fn pool_validation() {
    let new = |ts: u16, fee: u32, sp: u128, tick: i32, ticks: &[(i32, i128)]| {
        ClmmPool::new(sp, 1, tick, ts, fee, ticks)
    };
    assert!(matches!(
        new(0, 0, Q64, 0, &[]),
        Err(EngineError::Clmm {
            code: E::InvalidTickSpacing,
            ..
        })
    ));
    assert!(matches!(
        new(8, 1_000_001, Q64, 0, &[]),
        Err(EngineError::InvalidInput(_))
    ));
    for (sp, tick, ticks) in [
        (MIN_SQRT_PRICE_X64 - 1, 0, vec![]),
        (Q64, MAX_TICK_INDEX + 1, vec![]),
        (Q64, MIN_TICK_INDEX - 2, vec![]),
        (Q64, 0, vec![(8, 1), (8, 2)]),
        (Q64, 0, vec![(4, 1)]),
        (Q64, 0, vec![(443_640, 1)]),
    ] {
        assert!(
            matches!(
                new(8, 0, sp, tick, &ticks),
                Err(EngineError::InvalidTick(_))
            ),
            "{sp} {tick} {ticks:?}"
        );
    }
    // splash pools: only the two full-range ticks
    let ts = 32_769u16;
    let (lo, hi) = (-(443_636 / 32_769) * 32_769, 443_636 / 32_769 * 32_769);
    assert!(new(ts, 0, Q64, 0, &[(lo, 5), (hi, -5)]).is_ok());
    assert!(matches!(
        new(ts, 0, Q64, 0, &[(0, 5)]),
        Err(EngineError::InvalidTick(_))
    ));
    // ticks come back sorted
    let pool = new(8, 0, Q64, 0, &[(16, 1), (-8, 2), (0, 3)]);
    assert_eq!(pool.map(|p| p.ticks), Ok(vec![(-8, 2), (0, 3), (16, 1)]));
}

#[test]
fn running_out_of_arrays() -> Result<()> {
    let pool = ClmmPool::new(Q64, 1_000_000_000, 0, 1, 3000, &[])?;
    assert!(matches!(
        pool.swap(1_000_000_000_000, true, true, None, 0),
        Err(EngineError::InsufficientLiquidity(_))
    ));
    let r = pool.swap_with_arrays(1_000_000_000_000, true, true, None, 0, None)?;
    assert_eq!(r.amount_in, 1_000_000_000_000);
    assert!(r.tick_current < -264);
    assert!(matches!(
        pool.swap_with_arrays(1000, true, true, None, 0, Some(0)),
        Err(EngineError::InvalidInput(_))
    ));
    assert!(matches!(
        pool.swap(1000, true, true, None, 10_001),
        Err(EngineError::InvalidInput(_))
    ));
    Ok(())
}

#[test]
fn liquidity_underflow_is_invalid_input() -> Result<()> {
    let pool = ClmmPool::new(Q64, 1_000, 0, 8, 3000, &[(0, 10_000)])?;
    assert!(matches!(
        pool.swap(1_000_000, true, true, None, 0),
        Err(EngineError::InvalidInput(_))
    ));
    Ok(())
}

#[test]
fn spot_rate_formula() -> Result<()> {
    let pool = ClmmPool::new(6_918_418_495_991_757_039, 1, 0, 8, 3000, &[])?;
    let s = 6_918_418_495_991_757_039f64 / 18_446_744_073_709_551_616.0;
    assert_eq!(pool.spot_rate(true), s * s * 0.997);
    assert_eq!(pool.spot_rate(false), (1.0 / (s * s)) * 0.997);
    assert_eq!(
        clmm_spot_rate(6_918_418_495_991_757_039, 3000, true),
        Ok(s * s * 0.997)
    );
    assert!(clmm_spot_rate(Q64, 1_000_001, true).is_err());
    Ok(())
}

#[test]
fn divider_is_exact() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut divisors: Vec<u64> = (1..=1000).collect();
    divisors.extend([
        999_999,
        1_000_000,
        65_535,
        65_536,
        32_768,
        934_465,
        u64::from(u32::MAX),
        1 << 40,
        u64::MAX,
        u64::MAX - 1,
    ]);
    for _ in 0..2000 {
        divisors.push(next() % 1_000_000 + 1);
        divisors.push(next() | 1);
    }
    for &d in &divisors {
        let div = Divider::new(d);
        let mut ns = vec![
            0,
            1,
            d - 1,
            d,
            d.wrapping_add(1),
            u64::MAX,
            u64::MAX - 1,
            u64::MAX / d * d,
        ];
        ns.extend((0..50).map(|_| next()));
        ns.extend((0..20).map(|_| next() >> (next() % 64)));
        for n in ns {
            assert_eq!(div.div(n), n / d, "{n} / {d}");
            assert_eq!(div.div_ceil(n), n.div_ceil(d), "ceil {n} / {d}");
            assert_eq!(div.is_multiple(n), n % d == 0, "{n} % {d}");
        }
    }
}

#[test]
fn float_estimated_divisions_are_exact() {
    use ruint::aliases::U256;
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut wide = |bits: u32| -> U256 {
        let v = U256::from_limbs([next(), next(), next(), next()]);
        if bits == 0 {
            U256::ZERO
        } else {
            v >> (256 - bits as usize)
        }
    };
    for _ in 0..200_000 {
        let dbits = (wide(8).as_limbs()[0] % 194) as u32 + 1;
        let d = wide(dbits);
        if d.is_zero() {
            continue;
        }
        // numerators around d * 2^k for k up to ~52, plus exact multiples
        let k = (wide(8).as_limbs()[0] % 56) as usize;
        let n = match wide(8).as_limbs()[0] % 3 {
            0 => (d << k) + wide(dbits),
            1 => d * U256::from(wide(8).as_limbs()[0] % 1000 + 1),
            _ => (d << k).saturating_sub(U256::from(1u8)),
        };
        let (q, r) = n.div_rem(d);
        if let Some((fq, nonzero)) = div_small_quotient(&n, &d) {
            assert_eq!((U256::from(fq), nonzero), (q, !r.is_zero()), "{n} / {d}");
        } else {
            assert!(
                q >= U256::from(1u64 << 50),
                "{n} / {d} fell back at q = {q}"
            );
        }
    }
    for _ in 0..200_000 {
        let fee = next() >> (next() % 64);
        let liquidity = (u128::from(next()) << 64 | u128::from(next())) >> (next() % 128);
        if liquidity == 0 {
            continue;
        }
        assert_eq!(
            fee_growth_of(fee, liquidity),
            (u128::from(fee) << 64) / liquidity,
            "{fee} {liquidity}"
        );
    }
    for (fee, liquidity) in [
        (u64::MAX, 1u128),
        (u64::MAX, u128::MAX),
        (1, u128::MAX),
        (u64::MAX, (1u128 << 77) + 1),
    ] {
        assert_eq!(
            fee_growth_of(fee, liquidity),
            (u128::from(fee) << 64) / liquidity
        );
    }
}
