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

/// The copies, by key.
#[derive(Debug, Default)]
pub struct Copies {
    spans: HashMap<Vec<u8>, Vec<u8>>,
}

impl Copies {
    /// The copy under `key` after `how` and `body` (see the module doc): its bytes.
    /// `InvalidInput` when there is none to change, or the delta does not fit it.
    pub fn update(&mut self, key: &[u8], how: u8, body: &[u8]) -> Result<&[u8]> {
        match how {
            FULL => {
                let span = self.spans.entry(key.to_vec()).or_default();
                span.clear();
                span.extend_from_slice(body);
                Ok(span)
            }
            SAME | RANGES => {
                let span = self.spans.get_mut(key).ok_or_else(|| {
                    EngineError::InvalidInput("a delta refers to a copy not held".into())
                })?;
                if how == SAME {
                    if !body.is_empty() {
                        return Err(damaged("a SAME delta with a body"));
                    }
                } else {
                    write_ranges(span, body)?;
                }
                Ok(span)
            }
            other => Err(damaged(&format!("how {other}"))),
        }
    }

    /// Forget the copy under `key` (none: nothing).
    pub fn drop_copy(&mut self, key: &[u8]) {
        self.spans.remove(key);
    }

    /// How many copies are held, and their bytes.
    pub fn size(&self) -> (usize, usize) {
        (self.spans.len(), self.spans.values().map(Vec::len).sum())
    }
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

    #[test]
    fn full_same_ranges() {
        let mut c = Copies::default();
        assert!(c.update(b"k", SAME, b"").is_err());
        assert_eq!(c.update(b"k", FULL, b"abcdefgh").unwrap(), b"abcdefgh");
        assert_eq!(c.update(b"k", SAME, b"").unwrap(), b"abcdefgh");
        let body = ranges(&[(1, b"XY"), (2, b"Z")]);
        assert_eq!(c.update(b"k", RANGES, &body).unwrap(), b"aXYdeZgh");
        // past the end, or bytes left over: refused, the copy unchanged
        assert!(c.update(b"k", RANGES, &ranges(&[(7, b"XY")])).is_err());
        let mut extra = ranges(&[(0, b"Q")]);
        extra.push(0);
        assert!(c.update(b"k", RANGES, &extra).is_err());
        assert!(c.update(b"k", RANGES, &[1, 0, 0]).is_err());
        assert!(c.update(b"k", 3, b"").is_err());
        assert_eq!(c.update(b"k", SAME, b"").unwrap(), b"aXYdeZgh");
        assert_eq!(c.size(), (1, 8));
        c.drop_copy(b"k");
        assert_eq!(c.size(), (0, 0));
    }
}
