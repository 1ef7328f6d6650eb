//! Bindings for `arbscope_core::venues::orca_whirlpool`: `decode_whirlpool` (a native
//! record, see [`PyWhirlpool`]), `decode_tick_array` and the `Traded` record; the
//! program's swap (`clmm_swap`, `clmm_spot_rate`, the tick <-> sqrt price conversions);
//! the Whirlpool PDAs (`whirlpool_address`, `tick_array_address`, `oracle_address`,
//! `tick_array_starts`; `PdaCache` is in `pda.rs`).
//!
//! `clmm_swap` is called per quote, so it takes the raw METH_FASTCALL path: its twelve
//! arguments and the tick list are read straight off the vectorcall array and the
//! list / tuple objects into one Vec (PyO3's generic argument machinery cost more than
//! the swap itself). The result is a frozen pyclass whose fields become Python ints
//! only when read. Behaviour matches the Python twin: positional or keyword
//! arguments, `TypeError` for wrong types (bool is not an int, int is not a bool),
//! `MathOverflowError` for ints outside the chain's type, the scalar arguments checked
//! before the tick list.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use arbscope_core::venues::orca_whirlpool::swap::{self, ClmmPool};
use arbscope_core::venues::orca_whirlpool::{self as wp, Traded, Whirlpool};
use arbscope_core::EngineError;
use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple};

use crate::args::{I32, I64, U128, U64};
use crate::decode::{add_functions, data_of, decoders, key, native_record, obj, owner_of, rec};
use crate::errors::{guard, raise, to_py};
use crate::fast::{add_fastcall, get_bool, get_i32, get_ticks, get_u128, get_u64};
use crate::pda::{id32, result_tuple};

/// The fields of `engine_rs.decoded.Whirlpool`, in its order.
const FIELDS: [&str; 19] = [
    "whirlpools_config",
    "whirlpool_bump",
    "tick_spacing",
    "fee_tier_index_seed",
    "fee_rate",
    "protocol_fee_rate",
    "liquidity",
    "sqrt_price",
    "tick_current_index",
    "protocol_fee_owed_a",
    "protocol_fee_owed_b",
    "token_mint_a",
    "token_vault_a",
    "fee_growth_global_a",
    "token_mint_b",
    "token_vault_b",
    "fee_growth_global_b",
    "reward_last_updated_timestamp",
    "reward_mints",
];

static DECODED_WHIRLPOOL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `engine_rs.decoded.Whirlpool`, the record class of the schema.
fn schema_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    DECODED_WHIRLPOOL
        .get_or_try_init(py, || {
            py.import("engine_rs.decoded")?
                .getattr("Whirlpool")
                .map(Bound::unbind)
        })
        .map(|c| c.bind(py))
}

/// A decoded Whirlpool: the record `engine_rs.decoded.Whirlpool` kept natively, so a
/// decode costs no Python object per field (pubkeys become base58 text when read).
/// It is that record in every way a caller sees: the same fields; equal to the
/// dataclass with the same values (and to itself); the same hash; pickled and copied
/// as the dataclass; and an instance of it (`engine_rs.rust` registers it as a virtual
/// subclass).
#[pyclass(frozen, module = "engine_rs._engine", name = "Whirlpool")]
pub struct PyWhirlpool {
    pub(crate) w: Whirlpool,
}

impl PyWhirlpool {
    /// The field values in the schema's order.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let w = &self.w;
        PyTuple::new(
            py,
            [
                key(py, &w.whirlpools_config),
                obj!(py, w.whirlpool_bump),
                obj!(py, w.u16s[0]),
                obj!(py, w.u16s[1]),
                obj!(py, w.u16s[2]),
                obj!(py, w.u16s[3]),
                obj!(py, w.liquidity),
                obj!(py, w.sqrt_price),
                obj!(py, w.tick_current_index),
                obj!(py, w.protocol_fee_owed[0]),
                obj!(py, w.protocol_fee_owed[1]),
                key(py, &w.token_mint_a),
                key(py, &w.token_vault_a),
                obj!(py, w.fee_growth_global_a),
                key(py, &w.token_mint_b),
                key(py, &w.token_vault_b),
                obj!(py, w.fee_growth_global_b),
                obj!(py, w.reward_last_updated_timestamp),
                self.reward_mints(py)?.into_any(),
            ],
        )
    }

    /// Whether `other` is this record: a native one with the same bytes, or any other
    /// instance of the schema class with equal fields; `None`: not a Whirlpool record.
    fn same(&self, other: &Bound<'_, PyAny>) -> PyResult<Option<bool>> {
        let py = other.py();
        if let Ok(o) = other.cast::<PyWhirlpool>() {
            return Ok(Some(o.get().w == self.w));
        }
        if !other.is_instance(schema_class(py)?)? {
            return Ok(None);
        }
        let theirs = FIELDS
            .iter()
            .map(|f| other.getattr(*f))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Some(self.fields(py)?.eq(PyTuple::new(py, theirs)?)?))
    }
}

/// The `#[pymethods]` of [`PyWhirlpool`]: a getter per field (the keys as base58, then
/// `name: type = the core record's field`), then the methods given.
macro_rules! whirlpool_methods {
    (keys $($k:ident),*; $($f:ident: $t:ty = $p:ident $([$i:tt])?;)* { $($extra:tt)* }) => {
        #[pymethods]
        impl PyWhirlpool {
            $(
                #[getter]
                fn $f(&self) -> $t {
                    self.w.$p $([$i])?
                }
            )*
            $(
                #[getter]
                fn $k<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
                    key(py, &self.w.$k)
                }
            )*
            $($extra)*
        }
    };
}

whirlpool_methods! {
    keys whirlpools_config, token_mint_a, token_vault_a, token_mint_b, token_vault_b;
    whirlpool_bump: u8 = whirlpool_bump;
    tick_spacing: u16 = u16s[0];
    fee_tier_index_seed: u16 = u16s[1];
    fee_rate: u16 = u16s[2];
    protocol_fee_rate: u16 = u16s[3];
    liquidity: u128 = liquidity;
    sqrt_price: u128 = sqrt_price;
    tick_current_index: i32 = tick_current_index;
    protocol_fee_owed_a: u64 = protocol_fee_owed[0];
    protocol_fee_owed_b: u64 = protocol_fee_owed[1];
    fee_growth_global_a: u128 = fee_growth_global_a;
    fee_growth_global_b: u128 = fee_growth_global_b;
    reward_last_updated_timestamp: u64 = reward_last_updated_timestamp;
    {
        #[getter]
        fn reward_mints<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, self.w.reward_mints.iter().map(|k| key(py, k)))
        }
        /// Adaptive-fee pools have `fee_tier_index_seed != tick_spacing` (spec §2.2).
        #[getter]
        fn is_adaptive_fee(&self) -> bool {
            self.w.u16s[1] != self.w.u16s[0]
        }
        fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            Ok(match self.same(other)? {
                Some(same) => obj!(py, same).unbind(),
                None => py.NotImplemented(),
            })
        }
        fn __ne__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
            Ok(match self.same(other)? {
                Some(same) => obj!(py, !same).unbind(),
                None => py.NotImplemented(),
            })
        }
        /// The dataclass's hash: that of the tuple of the fields.
        fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
            self.fields(py)?.hash()
        }
        /// Pickles (and copies) as the schema's dataclass, which any process can load.
        fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
            PyTuple::new(py, [schema_class(py)?.clone(), self.fields(py)?.into_any()])
        }
        /// The dataclass's repr.
        fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
            let values = self.fields(py)?;
            let mut parts = Vec::with_capacity(FIELDS.len());
            for (name, v) in FIELDS.iter().zip(values.iter()) {
                parts.push(format!("{name}={}", v.repr()?));
            }
            Ok(format!("Whirlpool({})", parts.join(", ")))
        }
    }
}

/// Orca `Whirlpool` -> [`PyWhirlpool`].
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_whirlpool(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    owner: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyWhirlpool> {
    let o = owner_of(owner)?;
    let w = if let Ok(b) = data.cast::<PyBytes>() {
        // the hot path: read the bytes object in place
        guard(py, || wp::decode_whirlpool(b.as_bytes(), o.as_ref()))?
    } else {
        let d = data_of(data)?;
        guard(py, || wp::decode_whirlpool(&d, o.as_ref()))?
    };
    Ok(PyWhirlpool { w })
}

decoders! {
    /// A Whirlpool tick array -> `engine_rs.decoded.TickArray` (its initialized ticks as a
    /// tuple of `(i, liquidity_net, liquidity_gross)`).
    fn decode_tick_array(py, t = wp::decode_tick_array) {
        rec!(py, "TickArray", t => (if t.dynamic { "dynamic" } else { "fixed" }),
            start_tick_index, key whirlpool, tuple ticks)
    }
}

/// `engine_rs.decoded.Traded` of a parsed `Traded` event.
pub(crate) fn traded_record(py: Python<'_>, ev: Traded) -> PyResult<Bound<'_, PyAny>> {
    rec!(py, "Traded", ev => key whirlpool, a_to_b, pre_sqrt_price, post_sqrt_price, each amounts)
}

// ---- the program's swap (core: venues/orca_whirlpool/swap.rs) ----------------------

native_record! {
    /// One Whirlpool swap (fields as `engine_rs.records.SwapResult`).
    #[derive(Clone, Copy)]
    PySwapResult = "SwapResult" from swap::SwapResult {
        amount_in: u64,
        amount_out: u64,
        fee_amount: u64,
        protocol_fee: u64,
        fee_growth_x64: u128,
        sqrt_price_x64: u128,
        tick_current: i32,
        liquidity: u128,
    }
}

/// `sqrt(1.0001^tick) * 2^64` as the program computes it (Q64.64).
#[pyfunction]
fn sqrt_price_from_tick(py: Python<'_>, tick: I32) -> PyResult<u128> {
    guard(py, || swap::sqrt_price_from_tick(tick.0))
}

/// The greatest tick whose sqrt price is <= `sqrt_price_x64`.
#[pyfunction]
fn tick_from_sqrt_price(py: Python<'_>, sqrt_price_x64: U128) -> PyResult<i32> {
    guard(py, || swap::tick_from_sqrt_price(sqrt_price_x64.0))
}

/// Output per input after the fee at zero size.
#[pyfunction]
fn clmm_spot_rate(
    py: Python<'_>,
    sqrt_price_x64: U128,
    fee_rate: U64,
    a_to_b: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    // SAFETY: a live borrowed object, GIL held.
    let a_to_b = unsafe { get_bool(py, a_to_b.as_ptr(), "a_to_b")? };
    // anything past u32 is past 1e6 too: the core still says InvalidInput (after the
    // price check, as the twin)
    let fee = u32::try_from(fee_rate.0).unwrap_or(u32::MAX);
    guard(py, || swap::clmm_spot_rate(sqrt_price_x64.0, fee, a_to_b))
}

const SWAP_NAMES: [&str; 12] = [
    "sqrt_price_x64",
    "liquidity",
    "tick_current",
    "tick_spacing",
    "fee_rate",
    "ticks",
    "amount",
    "a_to_b",
    "exact_in",
    "sqrt_price_limit",
    "protocol_fee_rate",
    "max_tick_arrays",
];
const SWAP_REQUIRED: usize = 8;

/// Sort the vectorcall arguments into the twelve slots (null = not given).
///
/// # Safety
/// CPython's vectorcall contract: `args` holds `nargs` positionals then one value per
/// name in `kwnames`; the GIL is held.
unsafe fn swap_slots(
    py: Python<'_>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<[*mut ffi::PyObject; 12]> {
    unsafe {
        let nargs = usize::try_from(nargs).unwrap_or(0);
        let mut slots: [*mut ffi::PyObject; 12] = [ptr::null_mut(); 12];
        if nargs > slots.len() {
            return Err(PyTypeError::new_err(format!(
                "clmm_swap() takes at most 12 arguments ({nargs} given)"
            )));
        }
        for (i, slot) in slots.iter_mut().enumerate().take(nargs) {
            *slot = *args.add(i);
        }
        if !kwnames.is_null() {
            let nkw = ffi::PyTuple_GET_SIZE(kwnames);
            for k in 0..nkw {
                let key = Bound::from_borrowed_ptr(py, ffi::PyTuple_GET_ITEM(kwnames, k));
                let key = key.extract::<String>().unwrap_or_default();
                let value = *args.add(nargs + usize::try_from(k).unwrap_or(0));
                match SWAP_NAMES.iter().position(|n| *n == key) {
                    Some(i) if slots[i].is_null() => slots[i] = value,
                    Some(_) => {
                        return Err(PyTypeError::new_err(format!(
                            "clmm_swap() got multiple values for argument '{key}'"
                        )))
                    }
                    None => {
                        return Err(PyTypeError::new_err(format!(
                            "clmm_swap() got an unexpected keyword argument '{key}'"
                        )))
                    }
                }
            }
        }
        for (slot, name) in slots.iter().zip(SWAP_NAMES).take(SWAP_REQUIRED) {
            if slot.is_null() {
                return Err(PyTypeError::new_err(format!(
                    "clmm_swap() missing required argument '{name}'"
                )));
            }
        }
        Ok(slots)
    }
}

fn is_none_or_missing(obj: *mut ffi::PyObject) -> bool {
    // SAFETY: Py_None is a static object.
    obj.is_null() || obj == unsafe { ffi::Py_None() }
}

/// Arguments read, checked and swapped; the Python error on failure.
///
/// # Safety
/// As [`swap_slots`].
unsafe fn swap_impl(
    py: Python<'_>,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<PySwapResult> {
    unsafe {
        let s = swap_slots(py, args, nargs, kwnames)?;
        let sqrt_price = get_u128(py, s[0], SWAP_NAMES[0])?;
        let liquidity = get_u128(py, s[1], SWAP_NAMES[1])?;
        let tick_current = get_i32(py, s[2], SWAP_NAMES[2])?;
        let tick_spacing = get_u64(py, s[3], SWAP_NAMES[3])?;
        let fee_rate = get_u64(py, s[4], SWAP_NAMES[4])?;
        let amount = get_u64(py, s[6], SWAP_NAMES[6])?;
        let a_to_b = get_bool(py, s[7], SWAP_NAMES[7])?;
        let exact_in = if s[8].is_null() {
            true
        } else {
            get_bool(py, s[8], SWAP_NAMES[8])?
        };
        let limit = if is_none_or_missing(s[9]) {
            None
        } else {
            Some(get_u128(py, s[9], SWAP_NAMES[9])?)
        };
        let protocol_fee_rate = if s[10].is_null() {
            0
        } else {
            get_u64(py, s[10], SWAP_NAMES[10])?
        };
        let max_tick_arrays = if s[11].is_null() {
            Some(u64::from(swap::PROGRAM_MAX_TICK_ARRAYS))
        } else if s[11] == ffi::Py_None() {
            None
        } else {
            Some(get_u64(py, s[11], SWAP_NAMES[11])?)
        };
        let ticks = get_ticks(py, s[5])?;

        let Ok(ts) = u16::try_from(tick_spacing) else {
            return Err(raise(
                py,
                "InvalidTickSpacingError",
                format!("InvalidTickSpacing: tick spacing {tick_spacing} not in [1, 65535]"),
            ));
        };
        if fee_rate > u64::from(swap::FEE_RATE_MUL_VALUE) && ts > 0 {
            return Err(raise(
                py,
                "InvalidInputError",
                format!(
                    "fee_rate {fee_rate} exceeds {} (units of 1e-6)",
                    swap::FEE_RATE_MUL_VALUE
                ),
            ));
        }
        // fee_rate <= 1e6 here unless ts == 0, which the core rejects first
        let fee = u32::try_from(fee_rate).unwrap_or(u32::MAX);
        let pool = ClmmPool::from_ticks(sqrt_price, liquidity, tick_current, ts, fee, ticks)
            .map_err(|e| to_py(py, e))?;
        if protocol_fee_rate > u64::from(swap::PROTOCOL_FEE_RATE_MUL_VALUE) {
            return Err(raise(
                py,
                "InvalidInputError",
                format!(
                    "protocol_fee_rate {protocol_fee_rate} exceeds {} (units of 1e-4 of the fee)",
                    swap::PROTOCOL_FEE_RATE_MUL_VALUE
                ),
            ));
        }
        let protocol = u16::try_from(protocol_fee_rate).unwrap_or(u16::MAX);
        let arrays = max_tick_arrays.map(|m| u32::try_from(m).unwrap_or(u32::MAX));
        pool.swap_with_arrays(amount, a_to_b, exact_in, limit, protocol, arrays)
            .map(PySwapResult::from)
            .map_err(|e| to_py(py, e))
    }
}

unsafe extern "C" fn clmm_swap(
    _slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this with the GIL held and a valid vectorcall array.
    unsafe {
        let py = Python::assume_attached();
        let result = catch_unwind(AssertUnwindSafe(|| {
            swap_impl(py, args, nargs, kwnames).and_then(|r| Bound::new(py, r))
        }));
        match result {
            Ok(Ok(obj)) => obj.into_ptr(),
            Ok(Err(e)) => {
                e.restore(py);
                ptr::null_mut()
            }
            Err(_) => {
                raise(py, "InternalError", "engine panicked in clmm_swap".into()).restore(py);
                ptr::null_mut()
            }
        }
    }
}

// ---- the Whirlpool PDAs (core: venues/orca_whirlpool/pda.rs) -------------------------

pub(crate) fn fee_tier(py: Python<'_>, v: i64) -> PyResult<u16> {
    u16::try_from(v).map_err(|_| {
        to_py(
            py,
            EngineError::InvalidInput(format!("fee_tier_index must be within 0..=65535, got {v}")),
        )
    })
}

/// `(address, bump)` of the Whirlpool of `config` and the mint pair at `fee_tier_index`.
#[pyfunction]
fn whirlpool_address<'py>(
    py: Python<'py>,
    config: &Bound<'py, PyAny>,
    mint_a: &Bound<'py, PyAny>,
    mint_b: &Bound<'py, PyAny>,
    fee_tier_index: I64,
) -> PyResult<Bound<'py, PyTuple>> {
    let (c, a, b) = (
        id32(config, "config")?,
        id32(mint_a, "mint_a")?,
        id32(mint_b, "mint_b")?,
    );
    let fee = fee_tier(py, fee_tier_index.0)?;
    let (addr, bump) = guard(py, || wp::pda::whirlpool_address(&c, &a, &b, fee))?;
    result_tuple(py, &addr, bump)
}

/// `(address, bump)` of the tick array of `whirlpool` starting at `start_tick_index`.
#[pyfunction]
fn tick_array_address<'py>(
    py: Python<'py>,
    whirlpool: &Bound<'py, PyAny>,
    start_tick_index: I32,
) -> PyResult<Bound<'py, PyTuple>> {
    let w = id32(whirlpool, "whirlpool")?;
    let (addr, bump) = guard(py, || wp::pda::tick_array_address(&w, start_tick_index.0))?;
    result_tuple(py, &addr, bump)
}

/// Start indices of the tick array holding `center_tick` and `arrays_each_side` arrays
/// on each side.
#[pyfunction(name = "tick_array_starts")]
fn py_tick_array_starts(
    py: Python<'_>,
    tick_spacing: I64,
    center_tick: I64,
    arrays_each_side: I64,
) -> PyResult<Vec<i32>> {
    guard(py, || {
        wp::pda::tick_array_starts(tick_spacing.0, center_tick.0, arrays_each_side.0)
    })
}

/// `(address, bump)` of the oracle of `whirlpool`.
#[pyfunction]
fn oracle_address<'py>(
    py: Python<'py>,
    whirlpool: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let w = id32(whirlpool, "whirlpool")?;
    let (addr, bump) = guard(py, || wp::pda::oracle_address(&w))?;
    result_tuple(py, &addr, bump)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWhirlpool>()?;
    m.add_class::<PySwapResult>()?;
    add_functions!(
        m,
        decode_whirlpool,
        decode_tick_array,
        sqrt_price_from_tick,
        tick_from_sqrt_price,
        clmm_spot_rate
    )?;
    add_fastcall(
        m,
        c"clmm_swap",
        c"clmm_swap(sqrt_price_x64, liquidity, tick_current, tick_spacing, fee_rate, ticks, amount, a_to_b, exact_in=True, sqrt_price_limit=None, protocol_fee_rate=0, max_tick_arrays=3)\n--\n\nOne Orca Whirlpool swap, bit-exact with the program.",
        clmm_swap,
    )?;
    add_functions!(
        m,
        whirlpool_address,
        tick_array_address,
        oracle_address,
        py_tick_array_starts
    )?;
    m.add("WHIRLPOOL_PROGRAM_ID", wp::PROGRAM_ID)?;
    Ok(())
}
