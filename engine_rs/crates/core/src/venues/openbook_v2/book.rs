//! What the order-book venues (OpenBook v2 and Manifest, which uses it from here) share: the L2 ladder of a book's
//! live orders, best first, and the powers of ten that turn lots and atoms into UI units.

use crate::venues::{Ladder, Level};

/// 10^n as f64: exact for n <= 22, then by repeated multiplication (the twin's steps).
pub fn pow10(n: u32) -> f64 {
    const EXACT: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if let Some(&p) = EXACT.get(n as usize) {
        return p;
    }
    let mut p = EXACT[22];
    for _ in 22..n {
        p *= 10.0;
    }
    p
}

/// `x · 10^n` (dividing by 10^-n for negative n).
pub fn scale10(x: f64, n: i32) -> f64 {
    if n >= 0 {
        x * pow10(n.unsigned_abs())
    } else {
        x / pow10(n.unsigned_abs())
    }
}

/// Up to `depth` levels of one side from its live orders best first, each as (its price
/// key, its price in lots, its size in lots): orders of equal key are summed as they
/// come (as OpenBook's TypeScript client's `getL2` sums them). `ui` gives a level's UI
/// price and size from its key and summed size.
pub fn levels<K: PartialEq + Copy>(
    orders: impl IntoIterator<Item = (K, i64, i128)>,
    depth: usize,
    ui: impl Fn(K, i128) -> (f64, f64),
) -> Vec<Level> {
    let mut out: Vec<Level> = Vec::with_capacity(depth.min(64));
    let mut keys: Vec<K> = Vec::with_capacity(depth.min(64));
    for (key, price_lots, size_lots) in orders {
        if keys.last() == Some(&key) {
            if let Some(l) = out.last_mut() {
                l.size_lots += size_lots;
                l.orders += 1;
            }
            continue;
        }
        if out.len() == depth {
            break;
        }
        keys.push(key);
        out.push(Level {
            price: 0.0,
            size: 0.0,
            price_lots,
            size_lots,
            orders: 1,
        });
    }
    for (l, k) in out.iter_mut().zip(keys) {
        (l.price, l.size) = ui(k, l.size_lots);
    }
    out
}

impl Ladder {
    /// The ladder of a book's two sides' levels (best first): the best prices, the spread
    /// and the mid where both sides hold a level.
    pub fn of(bids: Vec<Level>, asks: Vec<Level>) -> Self {
        let best_bid = bids.first().map(|l| l.price);
        let best_ask = asks.first().map(|l| l.price);
        let (spread, mid) = match (best_bid, best_ask) {
            (Some(b), Some(a)) => (Some(a - b), Some((a + b) / 2.0)),
            _ => (None, None),
        };
        Self {
            bids,
            asks,
            best_bid,
            best_ask,
            spread,
            mid,
        }
    }
}
