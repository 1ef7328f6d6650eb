use super::*;
use crate::venues::Curve;

fn array(start: i32, pool: Key, ticks: &[(usize, i128)]) -> Vec<u8> {
    let mut d = vec![0u8; FIXED_TICK_ARRAY_SIZE];
    d[..8].copy_from_slice(&DISC_FIXED_TICK_ARRAY);
    d[8..12].copy_from_slice(&start.to_le_bytes());
    for &(i, net) in ticks {
        let off = 12 + TICK_LEN * i;
        d[off] = 1;
        d[off + 1..off + 17].copy_from_slice(&net.to_le_bytes());
        d[off + 17..off + 33].copy_from_slice(&net.unsigned_abs().to_le_bytes());
    }
    d[9956..9988].copy_from_slice(&pool);
    d
}

fn whirlpool(spacing: u16) -> Whirlpool {
    let mut d = vec![0u8; POOL_SIZE];
    d[..8].copy_from_slice(&DISC_WHIRLPOOL);
    d[41..43].copy_from_slice(&spacing.to_le_bytes());
    d[43..45].copy_from_slice(&spacing.to_le_bytes());
    d[45..47].copy_from_slice(&3000u16.to_le_bytes());
    d[49..65].copy_from_slice(&(10u128.pow(11)).to_le_bytes());
    let price = sqrt_price_from_tick(0).expect("in range");
    d[65..81].copy_from_slice(&price.to_le_bytes());
    d[101..133].copy_from_slice(&[1; 32]);
    d[133..165].copy_from_slice(&[2; 32]);
    d[181..213].copy_from_slice(&[3; 32]);
    d[213..245].copy_from_slice(&[4; 32]);
    decode_whirlpool(&d, Some(&IMMUTABLE_PROGRAM)).expect("decodes")
}

#[test]
fn program_ids_are_the_published_ones() {
    assert_eq!(b58::encode(&PROGRAM), PROGRAM_ID);
    assert_eq!(b58::encode(&IMMUTABLE_PROGRAM), IMMUTABLE_PROGRAM_ID);
}

#[test]
fn ticks_come_sorted_from_the_arrays_and_quote_through_them() {
    let w = whirlpool(64);
    assert_eq!(OrcaWhirlpool::reserve_mints(&w), ([1; 32], [3; 32]));
    assert_eq!(OrcaWhirlpool::vaults(&w), ([2; 32], [4; 32]));
    let pool_key = [9u8; 32];
    let mut own = TickArrays::default();
    // two arrays around tick 0, given upper first
    let upper = array(0, pool_key, &[(10, -(10i128.pow(11)))]);
    let lower = array(-5632, pool_key, &[(78, 10i128.pow(11))]);
    for (n, data) in [(1u32, &upper), (2, &lower)] {
        let cx = OwnAccount {
            account: n,
            pubkey: "T",
            pool_key: &pool_key,
            pool_id: "W",
            data,
            owner: None,
            slot: None,
        };
        OrcaWhirlpool::own_account(&mut own, TICK_ARRAY, &cx).expect("its array");
    }
    let mut slot = || Ok(5);
    let mut cx = Assembly::new("W", ("A", "B"), (None, None), &mut slot);
    let (state, at) = OrcaWhirlpool::update(&mut own, &w, &mut cx)
        .expect("valid")
        .expect("complete");
    assert_eq!(at, 5);
    // both arrays are held: the current one (0) and the one below
    assert_eq!(state.held.map(|h| (h.lo, h.hi)), Some((-5632, 5632)));
    let s = &state.pool;
    assert_eq!(s.ticks, [(-640, 10i128.pow(11)), (640, -(10i128.pow(11)))]);
    let out = Curve::quote(&state, 1_000_000, true).expect("fills");
    let direct = swap::ClmmPool::new(
        s.sqrt_price_x64,
        s.liquidity,
        0,
        64,
        3000,
        &[(-640, 10i128.pow(11)), (640, -(10i128.pow(11)))],
    )
    .expect("valid")
    .swap(1_000_000, true, true, None, 0)
    .expect("swaps");
    assert_eq!(out, direct.amount_out);
    assert_eq!(Curve::quote(&state, 0, true), Some(0));
    // an array of another pool is a decode error naming both
    let stray = array(0, [8; 32], &[]);
    let cx = OwnAccount {
        account: 3,
        pubkey: "T3",
        pool_key: &pool_key,
        pool_id: "W",
        data: &stray,
        owner: None,
        slot: None,
    };
    let e = OrcaWhirlpool::check_own_account(TICK_ARRAY, &cx).expect_err("not its array");
    assert!(matches!(e, EngineError::Decode(m) if m.starts_with("tick array T3 belongs to")));
}

#[test]
fn a_quote_past_the_held_arrays_is_ticks_missing_never_a_number() {
    let w = whirlpool(64);
    let pool_key = [9u8; 32];
    let net = 10i128.pow(11);
    // liquidity from -640 to 640 (the pool's 1e11 at tick 0) and a wider band below
    let upper = array(0, pool_key, &[(10, -net)]);
    let lower = array(-5632, pool_key, &[(78, net)]);
    let mut own = TickArrays::default();
    let put = |own: &mut TickArrays, n: u32, data: &Vec<u8>| {
        let cx = OwnAccount {
            account: n,
            pubkey: "T",
            pool_key: &pool_key,
            pool_id: "W",
            data,
            owner: None,
            slot: None,
        };
        OrcaWhirlpool::own_account(own, TICK_ARRAY, &cx).expect("its array");
    };
    put(&mut own, 1, &upper);
    let mut slot = || Ok(5);
    let mut cx = Assembly::new("W", ("A", "B"), (None, None), &mut slot);
    let (only_current, _) = OrcaWhirlpool::update(&mut own, &w, &mut cx)
        .expect("valid")
        .expect("complete");
    assert_eq!(only_current.held.map(|h| (h.lo, h.hi)), Some((0, 5632)));
    // the price sits on the held array's lower edge: b->a stays in it, any a->b
    // steps below tick 0
    let full = WhirlpoolState {
        pool: ClmmPool::new(
            w.sqrt_price,
            w.liquidity,
            0,
            64,
            3000,
            &[(-640, net), (640, -net)],
        )
        .expect("valid"),
        held: None,
    };
    assert_eq!(
        only_current.quote_checked(1_000, false),
        full.quote_checked(1_000, false)
    );
    assert_eq!(
        only_current.quote_checked(1_000, true),
        Err(NoQuote::TicksMissing)
    );
    assert!(full.quote_checked(1_000_000_000, true).is_ok());
    assert_eq!(
        only_current.quote_checked(1_000_000_000, true),
        Err(NoQuote::TicksMissing)
    );
    assert_eq!(Curve::quote(&only_current, 1_000_000_000, true), None);
    // the array below arrives: the same quote is the full state's number
    put(&mut own, 2, &lower);
    let mut cx = Assembly::new("W", ("A", "B"), (None, None), &mut slot);
    let (both, _) = OrcaWhirlpool::update(&mut own, &w, &mut cx)
        .expect("valid")
        .expect("complete");
    assert_eq!(
        both.quote_checked(1_000_000_000, true),
        full.quote_checked(1_000_000_000, true)
    );
    // untracked again: its ticks leave, and so does the number
    assert!(own.forget(2));
    assert!(!own.forget(2));
    let mut cx = Assembly::new("W", ("A", "B"), (None, None), &mut slot);
    let (again, _) = OrcaWhirlpool::update(&mut own, &w, &mut cx)
        .expect("valid")
        .expect("complete");
    assert_eq!(again, only_current);
    // nothing held around the current tick: every non-zero quote is missing
    assert!(own.forget(1));
    let mut cx = Assembly::new("W", ("A", "B"), (None, None), &mut slot);
    let (none, _) = OrcaWhirlpool::update(&mut own, &w, &mut cx)
        .expect("valid")
        .expect("complete");
    assert!(none.held.is_some_and(|h| h.is_empty()));
    assert_eq!(none.quote_checked(1, false), Err(NoQuote::TicksMissing));
    assert_eq!(none.quote_checked(0, false), Ok(0));
}

#[test]
fn an_untracked_array_is_forgotten_through_the_venue() {
    let pool_key = [9u8; 32];
    let data = array(0, pool_key, &[(10, 5)]);
    let cx = OwnAccount {
        account: 7,
        pubkey: "T",
        pool_key: &pool_key,
        pool_id: "W",
        data: &data,
        owner: None,
        slot: None,
    };
    let mut own = super::super::Own::new(super::super::VenueId::OrcaWhirlpool);
    own.apply(TICK_ARRAY, &cx).expect("its array");
    assert!(own.forget(7));
    assert!(!own.forget(7));
}

#[test]
fn traded_events_need_their_size() {
    let mut raw = DISC_TRADED.to_vec();
    raw.resize(121, 0);
    raw[40] = 1;
    let ev = OrcaWhirlpool::parse_event(&raw)
        .expect("ours")
        .expect("valid");
    assert!(ev.a_to_b);
    assert!(OrcaWhirlpool::parse_event(&raw[..100])
        .expect("ours")
        .is_err());
    assert!(OrcaWhirlpool::parse_event(&[0u8; 121]).is_none());
}

#[test]
fn whirlpool_ticks_are_sorted_across_arrays_and_cached() {
    let arr = |account: u32, start: i32, ticks: Vec<(u8, i128)>| ArrayTicks {
        account,
        start,
        ticks,
    };
    let arrays = vec![
        arr(1, 5632, vec![(3, 7), (0, -2)]),
        arr(2, -5632, vec![(87, 1)]),
    ];
    let t = sorted_ticks(&arrays, 64);
    assert_eq!(t.ticks, vec![(-64, 1), (5632, -2), (5824, 7)]);
    assert_eq!(t.overflow, None);
    let far = vec![arr(1, i32::MAX - 10, vec![(1, 1)])];
    assert_eq!(
        sorted_ticks(&far, 64).overflow,
        Some(i64::from(i32::MAX) + 54)
    );
}
