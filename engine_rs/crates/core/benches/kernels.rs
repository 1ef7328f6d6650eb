//! Criterion benches of the core kernels (pure Rust, no FFI). `make bench` prints the
//! Python-facing table; these show what the kernels cost without the call boundary.

use std::hint::black_box;

use arbscope_core::amm;
use arbscope_core::clmm::{self, ClmmPool};
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

criterion_group!(benches, bench_amm, bench_clmm);
criterion_main!(benches);
