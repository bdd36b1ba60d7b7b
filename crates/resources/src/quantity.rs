//! CPU and memory amounts as integers, read from and written as Kubernetes
//! quantities.
//!
//! CPU is kept in millicores and memory in bytes, so that comparing,
//! bounding and rounding are exact; only the estimate itself is computed in
//! floating point. Reading rounds up (a request of `0.0005` cores is `1m`,
//! as the API server does); writing gives the shortest exact form: `250m`,
//! `2`, `512Mi`, `3Gi`, or plain bytes when no binary suffix divides.

use std::fmt;
use std::str::FromStr;

/// A CPU amount in millicores (`250m` is `Cpu(250)`, `2` is `Cpu(2000)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cpu(pub u64);

/// A memory amount in bytes (`512Mi` is `Memory(536_870_912)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Memory(pub u64);

const KI: u64 = 1 << 10;
const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;
const TI: u64 = 1 << 40;

/// The value of a Kubernetes quantity in its base unit (cores, bytes), or
/// why it is not one. Accepts the same forms as the platform config:
/// a decimal number with an optional decimal (`m`, `k`, `M`, `G`, `T`, `P`,
/// `E`), binary (`Ki` .. `Ei`) or exponent (`e3`) suffix.
pub fn parse_quantity(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let bad = || format!("`{text}` is not a quantity (e.g. `250m`, `1`, `512Mi`)");
    if !num.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let value: f64 = num.parse().map_err(|_| bad())?;
    let multiplier = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => KI as f64,
        "Mi" => MI as f64,
        "Gi" => GI as f64,
        "Ti" => TI as f64,
        "Pi" => (TI * KI) as f64,
        "Ei" => (TI * MI) as f64,
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| bad())?;
            10f64.powi(exp)
        }
        _ => return Err(bad()),
    };
    let v = value * multiplier;
    if !v.is_finite() {
        return Err(bad());
    }
    if v < 0.0 {
        return Err(format!("`{text}` is negative"));
    }
    Ok(v)
}

/// Rounds a non-negative amount up to an integer, saturating at `u64::MAX`.
/// A hair above an integer (`230.00000000000003`, floating-point noise)
/// stays that integer.
pub(crate) fn ceil_u64(v: f64) -> u64 {
    if v.is_nan() || v <= 0.0 {
        return 0;
    }
    let nearest = v.round();
    let c = if (v - nearest).abs() <= 1e-9 * v.max(1.0) {
        nearest
    } else {
        v.ceil()
    };
    // `as` saturates at the bounds of u64.
    c as u64
}

impl FromStr for Cpu {
    type Err = String;

    /// Reads `250m`, `0.25`, `2`: rounded up to whole millicores.
    fn from_str(s: &str) -> Result<Cpu, String> {
        parse_quantity(s).map(|cores| Cpu(ceil_u64(cores * 1000.0)))
    }
}

impl FromStr for Memory {
    type Err = String;

    /// Reads `512Mi`, `1Gi`, `500M`, `1048576`: rounded up to whole bytes.
    fn from_str(s: &str) -> Result<Memory, String> {
        parse_quantity(s).map(|bytes| Memory(ceil_u64(bytes)))
    }
}

impl fmt::Display for Cpu {
    /// `250m`, or whole cores without a suffix (`2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1000) {
            write!(f, "{}", self.0 / 1000)
        } else {
            write!(f, "{}m", self.0)
        }
    }
}

impl fmt::Display for Memory {
    /// The largest binary suffix that divides exactly (`3Gi`, `354Mi`,
    /// `12Ki`), else bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (unit, suffix) in [(TI, "Ti"), (GI, "Gi"), (MI, "Mi"), (KI, "Ki")] {
            if b != 0 && b.is_multiple_of(unit) {
                return write!(f, "{}{suffix}", b / unit);
            }
        }
        write!(f, "{b}")
    }
}
