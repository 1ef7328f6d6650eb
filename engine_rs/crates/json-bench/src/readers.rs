//! Each parser reading what the ingest reads of a frame.
//!
//! The ingest reads `jsonrpc`, `method`, `params.subscription`, `params.result.slot` (a
//! slot notification), `params.result.context.slot` and, in `params.result.value`, the
//! `owner` and the `data` pair `[<base64>, "base64"]` (an account) or the `signature`,
//! `logs` and whether `err` is null (logs); everything else is validated and dropped.
//! [`Frame`] is that, strings borrowed from the frame where they hold no escape.
//!
//! - serde_json, sonic-rs and simd-json deserialize [`Frame`] with serde's derive
//!   (borrowed `Cow` strings; unknown keys skipped, and so validated, by each parser);
//!   simd-json parses in place, so it works on a copy of the frame (reused buffers).
//! - jiter walks the frame with its iterator API (`Jiter`), skipping what is not read,
//!   NaN and Infinity allowed as Python allows them.
//! - the hand-written reader records spans ([`json::Doc`]); [`hand_frame`] turns them
//!   into a [`Frame`] for the check that every parser read the same.

use std::borrow::Cow;

use arbscope_core::ingest::json::{self, Doc, Kind, Node};
use jiter::{Jiter, JiterError, NumberInt, Peek};
use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;

/// A string of the frame: borrowed when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// What the ingest reads of a frame (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Frame<'a> {
    #[serde(borrow)]
    pub jsonrpc: Option<Text<'a>>,
    #[serde(borrow)]
    pub method: Option<Text<'a>>,
    #[serde(borrow)]
    pub params: Option<Params<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Params<'a> {
    pub subscription: Option<u64>,
    #[serde(borrow)]
    pub result: Option<NotificationResult<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NotificationResult<'a> {
    /// a slot notification's
    pub slot: Option<u64>,
    pub context: Option<Context>,
    #[serde(borrow)]
    pub value: Option<Value<'a>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Context {
    pub slot: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Value<'a> {
    #[serde(borrow)]
    pub owner: Option<Text<'a>>,
    /// `[<base64>, <encoding>]`
    #[serde(borrow)]
    pub data: Option<(Text<'a>, Text<'a>)>,
    #[serde(borrow)]
    pub signature: Option<Text<'a>>,
    #[serde(borrow)]
    pub logs: Option<Vec<Text<'a>>>,
    /// `err` is there and not null: a failed transaction
    #[serde(rename = "err", default, deserialize_with = "not_null")]
    pub failed: bool,
}

fn not_null<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<IgnoredAny>::deserialize(d)?.is_some())
}

impl Frame<'_> {
    /// A copy that borrows nothing (simd-json's borrows its buffer; compared later).
    pub fn into_owned(self) -> Frame<'static> {
        let t = |t: Text<'_>| Text(Cow::Owned(t.0.into_owned()));
        Frame {
            jsonrpc: self.jsonrpc.map(t),
            method: self.method.map(t),
            params: self.params.map(|p| Params {
                subscription: p.subscription,
                result: p.result.map(|r| NotificationResult {
                    slot: r.slot,
                    context: r.context,
                    value: r.value.map(|v| Value {
                        owner: v.owner.map(t),
                        data: v.data.map(|(a, b)| (t(a), t(b))),
                        signature: v.signature.map(t),
                        logs: v.logs.map(|l| l.into_iter().map(t).collect()),
                        failed: v.failed,
                    }),
                }),
            }),
        }
    }
}

/// Why a parser gave no [`Frame`] (its own error, in words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl From<JiterError> for Refused {
    fn from(e: JiterError) -> Self {
        Refused(e.to_string())
    }
}

// ------------------------------------------------------------------ serde parsers
pub fn serde_json(text: &[u8]) -> Result<Frame<'_>, Refused> {
    serde_json::from_slice(text).map_err(|e| Refused(e.to_string()))
}

pub fn sonic_rs(text: &[u8]) -> Result<Frame<'_>, Refused> {
    sonic_rs::from_slice(text).map_err(|e| Refused(e.to_string()))
}

/// simd-json's reusable state: the frame's copy (it parses in place) and its buffers.
pub struct SimdJson {
    copy: Vec<u8>,
    buffers: simd_json::Buffers,
}

impl Default for SimdJson {
    fn default() -> Self {
        Self {
            copy: Vec::new(),
            buffers: simd_json::Buffers::new(4096),
        }
    }
}

impl SimdJson {
    pub fn read(&mut self, text: &[u8]) -> Result<Frame<'_>, Refused> {
        self.copy.clear();
        self.copy.extend_from_slice(text);
        simd_json::serde::from_slice_with_buffers(&mut self.copy, &mut self.buffers)
            .map_err(|e| Refused(e.to_string()))
    }
}

// ------------------------------------------------------------------ jiter
/// jiter's reusable state: the tape its decoded strings go to.
#[derive(Default)]
pub struct JiterReader {
    tape: Vec<u8>,
}

impl JiterReader {
    pub fn read<'j>(&mut self, text: &'j [u8]) -> Result<Frame<'j>, Refused> {
        let mut j = Jiter::with_tape(text, std::mem::take(&mut self.tape)).with_allow_inf_nan();
        let out = jiter_frame(&mut j, text).and_then(|f| {
            j.finish()?;
            Ok(f)
        });
        self.tape = j.into_tape();
        out
    }
}

/// `s` as a slice of `text` when jiter handed out the frame's own bytes (no escapes).
fn in_text<'j>(text: &'j [u8], s: &str) -> Option<&'j str> {
    let off = (s.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let bytes = text.get(off..off.checked_add(s.len())?)?;
    if bytes.as_ptr() != s.as_ptr() {
        return None;
    }
    // SAFETY: `bytes` is the memory of `s` (same address and length), a valid str.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

fn wrong(what: &str) -> Refused {
    Refused(format!("expected {what}"))
}

/// The string whose `peek` was seen.
fn j_text<'j>(j: &mut Jiter<'j>, peek: Peek, text: &'j [u8]) -> Result<Text<'j>, Refused> {
    if peek != Peek::String {
        return Err(wrong("a string"));
    }
    let s = j.known_str()?;
    Ok(Text(
        in_text(text, s).map_or_else(|| Cow::Owned(s.to_owned()), Cow::Borrowed),
    ))
}

fn j_u64(j: &mut Jiter<'_>, peek: Peek) -> Result<u64, Refused> {
    let n = match j.known_int(peek)? {
        NumberInt::Int(i) => u64::try_from(i).ok(),
        NumberInt::BigInt(b) => u64::try_from(b).ok(),
    };
    n.ok_or_else(|| wrong("a u64"))
}

/// `null` as None (serde's `Option`), else `f`'s value (given the value's peek).
fn j_opt<'j, T>(
    j: &mut Jiter<'j>,
    f: impl FnOnce(&mut Jiter<'j>, Peek) -> Result<T, Refused>,
) -> Result<Option<T>, Refused> {
    let peek = j.peek()?;
    if peek == Peek::Null {
        j.known_null()?;
        return Ok(None);
    }
    f(j, peek).map(Some)
}

/// Walk the members of the object whose `peek` was seen: `field` names a member's field
/// (None: skipped), `read` reads its value.
fn j_members<'j, F: Copy>(
    j: &mut Jiter<'j>,
    peek: Peek,
    field: fn(&str) -> Option<F>,
    mut read: impl FnMut(&mut Jiter<'j>, F) -> Result<(), Refused>,
) -> Result<(), Refused> {
    if peek != Peek::Object {
        return Err(wrong("an object"));
    }
    let mut key = j.known_object()?.map(field);
    while let Some(k) = key {
        match k {
            Some(f) => read(j, f)?,
            None => j.next_skip()?,
        }
        key = j.next_key()?.map(field);
    }
    Ok(())
}

fn jiter_frame<'j>(j: &mut Jiter<'j>, text: &'j [u8]) -> Result<Frame<'j>, Refused> {
    let mut f = Frame::default();
    let peek = j.peek()?;
    j_members(
        j,
        peek,
        |k| match k {
            "jsonrpc" => Some(0),
            "method" => Some(1),
            "params" => Some(2),
            _ => None,
        },
        |j, k| {
            match k {
                0 => f.jsonrpc = j_opt(j, |j, p| j_text(j, p, text))?,
                1 => f.method = j_opt(j, |j, p| j_text(j, p, text))?,
                _ => f.params = j_opt(j, |j, p| j_params(j, p, text))?,
            }
            Ok(())
        },
    )?;
    Ok(f)
}

fn j_params<'j>(j: &mut Jiter<'j>, peek: Peek, text: &'j [u8]) -> Result<Params<'j>, Refused> {
    let mut p = Params::default();
    j_members(
        j,
        peek,
        |k| match k {
            "subscription" => Some(0),
            "result" => Some(1),
            _ => None,
        },
        |j, f| {
            match f {
                0 => p.subscription = j_opt(j, j_u64)?,
                _ => p.result = j_opt(j, |j, pk| j_result(j, pk, text))?,
            }
            Ok(())
        },
    )?;
    Ok(p)
}

fn j_result<'j>(
    j: &mut Jiter<'j>,
    peek: Peek,
    text: &'j [u8],
) -> Result<NotificationResult<'j>, Refused> {
    let mut r = NotificationResult::default();
    j_members(
        j,
        peek,
        |k| match k {
            "slot" => Some(0),
            "context" => Some(1),
            "value" => Some(2),
            _ => None,
        },
        |j, f| {
            match f {
                0 => r.slot = j_opt(j, j_u64)?,
                1 => {
                    r.context = j_opt(j, |j, pk| {
                        let mut c = Context::default();
                        j_members(
                            j,
                            pk,
                            |k| (k == "slot").then_some(()),
                            |j, ()| {
                                c.slot = j_opt(j, j_u64)?;
                                Ok(())
                            },
                        )?;
                        Ok(c)
                    })?
                }
                _ => r.value = j_opt(j, |j, pk| j_value(j, pk, text))?,
            }
            Ok(())
        },
    )?;
    Ok(r)
}

/// `[<base64>, <encoding>]` whose `peek` was seen.
fn j_data<'j>(
    j: &mut Jiter<'j>,
    peek: Peek,
    text: &'j [u8],
) -> Result<(Text<'j>, Text<'j>), Refused> {
    let pair = || wrong("[<base64>, <encoding>]");
    if peek != Peek::Array {
        return Err(pair());
    }
    let first = j.known_array()?.ok_or_else(pair)?;
    let b64 = j_text(j, first, text)?;
    let second = j.array_step()?.ok_or_else(pair)?;
    let tag = j_text(j, second, text)?;
    match j.array_step()? {
        None => Ok((b64, tag)),
        Some(_) => Err(pair()),
    }
}

fn j_value<'j>(j: &mut Jiter<'j>, peek: Peek, text: &'j [u8]) -> Result<Value<'j>, Refused> {
    let mut v = Value::default();
    j_members(
        j,
        peek,
        |k| match k {
            "owner" => Some(0),
            "data" => Some(1),
            "signature" => Some(2),
            "logs" => Some(3),
            "err" => Some(4),
            _ => None,
        },
        |j, f| {
            match f {
                0 => v.owner = j_opt(j, |j, p| j_text(j, p, text))?,
                1 => v.data = j_opt(j, |j, p| j_data(j, p, text))?,
                2 => v.signature = j_opt(j, |j, p| j_text(j, p, text))?,
                3 => {
                    v.logs = j_opt(j, |j, p| {
                        if p != Peek::Array {
                            return Err(wrong("a list of strings"));
                        }
                        let mut lines = Vec::new();
                        let mut next = j.known_array()?;
                        while let Some(item) = next {
                            lines.push(j_text(j, item, text)?);
                            next = j.array_step()?;
                        }
                        Ok(lines)
                    })?
                }
                _ => {
                    let p = j.peek()?;
                    v.failed = p != Peek::Null;
                    j.known_skip(p)?;
                }
            }
            Ok(())
        },
    )?;
    Ok(v)
}

// ------------------------------------------------------------------ the hand-written
/// The hand-written reader's result (after `doc.parse(text)`) as a [`Frame`]; a read
/// value of another type than [`Frame`]'s refuses it (as serde would).
pub fn hand_frame<'a>(doc: &Doc, text: &'a [u8]) -> Result<Frame<'a>, Refused> {
    let wrong = |n: Node| Refused(format!("{n:?}: another type"));
    let obj = |n: Node| -> Result<bool, Refused> {
        match doc.get(n).map(|v| v.kind) {
            None | Some(Kind::Null) => Ok(false),
            Some(Kind::Obj) => Ok(true),
            Some(_) => Err(wrong(n)),
        }
    };
    let text_at = |n: Node| -> Result<Option<Text<'a>>, Refused> {
        match doc.get(n) {
            None => Ok(None),
            Some(v) if v.kind == Kind::Null => Ok(None),
            Some(v) => Ok(Some(to_text(
                json::str_of(text, v).ok_or_else(|| wrong(n))?,
            ))),
        }
    };
    let int_at = |n: Node| -> Result<Option<u64>, Refused> {
        match doc.get(n) {
            None => Ok(None),
            Some(v) if v.kind == Kind::Null => Ok(None),
            Some(v) => json::u64_of(text, v).map(Some).ok_or_else(|| wrong(n)),
        }
    };
    if !obj(Node::Root)? {
        return Err(wrong(Node::Root));
    }
    let mut f = Frame {
        jsonrpc: text_at(Node::Jsonrpc)?,
        method: text_at(Node::Method)?,
        params: None,
    };
    if obj(Node::Params)? {
        let mut p = Params {
            subscription: int_at(Node::Subscription)?,
            result: None,
        };
        if obj(Node::Result)? {
            let mut r = NotificationResult {
                slot: int_at(Node::ResultSlot)?,
                context: None,
                value: None,
            };
            if obj(Node::Context)? {
                r.context = Some(Context {
                    slot: int_at(Node::ContextSlot)?,
                });
            }
            if obj(Node::Value)? {
                let strings = |node: Node| -> Result<Vec<Text<'a>>, Refused> {
                    doc.items(node)
                        .iter()
                        .map(|&v| {
                            json::str_of(text, v)
                                .map(to_text)
                                .ok_or_else(|| wrong(node))
                        })
                        .collect()
                };
                let list = |node: Node| -> Result<Option<Vec<Text<'a>>>, Refused> {
                    match doc.get(node).map(|v| v.kind) {
                        None | Some(Kind::Null) => Ok(None),
                        Some(Kind::Arr) => strings(node).map(Some),
                        Some(_) => Err(wrong(node)),
                    }
                };
                let data = match list(Node::Data)? {
                    None => None,
                    Some(items) => match <[Text<'a>; 2]>::try_from(items) {
                        Ok([b64, tag]) => Some((b64, tag)),
                        Err(_) => return Err(wrong(Node::Data)),
                    },
                };
                r.value = Some(Value {
                    owner: text_at(Node::Owner)?,
                    data,
                    signature: text_at(Node::Signature)?,
                    logs: list(Node::Logs)?,
                    failed: doc.get(Node::Err).is_some_and(|v| v.kind != Kind::Null),
                });
            }
            p.result = Some(r);
        }
        f.params = Some(p);
    }
    Ok(f)
}

fn to_text(s: Cow<'_, [u8]>) -> Text<'_> {
    Text(match s {
        Cow::Borrowed(b) => {
            std::str::from_utf8(b).map_or_else(|_| String::from_utf8_lossy(b), Cow::Borrowed)
        }
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Vec<Result<Frame<'static>, Refused>> {
        let own = Frame::into_owned;
        let mut doc = Doc::default();
        let hand = match doc.parse(text) {
            Ok(()) => hand_frame(&doc, text).map(own),
            Err(e) => Err(Refused(e.0.into())),
        };
        vec![
            hand,
            JiterReader::default().read(text).map(own),
            serde_json(text).map(own),
            sonic_rs(text).map(own),
            SimdJson::default().read(text).map(own),
        ]
    }

    #[test]
    fn every_parser_reads_what_the_ingest_reads() {
        let frames: [&[u8]; 4] = [
            br#"{"jsonrpc":"2.0","method":"accountNotification","params":{"result":{"context":{"slot":5},"value":{"lamports":1,"data":["QUJD","base64"],"owner":"own\u0065r","executable":false,"rentEpoch":18446744073709551615,"space":3}},"subscription":7}}"#,
            br#"{"jsonrpc":"2.0","method":"slotNotification","params":{"result":{"parent":8,"root":1,"slot":9},"subscription":2}}"#,
            br#"{"jsonrpc":"2.0","method":"logsNotification","params":{"result":{"context":{"slot":5},"value":{"signature":"s","err":{"x":1},"logs":["a","b"]}},"subscription":3}}"#,
            br#"{"jsonrpc":"2.0","result":5,"id":1}"#,
        ];
        for f in frames {
            let got = all(f);
            assert!(got[0].is_ok(), "{got:?}");
            for g in &got[1..] {
                assert_eq!(g, &got[0], "{}", String::from_utf8_lossy(f));
            }
        }
        let got = all(frames[0]);
        let value = got[0]
            .as_ref()
            .ok()
            .and_then(|f| f.params.as_ref()?.result.as_ref()?.value.clone());
        assert_eq!(
            value.map(|v| (v.owner, v.data)),
            Some((
                Some(Text("owner".into())),
                Some((Text("QUJD".into()), Text("base64".into())))
            ))
        );
    }

    #[test]
    fn a_string_without_escapes_is_borrowed() {
        let f = br#"{"jsonrpc":"2.0","method":"m\u0031"}"#;
        let mut j = JiterReader::default();
        let read = j.read(f).expect("jiter");
        assert!(matches!(read.jsonrpc, Some(Text(Cow::Borrowed("2.0")))));
        assert!(matches!(read.method, Some(Text(Cow::Owned(ref m))) if m == "m1"));
        let read = serde_json(f).expect("serde_json");
        assert!(matches!(read.jsonrpc, Some(Text(Cow::Borrowed("2.0")))));
    }
}
