//! The journal's writer side of large accounts stored as deltas (`storage.delta`): a
//! recording session hands every input it records to [`DeltaEncoder::encode`], in order,
//! inside the frame's receipt; an input whose payload holds a long span (a PubSub
//! frame's base64 account data, an HTTP account's bytes) comes back as a `DELTA` input
//! against the last copy stored under the same key, byte for byte what
//! `storage.delta.Encoder` writes, with the same table of copies (the least recently
//! stored go first past the table's bytes), so the journal's reader restores it.
//!
//! The layout of a `DELTA` input (little endian):
//! `kind u8 | how u8 | key length u8 | key | start u32 | span length u32 | rest length u32
//! | version u32 | rest (the payload without the span) | body`, `how` one of
//! [`FULL`], [`SAME`], [`RANGES`] (the body then [`changes`]' ranges).

use std::collections::{BTreeMap, HashMap};

use crate::error::{EngineError, Result};
use crate::ingest::copies::{changes_into, FULL, JOURNAL_FRAME, RANGES, SAME};

/// A span shorter than this stays in its input (`storage.delta.MIN_SPAN`).
pub const MIN_SPAN: usize = 512;
/// The copies a table keeps, in bytes of spans (`storage.delta.TABLE_BYTES`).
pub const TABLE_BYTES: usize = 64 << 20;
/// `storage.codec.Kind`: a PubSub frame, an HTTP account, a delta.
pub const KIND_FRAME: u8 = JOURNAL_FRAME;
pub const KIND_ACCOUNT: u8 = 2;
pub const KIND_DELTA: u8 = 21;

const DATA: &[u8] = b"\"data\":";
const PUBKEY: &[u8] = b"\"pubkey\":\"";
const SUB: &[u8] = b"\"subscription\":";

/// The first `needle` wholly within `hay[from..to]` (Python's `bytes.find(needle,
/// from, to)`).
fn find(hay: &[u8], needle: &[u8], from: usize, to: usize) -> Option<usize> {
    let to = to.min(hay.len());
    if from > to {
        return None;
    }
    memchr::memmem::find(&hay[from..to], needle).map(|i| from + i)
}

/// The last `needle` wholly within `hay[from..]` (`bytes.rfind(needle, from)`).
fn rfind(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let window = hay.get(from..)?;
    memchr::memmem::rfind(window, needle).map(|i| from + i)
}

/// Where a span is and what it is keyed by.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    key: Vec<u8>,
    start: usize,
    end: usize,
}

/// The last stored copy of each key's span, its version, and the order they were stored
/// in (`storage.delta._Copies`).
#[derive(Debug, Default)]
struct Table {
    limit: usize,
    size: usize,
    seq: u64,
    spans: HashMap<Vec<u8>, (Vec<u8>, u32, u64)>,
    order: BTreeMap<u64, Vec<u8>>,
}

impl Table {
    /// `span` stored under `key` (`unchanged`: it equals the copy held, not copied again).
    fn store(&mut self, key: &[u8], span: &[u8], unchanged: bool) {
        self.seq += 1;
        let seq = self.seq;
        match self.spans.get_mut(key) {
            Some((old, version, at)) => {
                self.size = self.size - old.len() + span.len();
                if !unchanged {
                    old.clear();
                    old.extend_from_slice(span);
                }
                *version = version.wrapping_add(1);
                self.order.remove(at);
                *at = seq;
            }
            None => {
                self.size += span.len();
                self.spans.insert(key.to_vec(), (span.to_vec(), 1, seq));
            }
        }
        self.order.insert(seq, key.to_vec());
        // the least recently stored let go until within the limit (the last one stays)
        while self.size > self.limit && self.spans.len() > 1 {
            let Some((_, gone)) = self.order.pop_first() else {
                break;
            };
            if let Some((span, _, _)) = self.spans.remove(&gone) {
                self.size -= span.len();
            }
        }
    }
}

/// What turns each recorded input into its stored form (see the module doc).
#[derive(Debug)]
pub struct DeltaEncoder {
    table: Table,
    subs: HashMap<(u16, u128), Vec<u8>>,
    /// Inputs stored as deltas, and of them spans equal to their copy.
    pub deltas: u64,
    pub same: u64,
}

impl Default for DeltaEncoder {
    fn default() -> Self {
        Self::new(TABLE_BYTES)
    }
}

impl DeltaEncoder {
    /// An encoder whose table keeps at most `limit` bytes of copies.
    pub fn new(limit: usize) -> Self {
        Self {
            table: Table {
                limit,
                ..Table::default()
            },
            subs: HashMap::new(),
            deltas: 0,
            same: 0,
        }
    }

    /// An account subscription's notifications on `endpoint` under `subscription` are
    /// keyed by its account (`p` + `account`) from now on.
    pub fn bind(&mut self, endpoint: u16, subscription: u128, account: &[u8]) {
        self.subs.insert((endpoint, subscription), account.to_vec());
    }

    /// How many copies the table holds, and their bytes.
    pub fn copies(&self) -> (usize, usize) {
        (self.table.spans.len(), self.table.size)
    }

    /// The stored form of an input of `kind` (`storage.codec.Kind`) from `endpoint`:
    /// `None` when it is stored as it is (short, no span, another kind), else the
    /// `DELTA` input's payload. `InvalidInput` for a payload over a delta's u32 lengths.
    pub fn encode(&mut self, kind: u8, endpoint: u16, payload: &[u8]) -> Result<Option<Vec<u8>>> {
        if payload.len() < MIN_SPAN {
            return Ok(None);
        }
        let found = match kind {
            KIND_FRAME => self.frame_span(payload, endpoint),
            KIND_ACCOUNT => account_span(payload),
            _ => None,
        };
        let Some(Found { key, start, end }) = found else {
            return Ok(None);
        };
        if u32::try_from(payload.len()).is_err() {
            return Err(EngineError::InvalidInput(format!(
                "an input of {} bytes is over a delta's u32 lengths",
                payload.len()
            )));
        }
        let span = &payload[start..end];
        let rest = payload.len() - span.len();
        let mut out = Vec::with_capacity(3 + key.len() + 16 + rest + 64);
        let last = self.table.spans.get(&key);
        let (how, version) = match last {
            Some((base, v, _)) if base.len() == span.len() => {
                if base.as_slice() == span {
                    (SAME, *v)
                } else {
                    (RANGES, *v)
                }
            }
            _ => (FULL, 0),
        };
        let u = |x: usize| (x as u32).to_le_bytes(); // (every length fits: checked above)
        out.extend_from_slice(&[kind, how, key.len() as u8]);
        out.extend_from_slice(&key);
        out.extend_from_slice(&u(start));
        out.extend_from_slice(&u(span.len()));
        out.extend_from_slice(&u(rest));
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&payload[..start]);
        out.extend_from_slice(&payload[end..]);
        match how {
            FULL => out.extend_from_slice(span),
            RANGES => {
                if let Some((base, _, _)) = last {
                    changes_into(base, span, &mut out)?;
                }
            }
            _ => self.same += 1,
        }
        self.table.store(&key, span, how == SAME);
        self.deltas += 1;
        Ok(Some(out))
    }

    /// `storage.delta.frame_span`: the key and span of a PubSub frame's account data.
    fn frame_span(&self, p: &[u8], endpoint: u16) -> Option<Found> {
        let i = find(p, DATA, 0, p.len())?;
        let q = find(p, b"\"", i + DATA.len(), p.len())?;
        if p[i + DATA.len()..q]
            .iter()
            .any(|b| !matches!(b, b' ' | b'[' | b'\t' | b'\r' | b'\n'))
        {
            return None; // not a string (or a list's first string) after "data":
        }
        let start = q + 1;
        let end = find(p, b"\"", start, p.len())?;
        if end - start < MIN_SPAN {
            return None;
        }
        if let Some(k) = find(p, PUBKEY, 0, i) {
            let k = k + PUBKEY.len();
            if let Some(close) = find(p, b"\"", k, i) {
                if close > k && close - k <= 64 {
                    let mut key = Vec::with_capacity(1 + close - k);
                    key.push(b'p');
                    key.extend_from_slice(&p[k..close]);
                    return Some(Found { key, start, end });
                }
            }
        }
        let s = rfind(p, SUB, end)? + SUB.len();
        let window = &p[s..(s + 24).min(p.len())];
        let digits = &window[window.iter().take_while(|&&b| b == b' ').count()..];
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let digits = &digits[..n];
        // at most 24 digits: under 2^80
        let sid = digits
            .iter()
            .fold(0u128, |acc, d| acc * 10 + u128::from(d - b'0'));
        let key = match self.subs.get(&(endpoint, sid)) {
            Some(account) => [b"p".as_slice(), account].concat(),
            None => [b"s".as_slice(), &endpoint.to_le_bytes(), digits].concat(),
        };
        Some(Found { key, start, end })
    }
}

/// `storage.delta.account_span`: an HTTP account's (`[pubkey, owner, slot]` NUL data)
/// key and span, its data.
fn account_span(p: &[u8]) -> Option<Found> {
    let nul = memchr::memchr(0, p)?;
    if p.len() - nul - 1 < MIN_SPAN || !p.starts_with(b"[\"") {
        return None;
    }
    let close = find(p, b"\"", 2, nul)?;
    if close <= 2 || close - 2 > 64 {
        return None;
    }
    Some(Found {
        key: [b"a".as_slice(), &p[2..close]].concat(),
        start: nul + 1,
        end: p.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(sub: u64, pubkey: Option<&str>, data: &[u8]) -> Vec<u8> {
        let head = match pubkey {
            Some(k) => format!("{{\"result\":{{\"pubkey\":\"{k}\",\"account\":{{\"data\":[\""),
            None => "{\"result\":{\"value\":{\"data\":[\"".to_string(),
        };
        let mut f = head.into_bytes();
        f.extend_from_slice(data);
        f.extend_from_slice(format!("\",\"base64\"]}}}},\"subscription\":{sub}}}").as_bytes());
        f
    }

    #[test]
    fn a_frames_data_is_stored_whole_then_same_then_as_ranges() {
        let mut e = DeltaEncoder::default();
        let data = vec![b'A'; 800];
        let f = frame(7, None, &data);
        let full = e.encode(KIND_FRAME, 3, &f).unwrap().unwrap();
        assert_eq!(&full[..3], &[KIND_FRAME, FULL, 4]);
        assert_eq!(&full[3..7], b"s\x03\x007");
        assert!(full.ends_with(&data));
        let same = e.encode(KIND_FRAME, 3, &f).unwrap().unwrap();
        assert_eq!(same[1], SAME);
        assert_eq!(same.len(), full.len() - data.len());
        let mut moved = data.clone();
        moved[100] = b'B';
        let r = e
            .encode(KIND_FRAME, 3, &frame(7, None, &moved))
            .unwrap()
            .unwrap();
        assert_eq!(r[1], RANGES);
        // the version of the copy it is against: the second store
        assert_eq!(&r[7 + 12..7 + 16], &2u32.to_le_bytes());
        assert_eq!((e.deltas, e.same), (3, 1));
        // bound: keyed by its account, whichever endpoint sent it
        e.bind(4, 9, b"Acc");
        let b = e
            .encode(KIND_FRAME, 4, &frame(9, None, &data))
            .unwrap()
            .unwrap();
        assert_eq!(&b[2..6], &[4, b'p', b'A', b'c']);
        let k = e
            .encode(KIND_FRAME, 5, &frame(1, Some("Acc"), &data))
            .unwrap()
            .unwrap();
        assert_eq!(k[1], SAME);
    }

    #[test]
    fn short_other_and_unkeyed_inputs_stay_whole() {
        let mut e = DeltaEncoder::default();
        assert_eq!(
            e.encode(KIND_FRAME, 0, &frame(1, None, b"AAAA")).unwrap(),
            None
        );
        assert_eq!(e.encode(3, 0, &frame(1, None, &[b'A'; 900])).unwrap(), None);
        let mut no_sub = frame(1, None, &[b'A'; 900]);
        let at = no_sub.len() - 16;
        no_sub.truncate(at);
        assert_eq!(e.encode(KIND_FRAME, 0, &no_sub).unwrap(), None);
        assert_eq!(e.deltas, 0);
    }

    #[test]
    fn the_table_lets_the_least_recently_stored_go() {
        let mut e = DeltaEncoder::new(2_000);
        let data = vec![b'A'; 900];
        for sub in [1, 2, 3] {
            assert_eq!(
                e.encode(KIND_FRAME, 0, &frame(sub, None, &data))
                    .unwrap()
                    .unwrap()[1],
                FULL
            );
        }
        assert_eq!(e.copies(), (2, 1_800));
        // 1 went first: stored whole again; 3 is still held
        assert_eq!(
            e.encode(KIND_FRAME, 0, &frame(1, None, &data))
                .unwrap()
                .unwrap()[1],
            FULL
        );
        assert_eq!(
            e.encode(KIND_FRAME, 0, &frame(3, None, &data))
                .unwrap()
                .unwrap()[1],
            SAME
        );
    }
}
