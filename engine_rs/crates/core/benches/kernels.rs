//! Criterion benches of the core kernels (pure Rust, no FFI). `make bench` prints the
//! Python-facing table; these show what the kernels cost without the call boundary.

use std::hint::black_box;

use arbscope_core::amm;
use arbscope_core::clmm::{self, ClmmPool};
use arbscope_core::graph::PoolGraph;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_amm(c: &mut Criterion) {
    c.bench_function("cpmm_amount_out", |b| {
        b.iter(|| {
            amm::cpmm_amount_out(
                black_box(1_000_000),
                black_box(5_000_000_000),
                black_box(7_000_000_000),
                25,
                10_000,
            )
        })
    });
}

/// A ts-8 pool at tick 4 with initialized ticks every 8 ticks in [-320, 320]; the
/// a->b swap of 4.23e9 crosses 10 of them (the Python timing uses the same pool).
fn bench_clmm(c: &mut Criterion) {
    let ticks: Vec<(i32, i128)> = (-40..=40)
        .filter(|&i| i != 0)
        .map(|i| (i * 8, if i < 0 { 1_000_000 } else { -1_000_000 }))
        .collect();
    let sqrt_price = clmm::sqrt_price_from_tick(4).unwrap_or_default();
    let pool = ClmmPool::new(sqrt_price, 1_000_000_000_000, 4, 8, 3000, &ticks);
    let Ok(pool) = pool else { return };
    c.bench_function("clmm_swap_cross_10_ticks", |b| {
        b.iter(|| pool.swap(black_box(4_230_000_000), true, true, None, 0))
    });
    c.bench_function("clmm_swap_within_tick", |b| {
        b.iter(|| pool.swap(black_box(1_000), true, true, None, 0))
    });
    c.bench_function("clmm_sqrt_price_from_tick", |b| {
        b.iter(|| clmm::sqrt_price_from_tick(black_box(-221_819)))
    });
    c.bench_function("clmm_tick_from_sqrt_price", |b| {
        b.iter(|| clmm::tick_from_sqrt_price(black_box(sqrt_price)))
    });
}

/// A deterministic market: `tokens` with hidden prices in [0.5, 2], `pools` constant-product
/// pools with reserves consistent with the prices ± 0.1%, fee 25 bps (no arbitrage).
fn market(tokens: usize, pools: usize, seed: u64, bases: usize) -> PoolGraph {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let name = |i: usize| format!("T{}", bs58ish(i));
    let prices: Vec<f64> = (0..tokens).map(|_| 0.5 + 1.5 * next()).collect();
    let base_names: Vec<String> = (0..bases).map(name).collect();
    let mut g = PoolGraph::new(&base_names, 4).expect("valid");
    for k in 0..pools {
        // hubs: a third of the pools touch a base token
        let a = if bases > 0 && next() < 0.33 {
            (next() * bases as f64) as usize
        } else {
            (next() * tokens as f64) as usize
        };
        let mut b = (next() * tokens as f64) as usize;
        if b == a {
            b = (b + 1) % tokens;
        }
        let ra = 1_000_000_000 + (next() * 1e12) as u64;
        let noise = 1.0 + (next() - 0.5) * 0.002;
        let rb = ((ra as f64) * prices[a] / prices[b] * noise) as u64;
        g.upsert_cpmm(
            &format!("P{}", bs58ish(k)),
            &name(a),
            &name(b),
            ra,
            rb.max(1),
            25,
            10_000,
            0,
        )
        .expect("valid pool");
    }
    g
}

fn bs58ish(mut i: usize) -> String {
    const A: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut s = Vec::new();
    i += 1000;
    while i > 0 {
        s.push(A[i % 58]);
        i /= 58;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn bench_graph(c: &mut Criterion) {
    let mut g = market(100, 400, 7, 0);
    c.bench_function("find_negative_cycle 100/400", |b| {
        b.iter(|| black_box(g.find_negative_cycle()))
    });
    let mut g = market(100, 2_000, 7, 0);
    c.bench_function("find_negative_cycle 100/2000", |b| {
        b.iter(|| black_box(g.find_negative_cycle()))
    });
    let mut g = market(2_000, 10_000, 11, 3);
    let pools = g.pools();
    let mut i = 0usize;
    c.bench_function("cycles_touching 2000/10000", |b| {
        b.iter(|| {
            i = (i + 1) % pools.len();
            black_box(g.cycles_touching(&pools[i], 4).map(|v| v.len()))
        })
    });
}

criterion_group!(benches, bench_amm, bench_clmm, bench_graph);
criterion_main!(benches);
