//! Criterion benches of the core kernels (pure Rust, no FFI). `make bench` prints the
//! Python-facing table; these show what the kernels cost without the call boundary.

use std::hint::black_box;

use arbscope_core::amm;
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

criterion_group!(benches, bench_amm);
criterion_main!(benches);
