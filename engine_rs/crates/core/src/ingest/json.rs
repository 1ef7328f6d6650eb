//! A JSON reader that accepts exactly the documents Python's `json.loads` accepts (the
//! twin parses frames with it) and keeps only the values the ingest reads.
//!
//! What `json.loads` does and this reader mirrors: bytes are decoded by
//! `json.detect_encoding` (UTF-8, UTF-8 with a BOM, UTF-16/32 by BOM or by the zero bytes
//! of the first four) with `surrogatepass` (encoded surrogates are text); a `str` that
//! starts with a BOM is refused; `NaN`, `Infinity` and `-Infinity` are numbers; an
//! integer of more than 4300 digits is an error (`sys.int_max_str_digits`); strings
//! refuse raw control characters (strict mode) and join `\uD8xx\uDCxx` pairs only; a key
//! given twice keeps its last value (a dict); nesting deeper than [`MAX_DEPTH`] is an
//! error (Python's limit is its recursion limit less the caller's stack, about 950 in a
//! session; the one place the two can disagree).
//!
//! Text is handled as bytes: structural characters are ASCII, and inside strings UTF-8
//! is checked as it is met (a non-ASCII byte outside a string is an error either way).
//! Decoded strings are "generalized UTF-8": lone surrogates as their 3-byte forms, what
//! Python's `str.encode("utf-8", "surrogatepass")` gives.
//!
//! The parse checks every byte but records only the values at the [`Node`]s the ingest
//! reads (`params.result.value.data`, ...), as spans of the text. A frame with the shape
//! of a recent one (the same bytes but for its strings and integers) is matched against
//! that shape instead: literal bytes compared, strings and integers scanned (see
//! [`Doc::parse`]).
//!
//! Why not a parser off the shelf: `crates/json-bench` (`python -m bench.json_parsers`)
//! times jiter, sonic-rs, serde_json and simd-json on a recorded frame mix, end to end
//! through the ingest; each is at least 1.3x slower per frame, and each reads some
//! frames otherwise than `json.loads` (NaN, lone surrogates, nesting, repeated keys...).

use std::borrow::Cow;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 950;
/// Most digits in an integer (Python's default `sys.int_max_str_digits`).
pub const MAX_INT_DIGITS: usize = 4300;

/// Why a text is not JSON (the caller reports one `FrameError` for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotJson(pub &'static str);

type Res<T> = std::result::Result<T, NotJson>;

/// What the caller handed over: bytes off the socket, or text Python already decoded
/// (a `str`, as generalized UTF-8).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Bytes(&'a [u8]),
    Text(&'a [u8]),
}

const BOM8: &[u8] = b"\xef\xbb\xbf";

/// The text `json.loads` would parse: UTF-8 input is borrowed as is (its validity is
/// checked while parsing), UTF-16/32 input is transcoded.
pub fn text_of(input: Input<'_>) -> Res<Cow<'_, [u8]>> {
    let b = match input {
        Input::Text(t) => {
            if t.starts_with(BOM8) {
                return Err(NotJson("unexpected UTF-8 BOM"));
            }
            return Ok(Cow::Borrowed(t));
        }
        Input::Bytes(b) => b,
    };
    // json.detect_encoding
    if b.starts_with(b"\x00\x00\xfe\xff") {
        return utf32(&b[4..], true).map(Cow::Owned);
    }
    if b.starts_with(b"\xff\xfe\x00\x00") {
        return utf32(&b[4..], false).map(Cow::Owned);
    }
    if b.starts_with(b"\xfe\xff") {
        return utf16(&b[2..], true).map(Cow::Owned);
    }
    if b.starts_with(b"\xff\xfe") {
        return utf16(&b[2..], false).map(Cow::Owned);
    }
    if b.starts_with(BOM8) {
        return Ok(Cow::Borrowed(&b[3..]));
    }
    match *b {
        [0, b1, _, _, ..] => {
            if b1 != 0 {
                utf16(b, true)
            } else {
                utf32(b, true)
            }
        }
        .map(Cow::Owned),
        [_, 0, b2, b3, ..] => {
            if b2 != 0 || b3 != 0 {
                utf16(b, false)
            } else {
                utf32(b, false)
            }
        }
        .map(Cow::Owned),
        [0, _] => utf16(b, true).map(Cow::Owned),
        [_, 0] => utf16(b, false).map(Cow::Owned),
        _ => Ok(Cow::Borrowed(b)),
    }
}

/// Append code point `c` (surrogates included) as generalized UTF-8.
pub fn push_code_point(out: &mut Vec<u8>, c: u32) {
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c < 0x1_0000 {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

/// UTF-16 with `surrogatepass`: pairs join, lone surrogates pass, an odd byte is an error.
fn utf16(b: &[u8], big: bool) -> Res<Vec<u8>> {
    if b.len() & 1 != 0 {
        return Err(NotJson("truncated UTF-16"));
    }
    let units: Vec<u32> = b
        .chunks_exact(2)
        .map(|c| {
            let (hi, lo) = if big { (c[0], c[1]) } else { (c[1], c[0]) };
            u32::from(hi) << 8 | u32::from(lo)
        })
        .collect();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < units.len() {
        let u = units[i];
        match units.get(i + 1) {
            Some(&v) if (0xD800..0xDC00).contains(&u) && (0xDC00..0xE000).contains(&v) => {
                push_code_point(&mut out, 0x1_0000 + ((u - 0xD800) << 10) + (v - 0xDC00));
                i += 2;
            }
            _ => {
                push_code_point(&mut out, u);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// UTF-32 with `surrogatepass`: every unit is a code point; past U+10FFFF is an error.
fn utf32(b: &[u8], big: bool) -> Res<Vec<u8>> {
    if b.len() & 3 != 0 {
        return Err(NotJson("truncated UTF-32"));
    }
    let mut out = Vec::with_capacity(b.len());
    for c in b.chunks_exact(4) {
        let w = [c[0], c[1], c[2], c[3]];
        let u = if big {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        };
        if u > 0x10_FFFF {
            return Err(NotJson("code point out of range"));
        }
        push_code_point(&mut out, u);
    }
    Ok(out)
}

/// Length of the UTF-8 sequence starting at `s[i]` (a byte >= 0x80), accepting encoded
/// surrogates (`surrogatepass`); `None` if it is not one.
#[inline]
fn utf8_seq(s: &[u8], i: usize) -> Option<usize> {
    let b0 = *s.get(i)?;
    let (len, lo, hi) = match b0 {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEF => (3, 0x80, 0xBF), // 0xED: surrogates pass
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return None,
    };
    let b1 = *s.get(i + 1)?;
    if !(lo..=hi).contains(&b1) {
        return None;
    }
    for k in 2..len {
        if s.get(i + k)? & 0xC0 != 0x80 {
            return None;
        }
    }
    Some(len)
}

/// The first index from `i` whose byte is '"', '\\', a control character or non-ASCII
/// (or a little before it: the caller steps byte by byte from there).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn skip_plain(s: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of x86_64; every load reads 16 bytes within `s`.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let space = _mm_set1_epi8(0x20);
        let mut first = true;
        while i + 16 <= s.len() {
            if !first && i + 64 <= s.len() && is_x86_feature_detected!("avx2") {
                // a long string (base64 account data): 32 bytes a step
                i = skip_plain_avx2(s, i);
            }
            first = false;
            if i + 16 > s.len() {
                break;
            }
            let v = _mm_loadu_si128(s.as_ptr().add(i).cast());
            // signed: bytes >= 0x80 are negative, so "< 0x20" also flags non-ASCII
            let hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                _mm_cmplt_epi8(v, space),
            );
            let mask = _mm_movemask_epi8(hit);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    i
}

/// [`skip_plain`] 32 bytes at a time; stops at the block holding a byte to look at.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn skip_plain_avx2(s: &[u8], mut i: usize) -> usize {
    use std::arch::x86_64::*;
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let space = _mm256_set1_epi8(0x20);
    while i + 32 <= s.len() {
        // SAFETY: i + 32 <= s.len()
        let v = unsafe { _mm256_loadu_si256(s.as_ptr().add(i).cast()) };
        let hit = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
            _mm256_cmpgt_epi8(space, v),
        );
        if _mm256_movemask_epi8(hit) != 0 {
            break;
        }
        i += 32;
    }
    i
}

/// [`skip_plain`] eight bytes at a time (SWAR) where SSE2 is not there.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn skip_plain(s: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        let w = u64::from_le_bytes(b);
        let quote = zero(w ^ (ONES * u64::from(b'"')));
        let backslash = zero(w ^ (ONES * u64::from(b'\\')));
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        if (quote | backslash | control | (w & HIGHS)) != 0 {
            break;
        }
        i += 8;
    }
    i
}

#[inline]
fn hex4(s: &[u8], i: usize) -> Option<u32> {
    let d = s.get(i..i + 4)?;
    let mut v = 0u32;
    for &c in d {
        let x = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = v << 4 | u32::from(x);
    }
    Some(v)
}

/// Scan a string body starting at `i` (just past the opening quote): the index of the
/// closing quote, and whether it holds escapes.
#[inline(always)]
fn scan_str(s: &[u8], mut i: usize) -> Res<(usize, bool)> {
    let mut escaped = false;
    loop {
        i = skip_plain(s, i);
        let Some(&c) = s.get(i) else {
            return Err(NotJson("unterminated string"));
        };
        match c {
            b'"' => return Ok((i, escaped)),
            b'\\' => {
                escaped = true;
                match s.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        hex4(s, i + 2).ok_or(NotJson("invalid \\uXXXX escape"))?;
                        i += 6;
                    }
                    _ => return Err(NotJson("invalid escape")),
                }
            }
            0..=0x1F => return Err(NotJson("invalid control character")),
            0x80.. => i += utf8_seq(s, i).ok_or(NotJson("invalid UTF-8"))?,
            _ => i += 1,
        }
    }
}

/// Decode the escapes of a scanned string body (`raw`, already validated) into `out`.
pub fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            // copy the run up to the next escape at once
            let run = raw[i..]
                .iter()
                .position(|&b| b == b'\\')
                .unwrap_or(raw.len() - i);
            out.extend_from_slice(&raw[i..i + run]);
            i += run;
            continue;
        }
        let e = raw.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        let simple = match e {
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let mut cp = hex4(raw, i).unwrap_or(0xFFFD);
                i += 4;
                if (0xD800..0xDC00).contains(&cp) && raw.get(i..i + 2) == Some(b"\\u") {
                    if let Some(lo) = hex4(raw, i + 2).filter(|v| (0xDC00..0xE000).contains(v)) {
                        cp = 0x1_0000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                push_code_point(out, cp);
                continue;
            }
            other => other, // '"', '\\', '/'
        };
        out.push(simple);
    }
}

#[inline(always)]
fn ws(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = s.get(i) {
        i += 1;
    }
    i
}

/// The end of the run of ASCII digits at `i`, eight bytes a step: a byte is a digit when
/// its high nibble is 3 and adding 6 to it leaves the high nibble 3. (A carry out of a
/// byte >= 0xFA can only disturb the bytes after it, and it is itself a non-digit.)
#[inline]
fn digits(s: &[u8], mut i: usize) -> usize {
    const HI: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    const SIXES: u64 = 0x0606_0606_0606_0606;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        let w = u64::from_le_bytes(b);
        let not_digit = ((w & HI) ^ THREES) | ((w.wrapping_add(SIXES) & HI) ^ THREES);
        if not_digit != 0 {
            return i + (not_digit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(b'0'..=b'9') = s.get(i) {
        i += 1;
    }
    i
}

/// A number at `i` (Python's `NUMBER_RE`): its end and whether it is an integer.
fn scan_num(s: &[u8], start: usize) -> Res<(usize, bool)> {
    let mut i = start;
    let neg = s.get(i) == Some(&b'-');
    if neg {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(s, i + 1),
        _ => return Err(NotJson("expecting value")),
    }
    let int_end = i;
    let mut int = true;
    if s.get(i) == Some(&b'.') && matches!(s.get(i + 1), Some(b'0'..=b'9')) {
        int = false;
        i = digits(s, i + 2);
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if matches!(s.get(j), Some(b'0'..=b'9')) {
            int = false;
            i = digits(s, j);
        } // else: the number ends before the 'e' (Python backtracks)
    }
    if int && int_end - start - usize::from(neg) > MAX_INT_DIGITS {
        return Err(NotJson("integer exceeds the 4300-digit limit"));
    }
    Ok((i, int))
}

/// What a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Arr,
    Obj,
}

/// One value: its kind and, for strings and integers, its text (a string's body between
/// the quotes, escapes not yet decoded; an integer's literal, sign included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Val {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    pub escaped: bool,
}

impl Val {
    const fn of(kind: Kind) -> Self {
        Self {
            kind,
            start: 0,
            end: 0,
            escaped: false,
        }
    }
}

/// The places in a PubSub frame the ingest reads (the twin's `msg.get(...)` chain).
/// Everything else is parsed, validated and forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    Root,
    Jsonrpc,
    Method,
    Params,
    Subscription,
    Result,
    ResultSlot,
    Context,
    ContextSlot,
    Value,
    Owner,
    Data,
    Signature,
    Logs,
    Err,
    /// an item of `value.data` / `value.logs`
    DataItem,
    LogItem,
    Ignored,
}

const RECORDED: usize = Node::Err as usize + 1;

impl Node {
    /// The node whose object holds this one (parents come first in declaration order).
    const PARENT: [Option<Node>; RECORDED] = {
        use Node::*;
        [
            None,
            Some(Root),
            Some(Root),
            Some(Root),
            Some(Params),
            Some(Params),
            Some(Result),
            Some(Result),
            Some(Context),
            Some(Result),
            Some(Value),
            Some(Value),
            Some(Value),
            Some(Value),
            Some(Value),
        ]
    };

    /// The member `key` of an object at this node.
    #[inline]
    fn child(self, key: &[u8]) -> Node {
        use Node::*;
        match self {
            Root => match key {
                b"jsonrpc" => Jsonrpc,
                b"method" => Method,
                b"params" => Params,
                _ => Ignored,
            },
            Params => match key {
                b"subscription" => Subscription,
                b"result" => Result,
                _ => Ignored,
            },
            Result => match key {
                b"slot" => ResultSlot,
                b"context" => Context,
                b"value" => Value,
                _ => Ignored,
            },
            Context => match key {
                b"slot" => ContextSlot,
                _ => Ignored,
            },
            Value => match key {
                b"owner" => Owner,
                b"data" => Data,
                b"signature" => Signature,
                b"logs" => Logs,
                b"err" => Err,
                _ => Ignored,
            },
            _ => Ignored,
        }
    }

    /// Whether objects at this node have members that are read.
    fn reads_members(self) -> bool {
        use Node::*;
        matches!(self, Root | Params | Result | Context | Value)
    }

    /// The node of the items of an array at this node.
    fn item(self) -> Node {
        match self {
            Node::Data => Node::DataItem,
            Node::Logs => Node::LogItem,
            _ => Node::Ignored,
        }
    }
}

/// A parsed frame: the values at the [`Node`]s (a key given twice keeps its last value,
/// and a value replaced drops what was read inside the old one), reused frame to frame.
#[derive(Debug)]
pub struct Doc {
    /// the last value given at each recorded node, and when (`stamp`; never reset, so a
    /// stamp below `first` is from an earlier frame)
    vals: [Val; RECORDED],
    stamps: [u64; RECORDED],
    /// after a parse: whether each node's value is in the frame (see [`Doc::get`])
    valid: [bool; RECORDED],
    first: u64,
    stamp: u64,
    data_items: Vec<Val>,
    log_items: Vec<Val>,
    /// open containers: (is an object, node)
    stack: Vec<(bool, Node)>,
    /// the strings and integers of the last full parse, in order
    scalars: Vec<Val>,
    /// recent frame shapes, most recently used first
    shapes: Vec<Shape>,
    /// the strings and integers of a frame matched to a shape
    slot_vals: Vec<Val>,
}

/// Where a recorded value of a shape comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Source {
    #[default]
    Absent,
    /// the n-th string or integer of the frame
    Slot(u32),
    /// a value that is part of the shape's literal bytes (container, null, bool, float)
    Fixed(Kind),
}

/// A frame's bytes with its strings and integers cut out: `lits[k]` comes before the
/// k-th of them (strings keep their quotes in the literals), the last after all.
#[derive(Debug, Clone, Default)]
struct Shape {
    lits: Vec<u8>,
    lit_ends: Vec<usize>,
    ints: Vec<bool>,
    nodes: [Source; RECORDED],
    data_items: Vec<Source>,
    log_items: Vec<Source>,
}

/// Shapes kept (account, slot and logs notifications, and a spare).
const SHAPES: usize = 4;
/// Frames longer than this are not learnt as shapes (their literal bytes are copied).
const MAX_SHAPE_LITERALS: usize = 4096;

impl Default for Doc {
    fn default() -> Self {
        Self {
            vals: [Val::of(Kind::Null); RECORDED],
            stamps: [0; RECORDED],
            valid: [false; RECORDED],
            first: 1,
            stamp: 0,
            data_items: Vec::new(),
            log_items: Vec::new(),
            stack: Vec::new(),
            scalars: Vec::new(),
            shapes: Vec::new(),
            slot_vals: Vec::new(),
        }
    }
}

impl Doc {
    /// Parse `s` (the whole text); then read it with [`Doc::get`] and [`Doc::items`].
    ///
    /// A frame shaped like a recent one (the same bytes but for its strings and integers:
    /// a node sends every notification of a kind with the same keys, order and spacing)
    /// is matched against that shape instead of parsed: its literal bytes are compared,
    /// its strings and integers scanned and checked as a parse would. Such a frame is
    /// valid JSON with the same structure, so the values land at the same nodes.
    pub fn parse(&mut self, s: &[u8]) -> Res<()> {
        for t in 0..self.shapes.len() {
            if self.match_shape(t, s) {
                if t > 0 {
                    self.shapes.swap(0, t); // most recently used first
                }
                return Ok(());
            }
        }
        self.parse_full(s)?;
        self.learn_shape(s);
        Ok(())
    }

    /// The full parse (see the module docs), recording the strings and integers.
    fn parse_full(&mut self, s: &[u8]) -> Res<()> {
        self.valid = [false; RECORDED];
        self.data_items.clear();
        self.log_items.clear();
        self.stack.clear();
        self.scalars.clear();
        self.first = self.stamp + 1;
        let mut i = ws(s, 0);
        let mut node = Node::Root;
        'value: loop {
            let Some(&c) = s.get(i) else {
                return Err(NotJson("expecting value"));
            };
            match c {
                b'{' | b'[' => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(NotJson("too deeply nested"));
                    }
                    let is_obj = c == b'{';
                    self.set(node, Val::of(if is_obj { Kind::Obj } else { Kind::Arr }));
                    i = ws(s, i + 1);
                    let close = if is_obj { b'}' } else { b']' };
                    if s.get(i) == Some(&close) {
                        i += 1;
                    } else {
                        self.stack.push((is_obj, node));
                        if is_obj {
                            (node, i) = key(s, i, node)?;
                        } else {
                            node = node.item();
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    let (end, escaped) = scan_str(s, i + 1)?;
                    let val = Val {
                        kind: Kind::Str,
                        start: i + 1,
                        end,
                        escaped,
                    };
                    self.scalars.push(val);
                    self.set(node, val);
                    i = end + 1;
                }
                b'n' => i = self.literal(s, i, b"null", Kind::Null, node)?,
                b't' => i = self.literal(s, i, b"true", Kind::Bool, node)?,
                b'f' => i = self.literal(s, i, b"false", Kind::Bool, node)?,
                b'N' => i = self.literal(s, i, b"NaN", Kind::Float, node)?,
                b'I' => i = self.literal(s, i, b"Infinity", Kind::Float, node)?,
                b'-' if s.get(i + 1) == Some(&b'I') => {
                    i = self.literal(s, i, b"-Infinity", Kind::Float, node)?;
                }
                b'-' | b'0'..=b'9' => {
                    let (end, int) = scan_num(s, i)?;
                    let kind = if int { Kind::Int } else { Kind::Float };
                    let val = Val {
                        kind,
                        start: i,
                        end,
                        escaped: false,
                    };
                    if int {
                        self.scalars.push(val);
                    }
                    self.set(node, val);
                    i = end;
                }
                _ => return Err(NotJson("expecting value")),
            }
            // after a value: close containers, or find the next value
            loop {
                i = ws(s, i);
                let Some(&(is_obj, parent)) = self.stack.last() else {
                    if i != s.len() {
                        return Err(NotJson("extra data"));
                    }
                    self.settle();
                    return Ok(());
                };
                match s.get(i) {
                    Some(b',') => {
                        i = ws(s, i + 1);
                        if is_obj {
                            (node, i) = key(s, i, parent)?;
                        } else {
                            node = parent.item();
                        }
                        continue 'value;
                    }
                    Some(b'}') if is_obj => {}
                    Some(b']') if !is_obj => {}
                    _ => return Err(NotJson("expecting ',' delimiter")),
                }
                self.stack.pop();
                i += 1;
            }
        }
    }

    #[inline(always)]
    fn set(&mut self, node: Node, val: Val) {
        match node {
            Node::Ignored => {}
            Node::DataItem => self.data_items.push(val),
            Node::LogItem => self.log_items.push(val),
            n => {
                self.stamp += 1;
                let k = n as usize;
                if k < RECORDED {
                    self.vals[k] = val;
                    self.stamps[k] = self.stamp;
                }
                if n == Node::Data {
                    self.data_items.clear();
                } else if n == Node::Logs {
                    self.log_items.clear();
                }
            }
        }
    }

    #[inline(always)]
    fn literal(&mut self, s: &[u8], i: usize, word: &[u8], kind: Kind, node: Node) -> Res<usize> {
        if s.get(i..i + word.len()) == Some(word) {
            self.set(node, Val::of(kind));
            Ok(i + word.len())
        } else {
            Err(NotJson("expecting value"))
        }
    }

    /// Remember the shape of the frame just parsed in full.
    fn learn_shape(&mut self, s: &[u8]) {
        let cut: usize = self.scalars.iter().map(|v| v.end - v.start).sum();
        if s.len().saturating_sub(cut) > MAX_SHAPE_LITERALS {
            return;
        }
        // the least recently used shape's buffers are reused (no allocation once warm)
        let mut shape = if self.shapes.len() >= SHAPES {
            self.shapes.pop().unwrap_or_default()
        } else {
            Shape::default()
        };
        shape.lits.clear();
        shape.lit_ends.clear();
        shape.ints.clear();
        let mut pos = 0;
        for v in &self.scalars {
            shape
                .lits
                .extend_from_slice(s.get(pos..v.start).unwrap_or_default());
            shape.lit_ends.push(shape.lits.len());
            shape.ints.push(v.kind == Kind::Int);
            pos = v.end;
        }
        shape
            .lits
            .extend_from_slice(s.get(pos..).unwrap_or_default());
        shape.lit_ends.push(shape.lits.len());
        let scalars = &self.scalars;
        let source = |v: &Val| -> Source {
            match v.kind {
                Kind::Str | Kind::Int => scalars
                    .binary_search_by_key(&v.start, |x| x.start)
                    .map_or(Source::Absent, |i| Source::Slot(i as u32)),
                k => Source::Fixed(k),
            }
        };
        for k in 0..RECORDED {
            shape.nodes[k] = if self.valid[k] {
                source(&self.vals[k])
            } else {
                Source::Absent
            };
        }
        shape.data_items.clear();
        shape.data_items.extend(self.data_items.iter().map(source));
        shape.log_items.clear();
        shape.log_items.extend(self.log_items.iter().map(source));
        self.shapes.insert(0, shape);
    }

    /// Read `s` as shape `t`: true when it has the shape (the values are then set).
    fn match_shape(&mut self, t: usize, s: &[u8]) -> bool {
        let Some(shape) = self.shapes.get(t) else {
            return false;
        };
        let vals = &mut self.slot_vals;
        vals.clear();
        let (mut pos, mut from) = (0usize, 0usize);
        for (k, &int) in shape.ints.iter().enumerate() {
            let to = shape.lit_ends[k];
            let lit = &shape.lits[from..to];
            if s.get(pos..pos + lit.len()) != Some(lit) {
                return false;
            }
            pos += lit.len();
            from = to;
            if int {
                match scan_num(s, pos) {
                    Ok((end, true)) => {
                        vals.push(Val {
                            kind: Kind::Int,
                            start: pos,
                            end,
                            escaped: false,
                        });
                        pos = end;
                    }
                    _ => return false,
                }
            } else {
                match scan_str(s, pos) {
                    Ok((end, escaped)) => {
                        vals.push(Val {
                            kind: Kind::Str,
                            start: pos,
                            end,
                            escaped,
                        });
                        pos = end;
                    }
                    Err(_) => return false,
                }
            }
        }
        if s.get(pos..) != shape.lits.get(from..) {
            return false;
        }
        let val = |src: Source| match src {
            Source::Slot(i) => vals.get(i as usize).copied(),
            Source::Fixed(k) => Some(Val::of(k)),
            Source::Absent => None,
        };
        for k in 0..RECORDED {
            match val(shape.nodes[k]) {
                Some(v) => {
                    self.vals[k] = v;
                    self.valid[k] = true;
                }
                None => self.valid[k] = false,
            }
        }
        self.data_items.clear();
        self.data_items
            .extend(shape.data_items.iter().filter_map(|&x| val(x)));
        self.log_items.clear();
        self.log_items
            .extend(shape.log_items.iter().filter_map(|&x| val(x)));
        true
    }

    /// Which recorded values count: given in this frame, inside the last value of
    /// their parent, which is an object that counts.
    fn settle(&mut self) {
        for k in 0..RECORDED {
            let given = self.stamps[k] >= self.first;
            self.valid[k] = given
                && match Node::PARENT[k] {
                    None => true,
                    Some(p) => {
                        let p = p as usize;
                        self.valid[p]
                            && self.vals[p].kind == Kind::Obj
                            && self.stamps[k] > self.stamps[p]
                    }
                };
        }
    }

    /// What the last parse read (the values at the nodes), without the shapes learnt:
    /// a copy to hand to [`crate::ingest::FeedIngest::frame_read`] later.
    pub fn snapshot(&self) -> Doc {
        Doc {
            vals: self.vals,
            stamps: self.stamps,
            valid: self.valid,
            first: self.first,
            stamp: self.stamp,
            data_items: self.data_items.clone(),
            log_items: self.log_items.clone(),
            ..Doc::default()
        }
    }

    /// The value at `node`, if the frame has one there.
    #[inline]
    pub fn get(&self, node: Node) -> Option<Val> {
        let k = node as usize;
        (k < RECORDED && self.valid[k]).then(|| self.vals[k])
    }

    /// The items of the array at [`Node::Data`] or [`Node::Logs`] (when
    /// [`Doc::get`] gives an array there).
    pub fn items(&self, node: Node) -> &[Val] {
        match node {
            Node::Data => &self.data_items,
            Node::Logs => &self.log_items,
            _ => &[],
        }
    }
}

/// A member's key at `i` in an object at `parent`, then ':'; returns the key's node and
/// where its value starts.
#[inline(always)]
fn key(s: &[u8], i: usize, parent: Node) -> Res<(Node, usize)> {
    if s.get(i) != Some(&b'"') {
        return Err(NotJson("expecting property name enclosed in double quotes"));
    }
    let (end, escaped) = scan_str(s, i + 1)?;
    let node = if !parent.reads_members() {
        Node::Ignored
    } else {
        let raw = s.get(i + 1..end).unwrap_or_default();
        if escaped {
            let mut name = Vec::with_capacity(raw.len());
            unescape(raw, &mut name);
            parent.child(&name)
        } else {
            parent.child(raw)
        }
    };
    let j = ws(s, end + 1);
    if s.get(j) != Some(&b':') {
        return Err(NotJson("expecting ':' delimiter"));
    }
    Ok((node, ws(s, j + 1)))
}

/// The decoded string `v` (borrowed when it has no escapes), or `None` if it is not one.
pub fn str_of(s: &[u8], v: Val) -> Option<Cow<'_, [u8]>> {
    if v.kind != Kind::Str {
        return None;
    }
    let raw = s.get(v.start..v.end)?;
    if v.escaped {
        let mut out = Vec::with_capacity(raw.len());
        unescape(raw, &mut out);
        Some(Cow::Owned(out))
    } else {
        Some(Cow::Borrowed(raw))
    }
}

/// Whether `v` is the string `lit`.
pub fn str_eq(s: &[u8], v: Val, lit: &[u8]) -> bool {
    str_of(s, v).is_some_and(|t| *t == *lit)
}

/// `v` if it is an integer in u64 (`-0` is 0, as in Python).
pub fn u64_of(s: &[u8], v: Val) -> Option<u64> {
    if v.kind != Kind::Int {
        return None;
    }
    let text = s.get(v.start..v.end)?;
    if let Some(rest) = text.strip_prefix(b"-") {
        return rest.iter().all(|&d| d == b'0').then_some(0);
    }
    text.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> bool {
        Doc::default().parse(s.as_bytes()).is_ok()
    }

    #[test]
    fn accepts_what_python_json_accepts() {
        for s in [
            "{}",
            " [ ] ",
            "[1, -0, 0.5, 1e5, 1E+2, -1.5e-3, NaN, Infinity, -Infinity, null, true, false]",
            r#"{"a": {"b": [1, {"c": "d"}]}, "e": "\u00e9\ud800\udc00\ud800"}"#,
            "\"caf\u{e9}\"",
            "1",
            "\t\n\r 2 \t",
        ] {
            assert!(ok(s), "{s}");
        }
        for s in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{'a':1}",
            "01",
            "1.",
            ".5",
            "-",
            "+1",
            "1e",
            "--1",
            "nul",
            "nan",
            "-NaN",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "\"a\nb\"",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"abc",
            "1 2",
            "[]]",
            "\u{feff}1",
        ] {
            assert!(!ok(s), "{s:?}");
        }
        // invalid UTF-8 inside a string; an encoded surrogate passes
        assert!(Doc::default().parse(b"\"\xff\"").is_err());
        assert!(Doc::default().parse(b"\"\xed\xa0\x80\"").is_ok());
        assert!(Doc::default().parse(b"\"\xc0\x80\"").is_err());
        assert!(Doc::default().parse(b"[\xc3\xa9]").is_err());
    }

    #[test]
    fn digit_runs() {
        for text in [
            "",
            "7",
            "1234567",
            "12345678",
            "123456789",
            "12345678901234567890x",
        ] {
            for tail in ["", "x", ".", "/", ":", "\u{fa}", "9\u{ff}"] {
                let s = format!("{text}{tail}");
                let want = s.bytes().take_while(u8::is_ascii_digit).count();
                assert_eq!(digits(s.as_bytes(), 0), want, "{s:?}");
            }
        }
        let mut all: Vec<u8> = (0..=255u8).collect();
        all.extend(b"0123456789");
        for start in 0..all.len() {
            let want = start
                + all[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            assert_eq!(digits(&all, start), want);
        }
    }

    #[test]
    fn limits() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(ok(&deep(MAX_DEPTH)));
        assert!(!ok(&deep(MAX_DEPTH + 1)));
        assert!(ok(&"7".repeat(MAX_INT_DIGITS)));
        assert!(!ok(&"7".repeat(MAX_INT_DIGITS + 1)));
        assert!(ok(&format!("-{}", "7".repeat(MAX_INT_DIGITS))));
        assert!(ok(&format!("{}.5", "7".repeat(MAX_INT_DIGITS + 10))));
    }

    #[test]
    fn lookups() {
        let s = br#"{"jsonrpc": 1, "method": [true, "x"], "jsonrpc": "2.0", "params": {"subscription": 18446744073709551615, "result": {"context": {"slot": -0}, "value": {"ow\u006eer": "q\/r", "data": ["a", 1], "logs": []}}}}"#;
        let mut d = Doc::default();
        d.parse(s).expect("json");
        let get = |n: Node| d.get(n).expect("present");
        assert!(str_eq(s, get(Node::Jsonrpc), b"2.0"));
        assert_eq!(get(Node::Method).kind, Kind::Arr);
        assert_eq!(u64_of(s, get(Node::Subscription)), Some(u64::MAX));
        assert_eq!(u64_of(s, get(Node::ContextSlot)), Some(0));
        assert_eq!(str_of(s, get(Node::Owner)).as_deref(), Some(&b"q/r"[..]));
        assert_eq!(d.items(Node::Data).len(), 2);
        assert_eq!(d.items(Node::Data)[1].kind, Kind::Int);
        assert!(d.items(Node::Logs).is_empty() && d.get(Node::Signature).is_none());
        // a value given again replaces the old one with everything read inside it
        let s = br#"{"params": {"subscription": 1, "result": {"slot": 5}}, "params": {"subscription": 2}}"#;
        d.parse(s).expect("json");
        assert_eq!(
            d.get(Node::Subscription).and_then(|v| u64_of(s, v)),
            Some(2)
        );
        assert!(d.get(Node::Result).is_none() && d.get(Node::ResultSlot).is_none());
        let s = br#"{"params": {"result": {"slot": 5}}, "params": 7}"#;
        d.parse(s).expect("json");
        assert!(d.get(Node::Result).is_none());
        // outside the read places nothing is recorded, but everything is checked
        let s = br#"{"x": {"params": {"subscription": 3}}, "y": [{"data": 1}]}"#;
        d.parse(s).expect("json");
        assert!(d.get(Node::Params).is_none() && d.get(Node::Subscription).is_none());
        assert!(d
            .parse(br#"{"x": {"params": {"subscription": 3,}}}"#)
            .is_err());
        let s = br#"[18446744073709551616, -1]"#;
        d.parse(s).expect("json");
        assert_eq!(d.get(Node::Root).map(|v| v.kind), Some(Kind::Arr));
        let big = Val {
            kind: Kind::Int,
            start: 1,
            end: 21,
            escaped: false,
        };
        assert_eq!(u64_of(s, big), None);
    }

    #[test]
    fn shapes_read_like_a_parse() {
        let mut d = Doc::default();
        let a = br#"{"k": "v", "n": 12, "params": {"subscription": 7, "result": {"slot": 5}}, "z": null}"#;
        d.parse(a).expect("json");
        assert_eq!(d.shapes.len(), 1);
        // same shape, other values: matched, not parsed
        let b = br#"{"k": "w\u0041", "n": -0, "params": {"subscription": 18446744073709551615, "result": {"slot": 6}}, "z": null}"#;
        d.parse(b).expect("json");
        assert_eq!(d.shapes.len(), 1);
        assert_eq!(
            d.get(Node::Subscription).and_then(|v| u64_of(b, v)),
            Some(u64::MAX)
        );
        assert_eq!(d.get(Node::ResultSlot).and_then(|v| u64_of(b, v)), Some(6));
        // a value of another kind, a bad string, a float: not the shape; the parse decides
        for (f, ok) in [
            (&br#"{"k": 1, "n": 12, "params": {"subscription": 7, "result": {"slot": 5}}, "z": null}"#[..], true),
            (br#"{"k": "v", "n": 1.5, "params": {"subscription": 7, "result": {"slot": 5}}, "z": null}"#, true),
            (br#"{"k": "v\q", "n": 12, "params": {"subscription": 7, "result": {"slot": 5}}, "z": null}"#, false),
            (br#"{"k": "v", "n": 12, "params": {"subscription": 7, "result": {"slot": 5}}, "z": nul}"#, false),
            (br#"{"k": "v", "n": 012, "params": {"subscription": 7, "result": {"slot": 5}}, "z": null}"#, false),
            (br#"{"k": "v", "n": 12, "params": {"subscription": 7, "result": {"slot": 5}}, "z": null} x"#, false),
        ] {
            assert_eq!(d.parse(f).is_ok(), ok, "{}", String::from_utf8_lossy(f));
        }
        // a key given twice keeps its last value through the shape too
        let c = br#"{"params": {"subscription": 1, "subscription": 2, "result": {"slot": 3}}}"#;
        d.parse(c).expect("json");
        let c2 = br#"{"params": {"subscription": 8, "subscription": 9, "result": {"slot": 4}}}"#;
        d.parse(c2).expect("json");
        assert_eq!(
            d.get(Node::Subscription).and_then(|v| u64_of(c2, v)),
            Some(9)
        );
    }

    #[test]
    fn encodings() {
        let utf16le: Vec<u8> = "{\"a\":\"\u{e9}\"}"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let t = text_of(Input::Bytes(&utf16le)).expect("utf-16");
        assert_eq!(&*t, "{\"a\":\"\u{e9}\"}".as_bytes());
        let mut bom = vec![0xff, 0xfe];
        bom.extend_from_slice(&utf16le);
        assert_eq!(&*text_of(Input::Bytes(&bom)).expect("bom"), &*t);
        let utf32be: Vec<u8> = "[1]"
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        assert_eq!(&*text_of(Input::Bytes(&utf32be)).expect("utf-32"), b"[1]");
        assert_eq!(
            &*text_of(Input::Bytes(b"\xef\xbb\xbf[1]")).expect("sig"),
            b"[1]"
        );
        assert!(text_of(Input::Text(b"\xef\xbb\xbf[1]")).is_err());
        assert!(text_of(Input::Bytes(b"\x00[\x001\x00")).is_err()); // odd UTF-16
        assert_eq!(
            &*text_of(Input::Bytes(b"\x00[1")).expect("utf-8"),
            b"\x00[1"
        );
        let mut u = Vec::new();
        unescape(br"a\n\u00e9\ud83d\ude00\udc00", &mut u);
        assert_eq!(u, b"a\n\xc3\xa9\xf0\x9f\x98\x80\xed\xb0\x80");
    }
}
