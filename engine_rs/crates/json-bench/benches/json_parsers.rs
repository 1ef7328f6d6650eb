//! The feed hot path's JSON reader against jiter, serde_json, sonic-rs and simd-json, on
//! a recorded frame mix (`make bench` runs it through `python -m bench.json_parsers`).
//!
//! 1. **Same reading**: every parser reads every frame of the mix; what it read (a
//!    [`Frame`]) must equal the hand-written reader's, or the bench stops.
//! 2. **Parse only**: ns per frame to read the frames in order, each parser extracting
//!    what the ingest reads.
//! 3. **End to end**: a fresh `FeedIngest` and graph per run, set up by the recorded
//!    inputs (untimed), then every frame in order, timed: the whole per-frame call
//!    (parse, base64, dedup, decode, pool assembly, graph update). For the hand-written
//!    reader that is `FeedIngest::frame` itself; another parser reads the frame and the
//!    rest of the call runs on the values the hand-written reader read in that frame
//!    (`FeedIngest::frame_read`; step 1 proved them the same), which is what adopting it
//!    would leave. The row "rest of the call" is that rest alone.
//! 4. **json.loads agreement**: edge cases of one real frame (NaN, 4300-digit integers,
//!    nesting, lone surrogates, repeated keys...), each parser's outcome against the
//!    hand-written reader's, which `tests/engine/test_ingest.py` holds to `json.loads`.
//!
//! Times: each frame is copied into one buffer first (untimed), as the socket's read
//! leaves it: in the cache (the 50 MB mix itself is not); then the work on it is timed
//! between two clock reads, whose cost with no work between ("timer floor") is
//! subtracted. Medians over `--runs` runs; within a run the variants take turns, each
//! run starting with another, so a noisy moment does not always hit the same one.
//!
//! Arguments: `--runs N` (default 21), `--json PATH`, `--corpus PATH`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use arbscope_core::ingest::json::{self, Doc, Input};
use arbscope_core::ingest::Arg;
use arbscope_json_bench::corpus::{Corpus, Step};
use arbscope_json_bench::readers::{self, Frame, JiterReader, Refused, SimdJson};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Parser {
    Hand,
    Jiter,
    SerdeJson,
    SonicRs,
    SimdJson,
}

const PARSERS: [Parser; 5] = [
    Parser::Hand,
    Parser::Jiter,
    Parser::SerdeJson,
    Parser::SonicRs,
    Parser::SimdJson,
];

impl Parser {
    fn name(self) -> &'static str {
        match self {
            Parser::Hand => "hand-written (ingest/json.rs)",
            Parser::Jiter => "jiter",
            Parser::SerdeJson => "serde_json (derive, borrowed)",
            Parser::SonicRs => "sonic-rs (derive, borrowed)",
            Parser::SimdJson => "simd-json (derive, borrowed)",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Parser::Hand => "hand",
            Parser::Jiter => "jiter",
            Parser::SerdeJson => "serde_json",
            Parser::SonicRs => "sonic-rs",
            Parser::SimdJson => "simd-json",
        }
    }
}

/// Each parser's reusable state.
#[derive(Default)]
struct Readers {
    doc: Doc,
    jiter: JiterReader,
    simd: SimdJson,
}

impl Readers {
    /// Parse `text` with `p`, the result left to `black_box` (timed).
    #[inline(always)]
    fn parse(&mut self, p: Parser, text: &[u8]) -> bool {
        match p {
            Parser::Hand => black_box(self.doc.parse(text)).is_ok(),
            Parser::Jiter => black_box(self.jiter.read(text)).is_ok(),
            Parser::SerdeJson => black_box(readers::serde_json(text)).is_ok(),
            Parser::SonicRs => black_box(readers::sonic_rs(text)).is_ok(),
            Parser::SimdJson => black_box(self.simd.read(text)).is_ok(),
        }
    }

    /// What `p` read of `text` (untimed: the check).
    fn frame<'a>(&'a mut self, p: Parser, text: &'a [u8]) -> Result<Frame<'a>, Refused> {
        match p {
            Parser::Hand => match self.doc.parse(text) {
                Ok(()) => readers::hand_frame(&self.doc, text),
                Err(e) => Err(Refused(e.0.into())),
            },
            Parser::Jiter => self.jiter.read(text),
            Parser::SerdeJson => readers::serde_json(text),
            Parser::SonicRs => readers::sonic_rs(text),
            Parser::SimdJson => self.simd.read(text).map(Frame::into_owned),
        }
    }
}

// ------------------------------------------------------------------ the mix
const CLASSES: [&str; 7] = [
    "subscription answers",
    "slot notifications",
    "logs notifications",
    "accounts < 1 KB (token accounts, sysvar)",
    "accounts 1-4 KB (pools, markets)",
    "accounts 4-64 KB (tick and bin arrays)",
    "accounts > 64 KB (order book sides)",
];

fn class_of(f: &Frame<'_>, len: usize) -> usize {
    let method = f.method.as_ref().map(|m| &*m.0);
    match method {
        None => 0,
        Some("slotNotification") => 1,
        Some("logsNotification") => 2,
        _ if len < 1024 => 3,
        _ if len < 4096 => 4,
        _ if len < 65_536 => 5,
        _ => 6,
    }
}

/// ns per frame: the whole mix and each class.
#[derive(Debug, Clone, Default)]
struct Tally {
    total_ns: f64,
    class_ns: [f64; CLASSES.len()],
}

struct Mix<'c> {
    corpus: &'c Corpus,
    class: Vec<usize>,
    count: [usize; CLASSES.len()],
    bytes: [usize; CLASSES.len()],
    /// what the hand-written reader read in each frame
    docs: Vec<Doc>,
}

impl Mix<'_> {
    fn tally(&self, acc: &[u64; CLASSES.len()], floor_ns: f64) -> Tally {
        let mut t = Tally::default();
        let n: usize = self.count.iter().sum();
        let mut total = 0.0;
        for ((out, &ns), &count) in t.class_ns.iter_mut().zip(acc).zip(&self.count) {
            let ns = ns as f64 - floor_ns * count as f64;
            total += ns;
            *out = ns / count.max(1) as f64;
        }
        t.total_ns = total / n.max(1) as f64;
        t
    }

    /// One pass over the frames in order, `work` timed on each (parse only). Each frame
    /// is first copied into one buffer (untimed), as the socket's read would leave it:
    /// in the cache, not cold in the 50 MB corpus.
    fn pass(&self, buf: &mut Vec<u8>, mut work: impl FnMut(&[u8]) -> bool) -> [u64; CLASSES.len()] {
        let mut acc = [0u64; CLASSES.len()];
        for (i, f) in self.corpus.frames.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(f);
            let t = Instant::now();
            black_box(work(buf));
            acc[self.class[i]] += t.elapsed().as_nanos() as u64;
        }
        acc
    }

    /// One replay into a fresh ingest, `work` timed on every frame (copied first, as in
    /// [`Mix::pass`]; with it a copy of what the hand-written reader read in it).
    fn replay(
        &self,
        buf: &mut Vec<u8>,
        mut work: impl FnMut(&mut E2e<'_>, &[u8], &Doc, u16, i64),
    ) -> Result<[u64; CLASSES.len()], String> {
        let (mut graph, mut ingest) = self.corpus.fresh()?;
        let mut acc = [0u64; CLASSES.len()];
        for step in &self.corpus.steps {
            match *step {
                Step::Frame {
                    endpoint,
                    recv_ns,
                    index,
                } => {
                    buf.clear();
                    buf.extend_from_slice(&self.corpus.frames[index]);
                    let doc = self.docs[index].snapshot();
                    let mut e = E2e {
                        ingest: &mut ingest,
                        graph: &mut graph,
                    };
                    let t = Instant::now();
                    work(&mut e, buf, &doc, endpoint, recv_ns);
                    acc[self.class[index]] += t.elapsed().as_nanos() as u64;
                }
                ref other => Corpus::apply(&mut ingest, &mut graph, other),
            }
        }
        Ok(acc)
    }
}

struct E2e<'a> {
    ingest: &'a mut arbscope_core::ingest::FeedIngest,
    graph: &'a mut arbscope_core::graph::PoolGraph,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn median_tally(runs: &[Tally]) -> Tally {
    let mut t = Tally {
        total_ns: median(runs.iter().map(|r| r.total_ns).collect()),
        ..Tally::default()
    };
    for (c, out) in t.class_ns.iter_mut().enumerate() {
        *out = median(runs.iter().map(|r| r.class_ns[c]).collect());
    }
    t
}

// ------------------------------------------------------------------ json.loads cases
/// The span of the value after `key` (a JSON number or literal) in `f`.
fn after(f: &[u8], key: &[u8]) -> Option<(usize, usize)> {
    let at = f.windows(key.len()).position(|w| w == key)? + key.len();
    let len = f[at..]
        .iter()
        .position(|&b| matches!(b, b',' | b'}' | b']'))?;
    Some((at, at + len))
}

fn replaced(f: &[u8], key: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let (a, b) = after(f, key)?;
    Some([&f[..a], with, &f[b..]].concat())
}

fn swap(f: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    let at = f.windows(from.len()).position(|w| w == from)?;
    Some([&f[..at], to, &f[at + from.len()..]].concat())
}

/// Edge cases of `good` (an account notification as the simulator sends it), each an
/// edit `json.loads` decides: (name, frame).
fn cases(good: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let lam: &[u8] = b"\"lamports\": ";
    let exe: &[u8] = b"\"executable\": false";
    let nest = |n: usize| ["[".repeat(n), "]".repeat(n)].concat();
    let digits = |n: usize| "9".repeat(n);
    let mut out: Vec<(&'static str, Option<Vec<u8>>)> = vec![
        ("as sent", Some(good.to_vec())),
        ("NaN", replaced(good, lam, b"NaN")),
        ("-Infinity", replaced(good, lam, b"-Infinity")),
        ("1e400 (a float: inf)", replaced(good, lam, b"1e400")),
        (
            "integer of 4300 digits",
            replaced(good, lam, digits(4300).as_bytes()),
        ),
        (
            "integer of 4301 digits",
            replaced(good, lam, digits(4301).as_bytes()),
        ),
        (
            "300 nested arrays",
            replaced(good, lam, nest(300).as_bytes()),
        ),
        (
            "900 nested arrays",
            replaced(good, lam, nest(900).as_bytes()),
        ),
        (
            "5000 nested arrays",
            replaced(good, lam, nest(5000).as_bytes()),
        ),
        (
            "\"\\ud800\" (lone surrogate)",
            swap(good, exe, br#""executable": "\ud800""#),
        ),
        (
            "surrogate bytes ED A0 80",
            swap(good, exe, b"\"executable\": \"\xed\xa0\x80\""),
        ),
        ("\"\\ud800\" as the owner", {
            after(good, b"\"owner\": ")
                .map(|(a, b)| [&good[..a], br#""\ud800""#, &good[b..]].concat())
        }),
        (
            "raw control character",
            swap(good, exe, b"\"executable\": \"\x01\""),
        ),
        (
            "invalid escape \\x",
            swap(good, exe, br#""executable": "\x""#),
        ),
        (
            "invalid UTF-8 FF",
            swap(good, exe, b"\"executable\": \"\xff\""),
        ),
        (
            "a read key given twice",
            swap(
                good,
                br#""jsonrpc":"2.0""#,
                br#""jsonrpc":"1.0","jsonrpc":"2.0""#,
            ),
        ),
        (
            "an unread key given twice",
            swap(good, exe, br#""executable": 1, "executable": 2"#),
        ),
        (
            "escaped key \"own\\u0065r\"",
            swap(good, b"\"owner\"", br#""own\u0065r""#),
        ),
        ("\\u escape in the base64", {
            let key: &[u8] = b"\"data\": [\"";
            good.windows(key.len())
                .position(|w| w == key)
                .map(|at| at + key.len())
                .and_then(|at| {
                    let esc = format!("\\u{:04x}", good.get(at)?);
                    Some([&good[..at], esc.as_bytes(), &good[at + 1..]].concat())
                })
        }),
        ("slot -0", replaced(good, b"\"context\":{\"slot\":", b"-0")),
        ("whitespace after", Some([good, b" \n\t"].concat())),
        ("data after", Some([good, b" x"].concat())),
        ("cut short", good.get(..good.len() - 1).map(<[u8]>::to_vec)),
        ("trailing comma", replaced(good, lam, b"[1,]")),
        ("leading zero", replaced(good, lam, b"01")),
        ("\"1.\"", replaced(good, lam, b"1.")),
    ];
    out.retain(|(_, f)| f.is_some());
    out.into_iter()
        .filter_map(|(n, f)| f.map(|f| (n, f)))
        .collect()
}

// ------------------------------------------------------------------ main
struct Args {
    runs: usize,
    json: Option<PathBuf>,
    corpus: PathBuf,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        runs: 21,
        json: None,
        corpus: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/pubsub-seed63.inputs.zst"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => {
                a.runs = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--runs takes a positive integer")?;
            }
            "--json" => a.json = Some(it.next().ok_or("--json takes a path")?.into()),
            "--corpus" => a.corpus = it.next().ok_or("--corpus takes a path")?.into(),
            "--bench" => {} // cargo bench passes it
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn lock_versions() -> BTreeMap<String, String> {
    let lock = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    let mut out = BTreeMap::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if ["jiter", "serde_json", "sonic-rs", "simd-json"].contains(&n.as_str()) {
                out.insert(n, v.trim_matches('"').to_string());
            }
        }
    }
    out
}

fn main() {
    if let Err(e) = run() {
        eprintln!("json_parsers: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let a = args()?;
    let corpus = Corpus::load(&a.corpus)?;
    let mut r = Readers::default();

    // 1. the same reading, and the frame classes
    let mut class = Vec::with_capacity(corpus.frames.len());
    let mut docs = Vec::with_capacity(corpus.frames.len());
    let mut count = [0usize; CLASSES.len()];
    let mut bytes = [0usize; CLASSES.len()];
    for (i, f) in corpus.frames.iter().enumerate() {
        let text = json::text_of(Input::Bytes(f)).map_err(|e| e.0.to_string())?;
        let want = r
            .frame(Parser::Hand, &text)
            .map_err(|e| format!("frame {i}: the hand-written reader refused it: {}", e.0))?
            .into_owned();
        docs.push(r.doc.snapshot());
        for p in &PARSERS[1..] {
            let got = r.frame(*p, f).map(Frame::into_owned);
            if got.as_ref() != Ok(&want) {
                return Err(format!(
                    "frame {i}: {} read {got:?}, the hand-written reader {want:?}",
                    p.name()
                ));
            }
        }
        let c = class_of(&want, f.len());
        class.push(c);
        count[c] += 1;
        bytes[c] += f.len();
    }
    let mix = Mix {
        corpus: &corpus,
        class,
        count,
        bytes,
        docs,
    };
    let n = corpus.frames.len();
    let total_bytes: usize = bytes.iter().sum();
    println!(
        "# JSON parsers on the feed hot path: {n} frames ({:.1} MB) of a recorded simulator \
         session (3 endpoints), medians of {} runs, ns per frame",
        total_bytes as f64 / 1e6,
        a.runs
    );
    println!("# every parser read the same values in every frame (checked before timing)");

    // 2./3. timings
    let mut buf = Vec::new();
    let mut floor_runs = Vec::new();
    let mut parse_runs: BTreeMap<Parser, Vec<Tally>> = BTreeMap::new();
    let mut e2e_runs: BTreeMap<Parser, Vec<Tally>> = BTreeMap::new();
    let mut rest_runs = Vec::new();
    let mut harness_runs = Vec::new();
    // the end-to-end variants: the hand-written reader's own call, the rest of the call
    // alone, then each parser (the hand-written one too: the harness's own check)
    #[derive(Clone, Copy)]
    enum E2eVariant {
        Frame,
        Rest,
        Parse(Parser),
    }
    let mut variants = vec![E2eVariant::Frame, E2eVariant::Rest];
    variants.extend(PARSERS.map(E2eVariant::Parse));
    for run in 0..a.runs {
        // the timer floor: the loop with no work
        let acc = mix.pass(&mut buf, |f| !f.is_empty());
        let floor = acc.iter().sum::<u64>() as f64 / n as f64;
        floor_runs.push(floor);
        // each run starts with another variant, so none is always first
        for k in 0..PARSERS.len() {
            let p = PARSERS[(run + k) % PARSERS.len()];
            let acc = mix.pass(&mut buf, |f| r.parse(p, f));
            parse_runs
                .entry(p)
                .or_default()
                .push(mix.tally(&acc, floor));
        }
        // a replay whose times are dropped: the allocator and caches as in the others
        mix.replay(&mut buf, |e, f, _, ep, ns| {
            let _ = black_box(e.ingest.frame(e.graph, ep, Input::Bytes(f), Arg::Ok(ns)));
        })?;
        for k in 0..variants.len() {
            let v = variants[(run + k) % variants.len()];
            let acc = match v {
                E2eVariant::Frame => mix.replay(&mut buf, |e, f, _, ep, ns| {
                    let _ = black_box(e.ingest.frame(e.graph, ep, Input::Bytes(f), Arg::Ok(ns)));
                })?,
                E2eVariant::Rest => mix.replay(&mut buf, |e, f, doc, ep, ns| {
                    let _ = black_box(e.ingest.frame_read(e.graph, ep, f, doc, Arg::Ok(ns)));
                })?,
                E2eVariant::Parse(p) => mix.replay(&mut buf, |e, f, doc, ep, ns| {
                    r.parse(p, f);
                    let _ = black_box(e.ingest.frame_read(e.graph, ep, f, doc, Arg::Ok(ns)));
                })?,
            };
            let t = mix.tally(&acc, floor);
            match v {
                E2eVariant::Frame => e2e_runs.entry(Parser::Hand).or_default().push(t),
                E2eVariant::Rest => rest_runs.push(t),
                E2eVariant::Parse(Parser::Hand) => harness_runs.push(t),
                E2eVariant::Parse(p) => e2e_runs.entry(p).or_default().push(t),
            }
        }
    }
    let floor = median(floor_runs);
    let parse: BTreeMap<Parser, Tally> = parse_runs
        .iter()
        .map(|(p, v)| (*p, median_tally(v)))
        .collect();
    let e2e: BTreeMap<Parser, Tally> = e2e_runs
        .iter()
        .map(|(p, v)| (*p, median_tally(v)))
        .collect();
    let rest = median_tally(&rest_runs);
    let harness = median_tally(&harness_runs);

    let hand_p = parse[&Parser::Hand].total_ns;
    let hand_e = e2e[&Parser::Hand].total_ns;
    println!();
    println!(
        "{:<32} {:>14} {:>14} {:>12} {:>12}",
        "parser", "parse ns/frame", "e2e ns/frame", "parse ratio", "e2e ratio"
    );
    for p in PARSERS {
        let (pp, ee) = (parse[&p].total_ns, e2e[&p].total_ns);
        println!(
            "{:<32} {:>14.0} {:>14.0} {:>11.2}x {:>11.2}x",
            p.name(),
            pp,
            ee,
            pp / hand_p,
            ee / hand_e
        );
    }
    println!(
        "{:<32} {:>14} {:>14.0}   (the call after the parse; hand-written parse + this: {:.0})",
        "rest of the call", "", rest.total_ns, harness.total_ns
    );
    println!("# ratio: the parser's time over the hand-written reader's (above 1: slower)");
    println!("# timer floor subtracted: {floor:.0} ns/frame");

    println!();
    println!("# per class of frame (parse / end to end, ns per frame)");
    print!("{:<42} {:>6} {:>8}", "class", "frames", "bytes");
    for p in PARSERS {
        print!(" {:>17}", p.key());
    }
    println!();
    for (c, class) in CLASSES.iter().enumerate() {
        if mix.count[c] == 0 {
            continue;
        }
        print!(
            "{class:<42} {:>6} {:>8}",
            mix.count[c],
            mix.bytes[c] / mix.count[c]
        );
        for p in PARSERS {
            let cell = format!("{:.0} / {:.0}", parse[&p].class_ns[c], e2e[&p].class_ns[c]);
            print!(" {cell:>17}");
        }
        println!();
    }

    // 4. json.loads agreement
    let good = corpus
        .frames
        .iter()
        .find(|f| {
            f.len() < 4096
                && f.windows(19).any(|w| w == b"accountNotification")
                && f.windows(12).any(|w| w == b"\"lamports\": ")
        })
        .ok_or("the mix has no account notification to edit")?;
    let cases = cases(good);
    let mut agree: BTreeMap<Parser, Vec<&str>> = BTreeMap::new();
    for (name, f) in &cases {
        let text = json::text_of(Input::Bytes(f)).map_err(|e| e.0.to_string())?;
        let want = r.frame(Parser::Hand, &text).map(Frame::into_owned).ok();
        for p in &PARSERS[1..] {
            let got = r.frame(*p, f).map(Frame::into_owned).ok();
            let same = want == got;
            if !same {
                agree.entry(*p).or_default().push(name);
            }
        }
    }
    println!();
    println!(
        "# json.loads agreement: {} edge cases of one account notification",
        cases.len()
    );
    for p in &PARSERS[1..] {
        let wrong = agree.get(p).cloned().unwrap_or_default();
        println!(
            "{:<32} {:>2}/{} agree; not: {}",
            p.name(),
            cases.len() - wrong.len(),
            cases.len(),
            if wrong.is_empty() {
                "-".to_string()
            } else {
                wrong.join(", ")
            }
        );
    }
    let versions = lock_versions();
    println!(
        "# crates: {}",
        versions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    if let Some(path) = a.json {
        let parsers: serde_json::Map<String, serde_json::Value> = PARSERS
            .iter()
            .map(|p| {
                let classes: Vec<serde_json::Value> = (0..CLASSES.len())
                    .map(|c| {
                        serde_json::json!({
                            "class": CLASSES[c], "frames": mix.count[c],
                            "parse_ns": parse[p].class_ns[c], "e2e_ns": e2e[p].class_ns[c],
                        })
                    })
                    .collect();
                let v = serde_json::json!({
                    "name": p.name(),
                    "parse_ns": parse[p].total_ns,
                    "e2e_ns": e2e[p].total_ns,
                    "classes": classes,
                    "disagrees": agree.get(p).cloned().unwrap_or_default(),
                });
                (p.key().to_string(), v)
            })
            .collect();
        let out = serde_json::json!({
            "frames": n, "bytes": total_bytes, "runs": a.runs, "cases": cases.len(),
            "timer_floor_ns": floor, "rest_ns": rest.total_ns,
            "hand_via_harness_ns": harness.total_ns,
            "parsers": parsers, "versions": versions,
        });
        std::fs::write(&path, out.to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
