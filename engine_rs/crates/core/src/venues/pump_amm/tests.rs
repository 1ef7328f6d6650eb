use super::*;

fn b64(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

#[test]
fn real_mainnet_accounts_and_event() {
    // pool GUXAutvX… and the GlobalConfig (tests/data/venues/pump_amm/mainnet.json)
    let pool = b64("8ZptBBGxbbz/AAAs98JusIgYjN/c+OImcGGKLbklh9KFdMPdkckEOMtRRiRJ+U7BLbz0edwLteAk1ZOEusHMAqkS9JpDqKYXM3n5BpuIV/6rgYT7aH9jRhjANdrEOdwa6ztVmKDwAAAAAAEIy+Mec8oHNW4ats6+SDWH6uwUdvnAkxqo7K1PvyTB1HQFfSZ1kp+pDQsMXajk+o6uiopINyd6LPEjQWvMErx5qIq9uP3CEJTTRxA+SM03rI36/NlFGPup8uXrVy0f5uRvp2tZ0AMAAOh5N8loi43Vzzi7J8beMK5OsQsmLpxQq4JX1IbnINydAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let p = decode_pump_amm_pool(&pool, Some(&PROGRAM)).expect("a pool");
    assert_eq!(pool.len(), 300);
    assert_eq!(
        b58::encode(&p.keys[1]),
        "3Sf6oKCeEqCuco4aYtKHHDTBYLAWHiL47QjvkW1UYDEG"
    );
    assert_eq!(
        b58::encode(&p.coin_creator),
        "GeUnv1jmtviRbR7Gu1JnXSGkUMUgFVBHuEVQVpTaUX1W"
    );
    assert_eq!(p.lp_supply, 4_193_388_308_335);
    let (addr, _) = pool_address(p.index, &p.keys[0], &p.keys[1], &p.keys[2]).expect("pda");
    assert_eq!(
        b58::encode(&addr),
        "GUXAutvXh2Cvv2avGkbY8CfcsN9v2Uiwr8VCCqpn9HiU"
    );
    assert!(decode_pump_amm_pool(&pool, Some(&FEE_PROGRAM)).is_err());
    let cfg = decode_pump_amm_global_config(&b64("lQicyqD8sNnTu4yrNBzgUoRX8sOBfTJ4RBlj3NVf7Vi6JMmZ3awCqhQAAAAAAAAABQAAAAAAAAAASsL40N1cvJfjKJwZfLUGKlTz2Va5zm5RFfllZ6pcs+ZgjMwd/OlhtDt3nBkVBabi079F1aTbRhitdsgtYXVFNWODcwAOoiyyZNNK/2SgS176v7t03c0EiZexmBVH19EQg4R0KS5nWpS0NuywqZiJQjKKg93GIzgClhJnxc1hF8uNGBoMhJ+pN6bzSt7TCB75VwCqywybs9kJpLkUdSek69eqj7Bg2CkbTE1HXa/3Yslr3A2s6zbAEurRLtOpSEFh4ATIfOuY+lzkf4A4Bv0seUXSlSSVmuwA3tl4FPOPeEb/g4OBi6j6KMPNO21ek/n6uPCXm8NyFazFskaHe6jDyQUAAAAAAAAAByFdmUB5NpThFgZs5Fm4GP35u6DHtBt4P6OhIMpBlTKii1/SarR5pqnMbL9rCyPrYYhaNx4BIKypE77vPROKeOiTFB+xjp8VdNgQ4XjhnjBgTjF1qi5KMt/IYAcn0QcJATWEU2JWCU+RKBkSfvpORGtDM3IXk9E4dvmq2/PcfQtfbnUBgiD5QmdwAyN7TWtFN1m0pcaQtZw12bsYegkMvSozmHqeuxNnmatZklsT5dyLMIHfAF20J8FHj6Rv+MNHoHTpVD8+N6LQRiJ63ctOnHdMRCWMQ+3ySqiq4fACFGZb2kw4zW23Q49ZtAi7nsO0yp6K0fHyRlPEmbV5bCDb+bMt3Z7qPzmzchFccYR8GEXPpTbGhQdOAw5E0CHePvnjXEy3gPCO4v7oS+xEald4Jdpo1Dn6il2jsMXP9Q9j9FRrAQ=="), Some(&PROGRAM)).expect("a config");
    assert_eq!(
        (
            cfg.lp_fee_basis_points,
            cfg.protocol_fee_basis_points,
            cfg.coin_creator_fee_basis_points
        ),
        (20, 5, 5)
    );
    let ev = PumpAmm::parse_event(&b64("Pi83CqUD3CrmQmRqAAAAADtuhqUYAwAAAAAAAAAAAAAbGsAnUgoAANJWF+ADAAAAqhLbyY6vAAAU3GYeEQAAAGH1HV4AAAAAFAAAAAAAAAAcMDAAAAAAAAUAAAAAAAAABwwMAAAAAABFxe1dAAAAALzU/FwAAAAA6pwckxLA/KYL1J4hgZb0cRsoL7pIUK8JSMfAFpa8g81Ihrlny62JCwao1h0+OB+aTwTdHdq16yfwTu53cP005RWjZRpHJI8kV9WUKCPkH+1mk9zmoh1sC0zv8I/kalDbK4IDVG1+w3hTpd1zBzEQ5HofTtf6kklRvm4N6MDY2mfgBMh865j6XOR/gDgG/Sx5RdKVJJWa7ADe2XgU8494RpwlJHx6/mh3nE583EE55WuEze54pO2bR06h+o7pPOIllTyimfu5xg7z13URFZgIQB4lJ5pLBTVQxPnoFu2UXkFfAAAAAAAAAILk5AAAAAAAAAAAAAAAAAAAAAAAAAAAAIgTAAAAAAAAAwYGAAAAAADOQR4YBAAAAAAAAAAAAAAAAQCAxqR+jQMA")).expect("ours").expect("valid");
    assert!(!ev.buy);
    assert_eq!(ev.amounts[0], 3_404_391_149_115);
    assert_eq!(ev.amounts[12], 1_560_073_404);
    assert_eq!(ev.creator_fee, Some((95, 15_000_706)));
    assert_eq!(
        b58::encode(&ev.pool),
        "GnpU6c7H9CbPrbb9cUkQMxgz6DZV41h8XbU4pLh4C27e"
    );
}

#[test]
fn pdas_of_the_docs() {
    // docs/PUMP_SWAP_README.md: the GlobalConfig, and the example pool's address from
    // its index, creator and mints
    let (g, _) = global_config_address().expect("pda");
    assert_eq!(b58::encode(&g), GLOBAL_CONFIG_ID);
    let (p, bump) = pool_address(
        0,
        &b58::key("9XDYTfQKwW8sHPqnFdUreMmtmffmkHVPGTNV2e3LKxNW"),
        &b58::key("7LSsEoJGhLeZzGvDofTdNg7M3JttxQqGWNLo6vWMpump"),
        &b58::key("So11111111111111111111111111111111111111112"),
    )
    .expect("pda");
    assert_eq!(
        b58::encode(&p),
        "GseMAnNDvntR5uFePZ51yZBXzNSn7GdFPkfHwfr6d77J"
    );
    assert_eq!(bump, 254);
}

#[test]
fn sell_takes_each_fee_off_the_output_rounded_up() {
    // the fee arithmetic of a real SellEvent (pool GnpU6c…, see the Python tests):
    // gross 1 579 021 665, lp 20 / protocol 5 / creator 95 bps
    let s = PumpState::checked("P", 1, 1, (20, 5, 95), 0).expect("valid");
    assert_eq!(s.fees(1_579_021_665), 3_158_044 + 789_511 + 15_000_706);
    assert_eq!(s.sell(0), Some(0));
    let off = PumpState {
        disable_flags: DISABLE_SELL,
        ..s
    };
    assert_eq!(off.sell(5), None);
}

#[test]
fn fee_tiers_as_the_docs_pick_them() {
    // docs/fees.png: under 420 SOL 2 / 93 / 30 bps, from 420 SOL 20 / 5 / 95, from
    // 1470 SOL 20 / 5 / 90
    let sol = 1_000_000_000u128;
    let tiers = [
        (0, [2, 93, 30]),
        (420 * sol, [20, 5, 95]),
        (1_470 * sol, [20, 5, 90]),
    ];
    assert_eq!(fee_tier(&tiers, 0), Some([2, 93, 30]));
    assert_eq!(fee_tier(&tiers, 420 * sol - 1), Some([2, 93, 30]));
    assert_eq!(fee_tier(&tiers, 420 * sol), Some([20, 5, 95]));
    assert_eq!(fee_tier(&tiers, u128::MAX), Some([20, 5, 90]));
    assert_eq!(fee_tier(&tiers[1..], 0), Some([20, 5, 95]));
    assert_eq!(fee_tier(&[], 0), None);
}

#[test]
fn checks() {
    assert!(PumpState::checked("P", 0, 1, (0, 0, 0), 0).is_err());
    assert!(PumpState::checked("P", 1, 1, (5_000, 5_000, 0), 0).is_err());
    assert!(PumpState::checked("P", 1, 1, (u64::MAX, u64::MAX, 2), 0).is_err());
    let s = PumpState::checked("P", u64::MAX, u64::MAX, (9_000, 999, 0), 0).expect("ok");
    assert!(s.sell(u64::MAX).is_some());
    assert!(s.buy(u64::MAX).is_some());
    assert_eq!(s.buy(1), None);
    // 2 spent at 1 + 1 + 1 bps: net 1, fees 3, shaved below zero
    let tiny = PumpState::checked("P", 1, 1, (1, 1, 1), 0).expect("ok");
    assert_eq!(tiny.buy(2), None);
    // a sell never takes more than the vault holds (virtual reserves price, not pay)
    let capped = PumpState {
        real_quote: 10,
        ..s
    };
    assert_eq!(capped.sell(u64::MAX), None);
    assert_eq!(capped.buy(u64::MAX), s.buy(u64::MAX));
}

#[test]
fn events_by_discriminator_only_of_its_own() {
    let mut ev = DISC_SELL_EVENT.to_vec();
    ev.resize(EVENT_HEAD, 0);
    let e = PumpAmm::parse_event(&ev).expect("ours").expect("valid");
    assert!(!e.buy && e.creator_fee.is_none());
    assert!(PumpAmm::parse_event(&ev[..EVENT_HEAD - 1])
        .expect("ours")
        .is_err());
    assert!(PumpAmm::parse_event(&[0u8; 200]).is_none());
}
