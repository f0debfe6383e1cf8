//! RPC metrics after OpenTelemetry's RPC semantic conventions: `rpc.server.duration` and
//! `rpc.client.duration`, histograms in milliseconds (their counts are the call counts) by
//! `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`, exported beside the traces.

use std::{sync::OnceLock, time::Duration};

use opentelemetry::{
    KeyValue,
    metrics::{Histogram, Meter},
};

/// The instruments, made once the meter provider exists; until then (or without an endpoint)
/// nothing is measured.
static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();

/// The semantic conventions' recommended boundaries for RPC durations, in milliseconds.
const BOUNDARIES_MS: [f64; 15] =
    [0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0, 10000.0];

/// gRPC's UNIMPLEMENTED: the path named no method we serve.
const UNIMPLEMENTED: i32 = 12;
/// What the conventions put in place of a method that is not ours, so that a caller inventing paths
/// cannot make a series per path.
const OTHER: &str = "_OTHER";

struct Instruments {
    server: Histogram<f64>,
    client: Histogram<f64>,
}

/// Which end of a call is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A call this service served.
    Server,
    /// A call this service made to a peer.
    Client,
}

/// Makes the instruments from `meter`; the first call wins, as one process has one meter provider.
pub(crate) fn install(meter: &Meter) {
    let histogram = |name: &'static str, description: &'static str| {
        meter
            .f64_histogram(name)
            .with_unit("ms")
            .with_description(description)
            .with_boundaries(BOUNDARIES_MS.to_vec())
            .build()
    };
    let _ = INSTRUMENTS.get_or_init(|| Instruments {
        server: histogram("rpc.server.duration", "Duration of the RPCs served, until the response headers"),
        client: histogram("rpc.client.duration", "Duration of the RPCs made, until the response headers"),
    });
}

/// Records one call of `service`/`method` that ended with gRPC status `code` after `elapsed`.
pub fn record_call(side: Side, service: &str, method: &str, code: i32, elapsed: Duration) {
    let Some(instruments) = INSTRUMENTS.get() else { return };
    let (service, method) =
        if side == Side::Server && code == UNIMPLEMENTED { (OTHER, OTHER) } else { (service, method) };
    let attributes = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", service.to_owned()),
        KeyValue::new("rpc.method", method.to_owned()),
        KeyValue::new("rpc.grpc.status_code", i64::from(code)),
    ];
    let histogram = match side {
        Side::Server => &instruments.server,
        Side::Client => &instruments.client,
    };
    histogram.record(elapsed.as_secs_f64() * 1000.0, &attributes);
}
