use super::*;

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
        s,
        ConstantProduct {
            reserve_a: 991,
            reserve_b: 1_988,
            fee_num: 2_500,
            fee_den: FEE_DEN
        }
    );
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
