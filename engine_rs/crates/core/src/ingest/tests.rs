use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::*;
use crate::decode::SPL_TOKEN_ID;
use crate::venues::orca_whirlpool::{self, DISC_FIXED_TICK_ARRAY};
use crate::venues::{raydium_amm_v4, raydium_cpmm};

fn key(n: u8) -> Key {
    let mut k = [n; 32];
    k[0] = 0x42;
    k[31] = n.wrapping_mul(7);
    k
}

fn name(n: u8) -> String {
    b58::encode(&key(n))
}

fn put<const N: usize>(d: &mut [u8], off: usize, v: [u8; N]) {
    d[off..off + N].copy_from_slice(&v);
}

fn token_account(mint: Key, amount: u64) -> Vec<u8> {
    let mut d = vec![0u8; 165];
    put(&mut d, 0, mint);
    put(&mut d, 32, key(200));
    put(&mut d, 64, amount.to_le_bytes());
    d[108] = 1;
    d
}

struct Wp {
    mints: (Key, Key),
    vaults: (Key, Key),
    spacing: u16,
    sqrt_price: u128,
    tick: i32,
    liquidity: u128,
}

fn whirlpool(w: &Wp) -> Vec<u8> {
    let mut d = vec![0u8; 653];
    put(&mut d, 0, orca_whirlpool::DISC_WHIRLPOOL);
    put(&mut d, 8, key(100));
    d[40] = 255;
    put(&mut d, 41, w.spacing.to_le_bytes());
    put(&mut d, 43, w.spacing.to_le_bytes());
    put(&mut d, 45, 3000u16.to_le_bytes());
    put(&mut d, 47, 300u16.to_le_bytes());
    put(&mut d, 49, w.liquidity.to_le_bytes());
    put(&mut d, 65, w.sqrt_price.to_le_bytes());
    put(&mut d, 81, w.tick.to_le_bytes());
    put(&mut d, 101, w.mints.0);
    put(&mut d, 133, w.vaults.0);
    put(&mut d, 181, w.mints.1);
    put(&mut d, 213, w.vaults.1);
    d
}

fn tick_array(start: i32, pool: Key, ticks: &[(usize, i128)]) -> Vec<u8> {
    let mut d = vec![0u8; 9988];
    put(&mut d, 0, DISC_FIXED_TICK_ARRAY);
    put(&mut d, 8, start.to_le_bytes());
    for &(i, net) in ticks {
        let off = 12 + 113 * i;
        d[off] = 1;
        put(&mut d, off + 1, net.to_le_bytes());
        put(&mut d, off + 17, net.unsigned_abs().to_le_bytes());
    }
    put(&mut d, 9956, pool);
    d
}

fn cpmm_pool(config: Key, vaults: (Key, Key), mints: (Key, Key), fees: [u64; 6]) -> Vec<u8> {
    let mut d = vec![0u8; 637];
    put(&mut d, 0, raydium_cpmm::DISC_POOL);
    let keys = [
        config,
        key(201),
        vaults.0,
        vaults.1,
        key(202),
        mints.0,
        mints.1,
        SPL_TOKEN_ID,
        SPL_TOKEN_ID,
        key(203),
    ];
    for (i, k) in keys.iter().enumerate() {
        put(&mut d, 8 + 32 * i, *k);
    }
    // protocol 0/1, fund 0/1
    for (i, v) in fees[..4].iter().enumerate() {
        put(&mut d, 341 + 8 * i, v.to_le_bytes());
    }
    put(&mut d, 397, fees[4].to_le_bytes());
    put(&mut d, 405, fees[5].to_le_bytes());
    d
}

fn cpmm_config(rate: u64) -> Vec<u8> {
    let mut d = vec![0u8; 236];
    put(&mut d, 0, raydium_cpmm::DISC_CONFIG);
    put(&mut d, 12, rate.to_le_bytes());
    d
}

fn amm_v4(vaults: (Key, Key), mints: (Key, Key), pnl: (u64, u64)) -> Vec<u8> {
    let mut d = vec![0u8; 752];
    put(&mut d, 176, 25u64.to_le_bytes());
    put(&mut d, 184, 10_000u64.to_le_bytes());
    put(&mut d, 192, pnl.0.to_le_bytes());
    put(&mut d, 200, pnl.1.to_le_bytes());
    put(&mut d, 336, vaults.0);
    put(&mut d, 368, vaults.1);
    put(&mut d, 400, mints.0);
    put(&mut d, 432, mints.1);
    d
}

fn account_frame(sub: u64, slot: u64, owner: &Key, data: &[u8]) -> Vec<u8> {
    format!(
        r#"{{"jsonrpc":"2.0","method":"accountNotification","params":{{"result":{{"context":{{"slot":{slot}}},"value":{{"lamports":1,"data":["{}","base64"],"owner":"{}","executable":false,"rentEpoch":18446744073709551615,"space":{}}}}},"subscription":{sub}}}}}"#,
        STANDARD.encode(data),
        b58::encode(owner),
        data.len()
    )
    .into_bytes()
}

fn slot_frame(sub: u64, slot: u64) -> Vec<u8> {
    format!(
        r#"{{"jsonrpc":"2.0","method":"slotNotification","params":{{"result":{{"parent":{},"root":{},"slot":{slot}}},"subscription":{sub}}}}}"#,
        slot.saturating_sub(1),
        slot.saturating_sub(32)
    )
    .into_bytes()
}

fn logs_frame(sub: u64, sig: &str, err: &str, lines: &[&str]) -> Vec<u8> {
    let lines: Vec<String> = lines.iter().map(|l| format!("{l:?}")).collect();
    format!(
        r#"{{"jsonrpc":"2.0","method":"logsNotification","params":{{"result":{{"context":{{"slot":5}},"value":{{"signature":"{sig}","err":{err},"logs":[{}]}}}},"subscription":{sub}}}}}"#,
        lines.join(",")
    )
    .into_bytes()
}

fn wp() -> Wp {
    Wp {
        mints: (key(1), key(2)),
        vaults: (key(3), key(4)),
        spacing: 64,
        sqrt_price: 1 << 64,
        tick: 0,
        liquidity: 1_000_000_000_000,
    }
}

fn frame(
    ing: &mut FeedIngest,
    g: &mut PoolGraph,
    ep: u16,
    f: &[u8],
    ns: i64,
) -> Result<Option<u64>> {
    ing.frame(g, ep, Input::Bytes(f), Arg::Ok(ns))
}

#[test]
fn a_whirlpool_frame_reaches_the_graph_once() {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let (pool, ta) = (name(10), name(11));
    ing.track_pool(&pool, "whirlpool").expect("track");
    ing.track_array(&ta, &pool).expect("track");
    ing.bind(0, 1, Some(&pool), SubKind::Account);
    ing.bind(1, 9, Some(&pool), SubKind::Account);
    ing.bind(0, 2, Some(&ta), SubKind::Account);
    ing.bind(0, 3, Some("slot"), SubKind::Slot);
    let owner = orca_whirlpool::PROGRAM;
    let f = account_frame(1, 77, &owner, &whirlpool(&wp()));
    assert_eq!(frame(&mut ing, &mut g, 0, &f, 100), Ok(Some(1)));
    assert_eq!(g.pools(), vec![pool.clone()]);
    // the second endpoint's copy (another subscription id) is a duplicate
    let f1 = account_frame(9, 77, &owner, &whirlpool(&wp()));
    assert_eq!(frame(&mut ing, &mut g, 1, &f1, 130), Ok(Some(9)));
    assert_eq!(ing.take_changed(), vec![pool.clone()]);
    assert!(ing.take_changed().is_empty());
    // the pool named its vaults: they are watched now
    assert_eq!(
        ing.watched(),
        vec![pool.clone(), ta.clone(), name(3), name(4)]
    );
    // a tick array: the pool is upserted again with its ticks
    let arr = tick_array(-5632, key(10), &[(80, 500), (8, -500)]);
    assert_eq!(
        frame(
            &mut ing,
            &mut g,
            0,
            &account_frame(2, 78, &owner, &arr),
            140
        ),
        Ok(Some(2))
    );
    assert_eq!(ing.take_changed(), vec![pool.clone()]);
    // one slot notification is no chain slot; its next one confirms it
    assert_eq!(
        frame(&mut ing, &mut g, 0, &slot_frame(3, 77), 145),
        Ok(Some(3))
    );
    assert_eq!(g.slot(), 0);
    assert_eq!(
        frame(&mut ing, &mut g, 0, &slot_frame(3, 78), 150),
        Ok(Some(3))
    );
    assert_eq!(g.slot(), 78);
    let s = ing.stats();
    assert_eq!(
        (
            s.frames,
            s.notifications,
            s.first_copies,
            s.duplicates,
            s.accounts,
            s.slots,
            s.pool_updates,
            s.slot
        ),
        (5, 5, 4, 1, 2, 2, 2, 78)
    );
    let d = ing.dedup_stats();
    assert_eq!(
        (d[0].first_seen, d[1].duplicates, d[1].lag_mean_ns),
        (4, 1, Some(30.0))
    );
    assert_eq!(ing.whirlpools().len(), 1);
    // a response is not a notification
    assert_eq!(
        frame(
            &mut ing,
            &mut g,
            0,
            br#"{"jsonrpc":"2.0","result":5,"id":1}"#,
            0
        ),
        Ok(None)
    );
    // unknown subscriptions are counted, not applied, and held against their endpoint
    assert_eq!(frame(&mut ing, &mut g, 3, &f, 0), Ok(Some(1)));
    assert_eq!(ing.stats().unknown, 1);
    let e = ing.endpoint_stats();
    assert_eq!(
        e.iter()
            .map(|e| (e.endpoint, e.unknown))
            .collect::<Vec<_>>(),
        vec![(0, 0), (1, 0), (3, 1)]
    );
}

/// Three endpoints bound to one AMM v4 pool, its vaults and the slot.
fn amm_setup() -> (PoolGraph, FeedIngest, String, Vec<u8>) {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let pool = name(40);
    ing.track_pool(&pool, "amm_v4").expect("track");
    let data = amm_v4((key(41), key(42)), (key(43), key(44)), (0, 0));
    let amm = raydium_amm_v4::PROGRAM;
    let spl = SPL_TOKEN_ID;
    assert_eq!(
        ing.account(&mut g, &pool, Some(&amm), &data, Arg::Ok(100)),
        Ok(true)
    );
    for (v, m, amount) in [(41, 43, 1_000_000u64), (42, 44, 2_000_000)] {
        let t = token_account(key(m), amount);
        assert_eq!(
            ing.account(&mut g, &name(v), Some(&spl), &t, Arg::Ok(100)),
            Ok(true)
        );
    }
    for ep in 0..3u16 {
        let base = 10 * u64::from(ep);
        ing.bind(ep, base + 1, Some(&pool), SubKind::Account);
        ing.bind(ep, base + 2, Some(&name(41)), SubKind::Account);
        ing.bind(ep, base + 3, Some("slot"), SubKind::Slot);
    }
    (g, ing, pool, data)
}

fn slots(ing: &mut FeedIngest, g: &mut PoolGraph, slot: u64, ns: i64) {
    for ep in 0..3u16 {
        let sub = 10 * u64::from(ep) + 3;
        assert_eq!(frame(ing, g, ep, &slot_frame(sub, slot), ns), Ok(Some(sub)));
    }
}

#[test]
fn one_frame_from_the_future_moves_nothing() {
    let (mut g, mut ing, _, _) = amm_setup();
    slots(&mut ing, &mut g, 200, 1_000);
    slots(&mut ing, &mut g, 201, 2_000);
    assert_eq!(ing.slot(), 201);
    // endpoint 2 lies, once and then consistently: the majority keeps the chain
    assert_eq!(
        frame(&mut ing, &mut g, 2, &slot_frame(23, 1_201), 3_000),
        Ok(Some(23))
    );
    assert_eq!(
        frame(&mut ing, &mut g, 2, &slot_frame(23, 1_202), 4_000),
        Ok(Some(23))
    );
    assert_eq!((ing.slot(), g.slot()), (201, 201));
    assert_eq!(ing.endpoint_stats()[2].implausible, 1);
    // an account update 1,000 slots ahead is not applied (and cannot freeze the pool)
    let spl = SPL_TOKEN_ID;
    let far = account_frame(2, 1_201, &spl, &token_account(key(43), 5));
    assert_eq!(frame(&mut ing, &mut g, 0, &far, 5_000), Ok(Some(2)));
    assert_eq!(ing.endpoint_stats()[0].implausible, 1);
    let next = account_frame(2, 202, &spl, &token_account(key(43), 900_000));
    assert_eq!(frame(&mut ing, &mut g, 0, &next, 6_000), Ok(Some(2)));
    assert!(ing.take_changed().contains(&name(40)));
}

/// Endpoints 0 and 1 (of `amm_setup`) send `slot(ep, k)` each 400 ms step `k`; the
/// chain's slot after each step.
fn two_endpoints(steps: u64, slot: impl Fn(u16, u64) -> Option<u64>) -> (FeedIngest, Vec<u64>) {
    let (mut g, mut ing, _, _) = amm_setup();
    let mut chain = Vec::new();
    for k in 0..steps {
        for ep in 0..2u16 {
            if let Some(s) = slot(ep, k) {
                let sub = 10 * u64::from(ep) + 3;
                let t = k as i64 * 400_000_000 + i64::from(ep) * 1_000_000;
                assert_eq!(
                    frame(&mut ing, &mut g, ep, &slot_frame(sub, s), t),
                    Ok(Some(sub))
                );
            }
        }
        chain.push(ing.slot());
    }
    assert_eq!(g.slot(), ing.slot());
    (ing, chain)
}

#[test]
fn of_two_endpoints_a_lagging_one_holds_nothing_back() {
    // endpoint 0 is 40 slots late: once endpoint 1 moved at pace for STEADY_NS it leads
    let (ing, chain) = two_endpoints(40, |ep, k| Some(1_000 + k - if ep == 0 { 40 } else { 0 }));
    assert!((8..40).all(|k| chain[k as usize] == 1_000 + k), "{chain:?}");
    let e = ing.endpoint_stats();
    assert_eq!((e[0].behind, e[0].lagging, e[0].leading), (40, true, false));
    assert_eq!((e[1].behind, e[1].lagging, e[1].leading), (0, false, true));
}

#[test]
fn of_two_endpoints_a_stalled_or_rewound_one_holds_nothing_back() {
    // from step 10, endpoint 0 repeats its slot, or answers 1,000 slots back
    for back in [0, 1_000] {
        let (ing, chain) = two_endpoints(40, |ep, k| {
            Some(match (ep, k) {
                (0, k) if k >= 10 && back == 0 => 1_010,
                (0, k) if k >= 10 => 1_000 + k - back,
                (_, k) => 1_000 + k,
            })
        });
        assert!((8..40).all(|k| chain[k as usize] == 1_000 + k), "{chain:?}");
        let e = ing.endpoint_stats();
        assert!(e[0].lagging && !e[0].voting && e[1].leading);
        assert_eq!(e[0].backwards, if back > 0 { 30 } else { 0 });
    }
}

#[test]
fn of_two_endpoints_a_liar_ahead_moves_the_chain_at_most_the_bound() {
    // from step 10, endpoint 0 gains 5 slots a step: never more than MAX_LEADER_GAP
    let (_, chain) = two_endpoints(60, |ep, k| {
        Some(1_000 + k + if ep == 0 { 5 * k.saturating_sub(10) } else { 0 })
    });
    assert!(chain
        .iter()
        .enumerate()
        .all(|(k, &c)| c <= 1_000 + k as u64 + MAX_LEADER_GAP));
    assert!((8..60).all(|k| chain[k as usize] >= 1_000 + k), "{chain:?}");
}

#[test]
fn an_older_update_never_overwrites_a_newer_one() {
    let (mut g, mut ing, pool, _) = amm_setup();
    let spl = SPL_TOKEN_ID;
    let newer = account_frame(2, 110, &spl, &token_account(key(43), 700_000));
    let older = account_frame(12, 105, &spl, &token_account(key(43), 500_000));
    assert_eq!(frame(&mut ing, &mut g, 0, &newer, 1_000), Ok(Some(2)));
    let (_, _, _, _, before) = g.pool_rate(&pool).expect("in the graph");
    assert_eq!(frame(&mut ing, &mut g, 1, &older, 2_000), Ok(Some(12)));
    assert_eq!(g.pool_rate(&pool).expect("in the graph").4, before);
    let e = ing.endpoint_stats();
    assert_eq!((e[0].older, e[1].older), (0, 1));
}

#[test]
fn a_notification_cannot_change_a_pools_identity() {
    let (mut g, mut ing, pool, data) = amm_setup();
    let watched = ing.watched();
    let amm = raydium_amm_v4::PROGRAM;
    // endpoint 2 re-points the vaults and mints; the others carry the real pool
    let fake = amm_v4((key(51), key(52)), (key(53), key(54)), (0, 0));
    for i in 0..50u64 {
        let f = account_frame(21, 110 + i, &amm, &fake);
        assert!(matches!(
            frame(&mut ing, &mut g, 2, &f, 1_000 + i as i64),
            Err(EngineError::Decode(_)) | Ok(_)
        ));
    }
    assert_eq!(
        ing.watched(),
        watched,
        "no key is watched for a copy nobody confirmed"
    );
    let e = ing.endpoint_stats();
    assert!(e[2].quarantined && e[2].identity >= 1 && e[2].held_back > 0);
    assert_eq!(ing.take_refetch(), vec![(pool.clone(), 2)]);
    // the re-fetch says the pool is what it was: endpoint 2 disagreed
    assert_eq!(
        ing.account(&mut g, &pool, Some(&amm), &data, Arg::Ok(200)),
        Ok(true)
    );
    assert_eq!(ing.endpoint_stats()[2].disagreed, 1);
    assert!(g.pools().contains(&pool));
    // the healthy endpoints' updates are still applied
    let real = account_frame(
        1,
        201,
        &amm,
        &amm_v4((key(41), key(42)), (key(43), key(44)), (5, 5)),
    );
    assert_eq!(frame(&mut ing, &mut g, 0, &real, 9_000), Ok(Some(1)));
    assert!(ing.take_changed().contains(&pool));
}

#[test]
fn cpmm_assembles_reserves_from_vaults_fees_and_config() {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let pool = name(20);
    let (cfg, va, vb) = (key(21), key(22), key(23));
    let mints = (key(24), key(25));
    ing.track_pool(&pool, "cpmm").expect("track");
    let cpmm = raydium_cpmm::PROGRAM;
    let spl = SPL_TOKEN_ID;
    let data = cpmm_pool(cfg, (va, vb), mints, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        ing.account(&mut g, &pool, Some(&cpmm), &data, Arg::Ok(5)),
        Ok(true)
    );
    assert_eq!(
        ing.watched(),
        vec![
            pool.clone(),
            b58::encode(&cfg),
            b58::encode(&va),
            b58::encode(&vb)
        ]
    );
    let ok = |r: Result<bool>| assert_eq!(r, Ok(true));
    ok(ing.account(
        &mut g,
        &b58::encode(&va),
        Some(&spl),
        &token_account(mints.0, 1_000_009),
        Arg::Ok(5),
    ));
    ok(ing.account(
        &mut g,
        &b58::encode(&vb),
        Some(&spl),
        &token_account(mints.1, 2_000_012),
        Arg::Ok(5),
    ));
    assert!(g.is_empty()); // no fee rate yet
    ok(ing.account(
        &mut g,
        &b58::encode(&cfg),
        Some(&cpmm),
        &cpmm_config(2500),
        Arg::Ok(6),
    ));
    assert_eq!(g.pools(), vec![pool.clone()]);
    assert_eq!(ing.stats().pool_updates, 1);
    // the reserves are the vaults minus protocol + fund + creator fees: 1e6 and 2e6
    let c = g.cycles(&b58::encode(&mints.0), 2).expect("cycles");
    assert!(c.is_empty());
    // a vault below its fees takes the pool out of the graph
    let r = ing.account(
        &mut g,
        &b58::encode(&va),
        Some(&spl),
        &token_account(mints.0, 5),
        Arg::Ok(7),
    );
    assert!(matches!(r, Err(EngineError::InvalidInput(_))), "{r:?}");
    assert!(g.is_empty());
    assert_eq!(ing.take_changed(), vec![pool.clone()]);
    // wrong owner / wrong size: decode errors, as the twin
    let r = ing.account(
        &mut g,
        &b58::encode(&cfg),
        Some(&spl),
        &cpmm_config(1),
        Arg::Ok(7),
    );
    assert!(matches!(r, Err(EngineError::WrongOwner(_))), "{r:?}");
    let r = ing.account(
        &mut g,
        &b58::encode(&cfg),
        Some(&cpmm),
        &cpmm_config(1)[..100],
        Arg::Ok(7),
    );
    assert!(matches!(r, Err(EngineError::AccountTooShort(_))), "{r:?}");
    // a slot of the wrong type is reported without dropping anything
    ok(ing.account(
        &mut g,
        &b58::encode(&va),
        Some(&spl),
        &token_account(mints.0, 1_000_009),
        Arg::Ok(8),
    ));
    assert_eq!(g.len(), 1);
    assert!(ing
        .account(
            &mut g,
            &b58::encode(&vb),
            Some(&spl),
            &token_account(mints.1, 2_000_012),
            Arg::Wrong
        )
        .is_err());
    assert!(ing.take_wrong_argument());
    assert_eq!(g.len(), 1);
    assert_eq!(
        ing.account(&mut g, "nobody", None, b"", Arg::Wrong),
        Ok(false)
    );
}

#[test]
fn amm_v4_vault_of_another_mint_is_a_decode_error_and_drops_the_pool() {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let pool = name(30);
    let (va, vb, ma, mb) = (key(31), key(32), key(33), key(34));
    ing.track_pool(&pool, "amm_v4").expect("track");
    let amm = raydium_amm_v4::PROGRAM;
    let spl = SPL_TOKEN_ID;
    let data = amm_v4((va, vb), (ma, mb), (10, 20));
    ing.account(&mut g, &pool, Some(&amm), &data, Arg::Ok(1))
        .expect("pool");
    ing.account(
        &mut g,
        &b58::encode(&va),
        Some(&spl),
        &token_account(ma, 1010),
        Arg::Ok(1),
    )
    .expect("a");
    ing.account(
        &mut g,
        &b58::encode(&vb),
        Some(&spl),
        &token_account(mb, 2020),
        Arg::Ok(1),
    )
    .expect("b");
    assert_eq!(g.len(), 1);
    let r = ing.account(
        &mut g,
        &b58::encode(&vb),
        Some(&spl),
        &token_account(ma, 2020),
        Arg::Ok(2),
    );
    assert!(matches!(r, Err(EngineError::Decode(_))), "{r:?}");
    assert!(g.is_empty());
    // the same pool tracked as another kind is refused
    assert!(ing.track_pool(&pool, "cpmm").is_err());
    assert!(ing.track_pool(&pool, "amm_v4").is_ok());
    assert!(ing.track_pool(&pool, "clmm").is_err());
    assert!(ing.track_pool("not base58!", "cpmm").is_err());
    assert!(ing.track_array(&name(35), &pool).is_err()); // not a whirlpool
}

#[test]
fn logs_count_swaps_of_first_copies_only() {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    ing.bind(0, 4, Some("prog"), SubKind::Logs);
    ing.bind(1, 4, None, SubKind::Logs);
    let swap = "Program log: ray_log: AxPMGo8xAAAAAAAAAAAAAAACAAAAAAAAAAC4ZNlFAAAAg1tiLxJGAAAX2yfkXwEAAGSxk/cAAAAA";
    // in AMM v4's frame: its ray_log is a swap; the same line in another program's
    // frame is not (lines are decoded by the program that wrote them)
    let lines = [
        "Program 675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8 invoke [1]",
        swap,
        "Program log: ray_log: not base64",
        "Program data: AAAA",
        "Program 675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8 success",
        "Program x invoke [1]",
        swap,
        "Program x success",
    ];
    frame(
        &mut ing,
        &mut g,
        0,
        &logs_frame(4, "sig1", "null", &lines),
        1,
    )
    .expect("logs");
    frame(
        &mut ing,
        &mut g,
        1,
        &logs_frame(4, "sig1", "null", &lines),
        2,
    )
    .expect("logs");
    frame(
        &mut ing,
        &mut g,
        0,
        &logs_frame(4, "sig2", "{\"x\":1}", &lines),
        3,
    )
    .expect("logs");
    let s = ing.stats();
    assert_eq!(
        (
            s.notifications,
            s.first_copies,
            s.duplicates,
            s.logs,
            s.swaps
        ),
        (3, 2, 1, 2, 1)
    );
    // an empty signature is an empty dedup key: InvalidInput after counting, as the twin
    let r = frame(&mut ing, &mut g, 0, &logs_frame(4, "", "null", &lines), 3);
    assert!(matches!(r, Err(EngineError::InvalidInput(_))));
    assert_eq!(ing.stats().notifications, 4);
}

/// `frame_read` (the parser bench's entry) on a snapshot of what a `Doc` read is
/// `frame`: the same answers, counters, slot and changed pools, frame by frame.
#[test]
fn frame_read_on_a_read_doc_is_frame() {
    let (mut g1, mut a, pool, data) = amm_setup();
    let (mut g2, mut b, _, _) = amm_setup();
    let amm = raydium_amm_v4::PROGRAM;
    let vault = token_account(key(43), 1_500_000);
    let mut frames = Vec::new();
    for (ep, slot) in [(0u16, 101u64), (1, 101), (2, 102)] {
        let base = 10 * u64::from(ep);
        frames.push((ep, slot_frame(base + 3, slot)));
        frames.push((ep, account_frame(base + 2, slot, &SPL_TOKEN_ID, &vault)));
        frames.push((ep, account_frame(base + 1, slot, &amm, &data)));
    }
    frames.push((0, logs_frame(4, "sig", "null", &["Program x invoke [1]"])));
    frames.push((0, br#"{"jsonrpc":"2.0","result":5,"id":1}"#.to_vec()));
    frames.push((
        0,
        br#"{"jsonrpc":"2.0","method":"slotNotification"}"#.to_vec(),
    ));
    frames.push((1, account_frame(11, 103, &amm, b"short")));
    let mut doc = json::Doc::default();
    for (i, (ep, f)) in frames.iter().enumerate() {
        let ns = 1_000 * i as i64;
        let want = frame(&mut a, &mut g1, *ep, f, ns);
        doc.parse(f).expect("json");
        let got = b.frame_read(&mut g2, *ep, f, &doc.snapshot(), Arg::Ok(ns));
        assert_eq!(got, want, "frame {i}");
        assert_eq!(b.stats(), a.stats(), "frame {i}");
        assert_eq!(b.take_changed(), a.take_changed(), "frame {i}");
    }
    assert_eq!((g2.slot(), g2.pools()), (g1.slot(), g1.pools()));
    assert!(a.stats().pool_updates > 0, "{pool} was updated");
}

#[test]
fn malformed_frames_are_frame_errors() {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let owner = orca_whirlpool::PROGRAM;
    let good = String::from_utf8(account_frame(1, 5, &owner, b"abc")).expect("utf8");
    let bad = [
        String::new(),
        "[]".into(),
        good[..good.len() / 2].to_string(),
        good.replace("\"2.0\"", "2.0"),
        good.replace("\"method\":\"accountNotification\"", "\"method\":5"),
        good.replace("accountNotification", "fooNotification"),
        good.replace("\"slot\":5", "\"slot\":-5"),
        good.replace("\"slot\":5", "\"slot\":5.0"),
        good.replace("\"slot\":5", "\"slot\":18446744073709551616"),
        good.replace("\"subscription\":1", "\"subscription\":true"),
        good.replace("YWJj", "YWJ!"),
        good.replace("YWJj", "YWJ"),
        good.replace("\"base64\"]", "\"base58\"]"),
        good.replace("\"owner\":", "\"owner\":1,\"x\":"),
    ];
    for f in &bad {
        let r = frame(&mut ing, &mut g, 0, f.as_bytes(), 0);
        assert!(matches!(r, Err(EngineError::Frame(_))), "{f}: {r:?}");
    }
    // method null or missing: not a notification
    let r = frame(
        &mut ing,
        &mut g,
        0,
        good.replace("\"accountNotification\"", "null").as_bytes(),
        0,
    );
    assert_eq!(r, Ok(None));
    assert_eq!(ing.stats().frames, bad.len() as u64 + 1);
    // escapes, duplicate keys (the last wins), UTF-16 and a BOM are read as Python reads them
    for f in [
        good.replace("accountNotification", "account\\u004eotification"),
        good.replace("\"jsonrpc\":\"2.0\"", "\"jsonrpc\":1,\"jsonrpc\":\"2.0\""),
        format!("\u{feff}{good}"),
    ] {
        assert_eq!(
            frame(&mut ing, &mut g, 0, f.as_bytes(), 0),
            Ok(Some(1)),
            "{f}"
        );
    }
    let utf16: Vec<u8> = good.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    assert_eq!(frame(&mut ing, &mut g, 0, &utf16, 0), Ok(Some(1)));
    assert!(ing
        .frame(
            &mut g,
            0,
            Input::Text(format!("\u{feff}{good}").as_bytes()),
            Arg::Ok(0)
        )
        .is_err());
}

#[test]
fn random_bytes_never_panic() {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(64, 8).expect("ingest");
    let pool = name(40);
    ing.track_pool(&pool, "whirlpool").expect("track");
    ing.bind(0, 1, Some(&pool), SubKind::Account);
    let owner = orca_whirlpool::PROGRAM;
    let good = account_frame(1, 5, &owner, &whirlpool(&wp()));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..3000 {
        let mut f = good.clone();
        match rnd() % 4 {
            0 => f.truncate((rnd() as usize) % good.len()),
            1 => {
                for _ in 0..(rnd() % 4 + 1) {
                    let at = (rnd() as usize) % f.len();
                    f[at] = rnd() as u8;
                }
            }
            2 => f = (0..rnd() % 64).map(|_| rnd() as u8).collect(),
            _ => {
                let at = (rnd() as usize) % f.len();
                f.insert(at, b"{}[]\",:\\0-e"[(rnd() % 11) as usize]);
            }
        }
        let _ = frame(&mut ing, &mut g, (rnd() % 3) as u16, &f, rnd() as i64);
        let _ = ing.frame(&mut g, 0, Input::Text(&f), Arg::Wrong);
    }
    assert_eq!(ing.stats().frames, 6000);
}

// ---------------------------------------------------------------- Token-2022 mints
const T22: Key = decode::TOKEN_2022_ID;
type Fee = (u64, u64, u16);

/// A Token-2022 mint with a TransferFeeConfig (`older`, `newer`) and more TLV entries:
/// the base mint padded to 165 bytes, account type 1, then the extensions.
fn t22_mint(older: Fee, newer: Fee, extra: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut d = vec![0u8; 165];
    put(&mut d, 36, 1_000_000u64.to_le_bytes());
    d[44] = 6;
    d[45] = 1;
    d.push(1);
    let mut cfg = vec![0u8; 72];
    for (e, m, b) in [older, newer] {
        cfg.extend_from_slice(&e.to_le_bytes());
        cfg.extend_from_slice(&m.to_le_bytes());
        cfg.extend_from_slice(&b.to_le_bytes());
    }
    let mut tlv = vec![(1u16, cfg)];
    tlv.extend(extra.iter().cloned());
    for (t, v) in tlv {
        d.extend_from_slice(&t.to_le_bytes());
        d.extend_from_slice(&(v.len() as u16).to_le_bytes());
        d.extend_from_slice(&v);
    }
    d
}

const FEE1: Fee = (0, 1_000_000_000, 100);
const FEE2: Fee = (0, 1_000_000_000, 300);

fn hook() -> (u16, Vec<u8>) {
    let mut v = vec![0u8; 64];
    v[40] = 9; // a program set
    (14, v)
}

/// A CP-Swap pool (vault a of mint a, `vault_a_program`'s) with its config and vault b
/// read: (graph, ingest, pool, vault a, mint a, mint b).
fn t22_setup(vault_a_program: &Key) -> (PoolGraph, FeedIngest, String, String, String, String) {
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let pool = name(60);
    let (cfg, va, vb, ma, mb) = (key(61), key(62), key(63), key(64), key(65));
    ing.track_pool(&pool, "cpmm").expect("track");
    let cpmm = raydium_cpmm::PROGRAM;
    let data = cpmm_pool(cfg, (va, vb), (ma, mb), [0; 6]);
    let slot = Arg::Ok(10);
    ing.account(&mut g, &pool, Some(&cpmm), &data, slot)
        .expect("pool");
    ing.account(
        &mut g,
        &b58::encode(&cfg),
        Some(&cpmm),
        &cpmm_config(2500),
        slot,
    )
    .expect("config");
    let b = token_account(mb, 2_000_000_000_000);
    ing.account(&mut g, &b58::encode(&vb), Some(&SPL_TOKEN_ID), &b, slot)
        .expect("vault b");
    let a = token_account(ma, 1_000_000_000_000);
    ing.account(&mut g, &b58::encode(&va), Some(vault_a_program), &a, slot)
        .expect("vault a");
    let n = |k: &Key| b58::encode(k);
    (g, ing, pool, n(&va), n(&ma), n(&mb))
}

/// Mint a in through the pool, from the kernels: the pool receives x less the fee.
fn by_hand(fee: Option<Fee>, x: u64) -> u64 {
    let into = fee.map_or(x, |f| {
        crate::token2022::post_fee_amount(&(f, f), 0, x).expect("fee")
    });
    crate::amm::cpmm_amount_out(into, 1_000_000_000_000, 2_000_000_000_000, 2500, 1_000_000)
        .expect("swap")
}

#[test]
fn a_token_2022_vault_makes_its_pool_wait_for_its_mint() {
    let (mut g, mut ing, pool, va, ma, _) = t22_setup(&T22);
    assert_eq!(ing.roles(&ma), vec![("mint", pool.clone())]);
    assert_eq!(ing.watched().last(), Some(&ma));
    assert!(g.is_empty(), "not quoted before its mint is read");
    assert!(ing.take_changed().is_empty());
    let m = t22_mint(FEE1, FEE1, &[]);
    assert_eq!(
        ing.account(&mut g, &ma, Some(&T22), &m, Arg::Ok(10)),
        Ok(true)
    );
    assert_eq!(g.pools(), vec![pool.clone()]);
    assert_eq!(ing.take_changed(), vec![pool.clone()]);
    let x = 1_000_000_000;
    assert_eq!(
        g.quote(std::slice::from_ref(&pool), &ma, x),
        Ok(vec![x, by_hand(Some(FEE1), x)])
    );
    assert!(by_hand(Some(FEE1), x) < by_hand(None, x));
    // re-read as SPL Token's (trusted): the mint is followed no more
    let a = token_account(key(64), 1_000_000_000_000);
    ing.account(&mut g, &va, Some(&SPL_TOKEN_ID), &a, Arg::Ok(11))
        .expect("vault a");
    assert!(ing.roles(&ma).is_empty() && !ing.watched().contains(&ma));
    // Token-2022's again: it waits for the mint anew
    ing.account(&mut g, &va, Some(&T22), &a, Arg::Ok(12))
        .expect("vault a");
    assert!(g.is_empty());
    assert_eq!(
        ing.account(&mut g, &ma, Some(&T22), &m, Arg::Ok(12)),
        Ok(true)
    );
    assert_eq!(g.len(), 1);
}

#[test]
fn spl_token_vaults_follow_no_mint() {
    let (g, ing, pool, va, ma, mb) = t22_setup(&SPL_TOKEN_ID);
    assert_eq!(g.pools(), vec![pool.clone()]);
    assert!(ing.roles(&ma).is_empty() && ing.roles(&mb).is_empty());
    assert_eq!(ing.watched().len(), 4); // pool, config, vaults
    assert_eq!(ing.roles(&va), vec![("vault_a", pool)]);
}

#[test]
fn mint_notifications_reprice_and_a_hook_refuses_the_pool() {
    let (mut g, mut ing, pool, va, ma, _) = t22_setup(&T22);
    let m = t22_mint(FEE1, FEE1, &[]);
    ing.account(&mut g, &ma, Some(&T22), &m, Arg::Ok(10))
        .expect("mint");
    for ep in 0..3u16 {
        ing.bind(ep, 1, Some(&ma), SubKind::Account);
        ing.bind(ep, 2, Some(&va), SubKind::Account);
    }
    let x = 1_000_000_000;
    let two = t22_mint(FEE2, FEE2, &[]);
    assert_eq!(
        frame(&mut ing, &mut g, 0, &account_frame(1, 11, &T22, &two), 1),
        Ok(Some(1))
    );
    assert_eq!(g.mint_fee(&ma), Some((FEE2, FEE2)));
    assert_eq!(
        g.quote(std::slice::from_ref(&pool), &ma, x),
        Ok(vec![x, by_hand(Some(FEE2), x)])
    );
    let hooked = t22_mint(FEE2, FEE2, &[hook()]);
    assert_eq!(
        frame(&mut ing, &mut g, 0, &account_frame(1, 12, &T22, &hooked), 2),
        Ok(Some(1))
    );
    assert_eq!(g.refusal(&ma), vec!["TransferHook".to_string()]);
    let r = g.quote(std::slice::from_ref(&pool), &ma, x);
    assert!(
        matches!(&r, Err(EngineError::InvalidInput(m)) if m.contains("TransferHook")),
        "{r:?}"
    );
    // a vault's copy at another token program is a lie: refused, endpoint quarantined
    let spl_copy = token_account(key(64), 5);
    let r = frame(
        &mut ing,
        &mut g,
        1,
        &account_frame(2, 13, &SPL_TOKEN_ID, &spl_copy),
        3,
    );
    assert!(matches!(r, Err(EngineError::Decode(_))), "{r:?}");
    let e = ing.endpoint_stats();
    assert!(e[1].quarantined && e[1].identity == 1);
    assert_eq!(ing.roles(&ma), vec![("mint", pool)]);
}

#[test]
fn malformed_mint_bytes_are_typed_errors_and_change_nothing() {
    let (mut g, mut ing, pool, _, ma, _) = t22_setup(&T22);
    let good = t22_mint(FEE1, FEE1, &[]);
    // before a good copy the pool keeps waiting
    let short = &good[..60];
    let r = ing.account(&mut g, &ma, Some(&T22), short, Arg::Ok(10));
    assert!(matches!(r, Err(EngineError::AccountTooShort(_))), "{r:?}");
    assert!(g.is_empty() && g.mint_fee(&ma).is_none());
    ing.account(&mut g, &ma, Some(&T22), &good, Arg::Ok(10))
        .expect("mint");
    ing.bind(0, 1, Some(&ma), SubKind::Account);
    let x = 1_000_000_000;
    let before = g.quote(std::slice::from_ref(&pool), &ma, x);
    let mut not_a_mint = good[..165].to_vec();
    not_a_mint.push(2);
    type Case = (Key, Vec<u8>, fn(&EngineError) -> bool);
    let cases: Vec<Case> = vec![
        (T22, short.to_vec(), |e| {
            matches!(e, EngineError::AccountTooShort(_))
        }),
        (T22, good[..good.len() - 5].to_vec(), |e| {
            matches!(e, EngineError::AccountTooShort(_))
        }),
        (T22, not_a_mint, |e| matches!(e, EngineError::Decode(_))),
        (T22, t22_mint(FEE2, (0, 1, 10_001), &[]), |e| {
            matches!(e, EngineError::InvalidInput(_))
        }),
        (SPL_TOKEN_ID, t22_mint(FEE2, FEE2, &[]), |e| {
            matches!(e, EngineError::WrongOwner(_))
        }),
    ];
    for (i, (owner, data, want)) in cases.iter().enumerate() {
        let slot = 11 + 2 * i as u64; // newer than what is held: never "older"
        let r = ing.account(&mut g, &ma, Some(owner), data, Arg::Ok(slot));
        assert!(r.as_ref().is_err_and(want), "{i}: {r:?}");
        let f = account_frame(1, slot + 1, owner, data);
        let r = frame(&mut ing, &mut g, 0, &f, i as i64);
        assert!(r.as_ref().is_err_and(want), "{i}: {r:?}");
        assert_eq!(g.quote(std::slice::from_ref(&pool), &ma, x), before);
        assert_eq!(g.mint_fee(&ma), Some((FEE1, FEE1)));
        assert!(g.refusal(&ma).is_empty());
    }
    assert!(!ing.endpoint_stats()[0].quarantined);
}

#[test]
fn a_reread_is_compared_with_the_bytes_held_and_repairs_only_a_difference() {
    let (mut g, mut ing, pool, _) = amm_setup();
    let spl = SPL_TOKEN_ID;
    let vault = name(41);
    let spl_text = b58::encode(&spl);
    let held = token_account(key(43), 1_000_000);
    let moved = token_account(key(43), 900_000);
    // the snapshot's bytes are held at its slot; other bytes and owners are not
    assert_eq!(
        ing.compare(&[(&vault, &spl_text, &held), (&vault, &spl_text, &moved)]),
        vec![Some((100, true)), Some((100, false))]
    );
    assert_eq!(ing.compare(&[(&name(99), &spl_text, &held)]), vec![None]);
    assert_eq!(ing.slots(&[&vault, &name(99)]), vec![100, 0]);
    // a notification's copy is held at its slot, with its endpoint's watermark
    let f = account_frame(2, 110, &spl, &moved);
    assert_eq!(frame(&mut ing, &mut g, 0, &f, 1_000), Ok(Some(2)));
    assert_eq!(
        ing.compare(&[(&vault, &spl_text, &moved)]),
        vec![Some((110, true))]
    );
    assert_eq!(ing.endpoint_stats()[0].account_slot, 110);
    ing.take_changed();
    // older, or the same bytes: nothing; a difference: applied and charged to the
    // endpoints bound to the account (0, 1, 2 all are)
    assert_eq!(ing.reconcile(&mut g, &vault, &spl, &held, 105), Ok(false));
    assert_eq!(ing.reconcile(&mut g, &vault, &spl, &moved, 120), Ok(false));
    assert!(ing.take_changed().is_empty());
    let later = token_account(key(43), 800_000);
    assert_eq!(ing.reconcile(&mut g, &vault, &spl, &later, 120), Ok(true));
    assert_eq!(ing.take_changed(), vec![pool.clone()]);
    assert_eq!(
        ing.compare(&[(&vault, &spl_text, &later)]),
        vec![Some((120, true))]
    );
    let repaired: Vec<u64> = ing.endpoint_stats().iter().map(|e| e.repaired).collect();
    assert_eq!(repaired, vec![1, 1, 1]);
    // endpoint 1 back with only its slot bound: a stream of every watched account (as a
    // gRPC one is) is charged too
    ing.unbind(1);
    ing.bind(1, 13, Some("slot"), SubKind::Slot);
    let again = token_account(key(43), 700_000);
    assert_eq!(ing.reconcile(&mut g, &vault, &spl, &again, 130), Ok(true));
    let repaired: Vec<u64> = ing.endpoint_stats().iter().map(|e| e.repaired).collect();
    assert_eq!(repaired, vec![2, 2, 2]);
}

#[test]
fn an_absent_account_is_no_malformed_copy() {
    // an account the chain does not hold (owned by the system program, no data) is read
    // as its program reads it: a Whirlpool's tick array as a zeroed one, a vault's
    // absence keeps its pool out of the graph until it exists again
    let mut g = PoolGraph::new(&[], 3).expect("graph");
    let mut ing = FeedIngest::new(1024, 64).expect("ingest");
    let (pool, ta) = (name(10), name(11));
    ing.track_pool(&pool, "whirlpool").expect("track");
    ing.track_array(&ta, &pool).expect("track");
    let wp_owner = orca_whirlpool::PROGRAM;
    let w = wp();
    ing.account(&mut g, &pool, Some(&wp_owner), &whirlpool(&w), Arg::Ok(5))
        .expect("pool");
    for (v, m) in [(w.vaults.0, w.mints.0), (w.vaults.1, w.mints.1)] {
        let acc = token_account(m, 10_000_000);
        ing.account(
            &mut g,
            &b58::encode(&v),
            Some(&SPL_TOKEN_ID),
            &acc,
            Arg::Ok(5),
        )
        .expect("vault");
    }
    let arr = tick_array(0, key(10), &[(8, 500_000), (80, -500_000)]);
    ing.account(&mut g, &ta, Some(&wp_owner), &arr, Arg::Ok(5))
        .expect("array");
    assert_eq!(g.pools(), vec![pool.clone()]);
    // the same pool with the array zeroed: what an absent array must read as
    let mut g0 = PoolGraph::new(&[], 3).expect("graph");
    let mut ing0 = FeedIngest::new(1024, 64).expect("ingest");
    ing0.track_pool(&pool, "whirlpool").expect("track");
    ing0.track_array(&ta, &pool).expect("track");
    ing0.account(&mut g0, &pool, Some(&wp_owner), &whirlpool(&w), Arg::Ok(5))
        .expect("pool");
    for (v, m) in [(w.vaults.0, w.mints.0), (w.vaults.1, w.mints.1)] {
        let acc = token_account(m, 10_000_000);
        ing0.account(
            &mut g0,
            &b58::encode(&v),
            Some(&SPL_TOKEN_ID),
            &acc,
            Arg::Ok(5),
        )
        .expect("vault");
    }
    let zeroed = tick_array(0, key(10), &[]);
    ing0.account(&mut g0, &ta, Some(&wp_owner), &zeroed, Arg::Ok(6))
        .expect("array");
    ing.bind(0, 2, Some(&ta), SubKind::Account);
    ing.bind(0, 3, Some(&b58::encode(&w.vaults.0)), SubKind::Account);
    let quotes = |g: &PoolGraph| {
        // b into the pool (the price up, through the array held): the second crosses
        // the array's first initialized tick
        [10u64.pow(9), 5 * 10u64.pow(10)]
            .map(|x| g.quote(std::slice::from_ref(&pool), &name(2), x).ok())
    };
    let before = quotes(&g);
    assert_ne!(before, quotes(&g0)); // its ticks mattered
    let gone = account_frame(2, 6, &SYSTEM_PROGRAM, &[]);
    assert_eq!(frame(&mut ing, &mut g, 0, &gone, 100), Ok(Some(2)));
    assert_eq!(g.pools(), vec![pool.clone()]);
    assert!(quotes(&g0).iter().all(Option::is_some));
    assert_eq!(quotes(&g), quotes(&g0));
    assert_eq!(g.pool_rate(&pool).ok(), g0.pool_rate(&pool).ok());
    // a vault closed: the pool leaves the graph, no error; back when the vault is
    let closed = account_frame(3, 7, &SYSTEM_PROGRAM, &[]);
    assert_eq!(frame(&mut ing, &mut g, 0, &closed, 200), Ok(Some(3)));
    assert!(g.pools().is_empty());
    assert_eq!(ing.endpoint_stats()[0].identity, 0);
    let back = account_frame(3, 8, &SPL_TOKEN_ID, &token_account(w.mints.0, 10_000_000));
    assert_eq!(frame(&mut ing, &mut g, 0, &back, 300), Ok(Some(3)));
    assert_eq!(g.pools(), vec![pool.clone()]);
    // only the pair of both is an absence: a system account holding data, or an empty
    // account of another owner, is still refused
    let other = account_frame(3, 9, &SYSTEM_PROGRAM, &[1]);
    assert!(frame(&mut ing, &mut g, 0, &other, 400).is_err());
    let empty = account_frame(3, 10, &SPL_TOKEN_ID, &[]);
    assert!(frame(&mut ing, &mut g, 0, &empty, 500).is_err());
}
