//! What a run found: each figure (scenario, concurrency, calls a second, latency percentiles from the
//! HDR histogram, errors by gRPC code) with its floors and the ratio of the figure to each; printed as
//! a table and written as JSON for docs/benchmarks.md.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;

use super::load::Measured;

/// Latency percentiles of the successful calls, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Self {
        let millis = |micros: u64| micros as f64 / 1_000.0;
        Self {
            p50: millis(histogram.value_at_quantile(0.50)),
            p90: millis(histogram.value_at_quantile(0.90)),
            p99: millis(histogram.value_at_quantile(0.99)),
            p99_9: millis(histogram.value_at_quantile(0.999)),
            max: millis(histogram.max()),
            mean: histogram.mean() / 1_000.0,
        }
    }
}

/// A floor: what the same machine does with the least of the same work.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    /// What was measured.
    pub name: String,
    /// Operations a second.
    pub throughput: f64,
    /// Its p99 latency, where it has calls.
    pub p99_ms: Option<f64>,
    /// Its failed calls, every code together.
    pub errors: u64,
}

impl Floor {
    /// The floor of a measured loop.
    pub fn measured(name: &str, measured: &Measured) -> Self {
        Self {
            name: name.to_owned(),
            throughput: measured.throughput(),
            p99_ms: Some(Percentiles::of(&measured.histogram).p99),
            errors: measured.errors.values().sum(),
        }
    }
}

/// A floor beside the figure it bounds.
#[derive(Debug, Clone, Serialize)]
pub struct FloorRatio {
    #[serde(flatten)]
    pub floor: Floor,
    /// The figure's throughput over the floor's.
    pub ratio: f64,
}

/// What the pipeline adds: when reporting had counted the dossiers, and how far behind it fell.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineTiming {
    /// Dossiers taken through the synchronous path a second (filing to rating).
    pub path_throughput: f64,
    /// Seconds from the start of the measured phase until reporting had counted every dossier.
    pub counted_after_s: f64,
    /// The largest lag of any of reporting's feeds while sampled, in events.
    pub max_lag_events: i64,
    /// The same, in seconds.
    pub max_lag_seconds: f64,
}

/// One scenario at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub scenario: String,
    pub concurrency: usize,
    /// Successful calls in the measured phase (for `pipeline`, dossiers).
    pub calls: u64,
    /// Failed calls by gRPC code.
    pub errors: BTreeMap<String, u64>,
    /// The measured phase's length (for `pipeline`, until reporting had counted it all).
    pub seconds: f64,
    /// Successful calls a second.
    pub throughput: f64,
    pub latency_ms: Percentiles,
    pub floors: Vec<FloorRatio>,
    /// The pipeline's own timings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<PipelineTiming>,
    /// Seconds the services took to finish the background work of the run before (jobs, reporting).
    pub settled_after_s: f64,
}

impl Figure {
    /// The figure of a measured loop, before its floors.
    pub fn new(scenario: &str, concurrency: usize, measured: &Measured, settled_after_s: f64) -> Self {
        Self {
            scenario: scenario.to_owned(),
            concurrency,
            calls: measured.histogram.len(),
            errors: measured.errors.clone(),
            seconds: measured.elapsed.as_secs_f64(),
            throughput: measured.throughput(),
            latency_ms: Percentiles::of(&measured.histogram),
            floors: Vec::new(),
            pipeline: None,
            settled_after_s,
        }
    }

    /// Adds `floor` with this figure's ratio to it.
    pub fn against(&mut self, floor: Floor) {
        let ratio = self.throughput / floor.throughput.max(1e-9);
        self.floors.push(FloorRatio { floor, ratio });
    }
}

/// The whole run, as written with `--json`.
#[derive(Debug, Serialize)]
pub struct Run {
    /// A name for the run (`sqlite`, `postgres`), from `--label`.
    pub label: String,
    /// The command line.
    pub command: String,
    pub figures: Vec<Figure>,
}

/// Prints the figures as a table, each floor on a line of its own under its figure.
pub fn print_table(figures: &[Figure]) {
    println!(
        "{:<15} {:>5} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9}  errors",
        "scenario", "conc", "calls", "calls/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms"
    );
    for figure in figures {
        let latency = &figure.latency_ms;
        let errors = if figure.errors.is_empty() {
            "0".to_owned()
        } else {
            figure.errors.iter().map(|(code, count)| format!("{code} {count}")).collect::<Vec<_>>().join(", ")
        };
        println!(
            "{:<15} {:>5} {:>8} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {errors}",
            figure.scenario,
            figure.concurrency,
            figure.calls,
            figure.throughput,
            latency.p50,
            latency.p90,
            latency.p99,
            latency.p99_9
        );
        if let Some(pipeline) = &figure.pipeline {
            println!(
                "{:<15} path {:.1}/s; reporting counted all after {:.1} s; lag at most {} events, {:.1} s",
                "",
                pipeline.path_throughput,
                pipeline.counted_after_s,
                pipeline.max_lag_events,
                pipeline.max_lag_seconds
            );
        }
        for floor in &figure.floors {
            let mut p99 = floor.floor.p99_ms.map_or_else(String::new, |p99| format!(", p99 {p99:.2} ms"));
            if floor.floor.errors > 0 {
                p99.push_str(&format!(", {} errors", floor.floor.errors));
            }
            println!(
                "{:<15} floor {:.1}/s{p99} — {}; ratio {:.3}",
                "", floor.floor.throughput, floor.floor.name, floor.ratio
            );
        }
    }
}

/// Writes the run as JSON into `path`.
pub fn write_json(run: &Run, path: &Path) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(run).context("the run as JSON")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}
