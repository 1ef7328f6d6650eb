//! The last copy of each large account's data a recording stored, kept by the ingest so
//! a replay hands it a delta instead of a restored frame ([`super::FeedIngest::frame_delta`]).
//!
//! A copy is the span of a frame the journal cut out (an order book side's base64 data,
//! ~121 KB); a delta says how the next copy under the same key differs from it: `FULL`
//! (the span itself), `SAME` (nothing: the copy unchanged) or `RANGES` (`count u32`, then
//! per range `u32` bytes since the last range's end and `u32` length, then the ranges'
//! new bytes, little endian: `storage.delta.changes`). Checked before anything is
//! written: a damaged delta leaves the copy as it was.

use std::collections::HashMap;

use twox_hash::XxHash3_128;

use crate::decode;
use crate::error::{EngineError, Result};

/// The span itself.
pub const FULL: u8 = 0;
/// The copy unchanged.
pub const SAME: u8 = 1;
/// Ranges written over the copy.
pub const RANGES: u8 = 2;

fn damaged(what: &str) -> EngineError {
    EngineError::InvalidInput(format!("a delta is damaged ({what})"))
}

/// A copy: the span (base64 text), and the bytes it decodes to when it does (`ok`),
/// kept up to date range by range (a `SAME` or `RANGES` copy is then not decoded whole);
/// `hashed`: the dedup key's hasher fed with `owner ‖ 0 ‖ decoded` (the owner it was fed
/// with first), while `decoded` is unchanged (a `SAME` copy's frame then hashes only the
/// key's last bytes, not the ~91 KB again).
#[derive(Default)]
pub struct Copy {
    pub span: Vec<u8>,
    pub decoded: Vec<u8>,
    pub ok: bool,
    pub hashed: Option<(Vec<u8>, Box<XxHash3_128>)>,
}

impl std::fmt::Debug for Copy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Copy")
            .field("span", &self.span.len())
            .field("decoded", &self.decoded.len())
            .field("ok", &self.ok)
            .field("hashed", &self.hashed.is_some())
            .finish()
    }
}

impl Copy {
    fn decode_all(&mut self) {
        self.hashed = None;
        self.decoded.clear();
        self.ok = decode::b64decode_into(&self.span, &mut self.decoded).is_ok();
    }

    /// `decoded` after the ranges of `body` (checked already) were written over `span`:
    /// only the 4-character groups they touch decoded again, whole when one touches the
    /// last group (its padding) or a group does not decode to 3 bytes.
    fn redecode(&mut self, body: &[u8]) {
        self.hashed = None;
        let n = self.span.len();
        if !self.ok || !n.is_multiple_of(4) || n < 8 {
            return self.decode_all();
        }
        let count = word(body, 0).unwrap_or(0);
        let mut pos = 0usize;
        let mut tmp = Vec::with_capacity(48);
        for i in 0..count {
            let (Some(gap), Some(len)) = (word(body, 4 + 8 * i), word(body, 8 + 8 * i)) else {
                return self.decode_all();
            };
            let start = pos + gap;
            pos = start + len;
            let (q0, q1) = (start / 4, pos.div_ceil(4));
            if q1 * 4 > n - 4 {
                return self.decode_all(); // the last group: its padding
            }
            tmp.clear();
            let text = &self.span[q0 * 4..q1 * 4];
            if decode::b64decode_into(text, &mut tmp).is_err() || tmp.len() != (q1 - q0) * 3 {
                return self.decode_all();
            }
            self.decoded[q0 * 3..q1 * 3].copy_from_slice(&tmp);
        }
    }
}

/// The copies, by key.
#[derive(Debug, Default)]
pub struct Copies {
    spans: HashMap<Vec<u8>, Copy>,
}

impl Copies {
    /// The copy under `key` after `how` and `body` (see the module doc): its bytes.
    /// `InvalidInput` when there is none to change, or the delta does not fit it.
    pub fn update(&mut self, key: &[u8], how: u8, body: &[u8]) -> Result<&mut Copy> {
        match how {
            FULL => {
                let copy = self.spans.entry(key.to_vec()).or_default();
                copy.span.clear();
                copy.span.extend_from_slice(body);
                copy.decode_all();
                Ok(copy)
            }
            SAME | RANGES => {
                let copy = self.spans.get_mut(key).ok_or_else(|| {
                    EngineError::InvalidInput("a delta refers to a copy not held".into())
                })?;
                if how == SAME {
                    if !body.is_empty() {
                        return Err(damaged("a SAME delta with a body"));
                    }
                } else {
                    write_ranges(&mut copy.span, body)?;
                    copy.redecode(body);
                }
                Ok(copy)
            }
            other => Err(damaged(&format!("how {other}"))),
        }
    }

    /// The copy under `key`.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Copy> {
        self.spans.get_mut(key)
    }

    /// Forget the copy under `key` (none: nothing).
    pub fn drop_copy(&mut self, key: &[u8]) {
        self.spans.remove(key);
    }

    /// How many copies are held, and their bytes.
    pub fn size(&self) -> (usize, usize) {
        (
            self.spans.len(),
            self.spans.values().map(|c| c.span.len()).sum(),
        )
    }
}

/// A frame stored as a delta, cut where [`super::FeedIngest::frame_delta`] takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFrame<'a> {
    pub key: &'a [u8],
    pub head: &'a [u8],
    pub how: u8,
    pub body: &'a [u8],
    pub tail: &'a [u8],
}

/// What a journal's `DELTA` input's payload holds ([`stored`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// A PubSub frame's delta, its lengths consistent.
    Frame(StoredFrame<'a>),
    /// Another input's delta (an HTTP account's): not a frame.
    Other,
    /// A frame's delta cut short, or its lengths disagree (`storage.delta`'s reader
    /// says the same of it).
    Damaged,
}

/// The storage kind of a PubSub frame (`storage.codec.Kind.FRAME`).
const STORED_FRAME: u8 = 1;

/// A journal's `DELTA` input's payload (`storage.delta`: kind u8, how u8, key length u8,
/// the key, then start u32, span length u32, rest length u32 and version u32, little
/// endian, then the frame without its span — `rest`, the span was at `start` —, then the
/// body): a frame's cut into key, head (`rest[..start]`), how, body and tail
/// (`rest[start..]`), checked as the journal's reader checks it short of its table
/// (`Restorer._read`: a known `how`, a `FULL` body as long as the span, a `SAME` one
/// empty, `start` within the rest); the version is the reader's to check.
pub fn stored(p: &[u8]) -> Stored<'_> {
    if p.first() != Some(&STORED_FRAME) {
        return Stored::Other;
    }
    let (Some(&how), Some(&klen)) = (p.get(1), p.get(2)) else {
        return Stored::Damaged;
    };
    let off = 3 + usize::from(klen);
    let (Some(key), Some(start), Some(span_len), Some(rest_len)) = (
        p.get(3..off),
        word(p, off),
        word(p, off + 4),
        word(p, off + 8),
    ) else {
        return Stored::Damaged;
    };
    if p.len() < off + 16 {
        return Stored::Damaged;
    }
    let rest_at = off + 16;
    let Some(body_at) = rest_at.checked_add(rest_len).filter(|&b| b <= p.len()) else {
        return Stored::Damaged;
    };
    let body_len = p.len() - body_at;
    let fits = match how {
        FULL => body_len == span_len,
        SAME => body_len == 0,
        RANGES => true,
        _ => false,
    };
    if !fits || start > rest_len {
        return Stored::Damaged;
    }
    Stored::Frame(StoredFrame {
        key,
        head: &p[rest_at..rest_at + start],
        how,
        body: &p[body_at..],
        tail: &p[rest_at + start..body_at],
    })
}

fn word(b: &[u8], at: usize) -> Option<usize> {
    let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(w)).ok()
}

/// `body`'s ranges written over `span`, checked whole first (nothing written when they
/// do not fit).
fn write_ranges(span: &mut [u8], body: &[u8]) -> Result<()> {
    let cut = || damaged("its ranges are cut short");
    let count = word(body, 0).ok_or_else(cut)?;
    let steps_end = count
        .checked_mul(8)
        .and_then(|n| n.checked_add(4))
        .filter(|&n| n <= body.len())
        .ok_or_else(cut)?;
    let (mut pos, mut at) = (0usize, steps_end);
    for i in 0..count {
        let gap = word(body, 4 + 8 * i).ok_or_else(cut)?;
        let n = word(body, 8 + 8 * i).ok_or_else(cut)?;
        let start = pos.checked_add(gap).ok_or_else(cut)?;
        pos = start.checked_add(n).ok_or_else(cut)?;
        at = at.checked_add(n).ok_or_else(cut)?;
    }
    if pos > span.len() || at != body.len() {
        return Err(damaged("its ranges do not fit"));
    }
    let (mut pos, mut at) = (0usize, steps_end);
    for i in 0..count {
        let (gap, n) = (word(body, 4 + 8 * i), word(body, 8 + 8 * i));
        let (Some(gap), Some(n)) = (gap, n) else {
            return Err(cut());
        };
        let start = pos + gap;
        span[start..start + n].copy_from_slice(&body[at..at + n]);
        pos = start + n;
        at += n;
    }
    Ok(())
}

/// Changed words closer than this many bytes are one range (a range costs 8 bytes):
/// `storage.delta.GAP`, part of the journal's format.
pub const GAP: usize = 16;

/// What turns `base` into `span` (the same length): the ranges where they differ, as
/// `RANGES` bodies are written (`count u32`, then per range `u32` bytes since the last
/// range's end and `u32` length, then the ranges' new bytes, little endian), byte for
/// byte `storage.delta.changes`: compared 8 bytes at a time, a range is whole words (the
/// last one cut at the end), words less than [`GAP`] bytes apart are one range, and the
/// bytes past the last whole word join the last range when it ends within [`GAP`] of
/// them. Equal spans give no range. `InvalidInput` when the lengths differ or a length
/// does not fit in u32.
pub fn changes(base: &[u8], span: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    changes_into(base, span, &mut out)?;
    Ok(out)
}

/// [`changes`] appended to `out` (nothing appended on an error).
pub fn changes_into(base: &[u8], span: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let n = span.len();
    if base.len() != n {
        return Err(EngineError::InvalidInput(format!(
            "a delta's copy has {} bytes and the span {n}",
            base.len()
        )));
    }
    if u32::try_from(n).is_err() {
        return Err(EngineError::InvalidInput(format!(
            "a span of {n} bytes is over a delta's u32 lengths"
        )));
    }
    let k = n / 8;
    let words = 8 * k;
    // (start, end) of each range, in bytes
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut i = 0usize;
    const BLOCK: usize = 64;
    while i < words {
        // equal blocks skipped whole (a requoted book side differs in a few hundred bytes)
        if i + BLOCK <= words && base[i..i + BLOCK] == span[i..i + BLOCK] {
            i += BLOCK;
            continue;
        }
        if base[i..i + 8] != span[i..i + 8] {
            match ranges.last_mut() {
                // this word starts at most GAP bytes after the last range's last word
                Some(last) if i + 8 - last.1 <= GAP => last.1 = i + 8,
                _ => ranges.push((i, i + 8)),
            }
        }
        i += 8;
    }
    if base[words..] != span[words..] {
        match ranges.last_mut() {
            Some(last) if last.1 + GAP >= words => last.1 = n,
            _ => ranges.push((words, n)),
        }
    }
    let new: usize = ranges.iter().map(|(s, e)| e - s).sum();
    out.reserve(4 + 8 * ranges.len() + new);
    // n fits in u32 (checked), so every offset below does
    let u = |x: usize| (x as u32).to_le_bytes();
    out.extend_from_slice(&u(ranges.len()));
    let mut pos = 0usize;
    for &(s, e) in &ranges {
        out.extend_from_slice(&u(s - pos));
        out.extend_from_slice(&u(e - s));
        pos = e;
    }
    for &(s, e) in &ranges {
        out.extend_from_slice(&span[s..e]);
    }
    Ok(())
}

/// A journal input's header (`storage.codec.HEADER`, `<BHqqI`): kind, endpoint, receive
/// ns, wall µs, payload length.
pub const JOURNAL_HEADER: usize = 23;
/// `storage.codec.Kind.FRAME`: a frame stored whole.
pub const JOURNAL_FRAME: u8 = 1;

/// Whether `needle` occurs in `hay` (an empty one does): its first byte sought, then
/// the rest compared there.
fn holds(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    hay[..=last]
        .iter()
        .enumerate()
        .any(|(i, &b)| b == first && hay[i + 1..i + needle.len()] == *rest)
}

/// What [`scan_frames`] found: where it stopped, the frames' offsets and receive ns,
/// one past their highest endpoint, and whether the last one is a slot notification.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FrameScan {
    pub end: usize,
    pub offsets: Vec<usize>,
    pub ts: Vec<i64>,
    pub top: u32,
    pub noticed: bool,
}

/// The frames stored whole (`JOURNAL_FRAME`, header and payload within `raw`) that
/// follow one another in a decompressed chunk from `start`: up to the first input that
/// is not one (another kind, a header or payload cut short: the reader's to say), or
/// through the first whose payload's first `within` bytes hold `notice` (a slot
/// notification ends a replay's run of frames).
pub fn scan_frames(raw: &[u8], start: usize, notice: &[u8], within: usize) -> FrameScan {
    let mut s = FrameScan {
        end: start,
        ..FrameScan::default()
    };
    let mut pos = start;
    while let Some(head) = raw.get(pos..pos.saturating_add(JOURNAL_HEADER)) {
        if head[0] != JOURNAL_FRAME {
            break;
        }
        let ep = u32::from(u16::from_le_bytes([head[1], head[2]]));
        let mut t = [0u8; 8];
        t.copy_from_slice(&head[3..11]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&head[19..23]);
        let body = pos + JOURNAL_HEADER;
        let Some(end) = usize::try_from(u32::from_le_bytes(n))
            .ok()
            .and_then(|n| body.checked_add(n))
        else {
            break;
        };
        let Some(payload) = raw.get(body..end) else {
            break;
        };
        s.offsets.push(pos);
        s.ts.push(i64::from_le_bytes(t));
        s.top = s.top.max(ep + 1);
        pos = end;
        s.end = end;
        if holds(&payload[..payload.len().min(within)], notice) {
            s.noticed = true;
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(parts: &[(u32, &[u8])]) -> Vec<u8> {
        let mut b = (parts.len() as u32).to_le_bytes().to_vec();
        for (gap, new) in parts {
            b.extend_from_slice(&gap.to_le_bytes());
            b.extend_from_slice(&(new.len() as u32).to_le_bytes());
        }
        for (_, new) in parts {
            b.extend_from_slice(new);
        }
        b
    }

    fn delta(
        kind: u8,
        how: u8,
        key: &[u8],
        head: &[u8],
        tail: &[u8],
        span: u32,
        body: &[u8],
    ) -> Vec<u8> {
        let mut p = vec![kind, how, key.len() as u8];
        p.extend_from_slice(key);
        for w in [head.len() as u32, span, (head.len() + tail.len()) as u32, 7] {
            p.extend_from_slice(&w.to_le_bytes());
        }
        p.extend_from_slice(head);
        p.extend_from_slice(tail);
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn a_stored_delta_is_cut_as_the_journal_reads_it() {
        let p = delta(1, FULL, b"pK", b"{\"h\":\"", b"\"}", 4, b"abcd");
        let want = StoredFrame {
            key: b"pK",
            head: b"{\"h\":\"",
            how: FULL,
            body: b"abcd",
            tail: b"\"}",
        };
        assert_eq!(stored(&p), Stored::Frame(want));
        let same = delta(1, SAME, b"pK", b"h", b"t", 4, b"");
        assert!(matches!(stored(&same), Stored::Frame(f) if f.how == SAME && f.body.is_empty()));
        let r = delta(1, RANGES, b"", b"", b"", 4, &ranges(&[(1, b"X")]));
        assert!(matches!(stored(&r), Stored::Frame(f) if f.key.is_empty() && f.how == RANGES));
        // an account's delta: not a frame's; nothing: not a frame's either
        assert_eq!(
            stored(&delta(2, FULL, b"aK", b"", b"", 4, b"abcd")),
            Stored::Other
        );
        assert_eq!(stored(b""), Stored::Other);
        // the lengths disagree, an unknown how, cut short anywhere
        for bad in [
            delta(1, FULL, b"pK", b"h", b"t", 5, b"abcd"),
            delta(1, SAME, b"pK", b"h", b"t", 4, b"x"),
            delta(1, 3, b"pK", b"h", b"t", 4, b""),
        ] {
            assert_eq!(stored(&bad), Stored::Damaged);
        }
        for n in 1..p.len() - 4 {
            assert_eq!(stored(&p[..n]), Stored::Damaged, "{n}");
        }
        let mut late = p.clone();
        late[3 + 2..3 + 2 + 4].copy_from_slice(&9u32.to_le_bytes()); // start past the rest
        assert_eq!(stored(&late), Stored::Damaged);
    }

    /// The ranges of a `changes` body, as (start, end) in bytes.
    fn ranges_of(body: &[u8]) -> Vec<(usize, usize)> {
        let count = word(body, 0).unwrap();
        let mut pos = 0;
        (0..count)
            .map(|i| {
                let start = pos + word(body, 4 + 8 * i).unwrap();
                pos = start + word(body, 8 + 8 * i).unwrap();
                (start, pos)
            })
            .collect()
    }

    #[test]
    fn changes_written_over_the_copy_give_the_span_back() {
        // a deterministic walk of lengths and edits: written over the copy, the ranges
        // give the span, and they cover every differing byte and nothing past the span
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for n in [
            0usize, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 1_000, 4_099,
        ] {
            for _ in 0..40 {
                let base: Vec<u8> = (0..n).map(|_| next() as u8).collect();
                let mut span = base.clone();
                for _ in 0..(next() % 6) {
                    if n > 0 {
                        let at = (next() as usize) % n;
                        span[at] = span[at].wrapping_add(1 + (next() % 255) as u8);
                    }
                }
                let body = changes(&base, &span).unwrap();
                let mut copy = base.clone();
                write_ranges(&mut copy, &body).unwrap();
                assert_eq!(copy, span, "n {n}");
                let rs = ranges_of(&body);
                for (j, (&a, &b)) in base.iter().zip(&span).enumerate() {
                    if a != b {
                        assert!(rs.iter().any(|&(s, e)| s <= j && j < e), "byte {j} of {n}");
                    }
                }
                assert!(rs.iter().all(|&(s, e)| s < e && e <= n));
                assert!(rs.windows(2).all(|w| w[0].1 + GAP < w[1].0 + 8));
            }
        }
    }

    #[test]
    fn changes_keeps_words_apart_past_the_gap_and_joins_them_within_it() {
        let base = vec![b'A'; 80];
        let edit = |at: &[usize]| {
            let mut s = base.clone();
            for &i in at {
                s[i] = b'B';
            }
            ranges_of(&changes(&base, &s).unwrap())
        };
        assert_eq!(edit(&[]), vec![]);
        assert_eq!(edit(&[3]), vec![(0, 8)]);
        // words 0 and 2 (16 bytes between their starts): one range; 0 and 3: two
        assert_eq!(edit(&[0, 16]), vec![(0, 24)]);
        assert_eq!(edit(&[0, 24]), vec![(0, 8), (24, 32)]);
        // past the last whole word: its own range, or the last one's when within GAP
        let base = vec![b'A'; 83];
        let mut s = base.clone();
        s[82] = b'B';
        assert_eq!(ranges_of(&changes(&base, &s).unwrap()), vec![(80, 83)]);
        s[64] = b'B';
        assert_eq!(ranges_of(&changes(&base, &s).unwrap()), vec![(64, 83)]);
        s[64] = b'A';
        s[56] = b'B'; // ends at 64: within GAP of 80
        assert_eq!(ranges_of(&changes(&base, &s).unwrap()), vec![(56, 83)]);
        s[56] = b'A';
        s[48] = b'B'; // ends at 56: not
        assert_eq!(
            ranges_of(&changes(&base, &s).unwrap()),
            vec![(48, 56), (80, 83)]
        );
        assert!(changes(b"ab", b"abc").is_err());
    }

    #[test]
    fn full_same_ranges() {
        let mut c = Copies::default();
        assert!(c.update(b"k", SAME, b"").is_err());
        assert_eq!(c.update(b"k", FULL, b"abcdefgh").unwrap().span, b"abcdefgh");
        assert_eq!(c.update(b"k", SAME, b"").unwrap().span, b"abcdefgh");
        let body = ranges(&[(1, b"XY"), (2, b"Z")]);
        assert_eq!(c.update(b"k", RANGES, &body).unwrap().span, b"aXYdeZgh");
        // past the end, or bytes left over: refused, the copy unchanged
        assert!(c.update(b"k", RANGES, &ranges(&[(7, b"XY")])).is_err());
        let mut extra = ranges(&[(0, b"Q")]);
        extra.push(0);
        assert!(c.update(b"k", RANGES, &extra).is_err());
        assert!(c.update(b"k", RANGES, &[1, 0, 0]).is_err());
        assert!(c.update(b"k", 3, b"").is_err());
        assert_eq!(c.update(b"k", SAME, b"").unwrap().span, b"aXYdeZgh");
        assert_eq!(c.size(), (1, 8));
        c.drop_copy(b"k");
        assert_eq!(c.size(), (0, 0));
    }

    #[test]
    fn the_decoded_bytes_follow_the_ranges() {
        use base64::Engine as _;
        let b64 = |d: &[u8]| {
            base64::engine::general_purpose::STANDARD
                .encode(d)
                .into_bytes()
        };
        let mut data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut c = Copies::default();
        let mut text = b64(&data);
        assert!(c.update(b"k", FULL, &text).unwrap().ok);
        for (at, v) in [(0usize, 1u8), (1500, 2), (2998, 3), (2999, 4), (777, 5)] {
            data[at] = v;
            let new = b64(&data);
            let diff: Vec<usize> = (0..new.len()).filter(|&i| new[i] != text[i]).collect();
            let (lo, hi) = (diff[0], diff[diff.len() - 1] + 1);
            let body = ranges(&[(lo as u32, &new[lo..hi])]);
            let copy = c.update(b"k", RANGES, &body).unwrap();
            assert!(copy.ok);
            assert_eq!(copy.span, new);
            assert_eq!(copy.decoded, data);
            text = new;
        }
        // a character outside the alphabet: not decoded (the frame's own path says why)
        let body = ranges(&[(100, b"!")]);
        assert!(!c.update(b"k", RANGES, &body).unwrap().ok);
    }

    fn packed(kind: u8, ep: u16, t: i64, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![kind];
        v.extend_from_slice(&ep.to_le_bytes());
        v.extend_from_slice(&t.to_le_bytes());
        v.extend_from_slice(&0i64.to_le_bytes());
        v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn a_scan_takes_whole_frames_up_to_a_notice_or_another_input() {
        let mut raw = packed(JOURNAL_FRAME, 2, 10, b"{\"a\"}");
        let b = raw.len();
        raw.extend(packed(JOURNAL_FRAME, 0, 11, b"{\"slotNotification\"}"));
        let c = raw.len();
        raw.extend(packed(JOURNAL_FRAME, 5, 12, b"x"));
        let d = raw.len();
        raw.extend(packed(21, 0, 13, b"delta"));
        let s = scan_frames(&raw, 0, b"slotNotification", 256);
        assert_eq!(
            s,
            FrameScan {
                end: c,
                offsets: vec![0, b],
                ts: vec![10, 11],
                top: 3,
                noticed: true
            }
        );
        let s = scan_frames(&raw, c, b"slotNotification", 256);
        assert_eq!((s.end, s.offsets, s.top, s.noticed), (d, vec![c], 6, false));
        // past the notice's window: not seen; a payload cut short: not taken
        assert!(!scan_frames(&raw, 0, b"slotNotification", 3).noticed);
        let s = scan_frames(&raw[..c - 1], 0, b"slotNotification", 256);
        assert_eq!((s.end, s.offsets), (b, vec![0]));
        assert_eq!(
            scan_frames(&raw, d, b"x", 256),
            FrameScan {
                end: d,
                ..FrameScan::default()
            }
        );
        assert_eq!(
            scan_frames(&raw, raw.len() + 5, b"x", 256).end,
            raw.len() + 5
        );
    }
}
