use super::*;
use crate::venues::Curve;

#[test]
fn ray_log_spec_vector() {
    let got = parse_ray_log(
        "AxPMGo8xAAAAAAAAAAAAAAACAAAAAAAAAAC4ZNlFAAAAg1tiLxJGAAAX2yfkXwEAAGSxk/cAAAAA",
    );
    assert_eq!(
        got,
        Ok(Some((
            0,
            [
                212854295571,
                0,
                2,
                300000000000,
                77043918330755,
                1511361338135,
                4153651556
            ]
        )))
    );
    assert!(parse_ray_log("mismatch: input:1").is_err());
}

fn pool(fee: (u64, u64), pnl: (u64, u64)) -> AmmInfo {
    let mut d = vec![0u8; POOL_SIZE];
    d[176..184].copy_from_slice(&fee.0.to_le_bytes());
    d[184..192].copy_from_slice(&fee.1.to_le_bytes());
    d[192..200].copy_from_slice(&pnl.0.to_le_bytes());
    d[200..208].copy_from_slice(&pnl.1.to_le_bytes());
    for (i, &at) in KEY_AT.iter().enumerate() {
        d[at..at + 32].copy_from_slice(&[i as u8 + 1; 32]);
    }
    decode_raydium_amm_v4(&d, Some(&PROGRAM)).expect("decodes")
}

#[test]
fn reserves_are_the_vaults_less_the_pnl_and_quote_exactly() {
    let r = pool((25, 10_000), (1_000, 2_000));
    assert_eq!(RaydiumAmmV4::reserve_mints(&r), ([3; 32], [4; 32]));
    assert_eq!(RaydiumAmmV4::vaults(&r), ([1; 32], [2; 32]));
    let mut slot = || Ok(9);
    let mut cx = Assembly::new("P", ("A", "B"), (Some(1_001_000), None), &mut slot);
    assert_eq!(RaydiumAmmV4::update(&mut (), &r, &mut cx), Ok(None));
    let mut slot = || Ok(9);
    let mut cx = Assembly::new(
        "P",
        ("A", "B"),
        (Some(77_043_918_331_755), Some(1_511_361_340_135)),
        &mut slot,
    );
    let (s, at) = RaydiumAmmV4::update(&mut (), &r, &mut cx)
        .expect("valid")
        .expect("complete");
    assert_eq!(at, 9);
    assert_eq!(
        (s.reserve_a, s.reserve_b),
        (77_043_918_330_755, 1_511_361_338_135)
    );
    // spec §8.6, processor.rs test_swap_base_in
    assert_eq!(Curve::quote(&s, 212_854_295_571, true), Some(4_153_651_556));
    assert!(Curve::spot_rate(&s, true) > 0.0);
    let mut slot = || Ok(9);
    let mut cx = Assembly::new("P", ("A", "B"), (Some(999), Some(5_000)), &mut slot);
    assert!(matches!(
        RaydiumAmmV4::update(&mut (), &r, &mut cx),
        Err(EngineError::InvalidInput(_))
    ));
}

#[test]
fn identity_is_the_keys_and_the_status() {
    let a = pool((25, 10_000), (0, 0));
    let mut b = pool((30, 10_000), (5, 5));
    assert!(RaydiumAmmV4::same_identity(&a, &b)); // fees and pnl move
    b.keys[6] = [99; 32];
    assert!(!RaydiumAmmV4::same_identity(&a, &b));
}
