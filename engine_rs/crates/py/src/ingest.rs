//! Bindings for `arbscope_core::ingest`: the `FeedIngest` class and `IngestStats` record.
//!
//! `FeedIngest` keeps the extension's own `PoolGraph` and borrows it mutably for the
//! length of a `frame` / `account` call. A `bytes` frame is read in place (no copy).
//! Arguments are checked when and as the twin checks them: the endpoint and the frame's
//! type first; `recv_ns` only when a notification reaches the dedup, an account's `slot`
//! only when a pool is upserted (the core says when, see `ingest::Arg`).

use std::borrow::Cow;

use arbscope_core::dedup;
use arbscope_core::graph::EpochSchedule;
use arbscope_core::ingest::copies::{self, Stored};
use arbscope_core::ingest::{self as core, Arg, FeedIngest as CoreIngest, Input, SubKind};
use arbscope_core::venues::{self, VenueId};
use arbscope_core::EngineError;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyInt, PyList, PyMemoryView, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

use crate::args::{I64, U64};
use crate::decode::owner_of;
use crate::dedup::DedupStats;
use crate::errors::{guard, to_py};
use crate::graph::PoolGraph;
use crate::pda::id32;
use crate::venues::PyWhirlpool;

/// What `FeedIngest` has seen (fields as `engine_rs.records.IngestStats`).
#[pyclass(frozen, get_all, eq, module = "engine_rs._engine")]
#[derive(PartialEq)]
pub struct IngestStats {
    frames: u64,
    notifications: u64,
    first_copies: u64,
    duplicates: u64,
    accounts: u64,
    logs: u64,
    slots: u64,
    swaps: u64,
    unknown: u64,
    pool_updates: u64,
    slot: u64,
}

#[pymethods]
impl IngestStats {
    fn __repr__(&self) -> String {
        format!(
            "IngestStats(frames={}, notifications={}, first_copies={}, duplicates={}, \
             accounts={}, logs={}, slots={}, swaps={}, unknown={}, pool_updates={}, slot={})",
            self.frames,
            self.notifications,
            self.first_copies,
            self.duplicates,
            self.accounts,
            self.logs,
            self.slots,
            self.swaps,
            self.unknown,
            self.pool_updates,
            self.slot
        )
    }
}

/// What `FeedIngest` holds against one endpoint (fields as
/// `engine_rs.records.EndpointStats`).
#[pyclass(frozen, get_all, eq, module = "engine_rs._engine")]
#[derive(PartialEq)]
pub struct EndpointStats {
    endpoint: u16,
    slot: u64,
    implausible: u64,
    older: u64,
    unknown: u64,
    identity: u64,
    disagreed: u64,
    held_back: u64,
    quarantined: bool,
    backwards: u64,
    behind: u64,
    lagging: bool,
    voting: bool,
    leading: bool,
    refused_first: u64,
    account_slot: u64,
    repaired: u64,
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

#[pymethods]
impl EndpointStats {
    fn __repr__(&self) -> String {
        format!(
            "EndpointStats(endpoint={}, slot={}, implausible={}, older={}, unknown={}, \
             identity={}, disagreed={}, held_back={}, quarantined={}, backwards={}, \
             behind={}, lagging={}, voting={}, leading={}, refused_first={}, \
             account_slot={}, repaired={})",
            self.endpoint,
            self.slot,
            self.implausible,
            self.older,
            self.unknown,
            self.identity,
            self.disagreed,
            self.held_back,
            py_bool(self.quarantined),
            self.backwards,
            self.behind,
            py_bool(self.lagging),
            py_bool(self.voting),
            py_bool(self.leading),
            self.refused_first,
            self.account_slot,
            self.repaired,
        )
    }
}

/// A str argument (TypeError naming `what` for anything else).
fn str_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    obj.cast::<PyString>()
        .map(|s| s.to_string_lossy().into_owned())
        .map_err(|_| {
            PyTypeError::new_err(format!("{what}: expected a str, got {}", type_name(obj)))
        })
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

fn is_int(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>()
}

/// The twin's `_u16`: TypeError for a non-int, InvalidInputError outside 0..=65535.
fn endpoint_arg(obj: &Bound<'_, PyAny>) -> PyResult<u16> {
    if !is_int(obj) {
        return Err(PyTypeError::new_err(format!(
            "expected an int, got {}",
            type_name(obj)
        )));
    }
    if let Ok(v) = obj.extract::<u16>() {
        return Ok(v);
    }
    Err(to_py(
        obj.py(),
        EngineError::InvalidInput(format!("endpoint must be within 0..=65535, got {obj}")),
    ))
}

/// The twin's `_u64` (a subscription id).
fn subscription_arg(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    if !is_int(obj) {
        return Err(PyTypeError::new_err(format!(
            "expected an int, got {}",
            type_name(obj)
        )));
    }
    obj.extract::<u64>().map_err(|_| {
        to_py(
            obj.py(),
            EngineError::InvalidInput(format!("subscription id must be a u64, got {obj}")),
        )
    })
}

/// An int argument checked later by the core (see `ingest::Arg`).
fn lazy<T: for<'a, 'py> FromPyObject<'a, 'py>>(obj: &Bound<'_, PyAny>) -> Arg<T> {
    if !is_int(obj) {
        return Arg::Wrong; // the twin takes int (and its subclasses) only, never bool
    }
    match obj.extract::<T>() {
        Ok(v) => Arg::Ok(v),
        Err(_) => Arg::Overflow,
    }
}

/// The TypeError the twin's int checks raise for `obj`.
fn int_type_error(obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("expected int, got {}", type_name(obj)))
}

/// An account's bytes: bytes (borrowed), bytearray or memoryview, as the decoders take.
fn data_arg<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if data.is_instance_of::<PyMemoryView>() {
        return Ok(Cow::Owned(PyBuffer::<u8>::get(data)?.to_vec(data.py())?));
    }
    Err(PyTypeError::new_err(format!(
        "data: expected bytes, got {}",
        type_name(data)
    )))
}

/// A pool key argument of `track_array` as a string; anything else is "not a tracked
/// pool with arrays" (an unhashable one the twin's TypeError).
fn pool_arg(py: Python<'_>, pool: &Bound<'_, PyAny>) -> PyResult<String> {
    match pool.cast::<PyString>() {
        Ok(s) => Ok(s.to_string_lossy().into_owned()),
        Err(_) => {
            pool.hash()?;
            Err(to_py(
                py,
                EngineError::InvalidInput(arbscope_core::ingest::not_tracked(&pool.to_string())),
            ))
        }
    }
}

/// An address argument: a base58 `str`. Other forms the twin's `_id32` accepts raise its
/// errors (TypeError, InvalidInputError, Base58Error); a valid non-str address raises
/// TypeError (the twin would key its tables by the bytes object).
fn address_arg<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    if let Ok(s) = obj.cast::<PyString>() {
        // lone surrogates are no base58 character
        return s.to_str().map_err(|_| {
            to_py(
                obj.py(),
                EngineError::Base58(format!("invalid base58 character in {obj:?}")),
            )
        });
    }
    id32(obj, "address")?;
    Err(PyTypeError::new_err(format!(
        "address: expected a base58 str, got {}",
        type_name(obj)
    )))
}

/// The frame: `bytes`, `str` and a contiguous byte `memoryview` (the PubSub transport's
/// read buffer) read in place, anything else copied.
enum FrameArg<'a> {
    Borrowed(Input<'a>),
    Buffer(PyBuffer<u8>),
    Bytes(Vec<u8>),
    Text(Vec<u8>),
}

/// The bytes of a C-contiguous byte buffer, borrowed while `buf` holds it (no copy).
pub(crate) fn buffer_bytes(buf: &PyBuffer<u8>) -> &[u8] {
    let len = buf.len_bytes();
    if len == 0 || buf.buf_ptr().is_null() {
        return &[];
    }
    // SAFETY: `PyBuffer::<u8>::get` checked the item type (one byte, any bit pattern
    // valid) and `frame_arg` that the buffer is C-contiguous, so `len` bytes start at
    // `buf_ptr`; `buf` keeps the exporter's buffer alive and unresized for the borrow,
    // and the GIL is held for the whole call (the engine runs no Python code), so no
    // Python code writes to it meanwhile
    unsafe { std::slice::from_raw_parts(buf.buf_ptr().cast::<u8>().cast_const(), len) }
}

/// A packed input's header (`storage.codec.HEADER`, `<BHqqI`): kind, endpoint, receive
/// ns, wall µs, payload length.
const PACKED_HEADER: usize = 23;
const KIND_FRAME: u8 = 1; // storage.codec.Kind.FRAME
const KIND_GRPC: u8 = 17; // storage.codec.Kind.GRPC
const KIND_DELTA: u8 = arbscope_core::journal::KIND_DELTA; // storage.codec.Kind.DELTA

/// What `frames` returns: the position after the run, per endpoint (applied, first and
/// last receive ns), and the frames the ingest refused.
type FramesRun = (usize, Vec<(u16, u64, i64, i64)>, u64);

fn frame_arg<'a>(frame: &'a Bound<'_, PyAny>) -> PyResult<FrameArg<'a>> {
    if let Ok(b) = frame.cast::<PyBytes>() {
        return Ok(FrameArg::Borrowed(Input::Bytes(b.as_bytes())));
    }
    if let Ok(s) = frame.cast::<PyString>() {
        return Ok(match s.to_str() {
            Ok(t) => FrameArg::Borrowed(Input::Text(t.as_bytes())),
            // lone surrogates: the bytes `str.encode("utf-8", "surrogatepass")` gives
            Err(_) => {
                let b = s.call_method1("encode", ("utf-8", "surrogatepass"))?;
                FrameArg::Text(b.cast::<PyBytes>()?.as_bytes().to_vec())
            }
        });
    }
    if let Ok(b) = frame.cast::<PyByteArray>() {
        return Ok(FrameArg::Bytes(b.to_vec()));
    }
    if frame.is_instance_of::<PyMemoryView>() {
        if let Ok(buf) = PyBuffer::<u8>::get(frame) {
            if buf.is_c_contiguous() {
                return Ok(FrameArg::Buffer(buf));
            }
        }
        let b = frame.call_method0("tobytes")?;
        return Ok(FrameArg::Bytes(b.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err(format!(
        "frame: expected bytes, got {}",
        type_name(frame)
    )))
}

/// A gRPC update's bytes: bytes (borrowed), bytearray or memoryview.
fn update_arg<'a>(update: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = update.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = update.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if update.is_instance_of::<PyMemoryView>() {
        let b = update.call_method0("tobytes")?;
        return Ok(Cow::Owned(b.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err(format!(
        "update: expected bytes, got {}",
        type_name(update)
    )))
}

fn capacity_arg(v: i64, name: &str, min: usize, max: usize) -> arbscope_core::Result<usize> {
    usize::try_from(v)
        .ok()
        .filter(|u| (min..=max).contains(u))
        .ok_or_else(|| {
            EngineError::InvalidInput(format!("{name} must be within {min}..={max}, got {v}"))
        })
}

/// Frames in, graph updated (see `engine_rs.python.ingest`).
#[pyclass(module = "engine_rs._engine")]
pub struct FeedIngest {
    inner: CoreIngest,
    graph: Py<PoolGraph>,
}

#[pymethods]
impl FeedIngest {
    #[new]
    #[pyo3(
        signature = (graph, capacity = I64(65_536), lag_window = I64(4_096)),
        text_signature = "(graph, capacity=65536, lag_window=4096)"
    )]
    fn new(
        py: Python<'_>,
        graph: &Bound<'_, PyAny>,
        capacity: I64,
        lag_window: I64,
    ) -> PyResult<Self> {
        let inner = guard(py, || {
            let cap = capacity_arg(
                capacity.0,
                "capacity",
                dedup::MIN_CAPACITY,
                dedup::MAX_CAPACITY,
            )?;
            let win = capacity_arg(lag_window.0, "lag_window", 1, dedup::MAX_LAG_WINDOW)?;
            CoreIngest::new(cap, win)
        })?;
        let graph = graph.cast::<PoolGraph>().map_err(|_| {
            PyTypeError::new_err(format!(
                "graph: expected engine_rs._engine.PoolGraph, got {}",
                type_name(graph)
            ))
        })?;
        Ok(Self {
            inner,
            graph: graph.clone().unbind(),
        })
    }

    /// Watch the pool at `address` (`kind`: a venue's universe kind: amm_v4, cpmm or
    /// whirlpool).
    fn track_pool(
        &mut self,
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let Ok(kind) = kind.cast::<PyString>() else {
            return Err(to_py(
                py,
                EngineError::InvalidInput(format!(
                    "pool kind {} is not one of {}",
                    kind.repr()?,
                    venues::kinds_repr()
                )),
            ));
        };
        let kind = kind.to_string_lossy();
        guard(py, || VenueId::by_kind(&kind).map(|_| ()))?;
        let address = address_arg(address)?;
        let inner = &mut self.inner;
        guard(py, || inner.track_pool(address, &kind))
    }

    /// Watch an array of a tracked pool whose venue has arrays (a Whirlpool's or a
    /// Raydium CLMM pool's tick array, a DLMM pair's bin array).
    fn track_array(
        &mut self,
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        pool: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let address = address_arg(address)?;
        let pool = pool_arg(py, pool)?;
        let inner = &mut self.inner;
        guard(py, || inner.track_array(address, &pool))
    }

    /// Stop watching an array of a tracked pool (its ticks or bins leave the pool's
    /// state); one it does not track is no error.
    fn untrack_array(
        &mut self,
        py: Python<'_>,
        address: &Bound<'_, PyAny>,
        pool: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let address = address_arg(address)?;
        let pool = pool_arg(py, pool)?;
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        guard(py, || inner.untrack_array(g, address, &pool))
    }

    /// Every account it knows a role for, in the order they became known.
    fn watched(&self) -> Vec<String> {
        self.inner.watched()
    }

    /// A count that changes whenever the watched set does (an account watched, or no
    /// longer): a copy of `watched()` is read again only when this moved.
    fn watched_version(&self) -> u64 {
        self.inner.watched_version()
    }

    /// Bumped whenever a pool's decoded record is replaced: `records(since=...)`'s mark.
    fn record_seq(&self) -> u64 {
        self.inner.record_seq()
    }

    /// Those of `pools` caught halfway through a slot: one vault's copy of a newer slot
    /// came by a notification and the other vault's is older (a swap moves both: its
    /// copy is on its way); deciding on one would quote a state that never existed.
    fn half_moved(&self, pools: Vec<String>) -> Vec<String> {
        self.inner.half_moved(&pools)
    }

    /// The roles of `pubkey` as `(role, pool address)`, in the order they were given:
    /// a venue's kind (the pool account), `vault_a` / `vault_b`, `mint` (a Token-2022
    /// vault's mint), or one of the venue's own; empty for an account it does not watch.
    fn roles(&self, pubkey: &str) -> Vec<(&'static str, String)> {
        self.inner.roles(pubkey)
    }

    /// The cluster's epoch schedule (`getEpochSchedule`'s fields; slots), handed to the
    /// graph: the epoch of its slot picks each Token-2022 mint's transfer fee in force.
    #[pyo3(
        signature = (slots_per_epoch, warmup = false, first_normal_epoch = U64(0), first_normal_slot = U64(0)),
        text_signature = "($self, slots_per_epoch, warmup=False, first_normal_epoch=0, first_normal_slot=0)"
    )]
    fn set_epoch_schedule(
        &mut self,
        py: Python<'_>,
        slots_per_epoch: U64,
        warmup: bool,
        first_normal_epoch: U64,
        first_normal_slot: U64,
    ) -> PyResult<()> {
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        guard(py, || {
            inner.set_epoch_schedule(
                g,
                EpochSchedule {
                    slots_per_epoch: slots_per_epoch.0,
                    warmup,
                    first_normal_epoch: first_normal_epoch.0,
                    first_normal_slot: first_normal_slot.0,
                },
            )
        })
    }

    /// Server subscription id `subscription` of `endpoint` delivers `kind` notifications
    /// (account, logs, slot) about `label` (a pubkey, or "slot").
    fn bind(
        &mut self,
        py: Python<'_>,
        endpoint: &Bound<'_, PyAny>,
        subscription: &Bound<'_, PyAny>,
        label: &Bound<'_, PyAny>,
        kind: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let kind = match kind.cast::<PyString>() {
            Ok(k) => guard(py, || core::SubKind::parse(&k.to_string_lossy()))?,
            Err(_) => {
                return Err(to_py(
                    py,
                    EngineError::InvalidInput(format!(
                        "subscription kind {} is not one of ('account', 'logs', 'slot')",
                        kind.repr()?
                    )),
                ))
            }
        };
        let ep = endpoint_arg(endpoint)?;
        let sub = subscription_arg(subscription)?;
        let label = match label.cast::<PyString>() {
            Ok(s) => Some(s.to_string_lossy()),
            Err(_) if kind == SubKind::Account => {
                return Err(PyTypeError::new_err(format!(
                    "label: an account subscription needs a pubkey str, got {}",
                    type_name(label)
                )))
            }
            Err(_) => None,
        };
        self.inner.bind(ep, sub, label.as_deref(), kind);
        Ok(())
    }

    /// Forget every subscription id of `endpoint` (its connection closed).
    fn unbind(&mut self, endpoint: &Bound<'_, PyAny>) -> PyResult<()> {
        let ep = endpoint_arg(endpoint)?;
        self.inner.unbind(ep);
        Ok(())
    }

    /// One raw frame from `endpoint`; the subscription id of a notification, or -1 for
    /// anything else (a response: the caller's id book handles it).
    fn frame<'py>(
        &mut self,
        py: Python<'py>,
        endpoint: &Bound<'py, PyAny>,
        frame: &Bound<'py, PyAny>,
        recv_ns: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ep = endpoint_arg(endpoint)?;
        let arg = frame_arg(frame)?;
        let ns = lazy::<i64>(recv_ns);
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        let input = match &arg {
            FrameArg::Borrowed(i) => *i,
            FrameArg::Buffer(b) => Input::Bytes(buffer_bytes(b)),
            FrameArg::Bytes(b) => Input::Bytes(b),
            FrameArg::Text(t) => Input::Text(t),
        };
        match guard(py, || inner.frame(g, ep, input, ns)) {
            Ok(Some(sub)) => sub.into_bound_py_any(py),
            Ok(None) => (-1i64).into_bound_py_any(py),
            Err(e) => Err(if inner.take_wrong_argument() {
                int_type_error(recv_ns)
            } else {
                e
            }),
        }
    }

    /// A recorded frame whose account data a journal stored as a delta against the last
    /// copy stored under `key`: that copy made the next one (`how`: 0 `FULL`, `body` the
    /// data; 1 `SAME`, `body` empty; 2 `RANGES`, `body` the ranges of
    /// `storage.delta.changes`), then the frame `head + copy + tail` applied as `frame`
    /// applies it (the copy changes even when the frame is refused). `InvalidInputError`,
    /// nothing changed, when there is no copy to change or the delta does not fit it.
    #[allow(clippy::too_many_arguments)]
    fn frame_delta<'py>(
        &mut self,
        py: Python<'py>,
        endpoint: &Bound<'py, PyAny>,
        key: &Bound<'py, PyAny>,
        head: &Bound<'py, PyAny>,
        how: u8,
        body: &Bound<'py, PyAny>,
        tail: &Bound<'py, PyAny>,
        recv_ns: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ep = endpoint_arg(endpoint)?;
        let (key, head, body, tail) = (
            data_arg(key)?,
            data_arg(head)?,
            data_arg(body)?,
            data_arg(tail)?,
        );
        let ns = lazy::<i64>(recv_ns);
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        match guard(py, || {
            inner.frame_delta(g, ep, &key, &head, how, &body, &tail, ns)
        }) {
            Ok(Some(sub)) => sub.into_bound_py_any(py),
            Ok(None) => (-1i64).into_bound_py_any(py),
            Err(e) => Err(if inner.take_wrong_argument() {
                int_type_error(recv_ns)
            } else {
                e
            }),
        }
    }

    /// Forget the copy `frame_delta` holds under `key` (none: nothing).
    fn drop_copy(&mut self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = data_arg(key)?;
        self.inner.drop_copy(&key);
        Ok(())
    }

    /// How many copies `frame_delta` holds, and their bytes.
    fn copies(&self) -> (usize, usize) {
        self.inner.copies()
    }

    /// The frames stored whole that follow one another in a decompressed journal chunk
    /// from `start` (a replay's reader gathers them in runs): `(end, offsets, receive ns,
    /// one past the highest endpoint, noticed)`, up to the first input that is not one
    /// (another kind, cut short) or through the first whose payload's first `within`
    /// bytes hold `notice` (`noticed`).
    #[staticmethod]
    fn scan_frames(
        raw: &[u8],
        start: usize,
        notice: &[u8],
        within: usize,
    ) -> (usize, Vec<usize>, Vec<i64>, u32, bool) {
        let s = copies::scan_frames(raw, start, notice, within);
        (s.end, s.offsets, s.ts, s.top, s.noticed)
    }

    /// A run of recorded stream messages from `batch` (inputs packed as the journal packs
    /// them: kind u8, endpoint u16, receive ns i64, wall µs i64, length u32, little
    /// endian, then the payload), from byte `start` to the first input that is neither a
    /// PubSub frame (kind 1) nor a gRPC update (kind 17), or the end. Each is applied as
    /// `frame` / `grpc` apply it, from endpoint `endpoints[e]` for its recorded endpoint
    /// `e` (passed over when `e` is past the list or maps to a negative number), at its
    /// receive ns less `offset_ns`; one the ingest refuses is counted, not raised.
    /// With `deltas`, a PubSub frame stored as a delta (kind 21, `storage.delta`'s layout)
    /// is one of the run too, applied as `frame_delta` applies it (one whose lengths
    /// disagree is refused; another input's delta ends the run).
    /// Returns `(position after the run, [(endpoint, applied, first and last receive ns)],
    /// refused)`.
    /// A batch cut short raises `InvalidInputError`.
    #[pyo3(signature = (batch, start, endpoints, offset_ns, deltas = false))]
    fn frames(
        &mut self,
        py: Python<'_>,
        batch: &Bound<'_, PyAny>,
        start: usize,
        endpoints: Vec<i64>,
        offset_ns: i64,
        deltas: bool,
    ) -> PyResult<FramesRun> {
        // bytes, or a native stream's batch, borrowed; any other C-contiguous byte buffer
        // (bytearray, memoryview) borrowed while held
        let native = batch.cast::<crate::grpc::GrpcBatch>().ok();
        let view = match (batch.cast::<PyBytes>(), &native) {
            (Err(_), None) => match PyBuffer::<u8>::get(batch) {
                Ok(buf) if buf.is_c_contiguous() => Some(buf),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "batch: expected bytes, got {}",
                        type_name(batch)
                    )))
                }
            },
            _ => None,
        };
        let raw: &[u8] = match (batch.cast::<PyBytes>(), &native, &view) {
            (Ok(b), _, _) => b.as_bytes(),
            (_, Some(n), _) => n.get().bytes(),
            (_, _, Some(v)) => buffer_bytes(v),
            _ => &[],
        };
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        let mut per_ep: Vec<(u16, u64, i64, i64)> = Vec::new();
        let mut refused = 0u64;
        let mut pos = start;
        let truncated = |what: &str| {
            to_py(
                py,
                EngineError::InvalidInput(format!("a batch is truncated ({what})")),
            )
        };
        while pos < raw.len() {
            let head = raw
                .get(pos..pos + PACKED_HEADER)
                .ok_or_else(|| truncated("header"))?;
            let kind = head[0];
            let delta = deltas && kind == KIND_DELTA;
            if kind != KIND_FRAME && kind != KIND_GRPC && !delta {
                break;
            }
            let e = u16::from_le_bytes([head[1], head[2]]);
            let mut t = [0u8; 8];
            t.copy_from_slice(&head[3..11]);
            let t_ns = i64::from_le_bytes(t);
            let mut n = [0u8; 4];
            n.copy_from_slice(&head[19..23]);
            let len = u32::from_le_bytes(n) as usize;
            let body = pos + PACKED_HEADER;
            let payload = raw
                .get(body..body + len)
                .ok_or_else(|| truncated("payload"))?;
            let stored = if delta {
                match copies::stored(payload) {
                    Stored::Other => break, // an account's: not a frame of the run
                    Stored::Frame(f) => Some(f),
                    Stored::Damaged => None,
                }
            } else {
                None
            };
            pos = body + len;
            let Some(ep) = endpoints
                .get(usize::from(e))
                .and_then(|&m| u16::try_from(m).ok())
            else {
                continue;
            };
            let recv = t_ns.saturating_sub(offset_ns);
            let ok = if delta {
                stored.is_some_and(|f| {
                    guard(py, || {
                        inner.frame_delta(
                            g,
                            ep,
                            f.key,
                            f.head,
                            f.how,
                            f.body,
                            f.tail,
                            Arg::Ok(recv),
                        )
                    })
                    .is_ok()
                })
            } else if kind == KIND_FRAME {
                guard(py, || {
                    inner.frame(g, ep, Input::Bytes(payload), Arg::Ok(recv))
                })
                .is_ok()
            } else {
                guard(py, || inner.grpc(g, ep, payload, Arg::Ok(recv))).is_ok()
            };
            refused += u64::from(!ok);
            match per_ep.iter_mut().find(|c| c.0 == ep) {
                Some(c) => {
                    c.1 += 1;
                    c.3 = recv;
                }
                None => per_ep.push((ep, 1, recv, recv)),
            }
        }
        Ok((pos, per_ep, refused))
    }

    /// One Yellowstone gRPC `SubscribeUpdate` (protobuf bytes) from `endpoint`, through
    /// the same dedup and ingest as a PubSub frame: `(kind, value)`, kind the update's
    /// `update_oneof` field number (2 account, 3 slot, 4 transaction, 6 ping, 9 pong, 0
    /// none), value its slot (a pong: its id).
    fn grpc(
        &mut self,
        py: Python<'_>,
        endpoint: &Bound<'_, PyAny>,
        update: &Bound<'_, PyAny>,
        recv_ns: &Bound<'_, PyAny>,
    ) -> PyResult<(u32, u64)> {
        let ep = endpoint_arg(endpoint)?;
        let data = update_arg(update)?;
        let ns = lazy::<i64>(recv_ns);
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        guard(py, || inner.grpc(g, ep, &data, ns)).map_err(|e| {
            if inner.take_wrong_argument() {
                int_type_error(recv_ns)
            } else {
                e
            }
        })
    }

    /// Apply one account's bytes (no dedup): decode it in each of its roles and refresh
    /// the pools it belongs to. False when no role is known for it.
    fn account(
        &mut self,
        py: Python<'_>,
        pubkey: &Bound<'_, PyAny>,
        owner: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        slot: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let key = match pubkey.cast::<PyString>() {
            Ok(s) => match s.to_str() {
                Ok(k) => k,
                Err(_) => return Ok(false), // lone surrogates: never a tracked address
            },
            Err(_) => {
                pubkey.hash()?; // an unhashable key is the twin's TypeError
                return Ok(false);
            }
        };
        if !self.inner.knows(key) {
            return Ok(false);
        }
        let data = data_arg(data)?;
        let owner = owner_of(Some(owner))?;
        let slot_arg = lazy::<u64>(slot);
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        guard(py, || {
            inner.account(g, key, owner.as_ref(), &data, slot_arg)
        })
        .map_err(|e| {
            if inner.take_wrong_argument() {
                int_type_error(slot)
            } else {
                e
            }
        })
    }

    /// Each `(pubkey, owner, data)` of `accounts` (another copy of a watched account: a
    /// node's `getMultipleAccounts` answer) against the state held of it: None when it is
    /// not watched, else `(the context slot held, whether the bytes last applied are
    /// these)`; `(0, False)` while nothing is held. Changes nothing.
    fn compare(&self, accounts: &Bound<'_, PyAny>) -> PyResult<Vec<Option<(u64, bool)>>> {
        let mut items: Vec<(String, String, Vec<u8>)> = Vec::new();
        for item in accounts.try_iter()? {
            let item = item?;
            let t = item.cast::<PyTuple>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "accounts: expected (pubkey, owner, data) tuples, got {}",
                    type_name(&item)
                ))
            })?;
            if t.len() != 3 {
                return Err(PyTypeError::new_err(
                    "accounts: expected (pubkey, owner, data) tuples",
                ));
            }
            let pubkey = str_arg(&t.get_item(0)?, "pubkey")?;
            let owner = str_arg(&t.get_item(1)?, "owner")?;
            let data = data_arg(&t.get_item(2)?)?.into_owned();
            items.push((pubkey, owner, data));
        }
        let refs: Vec<(&str, &str, &[u8])> = items
            .iter()
            .map(|(k, o, d)| (k.as_str(), o.as_str(), d.as_slice()))
            .collect();
        Ok(self.inner.compare(&refs))
    }

    /// The context slot held of each of `pubkeys` (0: not watched, or nothing held yet).
    fn slots(&self, pubkeys: Vec<String>) -> Vec<u64> {
        let refs: Vec<&str> = pubkeys.iter().map(String::as_str).collect();
        self.inner.slots(&refs)
    }

    /// The reconcile's repair: `pubkey`'s bytes re-read through the trusted path, applied
    /// as `account` applies them when they differ from the bytes last applied and are not
    /// older than the state held; each endpoint that streams the account is charged
    /// `repaired`. False (nothing changed) when it is not watched, older, or the same.
    fn reconcile(
        &mut self,
        py: Python<'_>,
        pubkey: &Bound<'_, PyAny>,
        owner: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        slot: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let key = str_arg(pubkey, "pubkey")?;
        str_arg(owner, "owner")?;
        let data = data_arg(data)?;
        let slot = match lazy::<u64>(slot) {
            Arg::Ok(s) => s,
            Arg::Wrong => return Err(int_type_error(slot)),
            Arg::Overflow => {
                return Err(to_py(
                    py,
                    EngineError::Overflow("slot does not fit in u64".into()),
                ))
            }
        };
        let owner = owner_of(Some(owner))?.unwrap_or([0xFF; 32]);
        let graph = self.graph.bind(py);
        let mut g = graph.try_borrow_mut()?;
        let g = &mut g.inner;
        let inner = &mut self.inner;
        guard(py, || inner.reconcile(g, &key, &owner, &data, slot))
    }

    /// Pools whose graph state changed since the last call, first change first.
    fn take_changed(&mut self) -> Vec<String> {
        self.inner.take_changed()
    }

    /// How many pools changed since the last `take_changed` (cheap: no list is made).
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }

    /// `(kind, decoded pool account)` of the tracked pool `address` as the graph holds
    /// it now; None when it is not tracked or not decoded yet.
    fn record<'py>(&self, py: Python<'py>, address: &str) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(rec) = self.inner.record(address) else {
            return Ok(None);
        };
        let kind = rec.venue().info().kind;
        let r = crate::venues::record_py(py, rec)?;
        Ok(Some(PyTuple::new(py, [kind.into_bound_py_any(py)?, r])?))
    }

    /// What this ingest has seen since it was made (counters and the chain's slot).
    fn stats(&self) -> IngestStats {
        let s = self.inner.stats();
        IngestStats {
            frames: s.frames,
            notifications: s.notifications,
            first_copies: s.first_copies,
            duplicates: s.duplicates,
            accounts: s.accounts,
            logs: s.logs,
            slots: s.slots,
            swaps: s.swaps,
            unknown: s.unknown,
            pool_updates: s.pool_updates,
            slot: s.slot,
        }
    }

    /// Each endpoint it has heard of, by id: its slot vote, how it stands to the chain's
    /// slot and its integrity counts.
    fn endpoint_stats(&self) -> Vec<EndpointStats> {
        self.inner
            .endpoint_stats()
            .into_iter()
            .map(|e| EndpointStats {
                endpoint: e.endpoint,
                slot: e.slot,
                implausible: e.implausible,
                older: e.older,
                unknown: e.unknown,
                identity: e.identity,
                disagreed: e.disagreed,
                held_back: e.held_back,
                quarantined: e.quarantined,
                backwards: e.backwards,
                behind: e.behind,
                lagging: e.lagging,
                voting: e.voting,
                leading: e.leading,
                refused_first: e.refused_first,
                account_slot: e.account_slot,
                repaired: e.repaired,
            })
            .collect()
    }

    /// The transactions told of since the last call, oldest first: the first copy of each
    /// logs notification and gRPC transaction update (not votes), as `(signature, slot,
    /// failed, endpoint, invokes)`, `invokes` the programs its logs show invoked (the
    /// runtime's and token programs' aside, a program calling itself once: a plain swap
    /// is 1); at most 16,384 are kept between two calls (the oldest go).
    fn take_transactions(&mut self) -> Vec<(String, u64, bool, u16, u32)> {
        self.inner.take_transactions()
    }

    /// Pool accounts to fetch again over HTTP (an identity change waits for it), each
    /// with the endpoint whose copy asked for it (fetch from another one if you can).
    fn take_refetch(&mut self) -> Vec<(String, u16)> {
        self.inner.take_refetch()
    }

    /// Lead/lag per endpoint (`Deduper.stats`).
    fn dedup_stats(&self) -> Vec<DedupStats> {
        self.inner
            .dedup_stats()
            .into_iter()
            .map(DedupStats::from)
            .collect()
    }

    /// `(address, kind, decoded pool account)` of every tracked pool decoded so far, in
    /// the order they were tracked; with `kinds`, only the pools of those kinds (the
    /// others are not converted); with `since` (a value of `record_seq()`), only the
    /// pools whose record was replaced after it.
    #[pyo3(signature = (kinds = None, since = 0))]
    fn records<'py>(
        &self,
        py: Python<'py>,
        kinds: Option<Vec<String>>,
        since: u64,
    ) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .inner
            .records_since(since)
            .into_iter()
            .filter(|(_, rec)| {
                kinds
                    .as_ref()
                    .is_none_or(|ks| ks.iter().any(|k| k == rec.venue().info().kind))
            })
            .map(|(address, rec)| {
                let kind = rec.venue().info().kind;
                let r = crate::venues::record_py(py, rec)?;
                PyTuple::new(
                    py,
                    [
                        address.into_bound_py_any(py)?,
                        kind.into_bound_py_any(py)?,
                        r,
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// `(address, decoded Whirlpool)` of every tracked Whirlpool decoded so far.
    fn whirlpools<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .inner
            .whirlpools()
            .into_iter()
            .map(|(address, w)| {
                let rec = Bound::new(py, PyWhirlpool { w: w.clone() })?;
                PyTuple::new(py, [address.into_bound_py_any(py)?, rec.into_any()])
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// The chain's slot: the highest slot a strict majority of the voting endpoints
    /// reached, or of two the steady one ahead within a bound (see the twin's docstring).
    #[getter]
    fn slot(&self) -> u64 {
        self.inner.slot()
    }

    fn __repr__(&self) -> String {
        let s = self.inner.stats();
        format!(
            "FeedIngest(watched={}, frames={}, slot={})",
            self.inner.watched().len(),
            s.frames,
            s.slot
        )
    }
}

/// What turns `base` into `span` (bytes-like, the same length): the journal's `RANGES`
/// delta body, byte for byte `storage.delta.changes` (`count u32`, per range `u32` bytes
/// since the last range's end and `u32` length, then the ranges' new bytes).
/// `InvalidInputError` when the lengths differ.
#[pyfunction]
fn delta_changes<'py>(
    py: Python<'py>,
    base: &Bound<'py, PyAny>,
    span: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (base, span) = (data_arg(base)?, data_arg(span)?);
    let body = copies::changes(&base, &span).map_err(|e| to_py(py, e))?;
    Ok(PyBytes::new(py, &body))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(delta_changes, m)?)?;
    m.add_class::<IngestStats>()?;
    m.add_class::<EndpointStats>()?;
    m.add_class::<FeedIngest>()?;
    Ok(())
}
