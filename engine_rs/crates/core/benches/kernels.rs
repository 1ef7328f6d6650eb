//! Criterion benches of the core kernels (pure Rust, no FFI). `make bench` prints the
//! Python-facing table; these show what the kernels cost without the call boundary.

use std::hint::black_box;

use arbscope_core::amm;
use arbscope_core::dedup::Deduper;
use arbscope_core::fees::FeeEstimator;
use arbscope_core::graph::PoolGraph;
use arbscope_core::venues::orca_whirlpool::swap::{self, ClmmPool};
use arbscope_core::{b58, pda};
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
    let sqrt_price = swap::sqrt_price_from_tick(4).unwrap_or_default();
    let pool = ClmmPool::new(sqrt_price, 1_000_000_000_000, 4, 8, 3000, &ticks);
    let Ok(pool) = pool else { return };
    c.bench_function("clmm_swap_cross_10_ticks", |b| {
        b.iter(|| pool.swap(black_box(4_230_000_000), true, true, None, 0))
    });
    c.bench_function("clmm_swap_within_tick", |b| {
        b.iter(|| pool.swap(black_box(1_000), true, true, None, 0))
    });
    c.bench_function("clmm_sqrt_price_from_tick", |b| {
        b.iter(|| swap::sqrt_price_from_tick(black_box(-221_819)))
    });
    c.bench_function("clmm_tick_from_sqrt_price", |b| {
        b.iter(|| swap::tick_from_sqrt_price(black_box(sqrt_price)))
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

/// 1000 48-byte keys, ~2.3 copies each from 3 endpoints, into a deduper that evicts.
fn bench_dedup(c: &mut Criterion) {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut batches: Vec<Vec<([u8; 48], u16, i64)>> = Vec::new();
    for b in 0..32u64 {
        let mut batch = Vec::new();
        for i in 0..1000u64 {
            let mut key = [0u8; 48];
            for chunk in key.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_le_bytes());
            }
            key[32..40].copy_from_slice(&(b * 1000 + i).to_le_bytes());
            for ep in 0..3u16 {
                if ep == 0 || next() % 100 < 65 {
                    batch.push((key, ep, (i * 20_000 + u64::from(ep) * 300_000) as i64));
                }
            }
        }
        batches.push(batch);
    }
    let Ok(mut d) = Deduper::new(8_000, 4_096) else {
        return;
    };
    let mut k = 0usize;
    c.bench_function("dedup_accept_2300_copies", |bch| {
        bch.iter(|| {
            let batch = &batches[k % batches.len()];
            k += 1;
            let mut firsts = 0usize;
            for (key, ep, ns) in batch {
                let fp = d.fingerprint(key);
                firsts += usize::from(d.accept_fingerprint(fp, *ep, *ns));
            }
            firsts
        })
    });
    c.bench_function("dedup_fingerprint_48b", |bch| {
        let key = batches[0][0].0;
        bch.iter(|| d.fingerprint(black_box(&key)))
    });
}

/// One sample into a full 150-slot window of 3000 samples, then its p75.
fn bench_fees(c: &mut Criterion) {
    let Ok(mut f) = FeeEstimator::new(150, 1_000_000) else {
        return;
    };
    for s in 0..150u64 {
        for i in 0..20u64 {
            f.add(s, (s * 7_919 + i * 104_729) % 50_000);
        }
    }
    let mut k = 0u64;
    c.bench_function("fees_add_then_p75", |b| {
        b.iter(|| {
            k += 1;
            f.add(150 + k / 20, (k * 7_919) % 50_000);
            f.percentile(75.0)
        })
    });
}

/// PDAs and base58: the per-bump cost (sha256 + on-curve check) and a whole search.
fn bench_pda(c: &mut Criterion) {
    let program = arbscope_core::venues::orca_whirlpool::PROGRAM;
    let seeds: [&[u8]; 5] = [b"whirlpool", &[7u8; 32], &[8u8; 32], &[9u8; 32], &[2, 0]];
    c.bench_function("pda_find_whirlpool", |b| {
        b.iter(|| pda::find_program_address(black_box(&seeds), &program))
    });
    let h = [0x5au8; 32];
    c.bench_function("pda_is_on_curve", |b| {
        b.iter(|| pda::is_on_curve(black_box(&h)))
    });
    c.bench_function("b58_encode_32", |b| {
        b.iter(|| b58::encode(black_box(&program)))
    });
    let text = b58::encode(&program);
    c.bench_function("b58_decode_32", |b| {
        b.iter(|| b58::decode_32(black_box(&text)))
    });
}

criterion_group!(
    benches,
    bench_amm,
    bench_clmm,
    bench_graph,
    bench_dedup,
    bench_fees,
    bench_pda
);
criterion_main!(benches);
