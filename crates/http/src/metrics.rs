//! The Prometheus counters and histograms, written by hand in the text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Upper bounds of the commands-per-write buckets.
const SIZE_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0, 10_000.0];

/// A cumulative histogram.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, v: f64) {
        for (bound, n) in self.bounds.iter().zip(self.counts.iter_mut()) {
            if v <= *bound {
                *n += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str) {
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

#[derive(Debug)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    commands: BTreeMap<(&'static str, String), u64>,
    latency: Histogram,
    write_sizes: Histogram,
}

/// What the server counts.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            inner: Mutex::new(Inner {
                requests: BTreeMap::new(),
                commands: BTreeMap::new(),
                latency: Histogram::new(&LATENCY_BUCKETS),
                write_sizes: Histogram::new(&SIZE_BUCKETS),
            }),
        }
    }
}

impl Metrics {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a request by route template and status.
    pub fn request(&self, route: &str, status: u16) {
        *self
            .inner()
            .requests
            .entry((route.to_owned(), status))
            .or_default() += 1;
    }

    /// Counts a command by type and outcome (`ok`, `replayed` or the error code).
    pub fn command(&self, kind: &'static str, outcome: &str) {
        *self
            .inner()
            .commands
            .entry((kind, outcome.to_owned()))
            .or_default() += 1;
    }

    /// Records one durable write: how many commands it carried and how long it took.
    pub fn write(&self, commands: usize, took: Duration) {
        let mut inner = self.inner();
        inner.latency.observe(took.as_secs_f64());
        // Sizes are at most the batch limit: exact in an f64.
        inner
            .write_sizes
            .observe(f64::from(u32::try_from(commands).unwrap_or(u32::MAX)));
    }

    /// The Prometheus text exposition, with the chain's position.
    pub fn render(&self, chain_position: u64) -> String {
        let inner = self.inner();
        let mut o = String::new();
        o.push_str("# HELP memberledger_http_requests_total HTTP requests by route and status.\n");
        o.push_str("# TYPE memberledger_http_requests_total counter\n");
        for ((route, status), n) in &inner.requests {
            let _ = writeln!(
                o,
                "memberledger_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        o.push_str("# HELP memberledger_commands_total Commands by type and outcome (ok, replayed or the error code).\n");
        o.push_str("# TYPE memberledger_commands_total counter\n");
        for ((kind, outcome), n) in &inner.commands {
            let _ = writeln!(
                o,
                "memberledger_commands_total{{type=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        o.push_str("# HELP memberledger_command_duration_seconds Time to decide and durably write one group of commands.\n");
        o.push_str("# TYPE memberledger_command_duration_seconds histogram\n");
        inner
            .latency
            .write(&mut o, "memberledger_command_duration_seconds");
        o.push_str("# HELP memberledger_write_commands Group-commit sizes: commands written with one disk sync.\n");
        o.push_str("# TYPE memberledger_write_commands histogram\n");
        inner
            .write_sizes
            .write(&mut o, "memberledger_write_commands");
        o.push_str(
            "# HELP memberledger_chain_position The position of the last event in the chain.\n",
        );
        o.push_str("# TYPE memberledger_chain_position gauge\n");
        let _ = writeln!(o, "memberledger_chain_position {chain_position}");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_cumulative_buckets_and_counters() {
        let m = Metrics::default();
        m.request("/v1/commands", 200);
        m.command("recharge", "ok");
        m.write(3, Duration::from_millis(2));
        let text = m.render(7);
        assert!(text.contains("memberledger_commands_total{type=\"recharge\",outcome=\"ok\"} 1"));
        assert!(text.contains("memberledger_write_commands_bucket{le=\"4\"} 1"));
        assert!(text.contains("memberledger_write_commands_bucket{le=\"2\"} 0"));
        assert!(text.contains("memberledger_command_duration_seconds_count 1"));
        assert!(text.contains("memberledger_chain_position 7"));
    }
}
