//! Bindings for `arbscope_grpc`: the `GrpcStream` class (a native Yellowstone gRPC
//! receiver, a task on the crate's one receive thread; see that crate's docs). The thread
//! never holds the GIL; Python takes what it queued, a batch at a time.

use std::time::Duration;

use std::os::raw::{c_int, c_void};

use arbscope_grpc::{Config, End, Home, Stream};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::{ffi, PyErr};

/// A batch `GrpcStream.take_batch` handed over without a copy: its packed updates, read
/// through the buffer protocol (read-only: `memoryview(batch)`, `FeedIngest.frames`,
/// `bytes(batch)`); `len(batch)` is its size. Its memory goes back to its stream when the
/// last reference (a memoryview of it included) is gone: it is never written while one
/// lives.
#[pyclass(module = "engine_rs._engine", frozen)]
pub struct GrpcBatch {
    bytes: Vec<u8>,
    home: Home,
}

impl GrpcBatch {
    /// The packed updates.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for GrpcBatch {
    fn drop(&mut self) {
        self.home.recycle(std::mem::take(&mut self.bytes));
    }
}

#[pymethods]
impl GrpcBatch {
    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    fn __repr__(&self) -> String {
        format!("GrpcBatch({} bytes)", self.bytes.len())
    }

    /// # Safety
    /// Called by Python with a `Py_buffer` to fill: the view points into `bytes`, which is
    /// never written while the object lives (frozen; the view holds a reference to it).
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let b = slf.get().bytes();
        let len = ffi::Py_ssize_t::try_from(b.len())
            .map_err(|_| PyValueError::new_err("a batch too large for a buffer"))?;
        // SAFETY: a valid view to fill (Python's); read-only (a writable request fails
        // with BufferError); the pointer stays valid while the view's reference keeps
        // the object, and so its bytes, alive
        let rc = unsafe {
            ffi::PyBuffer_FillInfo(
                view,
                slf.as_ptr(),
                b.as_ptr().cast_mut().cast::<c_void>(),
                len,
                1,
                flags,
            )
        };
        if rc == -1 {
            return Err(PyErr::fetch(slf.py()));
        }
        Ok(())
    }
}

/// One Yellowstone `Subscribe` stream received natively (HTTP/2 in plaintext,
/// `host:port` `authority`), a task on the engine's one gRPC receive thread (every
/// stream of the process shares it; it never holds the GIL); its updates wait, packed as the journal packs
/// inputs (kind 17, `endpoint`, receive ns, wall µs, length, bytes), for `take`. A byte
/// is written to `wake_fd` (a non-blocking pipe's write end, kept open by the caller
/// while the stream lives; -1: none) when a batch waits or the stream ended: the byte
/// `wake_byte` (0..=255), so that streams sharing one pipe say which of them woke it.
/// Pings are answered by the stream itself.
#[pyclass(module = "engine_rs._engine")]
pub struct GrpcStream {
    inner: Stream,
}

#[pymethods]
impl GrpcStream {
    #[new]
    #[pyo3(
        signature = (authority, path, request, endpoint, x_token = None, max_message = 64 << 20, keep_transactions = false, wake_fd = -1, connect_timeout_s = 10.0, wake_byte = 1),
        text_signature = "(authority, path, request, endpoint, x_token=None, max_message=67108864, keep_transactions=False, wake_fd=-1, connect_timeout_s=10.0, wake_byte=1)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        authority: &str,
        path: &str,
        request: &[u8],
        endpoint: u16,
        x_token: Option<String>,
        max_message: usize,
        keep_transactions: bool,
        wake_fd: i32,
        connect_timeout_s: f64,
        wake_byte: u8,
    ) -> PyResult<Self> {
        if !(connect_timeout_s.is_finite() && connect_timeout_s > 0.0) {
            return Err(PyValueError::new_err(
                "connect_timeout_s must be a positive number of seconds",
            ));
        }
        let cfg = Config {
            authority: authority.to_owned(),
            path: path.to_owned(),
            x_token,
            request: request.to_vec(),
            endpoint,
            max_message,
            keep_transactions,
            wake_fd: (wake_fd >= 0).then_some(wake_fd),
            wake_byte,
            connect_timeout: Duration::from_secs_f64(connect_timeout_s),
        };
        let inner = Stream::start(cfg)
            .map_err(|e| PyOSError::new_err(format!("no gRPC receive thread: {e}")))?;
        Ok(Self { inner })
    }

    /// Send another `SubscribeRequest` (serialized) on the stream; False once it ended.
    fn send(&self, request: &[u8]) -> bool {
        self.inner.send(request.to_vec())
    }

    /// The oldest batch waiting (a batch is closed at about 1 MiB; the wake byte is
    /// written again at once while more waits; empty: nothing came): `(batch, updates,
    /// malformed, malformed_error, transactions)`: the packed updates, how many, how many
    /// of them the reader refused and its words for the last one (None: none), the
    /// transaction updates' bytes (when asked for).
    #[allow(clippy::type_complexity)]
    fn take<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyBytes>,
        u64,
        u64,
        Option<String>,
        Vec<Bound<'py, PyBytes>>,
    ) {
        let mut t = self.inner.take();
        let txs = t.transactions.iter().map(|b| PyBytes::new(py, b)).collect();
        let batch = PyBytes::new(py, &t.batch);
        // its buffer back to the stream: the next batches reuse it (no fresh pages a batch)
        self.inner.recycle(std::mem::take(&mut t.batch));
        (batch, t.updates, t.malformed, t.malformed_error, txs)
    }

    /// As `take`, the batch handed over without a copy: a `GrpcBatch` (a read-only
    /// buffer; its memory goes back to the stream once no one holds it) instead of bytes.
    #[allow(clippy::type_complexity)]
    fn take_batch<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, GrpcBatch>,
        u64,
        u64,
        Option<String>,
        Vec<Bound<'py, PyBytes>>,
    )> {
        let mut t = self.inner.take();
        let txs = t.transactions.iter().map(|b| PyBytes::new(py, b)).collect();
        let batch = GrpcBatch {
            bytes: std::mem::take(&mut t.batch),
            home: self.inner.home(),
        };
        Ok((
            Bound::new(py, batch)?,
            t.updates,
            t.malformed,
            t.malformed_error,
            txs,
        ))
    }

    /// `(open, updates, last_slot, pulse_ns, first_slot_ns, last_slot_ns, pings, pongs)`
    /// since the stream began: the response came; every message; the highest slot an
    /// account, slot or transaction update carried (None: none yet); the receive ns of
    /// the last such update, of the first and the last slot update (0: none yet); pings
    /// answered, pongs.
    #[allow(clippy::type_complexity)]
    fn seen(&self) -> (bool, u64, Option<u64>, i64, i64, i64, u64, u64) {
        let s = self.inner.seen();
        (
            s.open,
            s.updates,
            s.last_slot,
            s.pulse_ns,
            s.first_slot_ns,
            s.last_slot_ns,
            s.pings,
            s.pongs,
        )
    }

    /// How the stream ended: None while it runs; `(code, message)`: the server's gRPC
    /// status (0: it ended the stream), -1 a failed connection or stream (the message
    /// says why), -2 stopped.
    fn end(&self) -> Option<(i64, String)> {
        self.inner.seen().end.map(|e| match e {
            End::Status { code, message } => (i64::from(code), message),
            End::Failed(text) => (-1, text),
            End::Stopped => (-2, String::new()),
        })
    }

    /// End the stream; its task ends soon after (`join` waits for it).
    fn stop(&mut self) {
        self.inner.stop();
    }

    /// Wait for the stream's task to end (the GIL released meanwhile).
    fn join(&mut self, py: Python<'_>) {
        let inner = &mut self.inner;
        py.detach(|| inner.join());
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<GrpcStream>()?;
    m.add_class::<GrpcBatch>()?;
    Ok(())
}
