use super::*;
use crate::venues::Curve;

fn pool(fees: [u64; 6]) -> RaydiumCpmmPool {
    let mut d = vec![0u8; POOL_SIZE];
    d[..8].copy_from_slice(&DISC_POOL);
    for i in 0..10 {
        d[8 + 32 * i..40 + 32 * i].copy_from_slice(&[i as u8 + 1; 32]);
    }
    for (i, v) in fees[..4].iter().enumerate() {
        d[341 + 8 * i..349 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    d[397..405].copy_from_slice(&fees[4].to_le_bytes());
    d[405..413].copy_from_slice(&fees[5].to_le_bytes());
    decode_raydium_cpmm(&d, Some(&PROGRAM)).expect("decodes")
}

fn config(rate: u64) -> Vec<u8> {
    let mut d = vec![0u8; CONFIG_SIZE];
    d[..8].copy_from_slice(&DISC_CONFIG);
    d[12..20].copy_from_slice(&rate.to_le_bytes());
    d
}

#[test]
fn reserves_wait_for_the_config_and_leave_the_fees_out() {
    let r = pool([1, 2, 3, 4, 5, 6]);
    let mut follows = Vec::new();
    RaydiumCpmm::followed(&r, &mut follows);
    assert_eq!(follows, [(CONFIG, [1; 32])]);
    assert_eq!(RaydiumCpmm::reserve_mints(&r), ([6; 32], [7; 32]));
    assert_eq!(RaydiumCpmm::vaults(&r), ([3; 32], [4; 32]));
    let mut own = Config::default();
    let mut slot = || Ok(3);
    let mut cx = Assembly::new("P", ("A", "B"), (Some(1_000), Some(2_000)), &mut slot);
    assert_eq!(RaydiumCpmm::update(&mut own, &r, &mut cx), Ok(None));
    let data = config(2_500);
    let pool_key = [0u8; 32];
    let acc = OwnAccount {
        account: 0,
        pubkey: "C",
        pool_key: &pool_key,
        pool_id: "P",
        data: &data,
        owner: Some(&PROGRAM),
        slot: None,
    };
    RaydiumCpmm::own_account(&mut own, CONFIG, &acc).expect("a config");
    assert!(RaydiumCpmm::own_account(&mut own, 1, &acc).is_err());
    let mut slot = || Ok(3);
    let mut cx = Assembly::new("P", ("A", "B"), (Some(1_000), Some(2_000)), &mut slot);
    let (s, _) = RaydiumCpmm::update(&mut own, &r, &mut cx)
        .expect("valid")
        .expect("complete");
    // held: 1 + 3 + 5 of token 0, 2 + 4 + 6 of token 1
    assert_eq!(
        s.cp,
        ConstantProduct {
            reserve_a: 991,
            reserve_b: 1_988,
            fee_num: 2_500,
            fee_den: FEE_DEN
        }
    );
}

/// `CurveCalculator::swap_base_input` (raydium-cp-swap since b0b2a08): the creator fee on
/// the input (added to the trade fee) or on the output (`ceil`), as `creator_fee_on` says
/// for the direction; no fee at all on the input is `ZeroTradingTokens`.
#[test]
fn creator_fee_on_the_input_or_the_output_and_the_zero_fee_refusal() {
    use crate::amm::amount_out_unchecked;
    let cp = ConstantProduct {
        reserve_a: 1_000_000,
        reserve_b: 3_000_000,
        fee_num: 2_500,
        fee_den: FEE_DEN,
    };
    let out = |a, ri, ro, fee| amount_out_unchecked(a, ri, ro, fee, FEE_DEN);
    // both tokens: on the input both ways, one constant product of the two rates
    let s = CpmmState::new("P", cp, 10_000, 0).expect("valid");
    assert_eq!(s.constant_product().map(|c| c.fee_num), Some(12_500));
    // total fee ceil(10,000 x 1.25 %) = 125; floor(9,875 x 3e6 / 1,009,875) = 29,335
    assert_eq!(s.amount_out(10_000, true), Some(29_335));
    assert_eq!(
        s.amount_out(10_000, false),
        Some(out(10_000, 3_000_000, 1_000_000, 12_500))
    );
    // token 1 only: off the output a -> b (token 1 out), off the input b -> a
    let s = CpmmState::new("P", cp, 10_000, 2).expect("valid");
    assert!(s.constant_product().is_none());
    let swapped = out(10_000, 1_000_000, 3_000_000, 2_500);
    let fee = (swapped * 10_000).div_ceil(FEE_DEN);
    assert_eq!(s.amount_out(10_000, true), Some(swapped - fee));
    assert_eq!(
        s.amount_out(10_000, false),
        Some(out(10_000, 3_000_000, 1_000_000, 12_500))
    );
    assert!(s.spot_rate(true) < cp.spot_rate(true));
    // no fee at all: refused on the input (token 0 only: a -> b), paid on the output
    let free = ConstantProduct { fee_num: 0, ..cp };
    let s = CpmmState::new("P", free, 0, 1).expect("valid");
    assert_eq!(s.amount_out(10_000, true), None);
    assert_eq!(
        s.amount_out(10_000, false),
        Some(out(10_000, 3_000_000, 1_000_000, 0))
    );
    assert!(s.constant_product().is_none());
    // the graph's plain constant product refuses nothing
    let p = CpmmState::plain(free);
    assert_eq!(
        p.amount_out(10_000, true),
        Some(out(10_000, 1_000_000, 3_000_000, 0))
    );
    assert_eq!(p.constant_product(), Some(&free));
    // what the program cannot read
    assert!(CpmmState::new("P", cp, 0, 3).is_err());
    assert!(CpmmState::new("P", cp, FEE_DEN - 2_500, 0).is_err());
}

#[test]
fn swap_events_old_and_new() {
    let mut old = DISC_SWAP_EVENT.to_vec();
    old.extend_from_slice(&[8; 32]);
    for v in [10u64, 20, 30, 40, 0, 0] {
        old.extend_from_slice(&v.to_le_bytes());
    }
    old.push(1);
    let ev = RaydiumCpmm::parse_event(&old)
        .expect("ours")
        .expect("valid");
    assert_eq!((ev.amounts[3], ev.base_input, ev.newer), (40, true, None));
    let mut new = old.clone();
    new.extend_from_slice(&[9; 32]);
    new.extend_from_slice(&[10; 32]);
    new.extend_from_slice(&25u64.to_le_bytes());
    new.extend_from_slice(&5u64.to_le_bytes());
    new.push(0);
    let ev = RaydiumCpmm::parse_event(&new)
        .expect("ours")
        .expect("valid");
    assert_eq!(ev.newer, Some(([9; 32], [10; 32], 25, 5, false)));
    assert!(RaydiumCpmm::parse_event(&[0u8; 100]).is_none());
    assert!(RaydiumCpmm::parse_event(&old[..50]).expect("ours").is_err());
}
