use super::*;
use crate::venues::Curve;

#[test]
fn program_id_and_discriminators_are_the_idls() {
    use sha2::{Digest, Sha256};
    assert_eq!(b58::encode(&PROGRAM), PROGRAM_ID);
    for (name, disc) in [
        ("account:LbPair", DISC_LB_PAIR),
        ("account:BinArray", DISC_BIN_ARRAY),
        ("account:BinArrayBitmapExtension", DISC_BITMAP_EXTENSION),
        ("event:Swap", DISC_SWAP_EVENT),
    ] {
        let h = Sha256::digest(name.as_bytes());
        assert_eq!(h[..8], disc, "{name}");
    }
}

#[test]
fn next_array_searches_the_bitmap_both_ways() {
    let mut bm = [0u64; 16];
    // indexes -1, 0 and 3 (offsets 511, 512, 515)
    bm[7] = 1 << 63;
    bm[8] = 1 | 1 << 3;
    assert_eq!(next_array(&bm, 0, true), Some(0));
    assert_eq!(next_array(&bm, 2, true), Some(0));
    assert_eq!(next_array(&bm, 0, false), Some(0));
    assert_eq!(next_array(&bm, 1, false), Some(3));
    assert_eq!(next_array(&bm, 4, false), None);
    assert_eq!(next_array(&bm, -2, true), None);
    assert_eq!(next_array(&bm, -5, false), Some(-1));
    assert_eq!(next_array(&bm, 600, false), None);
}

#[test]
fn extreme_active_ids_refuse_without_panicking() {
    let mut d = vec![0u8; POOL_SIZE];
    d[..8].copy_from_slice(&DISC_LB_PAIR);
    d[80..82].copy_from_slice(&10u16.to_le_bytes());
    for id in [i32::MIN, i32::MAX, -443_637, 443_637] {
        d[76..80].copy_from_slice(&id.to_le_bytes());
        let r = decode_lb_pair(&d, None).expect("decodes");
        let s = state_of(&r, Vec::new(), 0, 0);
        assert_eq!(s.spot_rate(true), 0.0);
        assert_eq!(s.quote_checked(1_000, true), Err(NoQuote::TicksMissing));
        assert_eq!(s.quote_checked(1_000, false), Err(NoQuote::TicksMissing));
    }
}

#[test]
fn a_pair_quotes_at_the_clock_sysvars_time_once_seen() {
    use crate::decode::SYSVAR_OWNER;
    let mut d = vec![0u8; POOL_SIZE];
    d[..8].copy_from_slice(&DISC_LB_PAIR);
    d[56..64].copy_from_slice(&1_700_000_000i64.to_le_bytes()); // last_update_timestamp
    let r = decode_lb_pair(&d, None).expect("decodes");
    let mut out = Vec::new();
    MeteoraDlmm::followed(&r, &mut out);
    assert_eq!(out, vec![(CLOCK, SYSVAR_CLOCK)]);
    let mut own = BinArrays::default();
    let mut slot = || Ok(7u64);
    let mints = ("a", "b");
    let now = |own: &mut BinArrays, slot: &mut dyn FnMut() -> Result<u64>| {
        let mut cx = Assembly::new("pair", mints, (None, None), slot);
        MeteoraDlmm::update(own, &r, &mut cx)
            .expect("assembles")
            .map(|(s, _)| s.now)
    };
    assert_eq!(now(&mut own, &mut slot), Some(1_700_000_000));
    let mut clock = vec![0u8; 40];
    clock[32..40].copy_from_slice(&1_700_000_600i64.to_le_bytes());
    let cx = OwnAccount {
        account: 1,
        pubkey: "SysvarC1ock11111111111111111111111111111111",
        pool_key: &[0u8; 32],
        pool_id: "pair",
        data: &clock,
        owner: Some(&SYSVAR_OWNER),
        slot: None,
    };
    MeteoraDlmm::own_account(&mut own, CLOCK, &cx).expect("the clock");
    assert_eq!(now(&mut own, &mut slot), Some(1_700_000_600));
    let wrong = OwnAccount {
        owner: Some(&PROGRAM),
        ..cx
    };
    assert!(MeteoraDlmm::check_own_account(CLOCK, &wrong).is_err());
}

#[test]
fn swap_events_need_their_size() {
    let mut raw = DISC_SWAP_EVENT.to_vec();
    raw.resize(SWAP_EVENT_SIZE, 0);
    raw[96] = 1;
    let ev = MeteoraDlmm::parse_event(&raw)
        .expect("ours")
        .expect("valid");
    assert!(ev.swap_for_y);
    assert!(MeteoraDlmm::parse_event(&raw[..100])
        .expect("ours")
        .is_err());
    assert!(MeteoraDlmm::parse_event(&[0u8; 160]).is_none());
}
