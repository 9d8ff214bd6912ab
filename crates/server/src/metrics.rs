//! Counters for `/metrics`, in Prometheus' text format: requests by route and status,
//! request latency, open sync connections, shed requests and refused tokens.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
struct Latency {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// (route, status) → count.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Latency>>,
    pub sync_connections: AtomicI64,
    pub shed: AtomicU64,
    pub auth_failures: AtomicU64,
    pub auth_throttled: AtomicU64,
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, took: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((route.to_owned(), status))
            .or_default() += 1;
        let secs = took.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
        let l = latency.entry(route.to_owned()).or_default();
        for (bound, count) in BUCKETS.iter().zip(l.buckets.iter_mut()) {
            if secs <= *bound {
                *count += 1;
            }
        }
        l.count += 1;
        l.sum += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP offbeat_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE offbeat_requests_total counter");
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "offbeat_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP offbeat_request_seconds Time to answer a request (to its headers)."
        );
        let _ = writeln!(out, "# TYPE offbeat_request_seconds histogram");
        for (route, l) in self
            .latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let route = escape(route);
            for (bound, count) in BUCKETS.iter().zip(l.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "offbeat_request_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "offbeat_request_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                l.count
            );
            let _ = writeln!(
                out,
                "offbeat_request_seconds_sum{{route=\"{route}\"}} {}",
                l.sum
            );
            let _ = writeln!(
                out,
                "offbeat_request_seconds_count{{route=\"{route}\"}} {}",
                l.count
            );
        }
        let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: i64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        gauge(
            &mut out,
            "offbeat_sync_connections",
            "Open playlist sync WebSocket connections.",
            "gauge",
            self.sync_connections.load(Ordering::Relaxed),
        );
        let counter = |v: &AtomicU64| i64::try_from(v.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        gauge(
            &mut out,
            "offbeat_shed_requests_total",
            "Requests refused with 503 because the server was at its concurrency limit.",
            "counter",
            counter(&self.shed),
        );
        gauge(
            &mut out,
            "offbeat_auth_failures_total",
            "Requests refused for a missing, unknown or revoked token.",
            "counter",
            counter(&self.auth_failures),
        );
        gauge(
            &mut out,
            "offbeat_auth_throttled_total",
            "Requests refused with 429 because their token failed too often.",
            "counter",
            counter(&self.auth_throttled),
        );
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.record("/api/v1/status", 200, Duration::from_millis(3));
        m.record("/api/v1/status", 200, Duration::from_millis(30));
        m.shed.fetch_add(2, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("offbeat_requests_total{route=\"/api/v1/status\",status=\"200\"} 2"));
        assert!(text
            .contains("offbeat_request_seconds_bucket{route=\"/api/v1/status\",le=\"0.005\"} 1"));
        assert!(
            text.contains("offbeat_request_seconds_bucket{route=\"/api/v1/status\",le=\"0.05\"} 2")
        );
        assert!(text.contains("offbeat_shed_requests_total 2"));
    }
}
