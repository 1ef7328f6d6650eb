//! Yellowstone gRPC's `SubscribeUpdate` (protobuf) read by hand, zero-copy (twin:
//! `engine_rs/python/geyser.py`, whose docstring holds the rules).
//!
//! Only what the ingest uses is read: an account update's pubkey, owner, data and slot;
//! a slot update's slot and status; a transaction update's signature, vote flag, error
//! presence and log lines; a pong's id. The field numbers are Yellowstone's
//! (`yellowstone-grpc-proto/proto/geyser.proto`, `solana-storage.proto`; arbscope's own
//! copy is `feeds/wire/geyser/*.proto`). Any other field is skipped by its wire type, so
//! a server newer than these definitions is still read.
//!
//! Malformed input is an error with the twin's words: a truncated varint or field, a
//! length past the end, a group or unknown wire type, field number 0, a field of a known
//! number with another wire type, a pubkey or owner that is not 32 bytes, a signature that
//! is not 64, a log line that is not UTF-8, an account or transaction update without its
//! inner message. A field given twice: the last one counts (a message too: it is not
//! merged as protobuf would; no encoder repeats one).

/// The `update_oneof` of a `SubscribeUpdate`: its field number (0: none set).
pub const ACCOUNT: u32 = 2;
pub const SLOT: u32 = 3;
pub const TRANSACTION: u32 = 4;
pub const PING: u32 = 6;
pub const PONG: u32 = 9;
/// The other members of the oneof (block, block meta, entry, transaction status, block
/// footer): recognised, not read.
const OTHERS: [u32; 5] = [5, 7, 8, 10, 12];

/// What a `SubscribeUpdate` holds, borrowing from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update<'a> {
    Account {
        pubkey: &'a [u8],
        owner: &'a [u8],
        data: &'a [u8],
        slot: u64,
    },
    Slot {
        slot: u64,
        status: u64,
    },
    Transaction {
        signature: &'a [u8],
        vote: bool,
        failed: bool,
        logs: Vec<&'a str>,
        slot: u64,
    },
    Ping,
    Pong(i32),
    /// another member of the oneof (its field number), or none (0)
    Other(u32),
}

impl Update<'_> {
    /// The oneof's field number.
    pub fn kind(&self) -> u32 {
        match self {
            Self::Account { .. } => ACCOUNT,
            Self::Slot { .. } => SLOT,
            Self::Transaction { .. } => TRANSACTION,
            Self::Ping => PING,
            Self::Pong(_) => PONG,
            Self::Other(k) => *k,
        }
    }
}

/// One field: its number and value.
enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    what: &'static str,
}

type Res<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, at: 0, what }
    }

    fn varint(&mut self) -> Res<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.at) else {
                return Err(format!("{}: truncated varint", self.what));
            };
            self.at += 1;
            v |= u64::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("{}: varint longer than 10 bytes", self.what))
    }

    fn take(&mut self, n: u64) -> Res<&'a [u8]> {
        let left = (self.buf.len() - self.at) as u64;
        if n > left {
            return Err(format!(
                "{}: field of {n} bytes past the end ({left} left)",
                self.what
            ));
        }
        let s = &self.buf[self.at..self.at + n as usize];
        self.at += n as usize;
        Ok(s)
    }

    /// The next field, or None at the end.
    fn field(&mut self) -> Res<Option<(u32, Value<'a>)>> {
        if self.at >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 || number > 0x1FFF_FFFF {
            return Err(format!("{}: field number {number} is not valid", self.what));
        }
        let number = number as u32;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            w => {
                return Err(format!(
                    "{}: field {number} has wire type {w}, which is not supported",
                    self.what
                ))
            }
        };
        Ok(Some((number, value)))
    }
}

fn wrong(what: &str, number: u32) -> String {
    format!("{what}: field {number} has the wrong wire type")
}

fn varint_of(v: Value<'_>, what: &str, number: u32) -> Res<u64> {
    match v {
        Value::Varint(x) => Ok(x),
        _ => Err(wrong(what, number)),
    }
}

fn bytes_of<'a>(v: Value<'a>, what: &str, number: u32) -> Res<&'a [u8]> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(wrong(what, number)),
    }
}

fn sized<'a>(b: &'a [u8], n: usize, what: &str) -> Res<&'a [u8]> {
    if b.len() != n {
        return Err(format!("{what} is {} bytes, not {n}", b.len()));
    }
    Ok(b)
}

/// A `SubscribeUpdate`'s bytes read (see the module docs); the error's text otherwise.
pub fn parse(buf: &[u8]) -> Res<Update<'_>> {
    const WHAT: &str = "SubscribeUpdate";
    let mut r = Reader::new(buf, WHAT);
    let mut out = Update::Other(0);
    while let Some((n, v)) = r.field()? {
        match n {
            1 => {
                bytes_of(v, WHAT, n)?;
            }
            ACCOUNT => out = account(bytes_of(v, WHAT, n)?)?,
            SLOT => out = slot(bytes_of(v, WHAT, n)?)?,
            TRANSACTION => out = transaction(bytes_of(v, WHAT, n)?)?,
            PING => {
                bytes_of(v, WHAT, n)?;
                out = Update::Ping;
            }
            PONG => out = pong(bytes_of(v, WHAT, n)?)?,
            k if OTHERS.contains(&k) => {
                bytes_of(v, WHAT, n)?;
                out = Update::Other(k);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn account(buf: &[u8]) -> Res<Update<'_>> {
    const WHAT: &str = "SubscribeUpdateAccount";
    let mut r = Reader::new(buf, WHAT);
    let mut info = None;
    let mut slot = 0;
    while let Some((n, v)) = r.field()? {
        match n {
            1 => info = Some(bytes_of(v, WHAT, n)?),
            2 => slot = varint_of(v, WHAT, n)?,
            3 | 4 => {
                varint_of(v, WHAT, n)?;
            }
            _ => {}
        }
    }
    let info = info.ok_or_else(|| format!("{WHAT}: no account"))?;
    const INFO: &str = "SubscribeUpdateAccountInfo";
    let mut r = Reader::new(info, INFO);
    let (mut pubkey, mut owner, mut data): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
    while let Some((n, v)) = r.field()? {
        match n {
            1 => pubkey = bytes_of(v, INFO, n)?,
            3 => owner = bytes_of(v, INFO, n)?,
            6 => data = bytes_of(v, INFO, n)?,
            8 => {
                bytes_of(v, INFO, n)?;
            }
            2 | 4 | 5 | 7 => {
                varint_of(v, INFO, n)?;
            }
            _ => {}
        }
    }
    Ok(Update::Account {
        pubkey: sized(pubkey, 32, "account.pubkey")?,
        owner: sized(owner, 32, "account.owner")?,
        data,
        slot,
    })
}

fn slot(buf: &[u8]) -> Res<Update<'_>> {
    const WHAT: &str = "SubscribeUpdateSlot";
    let mut r = Reader::new(buf, WHAT);
    let (mut slot, mut status) = (0, 0);
    while let Some((n, v)) = r.field()? {
        match n {
            1 => slot = varint_of(v, WHAT, n)?,
            3 => status = varint_of(v, WHAT, n)?,
            2 | 5 => {
                varint_of(v, WHAT, n)?;
            }
            4 => {
                bytes_of(v, WHAT, n)?;
            }
            _ => {}
        }
    }
    Ok(Update::Slot { slot, status })
}

fn transaction(buf: &[u8]) -> Res<Update<'_>> {
    const WHAT: &str = "SubscribeUpdateTransaction";
    let mut r = Reader::new(buf, WHAT);
    let mut info = None;
    let mut slot = 0;
    while let Some((n, v)) = r.field()? {
        match n {
            1 => info = Some(bytes_of(v, WHAT, n)?),
            2 | 3 => {
                let x = varint_of(v, WHAT, n)?;
                if n == 2 {
                    slot = x;
                }
            }
            _ => {}
        }
    }
    let info = info.ok_or_else(|| format!("{WHAT}: no transaction"))?;
    const INFO: &str = "SubscribeUpdateTransactionInfo";
    let mut r = Reader::new(info, INFO);
    let mut signature: &[u8] = &[];
    let mut vote = false;
    let mut meta = None;
    while let Some((n, v)) = r.field()? {
        match n {
            1 => signature = bytes_of(v, INFO, n)?,
            2 => vote = varint_of(v, INFO, n)? != 0,
            3 => {
                bytes_of(v, INFO, n)?;
            }
            4 => meta = Some(bytes_of(v, INFO, n)?),
            5 => {
                varint_of(v, INFO, n)?;
            }
            _ => {}
        }
    }
    let signature = sized(signature, 64, "transaction.signature")?;
    const META: &str = "TransactionStatusMeta";
    let mut failed = false;
    let mut logs = Vec::new();
    if let Some(meta) = meta {
        let mut r = Reader::new(meta, META);
        while let Some((n, v)) = r.field()? {
            match n {
                1 => {
                    bytes_of(v, META, n)?;
                    failed = true;
                }
                6 => {
                    let line = bytes_of(v, META, n)?;
                    let text = std::str::from_utf8(line)
                        .map_err(|_| format!("{META}: a log line is not UTF-8"))?;
                    logs.push(text);
                }
                2 | 11 | 16 => {
                    varint_of(v, META, n)?;
                }
                _ => {}
            }
        }
    }
    Ok(Update::Transaction {
        signature,
        vote,
        failed,
        logs,
        slot,
    })
}

fn pong(buf: &[u8]) -> Res<Update<'_>> {
    const WHAT: &str = "SubscribeUpdatePong";
    let mut r = Reader::new(buf, WHAT);
    let mut id = 0i32;
    while let Some((n, v)) = r.field()? {
        if n == 1 {
            // int32: the varint's low 32 bits, as two's complement
            id = varint_of(v, WHAT, n)? as u32 as i32;
        }
    }
    Ok(Update::Pong(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u32, wire: u8, body: &[u8]) -> Vec<u8> {
        let mut out = varint(u64::from(n) << 3 | u64::from(wire));
        if wire == 2 {
            out.extend(varint(body.len() as u64));
        }
        out.extend_from_slice(body);
        out
    }

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7F) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    #[test]
    fn account_update() {
        let mut info = field(1, 2, &[1; 32]);
        info.extend(field(2, 0, &varint(5)));
        info.extend(field(3, 2, &[2; 32]));
        info.extend(field(6, 2, b"data"));
        let mut acc = field(1, 2, &info);
        acc.extend(field(2, 0, &varint(300_000_000)));
        let mut msg = field(1, 2, b"f");
        msg.extend(field(2, 2, &acc));
        let got = parse(&msg).unwrap_or(Update::Other(99));
        assert_eq!(
            got,
            Update::Account {
                pubkey: &[1; 32],
                owner: &[2; 32],
                data: b"data",
                slot: 300_000_000
            }
        );
    }

    #[test]
    fn malformed() {
        assert!(parse(&[0x12, 0x05, 0x01]).is_err()); // past the end
        assert!(parse(&[0x80]).is_err()); // truncated varint
        assert!(parse(&[0x0B]).is_err()); // a group
        assert!(parse(&[0x10, 0x01]).is_err()); // account as a varint
        assert_eq!(parse(&[]), Ok(Update::Other(0)));
        assert_eq!(parse(&[0x32, 0x00]), Ok(Update::Ping));
        let pong = field(9, 2, &field(1, 0, &varint(u64::MAX)));
        assert_eq!(parse(&pong), Ok(Update::Pong(-1)));
    }
}
