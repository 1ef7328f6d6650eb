//! Bindings for `arbscope_core::{b58, pda}`: base58, PDAs and `PdaCache` (the core's
//! cache, keeping ready `(address, bump)` tuples; its Whirlpool lookups derive with the
//! venue's functions). The Whirlpool PDA functions are in `venues/orca_whirlpool.rs`.
//!
//! Addresses and seeds are accepted as bytes-like objects, as base58 `str` (a 32-byte
//! address) or as objects with `__bytes__` (solders `Pubkey`). Text seeds must be given
//! as bytes (`b"whirlpool"`): a `str` seed is read as an address.

use std::borrow::Cow;

use arbscope_core::pda::{self, Derived};
use arbscope_core::venues::orca_whirlpool;
use arbscope_core::{b58, EngineError};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMemoryView, PyString, PyTuple};

use crate::args::I32;
use crate::decode::add_functions;
use crate::errors::{guard, to_py};
use crate::venues::fee_tier;

/// The bytes of a seed or id argument (see the module docs).
fn bytes_of<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Cow<'a, [u8]>> {
    let py = obj.py();
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_str()?;
        let raw = b58::decode_32(text).map_err(|e| to_py(py, e))?;
        return Ok(Cow::Owned(raw.to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let buf = pyo3::buffer::PyBuffer::<u8>::get(obj)?;
        return Ok(Cow::Owned(buf.to_vec(py)?));
    }
    if obj.hasattr("__bytes__")? {
        let b = obj.call_method0("__bytes__")?;
        let b = b
            .cast::<PyBytes>()
            .map_err(|_| PyTypeError::new_err(format!("{what}: __bytes__ did not return bytes")))?;
        return Ok(Cow::Owned(b.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected bytes or a base58 str, got {}",
        obj.get_type().name()?
    )))
}

/// A 32-byte address argument.
pub(crate) fn id32(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<[u8; 32]> {
    let b = bytes_of(obj, what)?;
    <[u8; 32]>::try_from(b.as_ref()).map_err(|_| {
        to_py(
            obj.py(),
            EngineError::InvalidInput(format!("{what} must be 32 bytes, got {}", b.len())),
        )
    })
}

/// The seeds of a list or tuple argument.
fn seeds_of<'a>(seeds: &'a Bound<'_, PyAny>) -> PyResult<Vec<Cow<'a, [u8]>>> {
    if seeds.is_instance_of::<PyString>() || seeds.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "seeds: expected a list or tuple of seeds, got a single str/bytes",
        ));
    }
    let mut out = Vec::new();
    if let Ok(list) = seeds.cast::<PyList>() {
        for item in list.iter() {
            // the list may be shared: copy each seed out (they are <= 32 bytes)
            out.push(Cow::Owned(bytes_of(&item, "seed")?.into_owned()));
        }
        return Ok(out);
    }
    if let Ok(tuple) = seeds.cast::<PyTuple>() {
        for item in tuple.iter_borrowed() {
            out.push(Cow::Owned(bytes_of(&item, "seed")?.into_owned()));
        }
        return Ok(out);
    }
    Err(PyTypeError::new_err(format!(
        "seeds: expected a list or tuple, got {}",
        seeds.get_type().name()?
    )))
}

fn address_str<'py>(py: Python<'py>, addr: &[u8; 32]) -> Bound<'py, PyString> {
    PyString::new(py, &b58::encode(addr))
}

pub(crate) fn result_tuple<'py>(
    py: Python<'py>,
    addr: &[u8; 32],
    bump: u8,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            address_str(py, addr).into_any(),
            bump.into_pyobject(py)?.into_any(),
        ],
    )
}

/// Base58 text of bytes-like `data`.
#[pyfunction]
fn b58encode<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    let text = if let Ok(b) = data.cast::<PyBytes>() {
        b58::encode(b.as_bytes())
    } else if let Ok(b) = data.cast::<PyByteArray>() {
        b58::encode(&b.to_vec())
    } else if data.is_instance_of::<PyMemoryView>() {
        let buf = pyo3::buffer::PyBuffer::<u8>::get(data)?;
        b58::encode(&buf.to_vec(py)?)
    } else {
        return Err(PyTypeError::new_err(format!(
            "b58encode: expected bytes, got {}",
            data.get_type().name()?
        )));
    };
    Ok(PyString::new(py, &text))
}

/// Bytes of base58 `text` (`Base58Error` names a bad character and its position).
#[pyfunction]
fn b58decode<'py>(py: Python<'py>, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let s = text.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!(
            "b58decode: expected str, got {}",
            text.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let raw = guard(py, || match s.to_str() {
        Ok(t) => b58::decode(t),
        Err(_) => Err(EngineError::Base58(
            "invalid base58: not valid Unicode".into(),
        )),
    })?;
    Ok(PyBytes::new(py, &raw))
}

/// Whether 32 bytes (or an address) decompress to an ed25519 point.
#[pyfunction]
fn is_on_curve(address: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(pda::is_on_curve(&id32(address, "address")?))
}

/// The address of `seeds` under `program_id`; `InvalidSeedsError` when it is on the curve.
#[pyfunction]
fn create_program_address<'py>(
    py: Python<'py>,
    seeds: &Bound<'py, PyAny>,
    program_id: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyString>> {
    let seeds = seeds_of(seeds)?;
    let program = id32(program_id, "program_id")?;
    let refs: Vec<&[u8]> = seeds.iter().map(AsRef::as_ref).collect();
    let addr = guard(py, || pda::create_program_address(&refs, &program))?;
    Ok(address_str(py, &addr))
}

/// `(address, bump)`: the first off-curve address of `seeds ‖ [bump]`, bump 255 down to 1.
#[pyfunction]
fn find_program_address<'py>(
    py: Python<'py>,
    seeds: &Bound<'py, PyAny>,
    program_id: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let seeds = seeds_of(seeds)?;
    let program = id32(program_id, "program_id")?;
    let refs: Vec<&[u8]> = seeds.iter().map(AsRef::as_ref).collect();
    let (addr, bump) = guard(py, || pda::find_program_address(&refs, &program))?;
    result_tuple(py, &addr, bump)
}

/// A `find_many` request: cache key, program id, seeds.
type Request = (Vec<u8>, [u8; 32], Vec<Vec<u8>>);

/// An error of a cache lookup: the core's (deriving) or Python's (making the tuple).
enum Fail {
    Engine(EngineError),
    Py(PyErr),
}

impl From<EngineError> for Fail {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl From<PyErr> for Fail {
    fn from(e: PyErr) -> Self {
        Self::Py(e)
    }
}

/// The Python `(address, bump)` tuple of a derived address.
fn wrap(py: Python<'_>, (addr, bump): Derived) -> Result<Py<PyTuple>, Fail> {
    Ok(result_tuple(py, &addr, bump)?.unbind())
}

/// A cache lookup's tuple, or its Python error; panics become `InternalError`.
fn looked_up(
    py: Python<'_>,
    f: impl FnOnce() -> Result<Py<PyTuple>, Fail>,
) -> PyResult<Py<PyTuple>> {
    match guard(py, || Ok(f()))? {
        Ok(t) => Ok(t),
        Err(Fail::Engine(e)) => Err(to_py(py, e)),
        Err(Fail::Py(e)) => Err(e),
    }
}

/// Derive-once store of PDAs with O(1) lookups (`arbscope_core::pda::PdaCache`; see
/// `engine_rs.python.pda.PdaCache`).
#[pyclass(module = "engine_rs._engine")]
pub struct PdaCache {
    cache: pda::PdaCache<Py<PyTuple>>,
}

impl PdaCache {
    /// `id32` with the core's memo for str ids.
    fn id(&mut self, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<[u8; 32]> {
        if let Ok(s) = obj.cast::<PyString>() {
            let text = s.to_str()?;
            return self.cache.id(text).map_err(|e| to_py(obj.py(), e));
        }
        id32(obj, what)
    }
}

#[pymethods]
impl PdaCache {
    #[new]
    fn new() -> Self {
        Self {
            cache: pda::PdaCache::new(),
        }
    }

    /// `find_program_address(seeds, program_id)`, derived once.
    fn find(
        &mut self,
        py: Python<'_>,
        seeds: &Bound<'_, PyAny>,
        program_id: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyTuple>> {
        let parts = seeds_of(seeds)?;
        let program = self.id(program_id, "program_id")?;
        let refs: Vec<&[u8]> = parts.iter().map(AsRef::as_ref).collect();
        let cache = &mut self.cache;
        looked_up(py, || {
            let t = cache.find(&refs, &program, |d| wrap(py, d))?;
            Ok(t.clone_ref(py))
        })
    }

    /// `tick_array_address(whirlpool, start_tick_index)`, derived once.
    fn tick_array(
        &mut self,
        py: Python<'_>,
        whirlpool: &Bound<'_, PyAny>,
        start_tick_index: I32,
    ) -> PyResult<Py<PyTuple>> {
        let w = self.id(whirlpool, "whirlpool")?;
        let cache = &mut self.cache;
        looked_up(py, || {
            let t = cache.tick_array(&w, start_tick_index.0, |d| wrap(py, d))?;
            Ok(t.clone_ref(py))
        })
    }

    /// `whirlpool_address(config, mint_a, mint_b, fee_tier_index)`, derived once.
    fn whirlpool(
        &mut self,
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        mint_a: &Bound<'_, PyAny>,
        mint_b: &Bound<'_, PyAny>,
        fee_tier_index: crate::args::I64,
    ) -> PyResult<Py<PyTuple>> {
        let c = self.id(config, "config")?;
        let a = self.id(mint_a, "mint_a")?;
        let b = self.id(mint_b, "mint_b")?;
        let fee = fee_tier(py, fee_tier_index.0)?;
        let cache = &mut self.cache;
        looked_up(py, || {
            let t = cache.whirlpool(&c, &a, &b, fee, |d| wrap(py, d))?;
            Ok(t.clone_ref(py))
        })
    }

    /// `oracle_address(whirlpool)`, derived once.
    fn oracle(&mut self, py: Python<'_>, whirlpool: &Bound<'_, PyAny>) -> PyResult<Py<PyTuple>> {
        let w = self.id(whirlpool, "whirlpool")?;
        let cache = &mut self.cache;
        looked_up(py, || {
            let t = cache.oracle(&w, |d| wrap(py, d))?;
            Ok(t.clone_ref(py))
        })
    }

    /// Derive, in one batch without the GIL, the tick arrays of `whirlpool` around
    /// `center_tick` (the one holding it and `arrays_each_side` each side); returns their
    /// start indices.
    #[pyo3(
        signature = (whirlpool, tick_spacing, center_tick, arrays_each_side = crate::args::I64(2)),
        text_signature = "($self, whirlpool, tick_spacing, center_tick, arrays_each_side=2)"
    )]
    fn warm_tick_arrays(
        &mut self,
        py: Python<'_>,
        whirlpool: &Bound<'_, PyAny>,
        tick_spacing: crate::args::I64,
        center_tick: crate::args::I64,
        arrays_each_side: crate::args::I64,
    ) -> PyResult<Vec<i32>> {
        let w = self.id(whirlpool, "whirlpool")?;
        let starts = guard(py, || {
            orca_whirlpool::pda::tick_array_starts(
                tick_spacing.0,
                center_tick.0,
                arrays_each_side.0,
            )
        })?;
        let todo = self.cache.missing_tick_arrays(&w, &starts);
        let derived = py.detach(|| orca_whirlpool::pda::derive_tick_arrays(&w, &todo));
        let derived = derived.map_err(|e| to_py(py, e))?;
        for (s, (addr, bump)) in todo.into_iter().zip(derived) {
            let t = result_tuple(py, &addr, bump)?.unbind();
            self.cache.insert_tick_array(&w, s, t);
        }
        Ok(starts)
    }

    /// Derive many `(seeds, program_id)` in one batch without the GIL (each once); returns
    /// their `(address, bump)` in order.
    fn find_many(
        &mut self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<Py<PyTuple>>> {
        let mut parsed: Vec<Request> = Vec::new();
        for item in requests.try_iter()? {
            let item = item?;
            let tuple = item.cast::<PyTuple>().map_err(|_| {
                PyTypeError::new_err("find_many: expected (seeds, program_id) tuples")
            })?;
            if tuple.len() != 2 {
                return Err(PyTypeError::new_err(
                    "find_many: expected (seeds, program_id) tuples",
                ));
            }
            let seeds: Vec<Vec<u8>> = seeds_of(&tuple.get_item(0)?)?
                .into_iter()
                .map(Cow::into_owned)
                .collect();
            let program = self.id(&tuple.get_item(1)?, "program_id")?;
            let refs: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
            let key = pda::PdaCache::<Py<PyTuple>>::seeds_key(&program, &refs);
            parsed.push((key, program, seeds));
        }
        let todo: Vec<usize> = (0..parsed.len())
            .filter(|&i| !self.cache.has_seeds(&parsed[i].0))
            .collect();
        let derived = py.detach(|| {
            todo.iter()
                .map(|&i| {
                    let refs: Vec<&[u8]> = parsed[i].2.iter().map(Vec::as_slice).collect();
                    pda::find_program_address(&refs, &parsed[i].1)
                })
                .collect::<Result<Vec<_>, EngineError>>()
        });
        let derived = derived.map_err(|e| to_py(py, e))?;
        for (&i, (addr, bump)) in todo.iter().zip(derived) {
            let t = result_tuple(py, &addr, bump)?.unbind();
            self.cache.insert_seeds(parsed[i].0.clone(), t);
        }
        parsed
            .iter()
            .map(|(key, _, _)| {
                self.cache
                    .seeds(key)
                    .map(|t| t.clone_ref(py))
                    .ok_or_else(|| {
                        to_py(
                            py,
                            EngineError::InvalidInput("find_many: lost a derived address".into()),
                        )
                    })
            })
            .collect()
    }

    /// Lookups answered from the cache.
    #[getter]
    fn hits(&self) -> u64 {
        self.cache.hits()
    }

    /// Lookups that had to derive.
    #[getter]
    fn misses(&self) -> u64 {
        self.cache.misses()
    }

    fn __len__(&self) -> usize {
        self.cache.len()
    }

    /// Forget everything (the counters too).
    fn clear(&mut self) {
        self.cache.clear();
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PdaCache>()?;
    add_functions!(
        m,
        b58encode,
        b58decode,
        is_on_curve,
        create_program_address,
        find_program_address
    )
}
