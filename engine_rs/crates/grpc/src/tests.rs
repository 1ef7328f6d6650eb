//! The stream against a real HTTP/2 server on loopback (h2's own server side), speaking
//! gRPC's framing as a Yellowstone server does.

use super::*;
use bytes::Buf;
use h2::server::SendResponse;
use h2::RecvStream;
use tokio::net::TcpListener;

const PATH: &str = "/geyser.Geyser/Subscribe";

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// `SubscribeUpdate { slot: SubscribeUpdateSlot { slot } }`
fn slot_update(slot: u64) -> Vec<u8> {
    let mut inner = vec![0x08];
    varint(slot, &mut inner);
    let mut out = vec![0x1a, inner.len() as u8];
    out.extend_from_slice(&inner);
    out
}

/// `SubscribeUpdate { ping: SubscribeUpdatePing {} }`
const PING: [u8; 2] = [0x32, 0x00];
/// a field of wire type 7: no SubscribeUpdate
const MALFORMED: [u8; 2] = [0x0f, 0x01];

fn config(addr: std::net::SocketAddr, token: Option<&str>) -> Config {
    Config {
        authority: addr.to_string(),
        path: PATH.into(),
        x_token: token.map(Into::into),
        request: b"first request".to_vec(),
        endpoint: 3,
        max_message: 1 << 20,
        keep_transactions: false,
        wake_fd: None,
        wake_byte: 1,
        connect_timeout: Duration::from_secs(10),
    }
}

/// One message off a request body (its gRPC prefix read).
async fn message(body: &mut RecvStream, buf: &mut BytesMut) -> Vec<u8> {
    loop {
        if buf.len() >= PREFIX {
            let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
            if buf.len() >= PREFIX + len {
                buf.advance(PREFIX);
                return buf.split_to(len).to_vec();
            }
        }
        let chunk = body.data().await.expect("a request message").expect("data");
        let _ = body.flow_control().release_capacity(chunk.len());
        buf.extend_from_slice(&chunk);
    }
}

/// Accept one connection and its call; the call's headers, body and responder.
async fn accept(
    listener: &TcpListener,
) -> (
    http::request::Parts,
    RecvStream,
    SendResponse<Bytes>,
    tokio::task::JoinHandle<()>,
) {
    let (sock, _) = listener.accept().await.expect("accept");
    let mut conn = h2::server::handshake(sock).await.expect("handshake");
    let (req, respond) = conn.accept().await.expect("a call").expect("the call");
    let driver = tokio::spawn(async move { while conn.accept().await.is_some() {} });
    let (parts, body) = req.into_parts();
    (parts, body, respond, driver)
}

/// Wait for the stream's thread off the runtime (the server's tasks run meanwhile).
async fn joined(mut stream: Stream) -> Stream {
    tokio::task::spawn_blocking(move || {
        stream.join();
        stream
    })
    .await
    .expect("joined")
}

fn grpc_response() -> http::Response<()> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .expect("response")
}

/// The packed batch read back: (kind, endpoint, length, payload) of each update.
fn unpack(batch: &[u8]) -> Vec<(u8, u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < batch.len() {
        let h = &batch[at..at + HEADER];
        let len = u32::from_le_bytes([h[19], h[20], h[21], h[22]]) as usize;
        let ep = u16::from_le_bytes([h[1], h[2]]);
        out.push((h[0], ep, batch[at + HEADER..at + HEADER + len].to_vec()));
        at += HEADER + len;
    }
    out
}

#[tokio::test]
async fn updates_queued_pings_answered_status_kept() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let stream = Stream::start(config(
        listener.local_addr().expect("addr"),
        Some("s3cret-token"),
    ))
    .expect("start");
    let (parts, mut body, mut respond, driver) = accept(&listener).await;
    assert_eq!(parts.uri.path(), PATH);
    assert_eq!(parts.method, http::Method::POST);
    assert_eq!(parts.headers["x-token"], "s3cret-token");
    assert_eq!(parts.headers["content-type"], "application/grpc");
    let mut buf = BytesMut::new();
    assert_eq!(message(&mut body, &mut buf).await, b"first request");
    let mut send = respond
        .send_response(grpc_response(), false)
        .expect("headers");
    // two messages in one DATA frame, one split over two
    let mut first = frame(&slot_update(7)).to_vec();
    first.extend_from_slice(&frame(&PING));
    send.send_data(first.into(), false).expect("data");
    let m = frame(&MALFORMED);
    send.send_data(m.slice(..3), false).expect("data");
    send.send_data(m.slice(3..), false).expect("data");
    send.send_data(frame(&slot_update(300)), false)
        .expect("data");
    send.send_data(frame(&slot_update(9)), false).expect("data");
    // the ping is answered with ping { id: 1 }
    assert_eq!(message(&mut body, &mut buf).await, [0x4a, 0x02, 0x08, 0x01]);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "11".parse().expect("hv"));
    trailers.insert(
        "grpc-message",
        "slot%2042%20is%20not%20available".parse().expect("hv"),
    );
    send.send_trailers(trailers).expect("trailers");
    let stream = joined(stream).await;
    driver.abort();
    let seen = stream.seen();
    assert_eq!(
        seen.end,
        Some(End::Status {
            code: 11,
            message: "slot 42 is not available".into()
        })
    );
    assert_eq!(seen.updates, 5);
    assert_eq!(seen.last_slot, Some(300));
    assert_eq!((seen.pings, seen.pongs), (1, 0));
    assert!(seen.pulse_ns > 0 && seen.first_slot_ns > 0);
    assert!(seen.last_slot_ns >= seen.first_slot_ns);
    let taken = stream.take();
    assert_eq!(taken.updates, 5);
    assert_eq!(taken.malformed, 1);
    let err = taken.malformed_error.expect("the reader's words");
    assert!(
        err.starts_with("update is not a Yellowstone SubscribeUpdate: "),
        "{err}"
    );
    let got = unpack(&taken.batch);
    let want: Vec<Vec<u8>> = vec![
        slot_update(7),
        PING.to_vec(),
        MALFORMED.to_vec(),
        slot_update(300),
        slot_update(9),
    ];
    assert_eq!(got.iter().map(|u| u.2.clone()).collect::<Vec<_>>(), want);
    assert!(got.iter().all(|u| u.0 == KIND_GRPC && u.1 == 3));
    // taken: the next take is empty
    assert_eq!(stream.take().updates, 0);
}

#[tokio::test]
async fn a_trailers_only_refusal_is_the_status() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let stream = Stream::start(config(listener.local_addr().expect("addr"), None)).expect("start");
    let (parts, _body, mut respond, driver) = accept(&listener).await;
    assert!(!parts.headers.contains_key("x-token"));
    let resp = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .header("grpc-status", "16")
        .header("grpc-message", "bad x-token")
        .body(())
        .expect("response");
    respond.send_response(resp, true).expect("headers");
    let stream = joined(stream).await;
    driver.abort();
    assert_eq!(
        stream.seen().end,
        Some(End::Status {
            code: 16,
            message: "bad x-token".into()
        })
    );
}

#[tokio::test]
async fn an_oversized_message_ends_the_stream_and_stop_ends_a_quiet_one() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut cfg = config(listener.local_addr().expect("addr"), None);
    cfg.max_message = 4;
    let stream = Stream::start(cfg.clone()).expect("start");
    let (_parts, _body, mut respond, driver) = accept(&listener).await;
    let mut send = respond
        .send_response(grpc_response(), false)
        .expect("headers");
    send.send_data(frame(&[0u8; 16]), false).expect("data");
    let stream = joined(stream).await;
    driver.abort();
    let end = stream.seen().end;
    assert!(
        matches!(&end, Some(End::Failed(t)) if t.contains("over the limit of 4")),
        "{end:?}"
    );
    assert_eq!(stream.take().updates, 0);

    cfg.max_message = 1 << 20;
    let mut quiet = Stream::start(cfg).expect("start");
    let (_parts, _body, mut respond, driver) = accept(&listener).await;
    let _send = respond
        .send_response(grpc_response(), false)
        .expect("headers");
    quiet.stop();
    let quiet = joined(quiet).await;
    driver.abort();
    assert_eq!(quiet.seen().end, Some(End::Stopped));
}

#[test]
fn a_dead_endpoint_fails_with_its_reason_and_no_secret() {
    // a port nothing listens on: bound, then closed
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let mut stream = Stream::start(config(addr, Some("s3cret-token"))).expect("start");
    stream.join();
    let end = stream.seen().end;
    match end {
        Some(End::Failed(text)) => {
            assert!(text.starts_with("connect: "), "{text}");
            assert!(!text.contains("s3cret"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_wake_pipe_gets_a_byte_a_batch() {
    let mut fds = [0i32; 2];
    // SAFETY: a valid array of two fds for pipe2 to fill
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
        0
    );
    let sh = Shared {
        state: Mutex::new(State::default()),
        signaled: AtomicBool::new(false),
        wake_fd: Some(fds[1]),
        wake_byte: 7,
    };
    sh.wake();
    sh.wake(); // not taken yet: no second byte
    let mut b = [0u8; 8];
    // SAFETY: reading into a valid buffer from the pipe's read end
    let n = unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), b.len()) };
    assert_eq!(n, 1);
    assert_eq!(
        b[0], 7,
        "the stream's own byte: a shared pipe says who woke it"
    );
    sh.signaled.store(false, Ordering::Release); // as a take does
    sh.wake();
    // SAFETY: as above
    let n = unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), b.len()) };
    assert_eq!(n, 1);
    // SAFETY: closing the two fds this test opened
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
}

#[test]
fn ping_answers_and_percent_decoding() {
    assert_eq!(ping_request(1), [0x4a, 0x02, 0x08, 0x01]);
    assert_eq!(ping_request(300), [0x4a, 0x03, 0x08, 0xac, 0x02]);
    assert_eq!(percent_decoded("a%20b%zz%4"), "a b%zz%4");
    assert_eq!(frame(b"xy").to_vec(), [0, 0, 0, 0, 2, b'x', b'y']);
}

/// Every message, in order, whatever the chunks' cuts: the stream cut at each pair of
/// points (three chunks: empty ones among them), against the messages framed.
#[test]
fn the_deframer_finds_every_message_across_any_cuts() {
    let messages: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"a".to_vec(),
        (0..40u8).collect(),
        b"".to_vec(),
        b"last one".to_vec(),
    ];
    let wire: Vec<u8> = messages.iter().flat_map(|m| frame(m).to_vec()).collect();
    for i in 0..=wire.len() {
        for j in i..=wire.len() {
            let mut d = Deframer::default();
            let mut got = Vec::new();
            for chunk in [&wire[..i], &wire[i..j], &wire[j..]] {
                d.push(chunk, 64, |m| got.push(m.to_vec()))
                    .expect("well framed");
            }
            assert_eq!(got, messages, "cut at {i} and {j}");
            assert!(d.partial.is_empty(), "nothing left at {i}, {j}");
        }
    }
}

#[test]
fn the_deframer_refuses_compressed_and_oversized_messages_at_their_prefix() {
    let mut big = frame(&[7; 65]).to_vec();
    big.truncate(3); // the prefix cut: refused once it is whole
    let mut d = Deframer::default();
    d.push(&big, 64, |_| panic!("no message"))
        .expect("not yet whole");
    let err = d.push(&[0, 65], 64, |_| panic!("no message"));
    assert_eq!(
        err,
        Err(End::Failed(
            "a message of 65 bytes, over the limit of 64".into()
        ))
    );
    let err = Deframer::default().push(&[1, 0, 0, 0, 1, 9], 64, |_| panic!("no message"));
    assert_eq!(
        err,
        Err(End::Failed(
            "a compressed message (no compression was asked for)".into()
        ))
    );
}

#[test]
fn a_recycled_buffer_carries_the_next_batch() {
    let sh = Shared {
        state: Mutex::new(State::default()),
        signaled: AtomicBool::new(false),
        wake_fd: None,
        wake_byte: 1,
    };
    let cfg = Config {
        authority: "127.0.0.1:1".into(),
        path: PATH.into(),
        x_token: None,
        request: vec![],
        endpoint: 2,
        max_message: 1 << 20,
        keep_transactions: false,
        wake_fd: None,
        wake_byte: 1,
        connect_timeout: Duration::from_secs(1),
    };
    let mut d = Deframer::default();
    received(&cfg, &sh, &mut d, &frame(&slot_update(5))).expect("queued");
    let first = std::mem::take(&mut sh.lock().taken);
    assert_eq!(first.updates, 1);
    let cap = first.batch.capacity();
    {
        let mut spare = first.batch;
        spare.clear();
        sh.lock().spares.push(spare);
    }
    received(&cfg, &sh, &mut d, &frame(&slot_update(6))).expect("queued");
    let second = std::mem::take(&mut sh.lock().taken);
    assert_eq!(second.batch.capacity(), cap, "the spare's buffer");
    assert_eq!(unpack(&second.batch), vec![(KIND_GRPC, 2, slot_update(6))]);
}

/// A backlog is handed over a batch of about BATCH_BYTES at a time, oldest first, every
/// update once and counted with its batch; a wake byte for each take while more waits.
#[tokio::test]
async fn a_backlog_is_taken_in_batches_of_a_bounded_size_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut fds = [0i32; 2];
    // SAFETY: a valid out array of two ints
    assert_eq!(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK) },
        0
    );
    let mut cfg = config(listener.local_addr().expect("addr"), None);
    cfg.wake_fd = Some(fds[1]);
    let stream = Stream::start(cfg).expect("start");
    let (_parts, mut body, mut respond, driver) = accept(&listener).await;
    let mut buf = BytesMut::new();
    message(&mut body, &mut buf).await;
    let mut send = respond
        .send_response(grpc_response(), false)
        .expect("headers");
    // ~3.4 batches of updates 40 KiB long (a slot update's bytes, padded with an unknown
    // field the reader passes over)
    let n = 3 * BATCH_BYTES / (40 << 10) + 10;
    let mut want = Vec::new();
    for i in 0..n {
        let mut u = slot_update(i as u64 + 1);
        u.push((15 << 3) | 2); // field 15, length-delimited: 40 KiB of padding
        varint(40 << 10, &mut u);
        u.extend(std::iter::repeat_n(i as u8, 40 << 10));
        send.send_data(frame(&u), false).expect("data");
        want.push(u);
    }
    send.send_trailers(http::HeaderMap::new())
        .expect("trailers");
    let stream = joined(stream).await;
    driver.abort();
    let mut got = Vec::new();
    let mut batches = 0;
    loop {
        let t = stream.take();
        if t.updates == 0 {
            break;
        }
        batches += 1;
        assert!(
            t.batch.len() < BATCH_BYTES + (41 << 10) + HEADER,
            "{}",
            t.batch.len()
        );
        let us = unpack(&t.batch);
        assert_eq!(us.len() as u64, t.updates);
        got.extend(us.into_iter().map(|u| u.2));
        stream.recycle(t.batch);
    }
    assert_eq!(got, want);
    assert!(batches >= 4, "{batches} batches");
    let mut bytes = [0u8; 64];
    // SAFETY: a valid buffer of 64 bytes on the pipe's read end
    let r = unsafe { libc::read(fds[0], bytes.as_mut_ptr().cast(), 64) };
    assert!(r >= 1, "woken");
    // SAFETY: the pipe's two ends, opened above, closed once
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
}

/// The threads of this process named as a gRPC receiver's (`grpc-...`).
fn receiver_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("grpc-"))
        .count()
}

/// Every stream is a task on the one receive thread (not a thread each), and a stream
/// stopped while its call is open closes its connection (the server sees it end).
#[tokio::test]
async fn streams_share_one_thread_and_a_stopped_one_closes_its_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut streams = Vec::new();
    let mut drivers = Vec::new();
    for endpoint in [5, 6] {
        let mut cfg = config(addr, None);
        cfg.endpoint = endpoint;
        streams.push(Stream::start(cfg).expect("start"));
        let (_parts, mut body, mut respond, driver) = accept(&listener).await;
        let mut buf = BytesMut::new();
        message(&mut body, &mut buf).await;
        let mut send = respond
            .send_response(grpc_response(), false)
            .expect("headers");
        send.send_data(frame(&slot_update(endpoint.into())), false)
            .expect("data");
        drivers.push((driver, send));
    }
    assert_eq!(receiver_threads(), 1);
    for (stream, endpoint) in streams.iter().zip([5u16, 6]) {
        // each stream's update is queued under its own endpoint, however long it takes
        let mut got = Vec::new();
        while got.is_empty() {
            got = unpack(&stream.take().batch);
            tokio::task::yield_now().await;
        }
        assert_eq!(
            got,
            vec![(KIND_GRPC, endpoint, slot_update(endpoint.into()))]
        );
    }
    for mut stream in streams {
        stream.stop();
        let stream = joined(stream).await;
        assert_eq!(stream.seen().end, Some(End::Stopped));
    }
    for (driver, _send) in drivers {
        // the server's connection ends: the client closed it (a guard, not a timing)
        tokio::time::timeout(Duration::from_secs(30), driver)
            .await
            .expect("the stopped stream's connection was closed")
            .expect("driver");
    }
    assert_eq!(receiver_threads(), 1);
}
