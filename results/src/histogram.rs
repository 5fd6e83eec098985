//! HDR histograms of nanosecond durations, their serialization and summaries.

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Significant decimal digits every coldbench histogram keeps (docs/design.md §6).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// Largest recordable duration: 1 hour in ns. Longer values saturate.
const MAX_NS: u64 = 3_600_000_000_000;

/// Errors of histogram (de)serialization.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    /// The base64 text is invalid.
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a V2 (deflate) histogram.
    #[error("histogram bytes are not a V2 HDR histogram: {0}")]
    Decode(String),
}

/// An HDR histogram of durations in nanoseconds (1 ns .. 1 h, 3 significant digits).
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    inner: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        LatencyHistogram {
            inner: Histogram::new_with_bounds(1, MAX_NS, SIGNIFICANT_DIGITS)
                .expect("valid histogram bounds"),
        }
    }

    /// Records one duration in ns (0 is recorded as 1 ns, over 1 h saturates).
    pub fn record_ns(&mut self, ns: u64) {
        self.inner.saturating_record(ns.max(1));
    }

    /// Number of recorded values.
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// True if nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The underlying `hdrhistogram` histogram.
    pub fn inner(&self) -> &Histogram<u64> {
        &self.inner
    }

    /// Serializes to V2 + deflate, base64 (standard alphabet).
    pub fn to_base64(&self) -> String {
        let mut buf = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.inner, &mut buf)
            .expect("serializing into a Vec cannot fail");
        base64::engine::general_purpose::STANDARD.encode(buf)
    }

    /// Parses what [`LatencyHistogram::to_base64`] wrote.
    ///
    /// Errors: [`HistogramError`] if the text is not a serialized histogram.
    pub fn from_base64(s: &str) -> Result<Self, HistogramError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(s)?;
        let inner: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| HistogramError::Decode(format!("{e:?}")))?;
        Ok(LatencyHistogram { inner })
    }

    /// Summary statistics; `None` if empty.
    pub fn summary(&self) -> Option<Summary> {
        let h = &self.inner;
        let n = h.len();
        if n == 0 {
            return None;
        }
        let ci = crate::stats::median_interval_ranks(n);
        let at_rank = |rank: u64| h.value_at_quantile(rank as f64 / n as f64);
        Some(Summary {
            n,
            min_ns: h.min(),
            p50_ns: h.value_at_quantile(0.5),
            p90_ns: h.value_at_quantile(0.9),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            max_ns: h.max(),
            mean_ns: h.mean(),
            stddev_ns: h.stdev(),
            p50_ci95_low_ns: at_rank(ci.low_rank),
            p50_ci95_high_ns: at_rank(ci.high_rank),
        })
    }
}

/// Summary of a duration distribution; every value in ns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Sample count (at least 1: a distribution with no sample is absent).
    #[schemars(range(min = 1))]
    pub n: u64,
    /// Minimum, ns.
    pub min_ns: u64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 90th percentile, ns.
    pub p90_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// 99.9th percentile, ns.
    pub p999_ns: u64,
    /// Maximum, ns.
    pub max_ns: u64,
    /// Arithmetic mean, ns.
    #[schemars(range(min = 0))]
    pub mean_ns: f64,
    /// Standard deviation, ns.
    #[schemars(range(min = 0))]
    pub stddev_ns: f64,
    /// Lower end of the distribution-free 95 % confidence interval of the median, ns.
    pub p50_ci95_low_ns: u64,
    /// Upper end of that interval, ns.
    pub p50_ci95_high_ns: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_counts_and_percentiles() {
        let mut h = LatencyHistogram::new();
        for v in [1_000u64, 2_000, 3_000, 1_000_000, 5_000_000_000] {
            h.record_ns(v);
        }
        let back = LatencyHistogram::from_base64(&h.to_base64()).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.summary(), h.summary());
    }

    #[test]
    fn summary_of_known_values() {
        let mut h = LatencyHistogram::new();
        for v in 1..=1000u64 {
            h.record_ns(v * 1000);
        }
        let s = h.summary().unwrap();
        assert_eq!(s.n, 1000);
        // 3 significant digits: values are exact to within 0.1 %.
        assert!(
            (s.p50_ns as f64 - 500_000.0).abs() / 500_000.0 < 0.002,
            "{s:?}"
        );
        assert!(s.p50_ci95_low_ns < s.p50_ns && s.p50_ns < s.p50_ci95_high_ns);
        // n = 1000: ranks 469 and 532 (±31 around 500).
        assert!(
            (s.p50_ci95_low_ns as f64 - 469_000.0).abs() < 1_500.0,
            "{s:?}"
        );
        assert!(
            (s.p50_ci95_high_ns as f64 - 532_000.0).abs() < 1_500.0,
            "{s:?}"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(LatencyHistogram::from_base64("not base64!").is_err());
        assert!(LatencyHistogram::from_base64("AAAA").is_err());
    }
}
