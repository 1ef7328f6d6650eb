//! Bindings for `arbscope_core::decode`: the account decoders and log parsers, returning
//! the shared records of `engine_rs.decoded` (the same classes the twin returns).

use arbscope_core::b58;
use arbscope_core::decode::{self as dec, Event, Key};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

use crate::errors::guard;

static DECODED: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// `engine_rs.decoded.<name>(*args)`.
fn record<'py>(
    py: Python<'py>,
    name: &str,
    args: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let m = DECODED.get_or_try_init(py, || py.import("engine_rs.decoded").map(Bound::unbind))?;
    m.bind(py).getattr(name)?.call1(PyTuple::new(py, args)?)
}

fn key<'py>(py: Python<'py>, k: &Key) -> Bound<'py, PyAny> {
    PyString::new(py, &b58::encode(k)).into_any()
}

fn opt_key<'py>(py: Python<'py>, k: &Option<Key>) -> Bound<'py, PyAny> {
    match k {
        Some(k) => key(py, k),
        None => py.None().into_bound(py),
    }
}

macro_rules! obj {
    ($py:expr, $v:expr) => {
        $v.into_bound_py_any($py)?
    };
}

/// The account bytes: bytes, bytearray or memoryview (as the twin accepts).
fn data_of(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if data.is_instance_of::<PyMemoryView>() {
        return pyo3::buffer::PyBuffer::<u8>::get(data)?.to_vec(data.py());
    }
    Err(PyTypeError::new_err(format!(
        "expected bytes, got {}",
        data.get_type().name()?
    )))
}

/// The owner argument: None, a base58 str, 32 bytes, or anything whose `str()` is
/// base58 (solders `Pubkey`). Anything that is not a 32-byte address matches no
/// program (the decoder then raises WrongOwnerError), as in the twin.
pub(crate) fn owner_of(owner: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Key>> {
    let Some(o) = owner else { return Ok(None) };
    if o.is_none() {
        return Ok(None);
    }
    const NOBODY: Key = [0xff; 32];
    if let Ok(b) = o.cast::<PyBytes>() {
        return Ok(Some(<Key>::try_from(b.as_bytes()).unwrap_or(NOBODY)));
    }
    if o.is_instance_of::<PyByteArray>() || o.is_instance_of::<PyMemoryView>() {
        let v = data_of(o)?;
        return Ok(Some(<Key>::try_from(v.as_slice()).unwrap_or(NOBODY)));
    }
    let text = o.str()?;
    Ok(Some(b58::decode_32(text.to_str()?).unwrap_or(NOBODY)))
}

#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_amm_v4<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let a = guard(py, || dec::decode_raydium_amm_v4(&d, o.as_ref()))?;
    let mut args: Vec<Bound<'py, PyAny>> = Vec::new();
    for v in a.u64s {
        args.push(obj!(py, v));
    }
    for k in &a.keys {
        args.push(key(py, k));
    }
    args.push(obj!(py, a.lp_amount));
    record(py, "RaydiumAmmV4", args)
}

#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_cpmm<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let p = guard(py, || dec::decode_raydium_cpmm(&d, o.as_ref()))?;
    let mut args: Vec<Bound<'py, PyAny>> = p.keys.iter().map(|k| key(py, k)).collect();
    for v in p.u8s {
        args.push(obj!(py, v));
    }
    for v in p.u64s {
        args.push(obj!(py, v));
    }
    args.push(obj!(py, p.creator_fee_on));
    args.push(obj!(py, p.enable_creator_fee));
    args.push(obj!(py, p.creator_fees[0]));
    args.push(obj!(py, p.creator_fees[1]));
    record(py, "RaydiumCpmmPool", args)
}

#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_raydium_amm_config<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let c = guard(py, || dec::decode_raydium_amm_config(&d, o.as_ref()))?;
    let mut args: Vec<Bound<'py, PyAny>> = vec![
        obj!(py, c.bump),
        obj!(py, c.disable_create_pool),
        obj!(py, c.index),
    ];
    for v in c.rates {
        args.push(obj!(py, v));
    }
    args.push(key(py, &c.protocol_owner));
    args.push(key(py, &c.fund_owner));
    args.push(obj!(py, c.creator_fee_rate));
    record(py, "RaydiumAmmConfig", args)
}

/// A decoded Whirlpool (fields as `engine_rs.decoded.Whirlpool`): a native record, so
/// decoding costs no Python object per field; pubkeys are base58-encoded when read.
#[pyclass(frozen, module = "engine_rs._engine", name = "Whirlpool")]
pub struct PyWhirlpool {
    pub(crate) w: dec::Whirlpool,
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
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyWhirlpool>()
            .is_ok_and(|o| o.get().w == self.w)
    }
    fn __repr__(&self) -> String {
        format!(
            "Whirlpool(whirlpools_config='{}', tick_spacing={}, fee_rate={}, liquidity={}, \
             sqrt_price={}, tick_current_index={}, token_mint_a='{}', token_mint_b='{}', ...)",
            b58::encode(&self.w.whirlpools_config),
            self.w.u16s[0],
            self.w.u16s[2],
            self.w.liquidity,
            self.w.sqrt_price,
            self.w.tick_current_index,
            b58::encode(&self.w.token_mint_a),
            b58::encode(&self.w.token_mint_b)
        )
    }
}

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
        guard(py, || dec::decode_whirlpool(b.as_bytes(), o.as_ref()))?
    } else {
        let d = data_of(data)?;
        guard(py, || dec::decode_whirlpool(&d, o.as_ref()))?
    };
    Ok(PyWhirlpool { w })
}

#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_tick_array<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let t = guard(py, || dec::decode_tick_array(&d, o.as_ref()))?;
    let ticks: Vec<(u8, i128, u128)> = t.ticks;
    let args = vec![
        obj!(py, if t.dynamic { "dynamic" } else { "fixed" }),
        obj!(py, t.start_tick_index),
        key(py, &t.whirlpool),
        obj!(py, ticks),
    ];
    record(py, "TickArray", args)
}

#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_token_account<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let a = guard(py, || dec::decode_token_account(&d, o.as_ref()))?;
    let args = vec![
        key(py, &a.mint),
        key(py, &a.owner),
        obj!(py, a.amount),
        opt_key(py, &a.delegate),
        obj!(py, a.state),
        obj!(py, a.is_native),
        obj!(py, a.delegated_amount),
        opt_key(py, &a.close_authority),
    ];
    record(py, "TokenAccount", args)
}

#[pyfunction]
#[pyo3(signature = (data, owner = None))]
fn decode_mint<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    owner: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (d, o) = (data_of(data)?, owner_of(owner)?);
    let m = guard(py, || dec::decode_mint(&d, o.as_ref()))?;
    let fee = |f: Option<dec::TransferFee>| -> PyResult<Bound<'py, PyAny>> {
        match f {
            Some((e, max, bps)) => record(
                py,
                "TransferFee",
                vec![obj!(py, e), obj!(py, max), obj!(py, bps)],
            ),
            None => Ok(py.None().into_bound(py)),
        }
    };
    let args = vec![
        opt_key(py, &m.mint_authority),
        obj!(py, m.supply),
        obj!(py, m.decimals),
        obj!(py, m.is_initialized),
        opt_key(py, &m.freeze_authority),
        fee(m.older_transfer_fee)?,
        fee(m.newer_transfer_fee)?,
    ];
    record(py, "Mint", args)
}

fn text_of(s: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = s
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("{what}: expected str")))?;
    Ok(s.to_string_lossy().into_owned())
}

#[pyfunction]
fn parse_ray_log<'py>(py: Python<'py>, b64: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let text = text_of(b64, "ray_log")?;
    match guard(py, || dec::parse_ray_log(&text))? {
        None => Ok(py.None().into_bound(py)),
        Some((kind, v)) => {
            let mut args = Vec::with_capacity(7);
            for x in v {
                args.push(obj!(py, x));
            }
            record(
                py,
                if kind == 0 {
                    "SwapBaseInLog"
                } else {
                    "SwapBaseOutLog"
                },
                args,
            )
        }
    }
}

#[pyfunction]
fn parse_program_data<'py>(
    py: Python<'py>,
    b64: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let text = text_of(b64, "program data")?;
    match guard(py, || dec::parse_program_data(&text))? {
        None => Ok(py.None().into_bound(py)),
        Some(Event::Traded {
            whirlpool,
            a_to_b,
            pre_sqrt_price,
            post_sqrt_price,
            amounts,
        }) => {
            let mut args = vec![
                key(py, &whirlpool),
                obj!(py, a_to_b),
                obj!(py, pre_sqrt_price),
                obj!(py, post_sqrt_price),
            ];
            for a in amounts {
                args.push(obj!(py, a));
            }
            record(py, "Traded", args)
        }
        Some(Event::CpmmSwap {
            pool_id,
            amounts,
            base_input,
            newer,
        }) => {
            let mut args = vec![key(py, &pool_id)];
            for a in amounts {
                args.push(obj!(py, a));
            }
            args.push(obj!(py, base_input));
            if let Some((im, om, tf, cf, on_in)) = newer {
                args.extend([
                    key(py, &im),
                    key(py, &om),
                    obj!(py, tf),
                    obj!(py, cf),
                    obj!(py, on_in),
                ]);
            }
            record(py, "CpmmSwapEvent", args)
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_raydium_amm_v4, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_cpmm, m)?)?;
    m.add_function(wrap_pyfunction!(decode_raydium_amm_config, m)?)?;
    m.add_class::<PyWhirlpool>()?;
    m.add_function(wrap_pyfunction!(decode_whirlpool, m)?)?;
    m.add_function(wrap_pyfunction!(decode_tick_array, m)?)?;
    m.add_function(wrap_pyfunction!(decode_token_account, m)?)?;
    m.add_function(wrap_pyfunction!(decode_mint, m)?)?;
    m.add_function(wrap_pyfunction!(parse_ray_log, m)?)?;
    m.add_function(wrap_pyfunction!(parse_program_data, m)?)?;
    Ok(())
}
