//! Raydium CLMM's program-derived addresses (raydium-io/raydium-clmm `states/pool.rs`, `tick_array.rs`,
//! `oracle.rs`, `config.rs`, `instructions/create_pool.rs`): a pool is `["pool", config,
//! mint_0, mint_1]`, its vaults `["pool_vault", pool, mint]`, its observation
//! `["observation", pool]`, its tick-array bitmap extension
//! `["pool_tick_array_bitmap_extension", pool]`, a tick array `["tick_array", pool,
//! start as i32 BIG-endian]`, a config `["amm_config", index as u16 BIG-endian]`.
//! (twin: `raydium_clmm_address` in `engine_rs/python/venues/raydium_clmm.py`).

use super::{PROGRAM, TICK_ARRAY_SIZE};
use crate::derive::find_program_address;
use crate::error::Result;
use crate::venues::ticks::array_starts;

pub fn pool_address(
    config: &[u8; 32],
    mint_0: &[u8; 32],
    mint_1: &[u8; 32],
) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"pool", config, mint_0, mint_1], &PROGRAM)
}

pub fn vault_address(pool: &[u8; 32], mint: &[u8; 32]) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"pool_vault", pool, mint], &PROGRAM)
}

pub fn observation_address(pool: &[u8; 32]) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"observation", pool], &PROGRAM)
}

pub fn bitmap_extension_address(pool: &[u8; 32]) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"pool_tick_array_bitmap_extension", pool], &PROGRAM)
}

pub fn tick_array_address(pool: &[u8; 32], start_tick_index: i32) -> Result<([u8; 32], u8)> {
    find_program_address(
        &[b"tick_array", pool, &start_tick_index.to_be_bytes()],
        &PROGRAM,
    )
}

pub fn amm_config_address(index: u16) -> Result<([u8; 32], u8)> {
    find_program_address(&[b"amm_config", &index.to_be_bytes()], &PROGRAM)
}

/// Tick-array start indices around `center_tick`: the array holding it and
/// `arrays_each_side` arrays on each side (60 ticks of `tick_spacing` per array),
/// with the errors of [`array_starts`].
pub fn tick_array_starts(
    tick_spacing: i64,
    center_tick: i64,
    arrays_each_side: i64,
) -> Result<Vec<i32>> {
    array_starts(TICK_ARRAY_SIZE, tick_spacing, center_tick, arrays_each_side)
}
