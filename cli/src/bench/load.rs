//! The closed loop: `concurrency` workers each make one call at a time, back to back, through a
//! warm-up that is not recorded and then a measured phase bounded by time and, when asked, by a count
//! of calls. The latencies of the measured successes go into an HDR histogram per worker, merged at
//! the end; failures are counted by gRPC code. A progress line on stderr while it runs.

use std::{
    collections::BTreeMap,
    io::{IsTerminal, Write},
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use tonic::Status;

/// One call in flight: its outcome, with a failure as the gRPC status the caller saw.
pub type CallFuture = Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;
/// Makes the next call of worker `worker` (an index below the concurrency).
pub type Call = Arc<dyn Fn(usize) -> CallFuture + Send + Sync>;

/// The slowest latency the histogram keeps apart (a minute, in microseconds); slower ones count as it.
const SLOWEST_MICROS: u64 = 60_000_000;
/// How often the progress line is redrawn (a terminal) or written (a log).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
const PROGRESS_EVERY_IN_A_LOG: Duration = Duration::from_secs(5);

/// How long to run: a warm-up, then a measured phase that ends at `duration` or after `count` calls.
#[derive(Debug, Clone, Copy)]
pub struct Phases {
    /// Calls made and not recorded, so connections, caches and pools are warm.
    pub warmup: Duration,
    /// The measured phase's length at most.
    pub duration: Duration,
    /// The measured phase's calls at most.
    pub count: Option<u64>,
}

/// What the measured phase saw.
pub struct Measured {
    /// Latencies of the successful calls, in microseconds.
    pub histogram: Histogram<u64>,
    /// Failed calls by gRPC code name (`Unavailable`, `ResourceExhausted`, ...).
    pub errors: BTreeMap<String, u64>,
    /// From the start of the measured phase to the end of its last call.
    pub elapsed: Duration,
}

impl Measured {
    /// Successful calls a second.
    pub fn throughput(&self) -> f64 {
        self.histogram.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Counters the workers share with the progress line.
#[derive(Default)]
struct Progress {
    /// Measured calls started, the ticket a `count` is checked against.
    started: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
}

/// Runs `call` from `concurrency` workers through `phases`; `label` names the run on the progress line.
pub async fn run(label: &str, call: Call, concurrency: usize, phases: Phases) -> Measured {
    let concurrency = concurrency.max(1);
    let progress = Arc::new(Progress::default());
    let measuring_from = Instant::now() + phases.warmup;
    let ending_at = measuring_from + phases.duration;
    let printer = tokio::spawn(print_progress(label.to_owned(), progress.clone(), measuring_from, ending_at));
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let call = call.clone();
            let progress = progress.clone();
            tokio::spawn(async move { work(worker, call, &progress, measuring_from, ending_at, phases.count).await })
        })
        .collect();
    let mut histogram = new_histogram();
    let mut errors = BTreeMap::new();
    for worker in workers {
        // A worker that panicked is a bug of this tool: its calls are simply missing from the figure.
        if let Ok((worker_histogram, worker_errors)) = worker.await {
            histogram.add(worker_histogram).expect("histograms of the same bounds add up");
            for (code, count) in worker_errors {
                *errors.entry(code).or_insert(0) += count;
            }
        }
    }
    let elapsed = Instant::now().saturating_duration_since(measuring_from);
    // The line is drawn between ticks; the run does not wait for the next one.
    printer.abort();
    if std::io::stderr().is_terminal() {
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
    }
    Measured { histogram, errors, elapsed }
}

/// The histogram every run uses: 1 µs to a minute, three significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, SLOWEST_MICROS, 3).expect("1 µs to a minute at 3 digits are valid bounds")
}

async fn work(
    worker: usize,
    call: Call,
    progress: &Progress,
    measuring_from: Instant,
    ending_at: Instant,
    count: Option<u64>,
) -> (Histogram<u64>, BTreeMap<String, u64>) {
    let mut histogram = new_histogram();
    let mut errors = BTreeMap::new();
    loop {
        let started = Instant::now();
        if started >= ending_at {
            break;
        }
        let measured = started >= measuring_from;
        if measured {
            let ticket = progress.started.fetch_add(1, Ordering::Relaxed);
            if count.is_some_and(|count| ticket >= count) {
                break;
            }
        }
        let outcome = call(worker).await;
        if !measured {
            continue;
        }
        match outcome {
            Ok(()) => {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(SLOWEST_MICROS);
                histogram.saturating_record(micros.clamp(1, SLOWEST_MICROS));
                progress.succeeded.fetch_add(1, Ordering::Relaxed);
            }
            Err(status) => {
                *errors.entry(format!("{:?}", status.code())).or_insert(0) += 1;
                progress.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    (histogram, errors)
}

/// Redraws one line on a terminal, or writes a line now and then into a log, until aborted.
async fn print_progress(label: String, progress: Arc<Progress>, measuring_from: Instant, ending_at: Instant) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal { PROGRESS_EVERY } else { PROGRESS_EVERY_IN_A_LOG };
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let now = Instant::now().min(ending_at);
        let line = if now < measuring_from {
            format!("{label}: warming up, {:.0} s to go", (measuring_from - now).as_secs_f64().ceil())
        } else {
            let seconds = (now - measuring_from).as_secs_f64().max(1e-9);
            let succeeded = progress.succeeded.load(Ordering::Relaxed);
            format!(
                "{label}: {seconds:.0} s, {succeeded} calls, {:.0}/s, {} errors",
                succeeded as f64 / seconds,
                progress.failed.load(Ordering::Relaxed)
            )
        };
        let mut stderr = std::io::stderr().lock();
        // The progress line is a courtesy: a closed stderr does not stop the run.
        let _ = if terminal { write!(stderr, "\r\x1b[2K{line}") } else { writeln!(stderr, "{line}") };
        let _ = stderr.flush();
    }
}
