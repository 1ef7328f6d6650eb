//! What the two tick venues share (Orca Whirlpool and Raydium CLMM: twin
//! `engine_rs/python/venues/ticks.py`): both keep a pool's initialized ticks in arrays
//! of a fixed number of ticks (88 and 60) laid out the same way, and count the ticks a
//! swap crossed the same way. Each venue's own tick math (their programs round
//! differently) stays in its folder.

use crate::error::{EngineError, Result};

/// The initialized ticks of `ticks` (sorted by index) a swap from `before` to `after`
/// crossed: going down (`a_to_b`) those in `(after, before]` (crossing a tick leaves the
/// current tick one below it), going up those in `(before, after]`. A swap crosses an
/// initialized tick exactly when its price reaches the tick's, and the current tick
/// after it is below the lowest tick whose price it reached, so the range is the walk's
/// (`feeds/venues/orca_whirlpool.py` `crossed_ticks`, what the simulator charges for).
/// Two binary searches: no second walk.
pub fn crossed_ticks<T>(
    ticks: &[T],
    index: impl Fn(&T) -> i32,
    before: i32,
    after: i32,
    a_to_b: bool,
) -> usize {
    let (lo, hi) = if a_to_b {
        (after, before)
    } else {
        (before, after)
    };
    if hi <= lo {
        return 0;
    }
    let from = ticks.partition_point(|t| index(t) <= lo);
    let to = ticks.partition_point(|t| index(t) <= hi);
    to.saturating_sub(from)
}

/// Start indices of the arrays of `ticks_per_array` ticks of `tick_spacing` around
/// `center_tick` (the one holding it and `arrays_each_side` on each side): the rule of
/// both venues' `tick_array_starts`. `InvalidInput` for a spacing outside 1..=65535,
/// more than 64 arrays a side, or a start outside i32.
pub fn array_starts(
    ticks_per_array: i32,
    tick_spacing: i64,
    center_tick: i64,
    arrays_each_side: i64,
) -> Result<Vec<i32>> {
    if !(1..=i64::from(u16::MAX)).contains(&tick_spacing) {
        return Err(EngineError::InvalidInput(format!(
            "tick_spacing must be within 1..=65535, got {tick_spacing}"
        )));
    }
    if !(0..=64).contains(&arrays_each_side) {
        return Err(EngineError::InvalidInput(format!(
            "arrays_each_side must be within 0..=64, got {arrays_each_side}"
        )));
    }
    let width = i64::from(ticks_per_array) * tick_spacing;
    let start = center_tick.div_euclid(width) * width;
    (-arrays_each_side..=arrays_each_side)
        .map(|k| {
            i32::try_from(start + k * width).map_err(|_| {
                EngineError::InvalidInput(format!(
                    "tick array start {} does not fit in i32",
                    start + k * width
                ))
            })
        })
        .collect()
}

/// One tick array a pool's venue holds: the ingest's id of the account, its start tick
/// and its initialized ticks (as the venue keeps them).
#[derive(Debug, Clone)]
pub(crate) struct ArrayTicks<T> {
    pub(crate) account: u32,
    pub(crate) start: i32,
    pub(crate) ticks: Vec<T>,
}

/// Keep `ticks` as what array `account` starting at `start` holds: true when that
/// changed what `arrays` held (a new array, or other ticks or start).
pub(crate) fn hold<T: PartialEq>(
    arrays: &mut Vec<ArrayTicks<T>>,
    account: u32,
    start: i32,
    ticks: Vec<T>,
) -> bool {
    match arrays.iter_mut().find(|a| a.account == account) {
        Some(a) if a.start == start && a.ticks == ticks => false,
        Some(a) => {
            a.start = start;
            a.ticks = ticks;
            true
        }
        None => {
            arrays.push(ArrayTicks {
                account,
                start,
                ticks,
            });
            true
        }
    }
}
