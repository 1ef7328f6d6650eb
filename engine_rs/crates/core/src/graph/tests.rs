use super::bellman_ford::{cycle_from_pred, EPS, MAX_MASKED, NONE};
use super::*;

fn g3() -> PoolGraph {
    let mut g = PoolGraph::new(&["So1".to_string()], 4).unwrap();
    g.upsert_cpmm("P1", "So1", "USDC", 1_000_000, 150_000_000, 25, 10_000, 1)
        .unwrap();
    g.upsert_cpmm(
        "P2",
        "USDC",
        "Bonk",
        150_000_000,
        9_000_000_000,
        25,
        10_000,
        2,
    )
    .unwrap();
    g.upsert_cpmm("P3", "Bonk", "So1", 9_000_000_000, 1_100_000, 25, 10_000, 3)
        .unwrap();
    g
}

/// The search as first written, on the adjacency lists (not the CSR): sorted token
/// lists and flags for a pass's changed tokens, a fresh stamp array per cycle check.
/// From `start` (None: zeros); returns the cycle and, when a pass changed nothing,
/// the distances. A fresh graph's first `find_negative_cycle` must match it exactly.
fn reference(g: &PoolGraph, start: Option<&[f64]>) -> (Option<Cycle>, Option<Vec<f64>>) {
    let n = g.tokens.len();
    let mut dist = start.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
    let mut pred = vec![NONE; n];
    let mut flag = vec![false; n];
    let mut active: Vec<u32> = (0..n as u32)
        .filter(|&u| !g.out[u as usize].is_empty())
        .collect();
    for _ in 0..=n {
        let mut changed = Vec::new();
        for &u in &active {
            let du = dist[u as usize];
            for &e in &g.out[u as usize] {
                let v = g.head(e) as usize;
                let nd = du + g.weight[e as usize];
                if nd < dist[v] - EPS {
                    dist[v] = nd;
                    pred[v] = e;
                    if !flag[v] {
                        flag[v] = true;
                        changed.push(v as u32);
                    }
                }
            }
        }
        if changed.is_empty() {
            return (None, Some(dist));
        }
        changed.sort_unstable();
        for &v in &changed {
            flag[v as usize] = false;
        }
        let mut seen = vec![0usize; n];
        for (k, &s) in changed.iter().enumerate() {
            let mut x = s;
            while x != NONE && seen[x as usize] != k + 1 {
                if seen[x as usize] != 0 {
                    x = NONE; // an earlier walk of this check went on from here
                    break;
                }
                seen[x as usize] = k + 1;
                let e = pred[x as usize];
                x = if e == NONE { NONE } else { g.tail(e) };
            }
            if x != NONE {
                if let Some(c) = cycle_from_pred(&g.pools, &g.tokens, &g.to, &pred, x) {
                    return (Some(c), None);
                }
            }
        }
        active = changed;
    }
    (None, None)
}

/// A small deterministic generator (tests only: no dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
}

fn name(kind: &str, i: usize) -> String {
    const A: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    format!("{kind}{}{}", A[i % 58] as char, A[i / 58 % 58] as char)
}

/// A market of `tokens` with hidden prices and constant-product pools priced by them
/// (± `noise`); the first `standing` pools are `disloc` off, and stay so.
struct Market {
    prices: Vec<f64>,
    pools: Vec<(usize, usize, u64, u64)>,
    standing: usize,
    disloc: f64,
    noise: f64,
}

impl Market {
    /// 4 to `3 + extra` tokens, up to four times as many pools, two of them standing 2 %
    /// off their price; and how many pools.
    fn small(r: &mut Lcg, extra: usize) -> (Self, usize) {
        let tokens = 4 + r.below(extra);
        let pools = tokens + r.below(3 * tokens);
        (Market::new(r, tokens, pools, 2.min(pools - 1), 0.02), pools)
    }

    fn new(r: &mut Lcg, tokens: usize, pools: usize, standing: usize, disloc: f64) -> Self {
        let prices = (0..tokens).map(|_| (4.0 * r.unit() - 2.0).exp()).collect();
        let mut m = Self {
            prices,
            pools: Vec::new(),
            standing,
            disloc,
            noise: [0.0002, 0.0005, 0.001][r.below(3)],
        };
        for k in 0..pools {
            let a = r.below(tokens);
            let b = (a + 1 + r.below(tokens - 1)) % tokens;
            let ra = 1_000_000_000 + r.next() % 1_000_000_000_000;
            m.pools.push((a, b, ra, 0));
            m.reprice(r, k);
        }
        m
    }

    fn reprice(&mut self, r: &mut Lcg, k: usize) {
        let (a, b, ra, _) = self.pools[k];
        let off = if k < self.standing {
            1.0 + self.disloc
        } else {
            1.0
        };
        let mis = off * (1.0 + self.noise * (2.0 * r.unit() - 1.0));
        let rb = (ra as f64 * self.prices[a] / self.prices[b] * mis).max(1.0) as u64;
        self.pools[k].3 = rb;
    }

    fn upsert(&self, g: &mut PoolGraph, k: usize) {
        let (a, b, ra, rb) = self.pools[k];
        let fee = if k.is_multiple_of(3) { 30 } else { 25 };
        g.upsert_cpmm(
            &name("P", k),
            &name("T", a),
            &name("T", b),
            ra,
            rb,
            fee,
            10_000,
            0,
        )
        .unwrap();
    }
}

fn check_cycle(g: &PoolGraph, c: &Cycle) {
    assert!(c.rate_product > 1.0);
    assert_eq!(c.tokens.len(), c.pools.len() + 1);
    assert_eq!(c.tokens.first(), c.tokens.last());
    let mut rate = 1.0;
    for (i, id) in c.pools.iter().enumerate() {
        let (a, b, ab, ba, _) = g.pool_rate(id).unwrap();
        let (t0, t1) = (&c.tokens[i], &c.tokens[i + 1]);
        rate *= if (t0, t1) == (&a, &b) {
            ab
        } else {
            assert_eq!((t0, t1), (&b, &a));
            ba
        };
    }
    assert_eq!(rate, c.rate_product);
}

/// Random update sequences on markets with and without standing cycles: after every
/// update the search (warm, with remembered cycles masked, or cold) reports a cycle
/// exactly when a cold search does, and what it reports is one; a fresh graph's
/// first search is the cold search exactly.
#[test]
fn search_is_exact_over_random_updates() {
    let mut r = Lcg(0x5eed);
    let (mut cycles, mut calls) = (0, 0);
    for case in 0..160 {
        let tokens = 3 + r.below(18);
        let pools = tokens + r.below(3 * tokens);
        let standing = [0, 0, 1, 1, 2, 3][case % 6].min(pools - 1);
        let disloc = [0.01, 0.02, 0.05, -0.02][r.below(4)];
        let mut m = Market::new(&mut r, tokens, pools, standing, disloc);
        let mut g = PoolGraph::new(&[], 4).unwrap();
        for k in 0..pools {
            m.upsert(&mut g, k);
        }
        let first = reference(&g, None).0;
        assert_eq!(g.find_negative_cycle(), first, "case {case}");
        for step in 0..90 {
            match r.below(20) {
                // a new pool, at times on a new token
                0 => {
                    if r.below(3) == 0 {
                        m.prices.push((4.0 * r.unit() - 2.0).exp());
                    }
                    let n = m.prices.len();
                    let a = r.below(n);
                    let b = (a + 1 + r.below(n - 1)) % n;
                    m.pools
                        .push((a, b, 1_000_000_000 + r.next() % 1_000_000_000, 0));
                    let k = m.pools.len() - 1;
                    m.reprice(&mut r, k);
                    m.upsert(&mut g, k);
                }
                // a pool leaves (and comes back later through an update)
                1 if g.len() > 2 => {
                    let k = m.standing + r.below(m.pools.len() - m.standing);
                    let _ = g.remove_pool(&name("P", k));
                }
                // the prices move and every pool follows
                2 => {
                    for p in &mut m.prices {
                        *p *= 1.0 + 0.01 * (2.0 * r.unit() - 1.0);
                    }
                    for k in 0..m.pools.len() {
                        m.reprice(&mut r, k);
                        if g.pool_rate(&name("P", k)).is_ok() {
                            m.upsert(&mut g, k);
                        }
                    }
                }
                // one pool's state changes: a trade, a tiny nudge or a repricing
                _ => {
                    let k = if m.standing > 0 && r.below(4) == 0 {
                        r.below(m.standing)
                    } else {
                        m.standing + r.below(m.pools.len() - m.standing)
                    };
                    match r.below(3) {
                        0 => m.pools[k].3 += 1 + r.next() % 3,
                        1 => m.reprice(&mut r, k),
                        _ => {
                            let f = 1.0 + 0.006 * (2.0 * r.unit() - 1.0);
                            m.pools[k].3 = ((m.pools[k].3 as f64 * f) as u64).max(1);
                        }
                    }
                    m.upsert(&mut g, k);
                }
            }
            let got = g.find_negative_cycle();
            let cold = reference(&g, None).0;
            assert_eq!(got.is_some(), cold.is_some(), "case {case} step {step}");
            if let Some(c) = &got {
                check_cycle(&g, c);
                cycles += 1;
            }
            calls += 1;
        }
    }
    // both kinds of market were searched, a good share of them holding a cycle
    assert!(
        cycles > calls / 5 && cycles < calls * 4 / 5,
        "{cycles} of {calls}"
    );
}

/// After a cycle the distances are left settled with the cycle masked: on markets
/// holding one the next call starts warm (all but a few calls), and the distances
/// violate no more edges than the masked cycles can hold.
#[test]
fn a_cycle_leaves_distances_settled_with_it_masked() {
    let mut r = Lcg(24);
    let (mut found, mut settled) = (0, 0);
    for case in 0..40 {
        let tokens = 6 + r.below(30);
        let pools = 2 * tokens + r.below(4 * tokens);
        let mut m = Market::new(&mut r, tokens, pools, 1 + case % 3, 0.03);
        let mut g = PoolGraph::new(&[], 4).unwrap();
        for k in 0..pools {
            m.upsert(&mut g, k);
        }
        for step in 0..40 {
            let k = m.standing + r.below(pools - m.standing);
            m.reprice(&mut r, k);
            m.upsert(&mut g, k);
            if g.find_negative_cycle().is_none() {
                continue;
            }
            found += 1;
            if !g.warm {
                continue;
            }
            settled += 1;
            let mut violated = 0;
            for e in 0..g.to.len() as u32 {
                if g.pools[(e >> 1) as usize].is_none() {
                    continue;
                }
                let (u, v) = (g.tail(e) as usize, g.head(e) as usize);
                if g.dist[v] > g.dist[u] + g.weight[e as usize] + EPS {
                    violated += 1;
                }
            }
            // a cycle of at most `tokens` hops per masked cycle
            assert!(
                violated <= MAX_MASKED * g.tokens.len(),
                "case {case} step {step}"
            );
        }
    }
    assert!(
        found > 500 && settled * 10 > found * 9,
        "{settled} of {found}"
    );
}

#[test]
fn finds_the_injected_cycle() {
    let mut g = g3();
    let c = g.find_negative_cycle().unwrap();
    assert!(c.rate_product > 1.0);
    assert_eq!(c.tokens.first(), c.tokens.last());
    assert_eq!(c.pools.len(), 3);
}

#[test]
fn no_cycle_in_a_consistent_market() {
    let mut g = PoolGraph::new(&[], 4).unwrap();
    g.upsert_cpmm("P1", "So1", "USDC", 1_000_000, 150_000_000, 25, 10_000, 1)
        .unwrap();
    g.upsert_cpmm("P2", "USDC", "So1", 150_000_000, 1_000_000, 25, 10_000, 1)
        .unwrap();
    assert_eq!(g.find_negative_cycle(), None);
    assert_eq!(PoolGraph::new(&[], 4).unwrap().find_negative_cycle(), None);
}

#[test]
fn index_matches_enumeration() {
    let mut g = g3();
    g.upsert_cpmm("P4", "So1", "USDC", 2_000_000, 300_000_000, 30, 10_000, 4)
        .unwrap();
    let all = g.cycles("So1", 4).unwrap();
    for pool in g.pools() {
        let mut want: Vec<_> = all
            .iter()
            .filter(|o| o.pools.contains(&pool))
            .map(|o| o.pools.clone())
            .collect();
        let mut got: Vec<_> = g
            .cycles_touching(&pool, 4)
            .unwrap()
            .into_iter()
            .map(|o| o.pools)
            .collect();
        want.sort();
        got.sort();
        assert_eq!(want, got, "{pool}");
    }
    g.remove_pool("P2").unwrap();
    assert!(g
        .cycles_touching("P3", 4)
        .unwrap()
        .iter()
        .all(|o| !o.pools.contains(&"P2".to_string())));
}

#[test]
fn bad_input_leaves_graph_unchanged() {
    let mut g = g3();
    assert!(g
        .upsert_cpmm("P9", "So1", "USDC", 0, 5, 25, 10_000, 1)
        .is_err());
    assert!(g
        .upsert_cpmm("P9", "So1", "So1", 5, 5, 25, 10_000, 1)
        .is_err());
    assert!(g.upsert_cpmm("P9", "So1", "USDC", 5, 5, 1, 1, 1).is_err());
    assert!(g
        .upsert_cpmm("bad id!", "So1", "USDC", 5, 5, 1, 2, 1)
        .is_err());
    assert_eq!(g.len(), 3);
    assert!(matches!(
        g.remove_pool("nope"),
        Err(EngineError::UnknownPool(_))
    ));
    assert!(matches!(
        g.cycles("Zzz", 4),
        Err(EngineError::UnknownToken(_))
    ));
    assert!(matches!(
        g.cycles("So1", 6),
        Err(EngineError::InvalidInput(_))
    ));
}

/// `cycles_touching` keeps each cycle's last sizing and sizes it again only when a pool
/// of it moved since: after random moves and evaluations (several pools of a cycle moved
/// before one is evaluated, some evaluated twice unmoved), every cycle it names is sized
/// exactly as `cycles` sizes it afresh (which keeps nothing).
#[test]
fn kept_sizings_are_the_fresh_ones() {
    let mut r = Lcg(0xcac4e);
    let mut checked = 0;
    for _ in 0..40 {
        let (mut m, pools) = Market::small(&mut r, 8);
        let base = name("T", 0);
        let mut g = PoolGraph::new(std::slice::from_ref(&base), 4).unwrap();
        for k in 0..pools {
            m.upsert(&mut g, k);
        }
        for _ in 0..60 {
            for _ in 0..r.below(3) {
                let k = r.below(pools);
                m.reprice(&mut r, k);
                m.upsert(&mut g, k);
            }
            let pool = name("P", r.below(pools));
            let Ok(got) = g.cycles_touching(&pool, 4) else {
                continue;
            };
            let fresh = g.cycles(&base, 4).unwrap_or_default();
            for o in got.iter().filter(|o| o.base_mint == base) {
                let f = fresh.iter().find(|f| f.pools == o.pools).unwrap();
                let sized = |x: &Opportunity| {
                    (
                        x.amount_in,
                        x.amount_out,
                        x.hop_amounts.clone(),
                        x.hop_steps.clone(),
                        x.ticks_missing,
                    )
                };
                assert_eq!(sized(o), sized(f), "{:?}", o.pools);
                checked += 1;
            }
        }
    }
    assert!(checked > 1_000, "{checked}");
}

/// `size` leaves a cycle whose pools' kept spot rates multiply to at most 1 unsized,
/// without building its legs: over random markets (some pools standing off their price,
/// so some cycles pay), every indexed cycle is sized exactly as `optimal_input` sizes
/// its legs, and both kinds of cycle occur.
#[test]
fn size_skips_only_what_optimal_input_would_not_size() {
    let mut r = Lcg(0x5121e);
    let (mut skipped, mut sized, mut paying_near_1) = (0, 0, 0);
    for _ in 0..60 {
        let tokens = 4 + r.below(8);
        let pools = tokens + r.below(3 * tokens);
        let disloc = 0.002 + 0.03 * r.unit(); // some cycles pay a little, some a lot
        let m = Market::new(&mut r, tokens, pools, 3.min(pools - 1), disloc);
        let base = name("T", 0);
        let mut g = PoolGraph::new(std::slice::from_ref(&base), 4).unwrap();
        for k in 0..pools {
            m.upsert(&mut g, k);
        }
        for c in g.cycles.iter().flatten() {
            let bound = c
                .edges
                .iter()
                .fold(1.0, |acc, &e| acc * g.pool_of(e).rate[(e & 1) as usize]);
            let full = crate::sizing::optimal_input(&g.legs(&c.edges));
            assert_eq!(g.size(&c.edges), full, "{:?}", c.edges);
            if bound <= 1.0 {
                skipped += 1;
            } else {
                sized += 1;
                paying_near_1 += usize::from(full.amount_in > 0 && bound < 1.01);
            }
        }
    }
    assert!(
        skipped > 100 && sized > 100,
        "{skipped} skipped, {sized} sized"
    );
    assert!(
        paying_near_1 > 10,
        "{paying_near_1} paying cycles within 1% of 1"
    );
}

/// A pool's cycles evaluated in pieces (`cycles_touching_piece` over `0, n, 2n, …` up to
/// `touching_count`) are its whole evaluation on a twin graph fed the same calls: the
/// same cycles, sizes and persistence (each cycle counted once); each piece's cycles
/// come after the last piece's in the canonical order (base mint, then the pools' ids
/// along the cycle), with pools leaving and joining the graph between evaluations (a
/// pool's cycles kept in order as some leave, put in order again when some join).
#[test]
fn pieces_of_a_pool_are_its_whole_evaluation() {
    let mut pieces_checked = 0;
    let mut r = Lcg(0x91ece);
    for _ in 0..25 {
        let (mut m, pools) = Market::small(&mut r, 6);
        let bases = [name("T", 0), name("T", 1)];
        let mut a = PoolGraph::new(&bases, 4).unwrap();
        let mut b = PoolGraph::new(&bases, 4).unwrap();
        for k in 0..pools {
            m.upsert(&mut a, k);
            m.upsert(&mut b, k);
        }
        let mut gone: Vec<usize> = Vec::new();
        for _ in 0..40 {
            match r.below(4) {
                0 if gone.len() + 2 < pools => {
                    let k = r.below(pools);
                    if !gone.contains(&k) {
                        a.remove_pool(&name("P", k)).unwrap();
                        b.remove_pool(&name("P", k)).unwrap();
                        gone.push(k);
                    }
                }
                1 if !gone.is_empty() => {
                    let k = gone.swap_remove(r.below(gone.len()));
                    m.upsert(&mut a, k);
                    m.upsert(&mut b, k);
                }
                _ => {
                    let k = r.below(pools);
                    if !gone.contains(&k) {
                        m.reprice(&mut r, k);
                        m.upsert(&mut a, k);
                        m.upsert(&mut b, k);
                    }
                }
            }
            let k = r.below(pools);
            if gone.contains(&k) {
                assert!(a.touching_count(&name("P", k)).is_err());
                continue;
            }
            let pool = name("P", k);
            let n = 1 + r.below(4);
            let count = a.touching_count(&pool).unwrap();
            assert_eq!(count, b.touching_count(&pool).unwrap());
            let mut together = Vec::new();
            let mut last: Option<(String, Vec<String>)> = None;
            for start in (0..count).step_by(n) {
                let got = a
                    .cycles_touching_piece(&pool, 4, false, Some((start, n)))
                    .unwrap();
                assert!(!got.is_empty() && got.len() <= n);
                let keys: Vec<_> = got
                    .iter()
                    .map(|o| (o.base_mint.clone(), o.pools.clone()))
                    .collect();
                let first = keys.iter().min().unwrap();
                if let Some(prev) = &last {
                    assert!(first > prev, "{first:?} after {prev:?}");
                }
                last = keys.into_iter().max();
                together.extend(got);
                pieces_checked += 1;
            }
            let whole = b.cycles_touching(&pool, 4).unwrap();
            let facts = |v: &[Opportunity]| {
                let mut f: Vec<_> = v
                    .iter()
                    .map(|o| {
                        let sized = (o.amount_in, o.amount_out, o.hop_amounts.clone());
                        (o.base_mint.clone(), o.pools.clone(), sized, o.persistence)
                    })
                    .collect();
                f.sort();
                f
            };
            assert_eq!(facts(&together), facts(&whole));
        }
    }
    assert!(pieces_checked > 500, "{pieces_checked}");
}
