//! Personal data never leaves through telemetry. The real `motcua up` runs the four services in one
//! process with JSON logs and its spans exported over OTLP to a receiver in this test; known test
//! citizens' dossiers, documents, signatures, seals, fee receipts and slips go through them, with calls
//! refused for the personal data they carry, and reporting follows. Once the process has stopped on
//! SIGTERM (flushing its last spans), every exported span (name, attributes, events, status, resource),
//! every line the process wrote and every refusal's message and details are searched for each
//! citizen's data in several forms, and none is found.
//!
//! Twice, on two loopback addresses of their own: with the log filter operators run (`info`, the
//! default when `MOTCUA_LOG` is unset), and with `debug`, what an SRE turns on to troubleshoot, which
//! covers `info,motcua=debug` and every library's debug lines. The first run exports what production
//! exports (`MOTCUA_TRACE_FILTER` unset: our spans and one span per database statement); the second
//! sets the trace filter to `debug` too, so every library's debug spans are searched as well. The
//! binary is built by cargo on first use (`process::motcua_binary`).

#[path = "personal_data/citizens.rs"]
mod citizens;
#[path = "personal_data/process.rs"]
mod process;
#[path = "personal_data/scenario.rs"]
mod scenario;

use std::{net::IpAddr, time::Duration};

use citizens::{Datum, Kind, all_data, forms};
use motcua_chassis::{ServiceKind, testing::ExportedSpan, testing::OtlpReceiver};
use process::Suite;
use scenario::{Driven, Refusal};

const SERVER: i32 = 2;
const CLIENT: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_default_log_filter_no_span_log_line_or_error_carries_a_citizens_data() {
    no_citizen_data_leaves([127, 0, 0, 5], None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_debug_log_filter_no_span_log_line_or_error_carries_a_citizens_data() {
    no_citizen_data_leaves([127, 0, 0, 6], Some("debug")).await;
}

async fn no_citizen_data_leaves(host: [u8; 4], log_filter: Option<&str>) {
    let receiver = OtlpReceiver::start().await;
    let mut suite = Suite::start(IpAddr::from(host), log_filter, &receiver.endpoint()).await;
    let Driven { refusals, dossier_codes } = scenario::drive(&suite).await;
    suite.stop().await;
    // Exported before the process exited; the wait only covers the receiver's own bookkeeping.
    let spans = receiver.wait_for(Duration::from_secs(10), |spans| every_service_traced(spans).is_ok()).await;
    let log = suite.stderr();
    let stdout = suite.stdout();

    if let Err(missing) = every_service_traced(&spans) {
        panic!("the receiver lacks {missing}; {} spans received", spans.len());
    }
    every_service_logged(&log, log_filter == Some("debug"));

    let mut places = Vec::new();
    for span in &spans {
        let name = format!("span {} ({})", span.span.name, span.service_name);
        places.extend(span.all_text().into_iter().map(|text| (name.clone(), text)));
    }
    for (number, line) in log.lines().enumerate() {
        places.push((format!("log line {}", number + 1), line.to_owned()));
        // The same line decoded: a JSON escape must not hide a datum.
        let decoded = serde_json::from_str::<serde_json::Value>(line).map(|value| strings(&value)).unwrap_or_default();
        places.extend(decoded.into_iter().map(|text| (format!("log line {} (decoded)", number + 1), text)));
    }
    places.extend(
        stdout.lines().enumerate().map(|(number, line)| (format!("stdout line {}", number + 1), line.to_owned())),
    );
    for Refusal { call, status } in &refusals {
        places.push((format!("the error message of {call}"), status.message().to_owned()));
        let details = String::from_utf8_lossy(status.details()).into_owned();
        places.push((format!("the error details of {call}"), details));
    }

    // The control: dossier codes are not personal data and are logged, so a search that misses one
    // searches nothing.
    for code in &dossier_codes {
        let control = Datum { label: "a dossier code".to_owned(), value: code.clone(), kind: Kind::Number };
        assert!(!search(&[control], &places).is_empty(), "the search does not find dossier code {code}");
    }

    let leaks = search(&all_data(), &places);
    assert!(
        leaks.is_empty(),
        "personal data found ({} spans, {} log lines searched, log filter {:?}):\n{}",
        spans.len(),
        log.lines().count(),
        log_filter.unwrap_or("default"),
        leaks.join("\n")
    );
}

/// Each service's server spans, and reporting's client spans following the three feeds: the search
/// below covers every service, not an empty export.
fn every_service_traced(spans: &[ExportedSpan]) -> Result<(), String> {
    for (kind, at_least) in
        [(ServiceKind::Intake, 20), (ServiceKind::Signing, 8), (ServiceKind::Receipt, 8), (ServiceKind::Reporting, 1)]
    {
        let prefix = format!("{}/", kind.grpc_service_name());
        let count = spans.iter().filter(|span| span.span.kind == SERVER && span.span.name.starts_with(&prefix)).count();
        if count < at_least {
            return Err(format!("{at_least} server spans of {} (has {count})", kind.name()));
        }
    }
    for feed in [ServiceKind::Intake, ServiceKind::Signing, ServiceKind::Receipt] {
        let name = format!("{}/WatchEvents", feed.grpc_service_name());
        if !spans.iter().any(|span| span.span.kind == CLIENT && span.span.name == name) {
            return Err(format!("reporting's client span {name}"));
        }
    }
    Ok(())
}

/// Every line is JSON; each service logged; the lines written next to personal data (a dossier filed
/// or moved, a receipt issued or signed) are among those searched; and a debug filter gave debug lines.
fn every_service_logged(log: &str, debug: bool) {
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not a JSON log line ({error}): {line}")))
        .collect();
    for kind in ServiceKind::ALL {
        let count = lines.iter().filter(|line| line["service"] == kind.name()).count();
        assert!(count >= 2, "{} logged {count} lines naming it (serving, migrations applied)", kind.name());
    }
    for message in ["dossier created", "dossier moved", "receipt issued", "receipt signed"] {
        assert!(lines.iter().any(|line| line["message"] == message), "no {message:?} log line");
    }
    let debug_lines = lines.iter().filter(|line| line["level"] == "DEBUG").count();
    assert_eq!(debug_lines > 0, debug, "{debug_lines} DEBUG lines");
}

/// Every string inside a JSON value, keys included.
fn strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(text) => vec![text.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(strings).collect(),
        serde_json::Value::Object(fields) => {
            fields.iter().flat_map(|(key, value)| std::iter::once(key.clone()).chain(strings(value))).collect()
        }
        _ => Vec::new(),
    }
}

/// Each datum found, in which form, where (the first place of each distinct text: tens of thousands of
/// span attributes repeat a few texts), with the text around it.
fn search(data: &[Datum], places: &[(String, String)]) -> Vec<String> {
    let mut distinct = std::collections::HashMap::new();
    for (place, text) in places {
        distinct.entry(text.as_str()).or_insert(place.as_str());
    }
    let mut leaks = Vec::new();
    for datum in data {
        for form in forms(datum) {
            for (text, place) in &distinct {
                if let Some(at) = text.find(&form) {
                    let start =
                        (0..=at.saturating_sub(80)).rev().find(|&index| text.is_char_boundary(index)).unwrap_or(0);
                    let end = (at + form.len() + 80).min(text.len());
                    let end = (end..=text.len()).find(|&index| text.is_char_boundary(index)).unwrap_or(text.len());
                    leaks.push(format!(
                        "- {} {:?} (as {form:?}) in {place}: …{}…",
                        datum.label,
                        datum.value,
                        &text[start..end]
                    ));
                }
            }
        }
    }
    leaks.sort();
    leaks
}
