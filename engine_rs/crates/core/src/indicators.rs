//! Technical indicators, batch and incremental, matching TA-Lib (C library 0.8.x).
//!
//! Batch functions fill `out` (same length as the input) with NaN during the warm-up and
//! the indicator afterwards; the incremental structs give the same number after `n`
//! updates as the batch gives at index `n - 1`: the two share one step function, so the
//! arithmetic (and its rounding) is the same operation for operation.
//!
//! TA-Lib conventions (unstable period 0, default compatibility):
//! * **EMA(p)**: `k = 2 / (p + 1)`; seeded with the SMA of the first `p` values at index
//!   `p - 1`; then `ema = ema + k·(x − ema)`, computed as `ema·(1 − k) + k·x` (TA-Lib:
//!   `(x − ema)·k + ema`; see `smooth` for why and how close).
//! * **RSI(p)**, p >= 2: Wilder's smoothing. The first `p` changes are averaged (sum / p);
//!   the first value is at index `p`; then `avg = avg · ((p - 1)/p) + change · (1/p)` for
//!   gains (TA-Lib's textbook form divides `avg · (p - 1) + change` by p; this one differs
//!   by an ulp or two and leaves one fused multiply-add on the loop-carried chain)
//!   and losses; `rsi = 100 * gain / (gain + loss)`, and 0 when `gain + loss` is 0 (a flat
//!   series) or not finite — which is how TA-Lib turns everything after a NaN/inf price
//!   into 0.
//! * **BBANDS(p, k, k, SMA)**, p >= 2: middle = SMA(p), σ the population standard
//!   deviation of the window (0 when the variance is not positive), bands middle ± σ·k.
//!   TA-Lib 0.8.1's arithmetic, operation for operation: the SMA's running sum, and
//!   running sums of `x − shift` for the variance, re-shifted to the window's mean when
//!   they drift (see `BandSums`); so the bands are TA-Lib's bit for bit, and a NaN poisons
//!   every later window, as in TA-Lib. One exception: a window of `p` equal prices has
//!   zero width exactly, which TA-Lib's drifted sums do not always give.
//! * **KAMA(p)**: first value at index `p`, seeded with `x[p - 1]`; efficiency ratio
//!   `ER = |x[t] - x[t-p]| / Σ|x[i] - x[i-1]|` (1 when the path is a straight rise or the
//!   sum is not positive; a window of `p` exactly-zero changes has path 0, not the
//!   running sum's residue; at most 1); `sc = (ER · (2/(fast+1) - 2/(slow+1)) +
//!   2/(slow+1))²`; `kama += sc · (x − kama)` (as for the EMA). TA-Lib fixes fast/slow at
//!   2/30; other values use the same formula. `p = 1` returns the input.
//!
//! Where the CPU has FMA, `a * b + c` in the recurrences is fused (one rounding), as in
//! TA-Lib's own build; the incremental steps use the same fused operation, so batch and
//! incremental still agree bit for bit. The Python twin cannot fuse: it agrees to ~1e-15.
//!
//! Leading NaNs are skipped (TA-Lib's Python wrapper starts at the first non-NaN value);
//! a later NaN/inf propagates as in TA-Lib (the recurrences carry it forward). The
//! incremental structs refuse non-finite prices (and keep their state).

use std::collections::VecDeque;

use crate::error::{EngineError, Result};

/// TA-Lib's period bound.
pub const MAX_PERIOD: usize = 100_000;

/// Whether this CPU fuses multiply-add (x86-64 FMA3). TA-Lib's wheel is built with FMA
/// contraction: `a * b + c` in one rounding. Using it too keeps the recurrences' chains as
/// short as TA-Lib's (8 cycles instead of 12) and the numbers within an ulp of it.
#[inline(always)]
fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `a * b + c`, fused when `FMA` (the caller checked [`has_fma`]).
#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `a * b + c` as the batch loops compute it on this CPU (for the incremental steps, so
/// that they agree with the batch bit for bit).
#[inline]
fn madd_rt(a: f64, b: f64, c: f64) -> f64 {
    if has_fma() {
        madd::<true>(a, b, c)
    } else {
        madd::<false>(a, b, c)
    }
}

/// Run `$body` (a generic call `f::<FMA>`) with FMA enabled for codegen when the CPU has it.
macro_rules! dispatch_fma {
    ($name:ident => $inner:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "fma")]
                unsafe fn fused($($arg: $ty),*) -> $ret {
                    $inner::<true>($($arg),*)
                }
                if has_fma() {
                    // SAFETY: the CPU has FMA (checked just above).
                    return unsafe { fused($($arg),*) };
                }
            }
            $inner::<false>($($arg),*)
        }
    };
}

fn check_period(period: i64, min: i64, name: &str) -> Result<usize> {
    if period < min || period > MAX_PERIOD as i64 {
        return Err(EngineError::InvalidInput(format!(
            "{name} period must be within {min}..={MAX_PERIOD}, got {period}"
        )));
    }
    Ok(period as usize)
}

fn check_price(x: f64) -> Result<f64> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(EngineError::InvalidInput(format!(
            "price must be finite, got {x}"
        )))
    }
}

// ------------------------------------------------------------------ EMA and KAMA's recurrence
/// One step of the smoothing recurrence of EMA and KAMA, `v + s·(x − v)`, computed as
/// `v·(1 − s) + s·x` while both are finite: one fused multiply-add on the loop-carried
/// chain, where TA-Lib's `(x − v)·s + v` puts a subtraction before it. The two differ by
/// an ulp or two of `v` a step, and the factor `1 − s` shrinks what earlier steps left,
/// so in all by at most a few ulps over `s` (~1e-14 for KAMA's slowest `s`).
///
/// A non-finite price or value takes TA-Lib's form: that is what makes the value NaN
/// from the price after an inf on, as in TA-Lib (`v·(1 − s) + s·x` would stay inf).
/// (Prices beyond ~9e307, whose differences overflow, are the one place the two forms
/// still part: TA-Lib's `x − v` is inf there.)
#[inline(always)]
fn smooth<const FMA: bool>(v: f64, s: f64, x: f64) -> f64 {
    if x.is_finite() && v.is_finite() {
        smooth_finite::<FMA>(v, s, x)
    } else {
        madd::<FMA>(x - v, s, v)
    }
}

/// [`smooth`] where the caller knows `x` and `v` are finite.
#[inline(always)]
fn smooth_finite<const FMA: bool>(v: f64, s: f64, x: f64) -> f64 {
    madd::<FMA>(v, 1.0 - s, s * x)
}

/// [`smooth`] fused exactly where the batch loops fuse (incremental updates).
#[inline]
fn smooth_rt(v: f64, s: f64, x: f64) -> f64 {
    if has_fma() {
        smooth::<true>(v, s, x)
    } else {
        smooth::<false>(v, s, x)
    }
}

/// Prices per block of the batch EMA and KAMA. A block runs [`smooth_finite`]; if the
/// value is not finite at its end (a non-finite price came), it runs again, and so does
/// the rest, with [`smooth`].
const SMOOTH_BLOCK: usize = 32;

/// Incremental EMA (TA-Lib seeding).
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    count: usize,
    sum: f64,
    value: f64,
}

impl Ema {
    pub fn new(period: i64) -> Result<Self> {
        let period = check_period(period, 1, "EMA")?;
        Ok(Self {
            period,
            k: 2.0 / (period as f64 + 1.0),
            count: 0,
            sum: 0.0,
            value: f64::NAN,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
    pub fn count(&self) -> usize {
        self.count
    }
    pub fn value(&self) -> Option<f64> {
        (self.count >= self.period).then_some(self.value)
    }

    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        self.count += 1;
        if self.count < self.period {
            self.sum += x;
            f64::NAN
        } else if self.count == self.period {
            self.sum += x;
            self.value = self.sum / self.period as f64;
            self.value
        } else {
            self.value = smooth_rt(self.value, self.k, x);
            self.value
        }
    }

    /// Feed one price; the EMA once warm.
    pub fn update(&mut self, x: f64) -> Result<Option<f64>> {
        let x = check_price(x)?;
        let v = self.step(x);
        Ok((self.count >= self.period).then_some(v))
    }

    pub fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.value = f64::NAN;
    }
}

/// Batch EMA into `out` (NaN for the first `period - 1` values). The loop is
/// [`Ema::step`] unrolled by phase: the same operations in the same order.
fn ema_from(x: &[f64], period: i64, out: &mut [f64]) -> Result<()> {
    let st = Ema::new(period)?;
    ema_loop(x, out, st.period, st.k);
    Ok(())
}

dispatch_fma!(ema_loop => inner_ema, (x: &[f64], out: &mut [f64], p: usize, k: f64) -> ());

#[inline(always)]
fn inner_ema<const FMA: bool>(x: &[f64], out: &mut [f64], p: usize, k: f64) {
    let n = x.len().min(out.len());
    out[..n.min(p - 1)].fill(f64::NAN);
    if n < p {
        return;
    }
    let mut sum = 0.0;
    for &v in &x[..p] {
        sum += v;
    }
    let mut value = sum / p as f64;
    out[p - 1] = value;
    let mut careful = !value.is_finite();
    let blocks = out[p..n].chunks_mut(SMOOTH_BLOCK);
    for (o, x) in blocks.zip(x[p..n].chunks(SMOOTH_BLOCK)) {
        let start = value;
        if !careful {
            for (o, &x) in o.iter_mut().zip(x) {
                value = smooth_finite::<FMA>(value, k, x);
                *o = value;
            }
            // a non-finite price makes the value non-finite for good: this block again,
            // and the rest, with TA-Lib's form where it matters (see `smooth`)
            careful = !value.is_finite();
        }
        if careful {
            value = start;
            for (o, &x) in o.iter_mut().zip(x) {
                value = smooth::<FMA>(value, k, x);
                *o = value;
            }
        }
    }
}

// ------------------------------------------------------------------ RSI
/// Incremental RSI (Wilder's smoothing, TA-Lib seeding).
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    count: usize, // prices seen
    prev: f64,
    gain: f64,
    loss: f64,
    value: f64,
}

impl Rsi {
    pub fn new(period: i64) -> Result<Self> {
        let period = check_period(period, 2, "RSI")?;
        Ok(Self {
            period,
            count: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
            value: f64::NAN,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
    pub fn count(&self) -> usize {
        self.count
    }
    pub fn value(&self) -> Option<f64> {
        (self.count > self.period).then_some(self.value)
    }

    #[inline(always)]
    fn ratio(gain: f64, loss: f64) -> f64 {
        let r = 100.0 * (gain / (gain + loss));
        // 0 when the total is 0 (a flat series: 0/0) or not finite (a NaN/inf carried from
        // the input: NaN, or 0 for a finite gain), as TA-Lib writes; otherwise r, in
        // [0, 100]. `r > 0 ? r : 0` is one `maxsd`, which is NaN-safe in this order.
        if r > 0.0 {
            r
        } else {
            0.0
        }
    }

    /// The (gain, loss) parts of a change while seeding: exactly what
    /// `if change < 0 { loss -= change } else { gain += change }` adds (adding +0.0 to a
    /// non-negative sum changes nothing).
    #[inline(always)]
    fn split(change: f64) -> (f64, f64) {
        let down = change < 0.0;
        (
            if down { 0.0 } else { change },
            if down { -change } else { 0.0 },
        )
    }

    /// `(gain · inv, loss · inv)` of a change once smoothing, with `half = inv / 2`:
    /// `a + |a|` and `|a| − a` for `a = change · half` are `2a` or `+0`, the same bits as
    /// `max(change, 0) · inv` and `max(−change, 0) · inv` (halving and doubling are exact
    /// above the subnormals). No comparison, so nothing LLVM can turn into a branch: a
    /// scalar select compiles to a jump without AVX-512, and a random walk mispredicts it
    /// every other point (5.5 ns per point instead of 1.5). A NaN or infinite change makes
    /// both parts non-finite, and the RSI is 0 from there on, as in TA-Lib.
    #[inline(always)]
    fn parts(change: f64, half: f64) -> (f64, f64) {
        let a = change * half;
        let b = a.abs();
        (a + b, b - a)
    }

    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        self.count += 1;
        if self.count == 1 {
            self.prev = x;
            return f64::NAN;
        }
        let change = x - self.prev;
        self.prev = x;
        let p = self.period as f64;
        if self.count <= self.period + 1 {
            let (g, l) = Self::split(change);
            self.gain += g;
            self.loss += l;
            if self.count <= self.period {
                return f64::NAN;
            }
            self.loss /= p;
            self.gain /= p;
        } else {
            let keep = (p - 1.0) / p;
            let (g, l) = Self::parts(change, 0.5 / p);
            self.loss = madd_rt(self.loss, keep, l);
            self.gain = madd_rt(self.gain, keep, g);
        }
        self.value = Self::ratio(self.gain, self.loss);
        self.value
    }

    /// Feed one price; the RSI once warm (after `period + 1` prices).
    pub fn update(&mut self, x: f64) -> Result<Option<f64>> {
        let x = check_price(x)?;
        let v = self.step(x);
        Ok((self.count > self.period).then_some(v))
    }

    pub fn reset(&mut self) {
        *self = Self {
            period: self.period,
            count: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
            value: f64::NAN,
        };
    }
}

/// Batch RSI into `out` (NaN for the first `period` values): [`Rsi::step`] unrolled by
/// phase, the same operations in the same order.
fn rsi_from(x: &[f64], period: i64, out: &mut [f64]) -> Result<()> {
    let st = Rsi::new(period)?;
    rsi_loop(x, out, st.period);
    Ok(())
}

dispatch_fma!(rsi_loop => inner_rsi, (x: &[f64], out: &mut [f64], p: usize) -> ());

#[inline(always)]
fn inner_rsi<const FMA: bool>(x: &[f64], out: &mut [f64], p: usize) {
    let n = x.len().min(out.len());
    out[..n.min(p)].fill(f64::NAN);
    if n <= p {
        return;
    }
    let pf = p as f64;
    let (mut gain, mut loss) = (0.0f64, 0.0f64);
    for i in 1..=p {
        let (g, l) = Rsi::split(x[i] - x[i - 1]);
        gain += g;
        loss += l;
    }
    loss /= pf;
    gain /= pf;
    out[p] = Rsi::ratio(gain, loss);
    let (keep, half) = ((pf - 1.0) / pf, 0.5 / pf);
    let mut prev = x[p];
    for (o, &v) in out[p + 1..n].iter_mut().zip(&x[p + 1..n]) {
        let (g, l) = Rsi::parts(v - prev, half);
        prev = v;
        loss = madd::<FMA>(loss, keep, l);
        gain = madd::<FMA>(gain, keep, g);
        *o = Rsi::ratio(gain, loss);
    }
}

// ------------------------------------------------------------------ Bollinger
/// Reseed the variance sums after this many bars at most (TA-Lib's `32 · period`).
const RESEED_EVERY: usize = 32;
/// Reseed when the variance falls below this share of the mean squared deviation from
/// the shift: the running difference is then mostly cancellation (TA-Lib's bound).
const RESEED_CANCEL: f64 = 1e-6;
/// Reseed when the deviation leaving the window is this many times what remains.
const RESEED_OUTLIER: f64 = 1e6;

/// The running state of Bollinger bands, exactly as TA-Lib 0.8 keeps it for BBANDS with
/// an SMA: the SMA's running sum `ma` of the prices, and running sums `v1`, `v2` of
/// `x − shift` and its square for the variance. The shift starts at the first price and
/// is re-chosen (the window's mean, sums recomputed from the window) whenever the
/// running variance is mostly cancellation, when a large deviation leaves the window,
/// and every `32 · period` bars. Between two bars the sums hold the last `period − 1`
/// prices. `run` counts equal prices in a row, for the flat-window rule.
#[derive(Debug, Clone)]
struct BandSums {
    shift: f64,
    ma: f64,
    v1: f64,
    v2: f64,
    since: usize, // bars left before the next forced reseed
    run: usize,   // equal prices in a row, ending at the last one
    last: f64,
}

impl BandSums {
    fn new(first: f64, period: usize) -> Self {
        Self {
            shift: first,
            ma: 0.0,
            v1: 0.0,
            v2: 0.0,
            since: RESEED_EVERY * period,
            run: 0,
            last: f64::NAN,
        }
    }

    /// Count `x` into the equal-price run.
    #[inline(always)]
    fn see(&mut self, x: f64) {
        self.run = if x == self.last { self.run + 1 } else { 1 };
        self.last = x;
    }

    /// A price enters the sums.
    #[inline(always)]
    fn add(&mut self, x: f64) {
        self.ma += x;
        let t = x - self.shift;
        self.v1 += t;
        self.v2 += t * t;
    }

    /// One output bar (TA-Lib's loop body): `x` enters, the sum of the prices and the
    /// variance of `window` (the `period` prices ending at `x`, oldest first) are taken,
    /// the oldest leaves, and the sums are reseeded from `window` when they have drifted.
    /// A window of `period` equal finite prices has variance 0 exactly (TA-Lib's reseed
    /// usually, not always, gets there). Returns `(sum, variance)`; the middle band is
    /// `sum / period`, left to the caller ([`Self::bands`]; the batch does a block of
    /// them with vector instructions).
    #[inline(always)]
    fn bar<W: Iterator<Item = f64>>(
        &mut self,
        x: f64,
        window: impl Fn() -> W,
        period: usize,
        inv: f64,
    ) -> (f64, f64) {
        self.see(x);
        self.add(x);
        let m1 = self.v1 * inv;
        let mut var = self.v2 * inv - m1 * m1;
        let sum = self.ma;
        let oldest = window().next().unwrap_or(f64::NAN);
        self.ma -= oldest;
        let mut t = oldest - self.shift;
        self.v1 -= t;
        t *= t;
        self.v2 -= t;
        self.since -= 1;
        if Self::drifted(var, self.v2, t, inv) || self.since == 0 {
            var = self.reseed(window, oldest, period, inv);
        }
        if self.run >= period && x.is_finite() {
            var = 0.0; // a flat window
        }
        (sum, var)
    }

    /// TA-Lib's test of drifted sums, after a bar: the variance `var` is mostly
    /// cancellation (below 1e-6 of the mean squared deviation from the shift, `v2 / p`
    /// with `v2` the sum left after the oldest deviation `t2` (squared) went out), or that
    /// deviation was far larger than what is left.
    #[inline(always)]
    fn drifted(var: f64, v2: f64, t2: f64, inv: f64) -> bool {
        // `|`, not `||`: both sides are cheap, and a short cut would make the batch's
        // vector pass load `t2` under a mask
        (var < RESEED_CANCEL * (v2 * inv)) | (t2 > RESEED_OUTLIER * v2)
    }

    /// TA-Lib's reseed at a bar: the shift becomes the mean of `window` (the bar's
    /// `period` prices, oldest first), the sums are taken again from the window, and
    /// `oldest` leaves them; returns the bar's variance from the new sums. Cold: on a
    /// random walk it runs once every `32 · period` bars.
    #[cold]
    fn reseed<W: Iterator<Item = f64>>(
        &mut self,
        window: impl Fn() -> W,
        oldest: f64,
        period: usize,
        inv: f64,
    ) -> f64 {
        self.since = RESEED_EVERY * period;
        let mut sum = 0.0;
        for w in window() {
            sum += w;
        }
        self.shift = sum * inv;
        (self.v1, self.v2) = (0.0, 0.0);
        for w in window() {
            let t = w - self.shift;
            self.v1 += t;
            self.v2 += t * t;
        }
        let m1 = self.v1 * inv;
        let var = self.v2 * inv - m1 * m1;
        let t = oldest - self.shift;
        self.v1 -= t;
        self.v2 -= t * t;
        var
    }

    /// `(upper, middle, lower)` from the window's sum and variance: the middle is
    /// `sum / period` ([`div_period`]); σ is 0 when the variance is not positive, NaN when
    /// it is NaN; the bands are `middle ± σ·k` (TA-Lib rounds `σ·k` once for both).
    #[inline(always)]
    fn bands(sum: f64, period: f64, var: f64, k: f64) -> (f64, f64, f64) {
        Self::bands_with(div_period(sum, period), var, k)
    }

    /// [`Self::bands`] from the middle.
    #[inline(always)]
    fn bands_with(middle: f64, var: f64, k: f64) -> (f64, f64, f64) {
        let sd = if var <= 0.0 { 0.0 } else { var.sqrt() };
        let dev = sd * k;
        (middle + dev, middle, middle - dev)
    }
}

/// `a / b` for an integer `b` in `2..=MAX_PERIOD`: [`div_period_fast`] where it is
/// exact, the division for sums below 2⁻⁹⁰⁰ (whose quotient could lose precision as a
/// subnormal).
#[inline(always)]
fn div_period(a: f64, b: f64) -> f64 {
    if a.abs() < TINY_SUM {
        a / b
    } else {
        div_period_fast(a, b)
    }
}

/// Below this a window's sum is divided by the divider (see [`div_period`]).
const TINY_SUM: f64 = 1.183_052_186_166_774_7e-271; // 2⁻⁹⁰⁰

/// A nonzero price below this makes the batch use [`div_period`] from there on: sums of
/// prices at least this large are 0 or multiples of its ulp (2⁻⁸⁹²), above `TINY_SUM`.
const TINY_PRICE: f64 = 1.363_966_306_503_817_5e-253; // 2⁻⁸⁴⁰

/// `a / b` for an integer `b` in `2..=MAX_PERIOD` and `|a| >= TINY_SUM` (or 0, or not
/// finite), correctly rounded (the same bits as the division) without the divider, which
/// the bands' square root keeps busy: with `y = RN(1/b)`, `q = RN(a·y)` is within an ulp
/// of `a/b`, so `r = a − b·q` is exact (one fused multiply-add) and `q + r·y` is `a/b` to
/// within 2⁻⁵³ ulp; and `a/b` is never that close to a halfway point without being one
/// (its distance is a multiple of ulp / 2b), nor ever exactly one (a halfway point has 54
/// significant bits, and `a`'s odd part would need them), so `RN(q + r·y) = RN(a/b)`.
/// When `r` is 0 (`q` is exact, which keeps −0) or NaN (a non-finite `a`: inf stays inf,
/// NaN NaN) the result is `q`. Checked against `/` in the tests.
#[inline(always)]
fn div_period_fast(a: f64, b: f64) -> f64 {
    let y = 1.0 / b;
    let q = a * y;
    let r = (-q).mul_add(b, a);
    if r != 0.0 && !r.is_nan() {
        r.mul_add(y, q)
    } else {
        q
    }
}

/// Incremental Bollinger bands (SMA middle, population σ).
#[derive(Debug, Clone)]
pub struct Bollinger {
    period: usize,
    k: f64,
    inv: f64,
    count: usize,
    window: VecDeque<f64>, // the last `period` prices
    sums: BandSums,
    last: (f64, f64, f64),
}

impl Bollinger {
    pub fn new(period: i64, k: f64) -> Result<Self> {
        let period = check_period(period, 2, "Bollinger")?;
        if !k.is_finite() {
            return Err(EngineError::InvalidInput(format!(
                "Bollinger k must be finite, got {k}"
            )));
        }
        Ok(Self {
            period,
            k,
            inv: 1.0 / period as f64,
            count: 0,
            window: VecDeque::with_capacity(period + 1),
            sums: BandSums::new(0.0, period),
            last: (f64::NAN, f64::NAN, f64::NAN),
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
    pub fn k(&self) -> f64 {
        self.k
    }
    pub fn count(&self) -> usize {
        self.count
    }
    pub fn value(&self) -> Option<(f64, f64, f64)> {
        (self.count >= self.period).then_some(self.last)
    }

    /// One step: the same operations, in the same order, as the batch loop.
    #[inline]
    fn step(&mut self, x: f64) -> (f64, f64, f64) {
        if self.count == 0 {
            self.sums = BandSums::new(x, self.period);
        }
        self.count += 1;
        self.window.push_back(x);
        if self.window.len() < self.period {
            self.sums.see(x);
            self.sums.add(x);
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let window = &self.window;
        let (sum, var) = self
            .sums
            .bar(x, || window.iter().copied(), self.period, self.inv);
        self.window.pop_front();
        self.last = BandSums::bands(sum, self.period as f64, var, self.k);
        self.last
    }

    /// Feed one price; `(upper, middle, lower)` once warm.
    pub fn update(&mut self, x: f64) -> Result<Option<(f64, f64, f64)>> {
        let x = check_price(x)?;
        let v = self.step(x);
        Ok((self.count >= self.period).then_some(v))
    }

    pub fn reset(&mut self) {
        self.count = 0;
        self.window.clear();
        self.sums = BandSums::new(0.0, self.period);
        self.last = (f64::NAN, f64::NAN, f64::NAN);
    }
}

/// Batch Bollinger bands into `upper`, `middle`, `lower` (NaN for the first `period - 1`):
/// [`Bollinger::step`] with the window read from the input.
fn bollinger_from(
    x: &[f64],
    period: i64,
    k: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> Result<()> {
    let st = Bollinger::new(period, k)?;
    bollinger_loop(x, upper, middle, lower, st.period, st.inv, k);
    Ok(())
}

// TA-Lib rounds every product of BBANDS, so none of them is fused here; only
// `div_period_fast` fuses (`f64::mul_add`: one instruction on an FMA CPU, libm's exact
// `fma` elsewhere, the same bits either way).
dispatch_fma!(bollinger_loop => inner_bollinger, (x: &[f64], upper: &mut [f64], middle: &mut [f64], lower: &mut [f64], p: usize, inv: f64, k: f64) -> ());

#[inline(always)]
fn inner_bollinger<const FMA: bool>(
    x: &[f64],
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
    p: usize,
    inv: f64,
    k: f64,
) {
    let n = x.len().min(upper.len()).min(middle.len()).min(lower.len());
    let (x, upper, middle, lower) = (&x[..n], &mut upper[..n], &mut middle[..n], &mut lower[..n]);
    for o in [&mut *upper, &mut *middle, &mut *lower] {
        o[..n.min(p - 1)].fill(f64::NAN);
    }
    if n < p {
        return;
    }
    let mut sums = BandSums::new(x[0], p);
    for &v in &x[..p - 1] {
        sums.see(v);
        sums.add(v);
    }
    let mut block = BandBlock::new();
    for &v in &x[..p - 1] {
        block.tiny |= BandBlock::is_tiny(v);
    }
    let mut i0 = p - 1; // the first bar of the block
    while i0 < n {
        let len = (n - i0).min(BAND_BLOCK);
        let outs = (
            &mut upper[i0..i0 + len],
            &mut middle[i0..i0 + len],
            &mut lower[i0..i0 + len],
        );
        block.bars(x, &mut sums, i0, len, (p, inv, k), outs);
        i0 += len;
    }
}

/// Bars per block of the batch Bollinger bands.
const BAND_BLOCK: usize = 32;

/// One block of the batch Bollinger bands: [`BandSums::bar`] taken apart so that only
/// the running sums' chains are left in the one-bar-at-a-time loop. With the shift
/// fixed, the deviations of the prices entering and leaving (and their squares) are
/// taken first, with vector instructions; then the three sums run; then, again in vector
/// form, the variances, TA-Lib's drift test and the bands. A bar that needed a reseed
/// is reseeded as in `bar`, its bands taken again, and the block goes on from the next
/// bar with the new shift. The same operations on the same values as `bar`, so the same
/// bits.
struct BandBlock {
    t_in: [f64; BAND_BLOCK],   // x − shift for the price entering
    tt_in: [f64; BAND_BLOCK],  // its square
    t_out: [f64; BAND_BLOCK],  // x − shift for the price leaving after the bar
    tt_out: [f64; BAND_BLOCK], // its square
    sum: [f64; BAND_BLOCK],    // the SMA's sum at the bar
    v1: [f64; BAND_BLOCK],     // the deviation sums at the bar
    v2: [f64; BAND_BLOCK],
    run: [usize; BAND_BLOCK], // equal prices in a row, ending at the bar
    tiny: u64,                // 1 once a price below TINY_PRICE (but not 0) has come
}

impl BandBlock {
    fn new() -> Self {
        let z = [0.0; BAND_BLOCK];
        Self {
            t_in: z,
            tt_in: z,
            t_out: z,
            tt_out: z,
            sum: z,
            v1: z,
            v2: z,
            run: [0; BAND_BLOCK],
            tiny: 0,
        }
    }

    /// Whether `x` is a nonzero price below `TINY_PRICE` (see there).
    #[inline(always)]
    fn is_tiny(x: f64) -> u64 {
        u64::from(x != 0.0 && x.abs() < TINY_PRICE)
    }

    /// Bars `i0 .. i0 + len` (`len <= BAND_BLOCK`, `p - 1 <= i0`, `i0 + len <= x.len()`)
    /// into `outs` (the block's slices of the three bands), `st` holding the sums before
    /// bar `i0`.
    #[inline(always)]
    fn bars(
        &mut self,
        x: &[f64],
        st: &mut BandSums,
        i0: usize,
        len: usize,
        (p, inv, k): (usize, f64, f64),
        (upper, middle, lower): (&mut [f64], &mut [f64], &mut [f64]),
    ) {
        let len = len.min(BAND_BLOCK);
        let (upper, middle, lower) = (&mut upper[..len], &mut middle[..len], &mut lower[..len]);
        let now = &x[i0..i0 + len];
        let pf = p as f64;
        let mut j0 = 0;
        while j0 < len {
            let gone = &x[i0 + j0 + 1 - p..i0 + len + 1 - p];
            let before = &x[i0 + j0 - 1..i0 + len - 1];
            let (shift, mut tiny, mut repeat) = (st.shift, 0u64, 0u64);
            let prices = now[j0..].iter().zip(gone).zip(before);
            for (j, ((&a, &b), &c)) in (j0..len).zip(prices) {
                let (t, u) = (a - shift, b - shift);
                (self.t_in[j], self.tt_in[j]) = (t, t * t);
                (self.t_out[j], self.tt_out[j]) = (u, u * u);
                tiny |= Self::is_tiny(a);
                repeat |= u64::from(a == c);
            }
            self.tiny |= tiny;
            // no price equal to the one before: every run of equal prices is 1, no window
            // is flat, and neither the chains nor the bands need to count
            let plain = repeat == 0;
            if plain {
                self.chains::<false>(st, j0, &now[j0..], gone);
                (st.run, st.last) = (1, now[len - 1]);
            } else {
                self.chains::<true>(st, j0, &now[j0..], gone);
            }
            // the bands of every bar, as if none needed a reseed, and the drift test
            let outs = (&mut *upper, &mut *middle, &mut *lower);
            let args = (j0, now, (p, inv, k), outs);
            let drift = match (self.tiny == 0, plain) {
                (true, true) => self.bands::<true, false>(args),
                (true, false) => self.bands::<true, true>(args),
                (false, true) => self.bands::<false, false>(args),
                (false, false) => self.bands::<false, true>(args),
            };
            let forced = j0 + st.since - 1; // the bar where `since` runs out
            if !drift && forced >= len {
                st.since -= len - j0;
                return;
            }
            // the first bar that needed one: the state right after it, its reseed, its bands
            let first = (j0..len)
                .find(|&j| j == forced || self.drifted(j, self.var(j, inv), inv))
                .unwrap_or(len - 1);
            let window = &x[i0 + first + 1 - p..=i0 + first];
            st.ma = self.sum[first] - window[0];
            st.run = if plain { 1 } else { self.run[first] };
            st.last = window[p - 1];
            let var = st.reseed(|| window.iter().copied(), window[0], p, inv);
            let var = if !plain && self.flat(first, now[first], p) {
                0.0
            } else {
                var
            };
            (upper[first], middle[first], lower[first]) =
                BandSums::bands(self.sum[first], pf, var, k);
            j0 = first + 1;
        }
    }

    /// The running sums over bars `j0..` of the block (prices `now`, leaving `gone`), in
    /// TA-Lib's order: add, then subtract. `SEE`: count equal prices in a row as well.
    #[inline(always)]
    fn chains<const SEE: bool>(&mut self, st: &mut BandSums, j0: usize, now: &[f64], gone: &[f64]) {
        for (j, (&a, &b)) in (j0..BAND_BLOCK).zip(now.iter().zip(gone)) {
            if SEE {
                st.see(a);
                self.run[j] = st.run;
            }
            st.ma += a;
            self.sum[j] = st.ma;
            st.ma -= b;
            st.v1 += self.t_in[j];
            self.v1[j] = st.v1;
            st.v1 -= self.t_out[j];
            st.v2 += self.tt_in[j];
            self.v2[j] = st.v2;
            st.v2 -= self.tt_out[j];
        }
    }

    /// The bands of bars `j0..` of the block (prices `now`), from the sums the chains left,
    /// as if none of them needed a reseed; returns whether one did (TA-Lib's drift test).
    /// `FAST`: no price so far is tiny, [`div_period_fast`] is exact. `FLAT`: some window
    /// may be flat (the runs were counted).
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    fn bands<const FAST: bool, const FLAT: bool>(
        &self,
        (j0, now, (p, inv, k), (upper, middle, lower)): (
            usize,
            &[f64],
            (usize, f64, f64),
            (&mut [f64], &mut [f64], &mut [f64]),
        ),
    ) -> bool {
        let len = now.len().min(BAND_BLOCK);
        let (upper, middle, lower) = (&mut upper[..len], &mut middle[..len], &mut lower[..len]);
        let pf = p as f64;
        let mut drift = 0u64;
        for j in j0..len {
            let var = self.var(j, inv);
            drift |= u64::from(self.drifted(j, var, inv));
            let var = if FLAT && self.flat(j, now[j], p) {
                0.0
            } else {
                var
            };
            let mid = if FAST {
                div_period_fast(self.sum[j], pf)
            } else {
                div_period(self.sum[j], pf)
            };
            (upper[j], middle[j], lower[j]) = BandSums::bands_with(mid, var, k);
        }
        drift != 0
    }

    /// The variance at bar `j`, from the sums the chains left there.
    #[inline(always)]
    fn var(&self, j: usize, inv: f64) -> f64 {
        let m1 = self.v1[j] * inv;
        self.v2[j] * inv - m1 * m1
    }

    /// TA-Lib's drift test after bar `j` (the chain's `v2` once the leaving price is out
    /// is `v2 − tt_out`, the same operation again).
    #[inline(always)]
    fn drifted(&self, j: usize, var: f64, inv: f64) -> bool {
        BandSums::drifted(var, self.v2[j] - self.tt_out[j], self.tt_out[j], inv)
    }

    /// Whether bar `j` (price `x`) ends a window of `p` equal finite prices.
    #[inline(always)]
    fn flat(&self, j: usize, x: f64, p: usize) -> bool {
        self.run[j] >= p && x.is_finite()
    }
}

// ------------------------------------------------------------------ KAMA
/// TA-Lib's efficiency ratio of a window: 1 for a straight rise (`path <= roc`) or a path
/// that is not positive (a flat window, see [`kama_flat_run`]), else `|roc / path|` at
/// most 1 (a straight fall whose running path has rounded a hair below `|roc|` gives 1,
/// not 1.0000003). TA-Lib 0.8.1 does all three; the oracle tests pin each.
#[inline(always)]
fn kama_er_exact(path: f64, roc: f64) -> f64 {
    if path <= 0.0 || path <= roc {
        1.0
    } else {
        kama_clamp((roc / path).abs())
    }
}

/// `min(q, 1)`, a NaN staying NaN (as in TA-Lib: an inf price that has just left the
/// window makes the ratio inf/inf, and the KAMA NaN).
#[inline(always)]
fn kama_clamp(q: f64) -> f64 {
    if q > 1.0 {
        1.0
    } else {
        q
    }
}

/// The batch loop's cut between the common case and the rest: `|roc|`, or infinity when
/// `roc == 0`. A path above it rules out TA-Lib's tests (`path <= roc`, `path <= 0`),
/// a ratio above 1 (which would be clamped) and a flat window (which has `roc == 0`), so
/// the ratio is this bound over the path. A NaN `roc` gives NaN: the slow case.
#[inline(always)]
fn kama_bound(roc: f64) -> f64 {
    if roc == 0.0 {
        f64::INFINITY
    } else {
        roc.abs()
    }
}

/// The slow case of the batch loop, for the window `w` (`p + 1` prices, oldest first):
/// a window whose `p` changes are all exactly 0 has its running path set to 0 (TA-Lib's
/// purge of the residue the running sum keeps, which would otherwise be divided into
/// itself; such a window has `roc == 0`, so only then is it looked for), then
/// [`kama_er_exact`]. Out of line: random walks never come here. Returns `(er, path)`, by
/// value, so that the caller's running path stays in a register.
#[cold]
#[inline(never)]
fn kama_er_slow(path: f64, w: &[f64]) -> (f64, f64) {
    let roc = w[w.len() - 1] - w[0];
    let flat = roc == 0.0 && w.windows(2).all(|c| c[1] - c[0] == 0.0);
    let path = if flat { 0.0 } else { path };
    (kama_er_exact(path, roc), path)
}

/// The smoothing constant of an efficiency ratio: `(er · fastest + slowest)²`.
#[inline(always)]
fn kama_sc<const FMA: bool>(er: f64, fastest: f64, slowest: f64) -> f64 {
    let sc = madd::<FMA>(er, fastest, slowest);
    sc * sc
}

/// One change into the count of exactly-zero changes in a row: once `p` of them have gone
/// by the window is flat, and its path is 0 exactly (TA-Lib's purge, see
/// [`kama_er_slow`]). The count stops at `p`, which is all the test needs.
#[inline(always)]
fn kama_flat_run(run: usize, change: f64, p: usize) -> usize {
    if change == 0.0 {
        (run + 1).min(p)
    } else {
        0
    }
}

/// Incremental Kaufman adaptive moving average (TA-Lib seeding).
#[derive(Debug, Clone)]
pub struct Kama {
    period: usize,
    fastest: f64,
    slowest: f64,
    count: usize,
    window: VecDeque<f64>, // the last period + 1 prices
    path: f64,             // Σ |x[i] - x[i-1]| over the window
    flat: usize,           // exactly-zero changes in a row, at most `period`
    value: f64,
}

impl Kama {
    pub fn new(period: i64, fast: i64, slow: i64) -> Result<Self> {
        let period = check_period(period, 1, "KAMA")?;
        if fast < 1 || slow < 1 || fast >= slow || slow > MAX_PERIOD as i64 {
            return Err(EngineError::InvalidInput(format!(
                "KAMA needs 1 <= fast < slow <= {MAX_PERIOD}, got fast={fast}, slow={slow}"
            )));
        }
        let slowest = 2.0 / (slow as f64 + 1.0);
        Ok(Self {
            period,
            fastest: 2.0 / (fast as f64 + 1.0) - slowest,
            slowest,
            count: 0,
            window: VecDeque::with_capacity(period + 2),
            path: 0.0,
            flat: 0,
            value: f64::NAN,
        })
    }

    pub fn period(&self) -> usize {
        self.period
    }
    pub fn count(&self) -> usize {
        self.count
    }
    fn warm(&self) -> bool {
        self.count > self.period || (self.period == 1 && self.count >= 1)
    }
    pub fn value(&self) -> Option<f64> {
        self.warm().then_some(self.value)
    }

    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        self.count += 1;
        if self.period == 1 {
            self.value = x;
            return x;
        }
        let p = self.period;
        if self.count <= p + 1 {
            if let Some(&prev) = self.window.back() {
                self.path += (prev - x).abs();
                self.flat = kama_flat_run(self.flat, x - prev, p);
            }
            self.window.push_back(x);
            if self.count < p + 1 {
                if self.count == p {
                    self.value = x; // seed: x[p - 1]
                }
                return f64::NAN;
            }
        } else {
            // drop the oldest change, add the newest
            let (Some(&t0), Some(&t1), Some(&prev)) =
                (self.window.front(), self.window.get(1), self.window.back())
            else {
                return f64::NAN;
            };
            self.path = (self.path - (t0 - t1).abs()) + (x - prev).abs();
            self.flat = kama_flat_run(self.flat, x - prev, p);
            if self.flat >= p {
                self.path = 0.0;
            }
            self.window.pop_front();
            self.window.push_back(x);
        }
        let first = self.window.front().copied().unwrap_or(f64::NAN);
        let er = kama_er_exact(self.path, x - first);
        let sc = if has_fma() {
            kama_sc::<true>(er, self.fastest, self.slowest)
        } else {
            kama_sc::<false>(er, self.fastest, self.slowest)
        };
        self.value = smooth_rt(self.value, sc, x);
        self.value
    }

    /// Feed one price; the KAMA once warm (after `period + 1` prices).
    pub fn update(&mut self, x: f64) -> Result<Option<f64>> {
        let x = check_price(x)?;
        let v = self.step(x);
        Ok(self.warm().then_some(v))
    }

    pub fn reset(&mut self) {
        self.count = 0;
        self.window.clear();
        self.path = 0.0;
        self.flat = 0;
        self.value = f64::NAN;
    }
}

/// Batch KAMA into `out` (NaN for the first `period` values; `period = 1` copies):
/// [`Kama::step`] with the window read from the input, the same operations in order.
fn kama_from(x: &[f64], period: i64, fast: i64, slow: i64, out: &mut [f64]) -> Result<()> {
    let st = Kama::new(period, fast, slow)?;
    kama_loop(x, out, st.period, st.fastest, st.slowest);
    Ok(())
}

dispatch_fma!(kama_loop => inner_kama, (x: &[f64], out: &mut [f64], p: usize, fastest: f64, slowest: f64) -> ());

#[inline(always)]
fn inner_kama<const FMA: bool>(x: &[f64], out: &mut [f64], p: usize, fastest: f64, slowest: f64) {
    let n = x.len().min(out.len());
    let (x, out) = (&x[..n], &mut out[..n]);
    if p == 1 {
        out.copy_from_slice(x);
        return;
    }
    out[..n.min(p)].fill(f64::NAN);
    if n <= p {
        return;
    }
    let mut path = 0.0f64;
    for i in 1..=p {
        path += (x[i - 1] - x[i]).abs();
    }
    let er = kama_er_exact(path, x[p] - x[0]); // no purge before the first slide
    let mut value = smooth::<FMA>(x[p - 1], kama_sc::<FMA>(er, fastest, slowest), x[p]);
    out[p] = value;
    // The rest by blocks: the changes entering and leaving the window and the bound of
    // the window's rate of change (vectorised: a full block has a constant length), then
    // the path and the value, one price at a time.
    let mut block = KamaBlock {
        enter: [0.0; SMOOTH_BLOCK],
        leave: [0.0; SMOOTH_BLOCK],
        bound: [0.0; SMOOTH_BLOCK],
    };
    let (mut t0, mut careful) = (p + 1, false);
    let sc = (fastest, slowest);
    while t0 < n {
        let len = (n - t0).min(SMOOTH_BLOCK);
        if len == SMOOTH_BLOCK {
            block.fill(x, t0, SMOOTH_BLOCK, p);
        } else {
            block.fill(x, t0, len, p);
        }
        let start = (path, value);
        if !careful {
            (path, value) = block.run::<FMA, true>(x, out, t0, len, p, start, sc);
            // a non-finite price makes the value non-finite for good: this block again,
            // and the rest, with TA-Lib's form where it matters (see `smooth`)
            careful = !value.is_finite();
        }
        if careful {
            (path, value) = block.run::<FMA, false>(x, out, t0, len, p, start, sc);
        }
        t0 += len;
    }
}

/// One block of the batch KAMA: for each price `t` of the block, the change entering the
/// window, the change leaving it, and the [`kama_bound`] of its rate of change.
struct KamaBlock {
    enter: [f64; SMOOTH_BLOCK],
    leave: [f64; SMOOTH_BLOCK],
    bound: [f64; SMOOTH_BLOCK],
}

impl KamaBlock {
    /// The block of `len <= SMOOTH_BLOCK` prices from `t0` (`p < t0`,
    /// `t0 + len <= x.len()`); with `len` a constant, the loop becomes vector code.
    #[inline(always)]
    fn fill(&mut self, x: &[f64], t0: usize, len: usize, p: usize) {
        let len = len.min(SMOOTH_BLOCK);
        // x[t - 1] and x[t], x[t - p - 1] and x[t - p], for t in the block
        let (now0, now1) = (&x[t0 - 1..t0 - 1 + len], &x[t0..t0 + len]);
        let (then0, then1) = (&x[t0 - p - 1..t0 - p - 1 + len], &x[t0 - p..t0 - p + len]);
        for j in 0..len {
            self.enter[j] = (now1[j] - now0[j]).abs();
            self.leave[j] = (then0[j] - then1[j]).abs();
            self.bound[j] = kama_bound(now1[j] - then1[j]);
        }
    }

    /// The running path and the KAMA over the block (filled by [`Self::fill`] with the
    /// same `t0` and `len`), from and to `(path, value)`. Only the two chains and a few
    /// constants are live: TA-Lib's `(path − leave) + enter` (its rounding kept, since the
    /// ratio of a shrunken window depends on it) and the value's one multiply-add.
    /// `FAST`: [`smooth_finite`], right while the prices and the value are finite.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn run<const FMA: bool, const FAST: bool>(
        &self,
        x: &[f64],
        out: &mut [f64],
        t0: usize,
        len: usize,
        p: usize,
        (mut path, mut value): (f64, f64),
        (fastest, slowest): (f64, f64),
    ) -> (f64, f64) {
        let (out, now) = (&mut out[t0..t0 + len], &x[t0..t0 + len]);
        for (j, (o, &v)) in out.iter_mut().zip(now).enumerate() {
            path = (path - self.leave[j]) + self.enter[j];
            let bound = self.bound[j];
            let er = if path > bound {
                bound / path // |roc| / path, below 1
            } else {
                let t = t0 + j;
                let (er, purged) = kama_er_slow(path, &x[t - p..=t]);
                path = purged;
                er
            };
            let sc = kama_sc::<FMA>(er, fastest, slowest);
            value = if FAST {
                smooth_finite::<FMA>(value, sc, v)
            } else {
                smooth::<FMA>(value, sc, v)
            };
            *o = value;
        }
        (path, value)
    }
}

/// Index of the first non-NaN value (`x.len()` when there is none). TA-Lib's Python
/// wrapper starts every indicator there, so leading NaNs only delay the warm-up.
pub fn first_valid(x: &[f64]) -> usize {
    x.iter().position(|v| !v.is_nan()).unwrap_or(x.len())
}

/// Batch EMA into `out` (same length): NaN until `period - 1` values past the leading NaNs.
pub fn ema(x: &[f64], period: i64, out: &mut [f64]) -> Result<()> {
    Ema::new(period)?;
    let s = first_valid(x).min(out.len());
    out[..s].fill(f64::NAN);
    ema_from(&x[s..], period, &mut out[s..])
}

/// Batch RSI into `out` (same length): NaN until `period` values past the leading NaNs.
pub fn rsi(x: &[f64], period: i64, out: &mut [f64]) -> Result<()> {
    Rsi::new(period)?;
    let s = first_valid(x).min(out.len());
    out[..s].fill(f64::NAN);
    rsi_from(&x[s..], period, &mut out[s..])
}

/// Batch KAMA into `out` (same length): NaN until `period` values past the leading NaNs.
pub fn kama(x: &[f64], period: i64, fast: i64, slow: i64, out: &mut [f64]) -> Result<()> {
    Kama::new(period, fast, slow)?;
    let s = first_valid(x).min(out.len());
    out[..s].fill(f64::NAN);
    kama_from(&x[s..], period, fast, slow, &mut out[s..])
}

/// Batch Bollinger bands (same length as `x`): NaN until `period - 1` values past the
/// leading NaNs.
pub fn bollinger(
    x: &[f64],
    period: i64,
    k: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> Result<()> {
    Bollinger::new(period, k)?;
    let s = first_valid(x)
        .min(upper.len())
        .min(middle.len())
        .min(lower.len());
    for o in [&mut *upper, &mut *middle, &mut *lower] {
        o[..s].fill(f64::NAN);
    }
    bollinger_from(
        &x[s..],
        period,
        k,
        &mut upper[s..],
        &mut middle[s..],
        &mut lower[s..],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(n: usize) -> Vec<f64> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut p = 100.0;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                p += (x % 2001) as f64 / 1000.0 - 1.0;
                p
            })
            .collect()
    }

    #[test]
    fn warm_up_positions_follow_ta_lib() {
        let x = walk(50);
        let mut o = vec![0.0; 50];
        ema(&x, 10, &mut o).expect("valid");
        assert!(o[8].is_nan() && !o[9].is_nan());
        let sma: f64 = x[..10].iter().sum::<f64>() / 10.0;
        assert_eq!(o[9], sma);
        rsi(&x, 14, &mut o).expect("valid");
        assert!(o[13].is_nan() && !o[14].is_nan());
        kama(&x, 10, 2, 30, &mut o).expect("valid");
        assert!(o[9].is_nan() && !o[10].is_nan());
        let (mut u, mut m, mut l) = (vec![0.0; 50], vec![0.0; 50], vec![0.0; 50]);
        bollinger(&x, 20, 2.0, &mut u, &mut m, &mut l).expect("valid");
        assert!(m[18].is_nan() && !m[19].is_nan());
        let mean: f64 = x[..20].iter().sum::<f64>() / 20.0;
        assert!((m[19] - mean).abs() < 1e-12);
    }

    #[test]
    fn incremental_equals_batch_bit_for_bit() {
        let x = walk(300);
        let mut o = vec![0.0; 300];
        rsi(&x, 14, &mut o).expect("valid");
        let mut r = Rsi::new(14).expect("valid");
        for (i, &v) in x.iter().enumerate() {
            let got = r.update(v).expect("finite");
            assert_eq!(
                got.map(f64::to_bits),
                (!o[i].is_nan()).then(|| o[i].to_bits())
            );
        }
        kama(&x, 10, 2, 30, &mut o).expect("valid");
        let mut k = Kama::new(10, 2, 30).expect("valid");
        for (i, &v) in x.iter().enumerate() {
            let got = k.update(v).expect("finite");
            assert_eq!(
                got.map(f64::to_bits),
                (!o[i].is_nan()).then(|| o[i].to_bits())
            );
        }
        let (mut u, mut m, mut l) = (vec![0.0; 300], vec![0.0; 300], vec![0.0; 300]);
        bollinger(&x, 20, 2.0, &mut u, &mut m, &mut l).expect("valid");
        let mut b = Bollinger::new(20, 2.0).expect("valid");
        for (i, &v) in x.iter().enumerate() {
            match b.update(v).expect("finite") {
                Some((bu, bm, bl)) => assert_eq!((bu, bm, bl), (u[i], m[i], l[i])),
                None => assert!(m[i].is_nan()),
            }
        }
    }

    #[test]
    fn flat_series_and_bad_input() {
        let x = vec![5.0; 40];
        let mut o = vec![0.0; 40];
        rsi(&x, 14, &mut o).expect("valid");
        assert_eq!(o[20], 0.0);
        let mut e = Ema::new(5).expect("valid");
        assert!(e.update(f64::NAN).is_err());
        assert_eq!(e.count(), 0);
        assert!(
            Rsi::new(1).is_err() && Ema::new(0).is_err() && Bollinger::new(20, f64::NAN).is_err()
        );
        assert!(Kama::new(10, 30, 2).is_err());
    }

    /// `div_period` is the division, bit for bit: every period up to 300 and a spread up
    /// to the bound, against sums of every magnitude, sign and significand (random bits),
    /// the sums of small integers, and the edges (0, −0, subnormal, huge, inf, NaN).
    #[test]
    fn division_by_the_period_is_correctly_rounded() {
        let mut s: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        assert_eq!((TINY_SUM, TINY_PRICE), (2f64.powi(-900), 2f64.powi(-840)));
        let periods = (2..=300u32).chain([1_000, 4_096, 9_999, 65_535, 65_536, 99_999, 100_000]);
        let edges = [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            -f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0,
            3.0,
            43.17 * 20.0,
        ];
        for p in periods {
            let b = f64::from(p);
            let same = |a: f64| {
                let want = a / b;
                if a.abs() >= TINY_SUM || a.is_nan() {
                    let got = div_period_fast(a, b);
                    assert!(
                        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                        "{a:e} / {p}: {got:e} != {want:e}"
                    );
                }
                let got = div_period(a, b);
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{a:e} / {p}: {got:e} != {want:e}"
                );
            };
            for a in edges.iter().copied().chain([f64::NAN, TINY_SUM, -TINY_SUM]) {
                same(a);
            }
            for k in 0..2_000u64 {
                same(f64::from_bits(
                    next() & !(0x7FF << 52) | ((next() % 0x7FE + 1) << 52),
                ));
                same(f64::from_bits((next() >> 12) | (0x3FF + (k % 64)) << 52)); // 1 .. 2^64
                same((k * u64::from(p) + next() % u64::from(p)) as f64);
            }
        }
    }
}
