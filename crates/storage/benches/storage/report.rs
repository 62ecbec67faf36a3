//! Collects latency samples and prints them as one table.

use std::time::Duration;

/// One row of the report: a backend, an operation and its figures.
pub struct Row {
    pub backend: String,
    pub operation: String,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub rate: Option<f64>,
}

#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    pub fn new() -> Self {
        Report::default()
    }

    /// Adds a row of latency percentiles from `samples`, and the rate of one operation
    /// per sample over `elapsed` when given.
    pub fn latencies(
        &mut self,
        backend: &str,
        operation: &str,
        mut samples: Vec<Duration>,
        elapsed: Option<Duration>,
    ) {
        samples.sort();
        let rate = elapsed.map(|elapsed| samples.len() as f64 / elapsed.as_secs_f64());
        let row = Row {
            backend: backend.to_string(),
            operation: operation.to_string(),
            p50: percentile(&samples, 50.0),
            p99: percentile(&samples, 99.0),
            rate,
        };
        row.print();
        self.rows.push(row);
    }

    pub fn print(&self) {
        println!();
        println!("| backend | operation | p50 | p99 | ops/s |");
        println!("|---|---|---|---|---|");
        for row in &self.rows {
            println!(
                "| {} | {} | {} | {} | {} |",
                row.backend,
                row.operation,
                format_duration(row.p50),
                format_duration(row.p99),
                row.rate
                    .map_or("-".to_string(), |rate| format!("{rate:.0}")),
            );
        }
    }
}

impl Row {
    fn print(&self) {
        println!(
            "{:<10} {:<34} p50 {:>10} p99 {:>10} {:>10} ops/s",
            self.backend,
            self.operation,
            format_duration(self.p50),
            format_duration(self.p99),
            self.rate
                .map_or("-".to_string(), |rate| format!("{rate:.0}")),
        );
    }
}

/// Returns the nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], percent: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((percent / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn format_duration(duration: Option<Duration>) -> String {
    match duration {
        None => "-".to_string(),
        Some(duration) if duration < Duration::from_millis(1) => {
            format!("{:.1} µs", duration.as_secs_f64() * 1e6)
        }
        Some(duration) => format!("{:.2} ms", duration.as_secs_f64() * 1e3),
    }
}
