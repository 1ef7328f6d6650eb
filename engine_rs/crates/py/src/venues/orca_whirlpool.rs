//! Bindings for `arbscope_core::venues::orca_whirlpool`: `decode_whirlpool` (a native
//! record, see [`PyWhirlpool`]), `decode_tick_array` and the `Traded` record.

use arbscope_core::venues::orca_whirlpool::{self as wp, Traded, Whirlpool};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple};

use crate::decode::{data_of, key, obj, owner_of, record};
use crate::errors::guard;

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

#[pymethods]
impl PyWhirlpool {
    #[getter]
    fn whirlpools_config<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        key(py, &self.w.whirlpools_config)
    }
    #[getter]
    fn whirlpool_bump(&self) -> u8 {
        self.w.whirlpool_bump
    }
    #[getter]
    fn tick_spacing(&self) -> u16 {
        self.w.u16s[0]
    }
    #[getter]
    fn fee_tier_index_seed(&self) -> u16 {
        self.w.u16s[1]
    }
    #[getter]
    fn fee_rate(&self) -> u16 {
        self.w.u16s[2]
    }
    #[getter]
    fn protocol_fee_rate(&self) -> u16 {
        self.w.u16s[3]
    }
    #[getter]
    fn liquidity(&self) -> u128 {
        self.w.liquidity
    }
    #[getter]
    fn sqrt_price(&self) -> u128 {
        self.w.sqrt_price
    }
    #[getter]
    fn tick_current_index(&self) -> i32 {
        self.w.tick_current_index
    }
    #[getter]
    fn protocol_fee_owed_a(&self) -> u64 {
        self.w.protocol_fee_owed[0]
    }
    #[getter]
    fn protocol_fee_owed_b(&self) -> u64 {
        self.w.protocol_fee_owed[1]
    }
    #[getter]
    fn token_mint_a<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        key(py, &self.w.token_mint_a)
    }
    #[getter]
    fn token_vault_a<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        key(py, &self.w.token_vault_a)
    }
    #[getter]
    fn fee_growth_global_a(&self) -> u128 {
        self.w.fee_growth_global_a
    }
    #[getter]
    fn token_mint_b<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        key(py, &self.w.token_mint_b)
    }
    #[getter]
    fn token_vault_b<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        key(py, &self.w.token_vault_b)
    }
    #[getter]
    fn fee_growth_global_b(&self) -> u128 {
        self.w.fee_growth_global_b
    }
    #[getter]
    fn reward_last_updated_timestamp(&self) -> u64 {
        self.w.reward_last_updated_timestamp
    }
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

/// A Whirlpool tick array -> `engine_rs.decoded.TickArray` (its initialized ticks as a
/// tuple of `(i, liquidity_net, liquidity_gross)`).
#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_tick_array<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let t = guard(py, || wp::decode_tick_array(&d, o.as_ref()))?;
    let ticks = PyTuple::new(py, t.ticks)?;
    let args = vec![
        obj!(py, if t.dynamic { "dynamic" } else { "fixed" }),
        obj!(py, t.start_tick_index),
        key(py, &t.whirlpool),
        ticks.into_any(),
    ];
    record(py, "TickArray", args)
}

/// `engine_rs.decoded.Traded` of a parsed `Traded` event.
pub(crate) fn traded_record(py: Python<'_>, ev: Traded) -> PyResult<Bound<'_, PyAny>> {
    let mut args = vec![
        key(py, &ev.whirlpool),
        obj!(py, ev.a_to_b),
        obj!(py, ev.pre_sqrt_price),
        obj!(py, ev.post_sqrt_price),
    ];
    for a in ev.amounts {
        args.push(obj!(py, a));
    }
    record(py, "Traded", args)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWhirlpool>()?;
    m.add_function(wrap_pyfunction!(decode_whirlpool, m)?)?;
    m.add_function(wrap_pyfunction!(decode_tick_array, m)?)?;
    Ok(())
}
