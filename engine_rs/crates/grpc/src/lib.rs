//! Yellowstone gRPC `Subscribe` streams received natively: HTTP/2 (the `h2` crate) over
//! TCP, every stream of the process a task on one current-thread tokio runtime in an OS
//! thread of its own (`grpc-recv`), no Python on the receive path.
//!
//! The stream's updates are not applied here: each one is appended, as it came, to a
//! batch packed as the journal packs its inputs (`storage.codec.HEADER`, `<BHqqI`: kind
//! 17 (`Kind.GRPC`), endpoint, receive ns (`CLOCK_MONOTONIC`, as Python's
//! `time.monotonic_ns`), wall µs, length; then the bytes). The owner takes the batch in
//! one call ([`Stream::take`]) and hands it to the ingest's `frames` (one call a batch, the
//! recording tee and the timing as for any run of frames). A byte written to `wake_fd`
//! (a pipe the owner's event loop reads; [`Config::wake_byte`], so that streams sharing
//! one pipe say which of them woke it) says a batch is waiting; one is written per batch
//! taken, not per update.
//!
//! What the owner needs of each update without reading it is counted here, from the
//! core's own reader (`arbscope_core::ingest::geyser::parse`, pure): the highest slot
//! delivered (the next stream's `from_slot`), when the last account, slot or transaction
//! update came (the liveness pulse) and the first and last slot update (health), pings
//! (answered here with a `SubscribeRequest { ping { id } }` on the open stream) and pongs,
//! the updates the reader refuses (with its words: the ingest refuses them alike; they
//! are still queued so the journal keeps them), and the transaction updates' bytes when
//! the owner wants them.
//!
//! Only plaintext HTTP/2 (h2c, prior knowledge) is spoken: a TLS endpoint is the owner's
//! to refuse (the grpc.aio worker serves it). The `x-token` header is sent with the call
//! and appears in no error text.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbscope_core::ingest::geyser::{self, Update};
use bytes::{Bytes, BytesMut};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

/// `storage.codec.Kind.GRPC`.
pub const KIND_GRPC: u8 = 17;
/// The packed input's header: kind u8, endpoint u16, receive ns i64, wall µs i64, length
/// u32, little endian.
pub const HEADER: usize = 23;
/// gRPC's message prefix: compressed flag u8, length u32 big endian.
const PREFIX: usize = 5;
/// The largest DATA frame the stream takes (what it advertises): 64 KiB keeps each frame's
/// read buffer under the allocator's mmap threshold, so buffers are reused, not faulted in
/// fresh a frame (1 MiB frames cost a page fault each 4 KiB received, on both ends).
const MAX_FRAME: u32 = 64 << 10;
/// A batch is closed at this many bytes (the next update starts the next one): each take
/// hands over at most about this much (one update over), so the owner's copy of a batch is
/// a buffer the allocator reuses, not fresh pages (a backlog of tens of MB taken at once
/// cost a page fault every 4 KiB), and the owner's loop runs between batches.
pub const BATCH_BYTES: usize = 1 << 20;
/// Buffers given back and kept for the next batches.
const SPARES: usize = 4;
/// `SubscribeRequest.ping` (field 9, length-delimited) and `SubscribeRequestPing.id` (1).
const PING_TAG: u8 = (9 << 3) | 2;

/// What a stream is opened with.
#[derive(Clone, Debug)]
pub struct Config {
    /// `host:port` (an IPv6 host in brackets)
    pub authority: String,
    /// the method's path, `/geyser.Geyser/Subscribe`
    pub path: String,
    /// the `x-token` header's value: a secret, in no error text
    pub x_token: Option<String>,
    /// the first `SubscribeRequest`, serialized
    pub request: Vec<u8>,
    /// the endpoint id written in each packed update
    pub endpoint: u16,
    /// a message longer than this ends the stream
    pub max_message: usize,
    /// keep each transaction update's bytes for the owner ([`Taken::transactions`])
    pub keep_transactions: bool,
    /// a non-blocking pipe's write end: a byte when a batch waits or the stream ended
    pub wake_fd: Option<i32>,
    /// the byte written to `wake_fd`: streams that share a pipe tell the owner which of
    /// them has something
    pub wake_byte: u8,
    /// the TCP connect and HTTP/2 handshake's limit
    pub connect_timeout: Duration,
}

/// How a stream ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// the server's gRPC status (0 is OK: it ended the stream) and message
    Status { code: u32, message: String },
    /// the connection or the stream failed (the reason's text)
    Failed(String),
    /// [`Stream::stop`] ended it
    Stopped,
}

/// What [`Stream::take`] hands over: the updates since the last take.
#[derive(Debug, Default)]
pub struct Taken {
    /// the updates, packed (see the crate docs)
    pub batch: Vec<u8>,
    /// how many updates `batch` holds
    pub updates: u64,
    /// how many of them the core's reader refused, and its words for the last one
    pub malformed: u64,
    pub malformed_error: Option<String>,
    /// the transaction updates' bytes (when [`Config::keep_transactions`])
    pub transactions: Vec<Vec<u8>>,
}

/// What a stream has seen since it was opened (not reset by a take).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// the response headers came: the stream is open
    pub open: bool,
    /// every message received
    pub updates: u64,
    /// the highest slot an account, slot or transaction update carried
    pub last_slot: Option<u64>,
    /// receive ns of the last account, slot or transaction update (0: none yet)
    pub pulse_ns: i64,
    /// receive ns of the first and the last slot update (0: none yet)
    pub first_slot_ns: i64,
    pub last_slot_ns: i64,
    pub pings: u64,
    pub pongs: u64,
    /// how it ended (None: still running)
    pub end: Option<End>,
}

#[derive(Default)]
struct State {
    /// the batch being filled
    taken: Taken,
    /// batches filled to [`BATCH_BYTES`], oldest first, waiting for takes
    full: VecDeque<Taken>,
    seen: Seen,
    /// buffers the owner gave back ([`Stream::recycle`]): the next batches'
    spares: Vec<Vec<u8>>,
}

struct Shared {
    state: Mutex<State>,
    /// a wake byte was written and the owner has not taken since
    signaled: AtomicBool,
    wake_fd: Option<i32>,
    wake_byte: u8,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // a panic while holding it leaves plain counters: still usable
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake(&self) {
        if self.signaled.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(fd) = self.wake_fd {
            // SAFETY: the owner keeps the pipe open while the stream lives (it closes it
            // only after `Stream::stop` and `Stream::join`); ManuallyDrop never closes it
            let mut f = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
            // a full pipe already holds a wake byte: nothing is lost
            let _ = f.write(&[self.wake_byte]);
        }
    }

    fn recycle(&self, mut batch: Vec<u8>) {
        batch.clear();
        let mut st = self.lock();
        if st.spares.len() < SPARES && batch.capacity() > 0 {
            st.spares.push(batch);
        }
    }

    fn end(&self, end: End) {
        {
            let mut st = self.lock();
            st.seen.open = false;
            if st.seen.end.is_none() {
                st.seen.end = Some(end);
            }
        }
        self.signaled.store(false, Ordering::Release);
        self.wake();
    }
}

/// A stream's buffers, for a batch given back after the take (see [`Stream::home`]).
#[derive(Clone, Debug, Default)]
pub struct Home(std::sync::Weak<Shared>);

impl Home {
    /// Give a taken batch's buffer back to its stream, if it still runs (as
    /// [`Stream::recycle`]); else it is freed.
    pub fn recycle(&self, batch: Vec<u8>) {
        if let Some(sh) = self.0.upgrade() {
            sh.recycle(batch);
        }
    }
}

enum Cmd {
    Send(Vec<u8>),
}

/// One stream, a task on the receive thread (see the crate docs).
pub struct Stream {
    shared: Arc<Shared>,
    cmds: mpsc::UnboundedSender<Cmd>,
    stop: Option<oneshot::Sender<()>>,
    done: Arc<Done>,
}

/// A stream's task has ended (set once, waited on by [`Stream::join`]).
#[derive(Default)]
struct Done {
    over: Mutex<bool>,
    cv: Condvar,
}

impl Done {
    fn set(&self) {
        *self.over.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }

    fn wait(&self) {
        let mut over = self.over.lock().unwrap_or_else(|p| p.into_inner());
        while !*over {
            over = self.cv.wait(over).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A stream task's last act, however it ends (a panic included: the stream then ends
/// failed, not silent): its end set, its joiners released.
struct Finish {
    sh: Arc<Shared>,
    done: Arc<Done>,
}

impl Drop for Finish {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.sh
                .end(End::Failed("the gRPC receiver failed (a panic)".into()));
        }
        self.done.set();
    }
}

/// Aborts a spawned task when dropped (the connection's driver: a stream stopped while
/// it runs drops its future, and with it the connection).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The receive thread's runtime, started with the first stream: every stream of the
/// process is a task on it (one thread for all endpoints: on a machine of few cores, fewer
/// threads to schedule against the owner's event loop than one a stream). Kept with the
/// process id it was started in: a forked child (which has no such thread) starts its own.
static RECEIVER: Mutex<Option<(u32, Handle)>> = Mutex::new(None);

fn receiver() -> std::io::Result<Handle> {
    let mut slot = RECEIVER.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if let Some((started_in, handle)) = &*slot {
        if *started_in == pid {
            return Ok(handle.clone());
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| std::io::Error::other(format!("no runtime: {e}")))?;
    let handle = rt.handle().clone();
    std::thread::Builder::new()
        .name("grpc-recv".into())
        // the runtime runs its tasks while this thread waits on it, for the process's life
        .spawn(move || rt.block_on(std::future::pending::<()>()))?;
    *slot = Some((pid, handle.clone()));
    Ok(handle)
}

impl Stream {
    /// Connect and subscribe on the receive thread; how it goes is read with
    /// [`Stream::seen`].
    pub fn start(cfg: Config) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            signaled: AtomicBool::new(false),
            wake_fd: cfg.wake_fd,
            wake_byte: cfg.wake_byte,
        });
        let (cmds, cmd_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = oneshot::channel();
        let done = Arc::new(Done::default());
        let finish = Finish {
            sh: Arc::clone(&shared),
            done: Arc::clone(&done),
        };
        receiver()?.spawn(async move {
            let end = tokio::select! {
                end = run(&cfg, &finish.sh, cmd_rx) => end,
                _ = stop_rx => End::Stopped,
            };
            finish.sh.end(end);
        });
        Ok(Self {
            shared,
            cmds,
            stop: Some(stop),
            done,
        })
    }

    /// Send another `SubscribeRequest` (serialized) on the open stream (a new filter);
    /// false when the stream has ended.
    pub fn send(&self, request: Vec<u8>) -> bool {
        self.cmds.send(Cmd::Send(request)).is_ok()
    }

    /// The oldest batch waiting: a full one (about [`BATCH_BYTES`]), else the updates
    /// since the last take. The next wake byte is written for the next one: at once when
    /// more waits.
    pub fn take(&self) -> Taken {
        self.shared.signaled.store(false, Ordering::Release);
        let (taken, more) = {
            let mut st = self.shared.lock();
            match st.full.pop_front() {
                Some(t) => (t, true),
                None => (std::mem::take(&mut st.taken), false),
            }
        };
        if more {
            self.shared.wake();
        }
        taken
    }

    /// Give a taken batch's buffer back: the next batches are written into it (no fresh
    /// memory a batch). Its bytes are dropped.
    pub fn recycle(&self, batch: Vec<u8>) {
        self.shared.recycle(batch);
    }

    /// Where a taken batch's buffer goes back to when its owner is done with it, however
    /// long after the take (nowhere once the stream is gone): [`Home::recycle`].
    pub fn home(&self) -> Home {
        Home(Arc::downgrade(&self.shared))
    }

    /// What the stream has seen so far.
    pub fn seen(&self) -> Seen {
        self.shared.lock().seen.clone()
    }

    /// End the stream (its task ends soon after; [`Stream::join`] waits for it).
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }

    /// Wait for the stream's end (after [`Stream::stop`], or the stream's own end): its
    /// task is done (its connection's driver aborted). Not to be called on the receive
    /// thread.
    pub fn join(&mut self) {
        self.done.wait();
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stop();
        self.join();
    }
}

/// `CLOCK_MONOTONIC` in ns (Python's `time.monotonic_ns`).
pub fn monotonic_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer to a timespec; CLOCK_MONOTONIC always exists on Linux
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

fn wall_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A message with gRPC's 5-byte prefix.
pub fn frame(message: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(PREFIX + message.len());
    b.extend_from_slice(&[0]);
    b.extend_from_slice(&(message.len() as u32).to_be_bytes());
    b.extend_from_slice(message);
    b.freeze()
}

/// `SubscribeRequest { ping: SubscribeRequestPing { id } }`, serialized.
pub fn ping_request(id: i32) -> Vec<u8> {
    let mut inner = vec![0x08];
    // an int32's varint: a negative one is its 64-bit two's complement (10 bytes)
    let mut v = i64::from(id) as u64;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            inner.push(byte);
            break;
        }
        inner.push(byte | 0x80);
    }
    let mut out = vec![PING_TAG, inner.len() as u8];
    out.extend_from_slice(&inner);
    out
}

/// `grpc-message`'s percent-encoding undone (RFC 3986 style, as gRPC sends it).
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The gRPC status in `headers` (trailers, or a trailers-only response), if any.
fn status_of(headers: &http::HeaderMap) -> Option<End> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .map(percent_decoded)
        .unwrap_or_default();
    Some(End::Status { code, message })
}

fn failed(what: &str, e: impl std::fmt::Display) -> End {
    End::Failed(format!("{what}: {e}"))
}

async fn run(cfg: &Config, sh: &Shared, mut cmds: mpsc::UnboundedReceiver<Cmd>) -> End {
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(&cfg.authority)
            .await
            .map_err(|e| failed("connect", e))?;
        let _ = tcp.set_nodelay(true);
        h2::client::Builder::new()
            .initial_window_size(16 << 20)
            .initial_connection_window_size(64 << 20)
            .max_frame_size(MAX_FRAME)
            .max_header_list_size(64 << 10)
            .handshake::<_, Bytes>(tcp)
            .await
            .map_err(|e| failed("HTTP/2 handshake", e))
    };
    let (send, conn) = match tokio::time::timeout(cfg.connect_timeout, connect).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(end)) => return end,
        Err(_) => {
            return End::Failed(format!(
                "connect: no answer within {:?}",
                cfg.connect_timeout
            ))
        }
    };
    let _driver = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    subscribe(cfg, sh, send, &mut cmds).await
}

async fn subscribe(
    cfg: &Config,
    sh: &Shared,
    send: h2::client::SendRequest<Bytes>,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
) -> End {
    let mut send = match send.ready().await {
        Ok(s) => s,
        Err(e) => return failed("HTTP/2", e),
    };
    let mut req = http::Request::builder()
        .method(http::Method::POST)
        .uri(format!("http://{}{}", cfg.authority, cfg.path))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("user-agent", "arbscope-grpc");
    if let Some(t) = &cfg.x_token {
        match http::HeaderValue::from_str(t) {
            Ok(mut v) => {
                v.set_sensitive(true);
                req = req.header("x-token", v);
            }
            Err(_) => return End::Failed("the x-token is not a valid header value".into()),
        }
    }
    let req = match req.body(()) {
        Ok(r) => r,
        Err(_) => return End::Failed("the request could not be made (bad authority?)".into()),
    };
    let (response, mut out) = match send.send_request(req, false) {
        Ok(pair) => pair,
        Err(e) => return failed("request", e),
    };
    if let Err(e) = out.send_data(frame(&cfg.request), false) {
        return failed("request", e);
    }
    let response = tokio::select! {
        r = response => r,
        end = pump(cmds, &mut out) => return end,
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => return failed("response", e),
    };
    if response.status() != http::StatusCode::OK {
        return End::Failed(format!("HTTP status {}", response.status()));
    }
    if let Some(end) = status_of(response.headers()) {
        return end; // a trailers-only answer: the call failed at once
    }
    sh.lock().seen.open = true;
    let mut body = response.into_body();
    let mut deframer = Deframer::default();
    loop {
        tokio::select! {
            chunk = body.data() => match chunk {
                Some(Ok(chunk)) => {
                    let _ = body.flow_control().release_capacity(chunk.len());
                    match received(cfg, sh, &mut deframer, &chunk) {
                        Ok(pings) => {
                            for id in pings {
                                if let Err(e) = out.send_data(frame(&ping_request(id)), false) {
                                    let write = failed("ping answer", e);
                                    return ended_first(cfg, sh, &mut deframer, &mut body, write)
                                        .await;
                                }
                            }
                        }
                        Err(end) => return end,
                    }
                }
                Some(Err(e)) => return failed("stream", e),
                None => return trailers(&mut body).await,
            },
            write = pump(cmds, &mut out) => {
                return ended_first(cfg, sh, &mut deframer, &mut body, write).await;
            }
        }
    }
}

/// The stream's status from its trailers, once its DATA has all been read.
async fn trailers(body: &mut h2::RecvStream) -> End {
    match body.trailers().await {
        Ok(Some(t)) => {
            status_of(&t).unwrap_or_else(|| End::Failed("trailers without grpc-status".into()))
        }
        Ok(None) => End::Failed("the stream ended without trailers".into()),
        Err(e) => failed("trailers", e),
    }
}

/// How long a failed write waits for the server's status already on its way.
const STATUS_AFTER_WRITE: Duration = Duration::from_secs(1);

/// A request (a ping's answer, a new filter) could not be written. When the server
/// ended the stream first, h2 refuses the write ("inactive stream") while the server's
/// messages and status wait on `body`: those are applied and that status is the end, as
/// the server said it. Otherwise (or if it does not come at once) the write's failure.
async fn ended_first(
    cfg: &Config,
    sh: &Shared,
    deframer: &mut Deframer,
    body: &mut h2::RecvStream,
    write: End,
) -> End {
    let rest = async {
        while let Some(chunk) = body.data().await {
            let chunk = chunk.ok()?;
            let _ = body.flow_control().release_capacity(chunk.len());
            if let Err(end) = received(cfg, sh, deframer, &chunk) {
                return Some(end);
            }
        }
        match trailers(body).await {
            end @ End::Status { .. } => Some(end),
            _ => None,
        }
    };
    match tokio::time::timeout(STATUS_AFTER_WRITE, rest).await {
        Ok(Some(end)) => end,
        _ => write,
    }
}

/// Send the owner's requests until the stream fails (never returns while it is fine).
async fn pump(cmds: &mut mpsc::UnboundedReceiver<Cmd>, out: &mut h2::SendStream<Bytes>) -> End {
    loop {
        match cmds.recv().await {
            Some(Cmd::Send(req)) => {
                if let Err(e) = out.send_data(frame(&req), false) {
                    return failed("request", e);
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}

/// gRPC's messages cut out of a stream's DATA chunks as they come. A message whole in a
/// chunk is handed on from the chunk itself; only one cut by a chunk's end is copied (into
/// `partial`, until its last byte comes).
#[derive(Default)]
pub struct Deframer {
    partial: BytesMut,
}

impl Deframer {
    /// Hand each whole message of `chunk` (after what an earlier chunk left) to `each`;
    /// keep the rest. A compressed message or one over `max` bytes is an error.
    pub fn push(
        &mut self,
        mut chunk: &[u8],
        max: usize,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), End> {
        if !self.partial.is_empty() {
            // the message an earlier chunk cut: its prefix first, then its body
            let have = self.partial.len();
            if have < PREFIX {
                let n = (PREFIX - have).min(chunk.len());
                self.partial.extend_from_slice(&chunk[..n]);
                chunk = &chunk[n..];
                if self.partial.len() < PREFIX {
                    return Ok(());
                }
            }
            let len = message_len(&self.partial, max)?;
            let n = (PREFIX + len - self.partial.len()).min(chunk.len());
            self.partial.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if self.partial.len() < PREFIX + len {
                return Ok(());
            }
            each(&self.partial[PREFIX..]);
            self.partial.clear();
        }
        while chunk.len() >= PREFIX {
            let len = message_len(chunk, max)?;
            if chunk.len() < PREFIX + len {
                self.partial.reserve(PREFIX + len);
                break;
            }
            each(&chunk[PREFIX..PREFIX + len]);
            chunk = &chunk[PREFIX + len..];
        }
        self.partial.extend_from_slice(chunk);
        Ok(())
    }
}

/// The length in a message's prefix (`buf` holds at least the prefix).
fn message_len(buf: &[u8], max: usize) -> Result<usize, End> {
    if buf[0] != 0 {
        return Err(End::Failed(
            "a compressed message (no compression was asked for)".into(),
        ));
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if len > max {
        return Err(End::Failed(format!(
            "a message of {len} bytes, over the limit of {max}"
        )));
    }
    Ok(len)
}

/// The whole messages of `chunk` queued (one lock a chunk); the pings to answer.
fn received(
    cfg: &Config,
    sh: &Shared,
    deframer: &mut Deframer,
    chunk: &[u8],
) -> Result<Vec<i32>, End> {
    let now = monotonic_ns();
    let wall = wall_us();
    let mut pings = Vec::new();
    let mut guard = sh.lock();
    let st = &mut *guard;
    let mut any = false;
    let res = deframer.push(chunk, cfg.max_message, |msg| {
        any = true;
        queue(cfg, st, msg, now, wall, &mut pings);
    });
    drop(guard);
    if any {
        sh.wake();
    }
    res.map(|()| pings)
}

/// One message appended to the batch (packed) and counted.
fn queue(cfg: &Config, st: &mut State, msg: &[u8], now: i64, wall: i64, pings: &mut Vec<i32>) {
    if st.taken.batch.len() >= BATCH_BYTES {
        let full = std::mem::take(&mut st.taken);
        st.full.push_back(full);
    }
    let b = &mut st.taken.batch;
    if b.capacity() == 0 {
        // a buffer the owner gave back, if any
        *b = st.spares.pop().unwrap_or_default();
    }
    b.reserve(HEADER + msg.len());
    b.push(KIND_GRPC);
    b.extend_from_slice(&cfg.endpoint.to_le_bytes());
    b.extend_from_slice(&now.to_le_bytes());
    b.extend_from_slice(&wall.to_le_bytes());
    b.extend_from_slice(&(msg.len() as u32).to_le_bytes());
    b.extend_from_slice(msg);
    st.taken.updates += 1;
    let seen = &mut st.seen;
    seen.updates += 1;
    let slot = match geyser::parse(msg) {
        Ok(Update::Account { slot, .. }) => Some(slot),
        Ok(Update::Slot { slot, .. }) => {
            if seen.first_slot_ns == 0 {
                seen.first_slot_ns = now;
            }
            seen.last_slot_ns = now;
            Some(slot)
        }
        Ok(Update::Transaction { slot, .. }) => {
            if cfg.keep_transactions {
                st.taken.transactions.push(msg.to_vec());
            }
            Some(slot)
        }
        Ok(Update::Ping) => {
            seen.pings += 1;
            pings.push(i32::try_from(seen.pings).unwrap_or(i32::MAX));
            None
        }
        Ok(Update::Pong(_)) => {
            seen.pongs += 1;
            None
        }
        Ok(Update::Other(_)) => None,
        Err(e) => {
            st.taken.malformed += 1;
            st.taken.malformed_error =
                Some(format!("update is not a Yellowstone SubscribeUpdate: {e}"));
            None
        }
    };
    if let Some(s) = slot {
        let seen = &mut st.seen;
        seen.pulse_ns = now;
        if seen.last_slot.is_none_or(|l| s > l) {
            seen.last_slot = Some(s);
        }
    }
}

#[cfg(test)]
mod tests;
