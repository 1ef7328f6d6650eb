//! The recorded frame mix and its replay.
//!
//! The file is the storage codec's input format (`storage/codec.py`: a 23-byte header
//! `kind u8 | endpoint u16 | t_ns i64 | wall_us i64 | length u32`, then the payload), zstd
//! compressed, led by an input of kind 0 whose payload is the graph's config as JSON
//! (`base_mints`, `max_hops`). `python -m bench.json_parsers --record` writes it from a
//! session of the embedded simulator.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use arbscope_core::b58;
use arbscope_core::graph::{EpochSchedule, PoolGraph};
use arbscope_core::ingest::{Arg, FeedIngest, SubKind};
use serde::Deserialize;

/// One recorded input, as the session handed it to the ingest (`arbscope/replay.py`).
#[derive(Debug, Clone)]
pub enum Step {
    Frame {
        endpoint: u16,
        recv_ns: i64,
        /// index into [`Corpus::frames`]
        index: usize,
    },
    Account {
        pubkey: String,
        owner: String,
        slot: u64,
        data: Vec<u8>,
    },
    TrackPool(String, String),
    TrackTickArray(String, String),
    UntrackTickArray(String, String),
    Bind {
        endpoint: u16,
        subscription: u64,
        label: Option<String>,
        kind: SubKind,
    },
    Unbind(u16),
    EpochSchedule(EpochSchedule),
    /// the session's tick (it takes the changed pools) or a drain of them
    TakeChanged,
}

/// A recorded session: the graph's config, its frames and every input in order.
#[derive(Debug)]
pub struct Corpus {
    pub base_mints: Vec<String>,
    pub max_hops: usize,
    pub frames: Vec<Vec<u8>>,
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Head {
    base_mints: Vec<String>,
    max_hops: usize,
}

const HEADER: usize = 23;

fn json<'a, T: Deserialize<'a>>(payload: &'a [u8], what: &str) -> Result<T, String> {
    // an account's payload is JSON, a NUL, then its data
    let head = payload.split(|&b| b == 0).next().unwrap_or_default();
    serde_json::from_slice(head).map_err(|e| format!("a recorded {what} input: {e}"))
}

impl Corpus {
    /// Read the file at `path` (see the module docs).
    pub fn load(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut raw = Vec::new();
        ruzstd::decoding::StreamingDecoder::new(file)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .read_to_end(&mut raw)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&raw)
    }

    fn parse(raw: &[u8]) -> Result<Self, String> {
        let mut c = Corpus {
            base_mints: Vec::new(),
            max_hops: 0,
            frames: Vec::new(),
            steps: Vec::new(),
        };
        let mut off = 0;
        while off < raw.len() {
            let h = raw
                .get(off..off + HEADER)
                .ok_or("the corpus is truncated (header)")?;
            let kind = h[0];
            let endpoint = u16::from_le_bytes([h[1], h[2]]);
            let mut t = [0u8; 8];
            t.copy_from_slice(&h[3..11]);
            let t_ns = i64::from_le_bytes(t);
            let len = u32::from_le_bytes([h[19], h[20], h[21], h[22]]) as usize;
            off += HEADER;
            let payload = raw
                .get(off..off + len)
                .ok_or("the corpus is truncated (payload)")?;
            off += len;
            let step = match kind {
                0 => {
                    let head: Head = json(payload, "config")?;
                    (c.base_mints, c.max_hops) = (head.base_mints, head.max_hops);
                    continue;
                }
                1 => {
                    c.frames.push(payload.to_vec());
                    Step::Frame {
                        endpoint,
                        recv_ns: t_ns,
                        index: c.frames.len() - 1,
                    }
                }
                2 => {
                    let (pubkey, owner, slot): (String, String, u64) = json(payload, "account")?;
                    let data = payload
                        .iter()
                        .position(|&b| b == 0)
                        .map_or_else(Vec::new, |i| payload[i + 1..].to_vec());
                    Step::Account {
                        pubkey,
                        owner,
                        slot,
                        data,
                    }
                }
                3 => {
                    let (a, k): (String, String) = json(payload, "track_pool")?;
                    Step::TrackPool(a, k)
                }
                4 => {
                    let (a, p): (String, String) = json(payload, "track_tick_array")?;
                    Step::TrackTickArray(a, p)
                }
                13 => {
                    let (a, p): (String, String) = json(payload, "untrack_tick_array")?;
                    Step::UntrackTickArray(a, p)
                }
                5 => {
                    let (subscription, label, kind): (u64, Option<String>, String) =
                        json(payload, "bind")?;
                    let kind = SubKind::parse(&kind).map_err(|e| e.to_string())?;
                    Step::Bind {
                        endpoint,
                        subscription,
                        label,
                        kind,
                    }
                }
                6 => Step::Unbind(endpoint),
                14 => {
                    let (slots_per_epoch, warmup, first_normal_epoch, first_normal_slot) =
                        json(payload, "epoch schedule")?;
                    Step::EpochSchedule(EpochSchedule {
                        slots_per_epoch,
                        warmup,
                        first_normal_epoch,
                        first_normal_slot,
                    })
                }
                8 | 9 => Step::TakeChanged,
                _ => continue, // not the ingest's (fees, tips, trades...)
            };
            c.steps.push(step);
        }
        if c.frames.is_empty() {
            return Err("the corpus holds no frame".into());
        }
        Ok(c)
    }

    /// A graph and an ingest as the recorded session made them.
    pub fn fresh(&self) -> Result<(PoolGraph, FeedIngest), String> {
        let graph = PoolGraph::new(&self.base_mints, self.max_hops).map_err(|e| e.to_string())?;
        // the binding's defaults (engine_rs/_engine.pyi)
        let ingest = FeedIngest::new(65_536, 4_096).map_err(|e| e.to_string())?;
        Ok((graph, ingest))
    }

    /// Apply a step that is not a frame, as the session did (its errors are the
    /// session's to log, and so ignored here).
    pub fn apply(ingest: &mut FeedIngest, graph: &mut PoolGraph, step: &Step) {
        let _ = match step {
            Step::Frame { .. } => Ok(()),
            Step::Account {
                pubkey,
                owner,
                slot,
                data,
            } => {
                // the binding reads an owner that is no address as nobody's
                let owner = b58::decode_32(owner).unwrap_or([0xFF; 32]);
                ingest
                    .account(graph, pubkey, Some(&owner), data, Arg::Ok(*slot))
                    .map(drop)
            }
            Step::TrackPool(a, k) => ingest.track_pool(a, k),
            Step::TrackTickArray(a, p) => ingest.track_array(a, p),
            Step::UntrackTickArray(a, p) => ingest.untrack_array(graph, a, p),
            Step::Bind {
                endpoint,
                subscription,
                label,
                kind,
            } => {
                ingest.bind(*endpoint, *subscription, label.as_deref(), *kind);
                Ok(())
            }
            Step::Unbind(ep) => {
                ingest.unbind(*ep);
                Ok(())
            }
            Step::EpochSchedule(s) => ingest.set_epoch_schedule(graph, *s),
            Step::TakeChanged => {
                ingest.take_changed();
                Ok(())
            }
        };
    }
}
