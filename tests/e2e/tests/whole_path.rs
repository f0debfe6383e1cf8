//! The whole path with the services as they are deployed: the built binaries, each replica a process
//! of its own on PostgreSQL, under mutual TLS with the shipped policy file (a grant it lacks fails here,
//! not in production). Two replicas of every service take 1,000 dossiers from 16 concurrent clients,
//! and every dossier ends with one slip and one fee receipt, gap-free numbers and reporting's totals
//! equal to a recount; with signing and then receipt stopped while dossiers are filed, filing goes on,
//! the follow-ups wait and complete once the peers are back, nothing lost or doubled (on SQLite, then on
//! PostgreSQL); and one of those dossiers goes on to its result, whose officer signature and seal
//! OpenSSL verifies.
//!
//! The binaries are built by cargo on first use (`processes::binaries`). Without PostgreSQL the tests
//! are skipped, unless `MOTCUA_REQUIRE_POSTGRES=1`.

#[path = "whole_path/counter.rs"]
mod counter;
#[path = "whole_path/demo.rs"]
mod demo;
#[path = "whole_path/processes.rs"]
mod processes;

use std::time::{Duration, Instant};

use counter::{Counter, SETUP_POLICY, check_whole_path, wait_until_signed};
use motcua_chassis::ServiceKind;
use motcua_proto::motcua::intake::v1 as intake_pb;
use processes::{Cluster, Store};

/// The longest the follow-ups of all the dossiers may take once filing is over.
const FOLLOW_UPS_WAIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_every_service_take_a_thousand_dossiers_each_with_one_slip_one_fee_receipt_and_counted() {
    let Some(cluster) = Cluster::start(Store::Postgres, 2, SETUP_POLICY).await else { return };
    let counter = Counter::new(&cluster);
    let components = counter.set_up(&cluster).await;

    let started = Instant::now();
    let filed = counter.file(&cluster, &components, 0..1000, 16).await;
    let filing = started.elapsed();
    let waited = wait_until_signed(&cluster, 2 * filed.len() as i64, FOLLOW_UPS_WAIT).await;
    eprintln!("1,000 dossiers filed in {filing:?}; their follow-ups done and signed {waited:?} later");

    check_whole_path(&counter, &cluster, &filed, 2).await;
    eprintln!("checked {:?} after the first filing", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_signing_then_receipt_stopped_dossiers_are_accepted_and_their_follow_ups_complete_once_they_are_back() {
    peers_stopped_and_back(Store::Sqlite).await;
    peers_stopped_and_back(Store::Postgres).await;
}

async fn peers_stopped_and_back(store: Store) {
    let Some(mut cluster) = Cluster::start(store, 1, SETUP_POLICY).await else { return };
    eprintln!("{store:?}: signing, then receipt, stopped while filing");
    let counter = Counter::new(&cluster);
    let components = counter.set_up(&cluster).await;
    let mut filed = counter.file(&cluster, &components, 0..30, 4).await;

    // Signing crashes: receipt still numbers the slips and fee receipts; their signatures wait.
    cluster.process(ServiceKind::Signing, 0).kill();
    filed.extend(counter.file(&cluster, &components, 30..60, 4).await);
    let unsigned = filed.last().cloned().expect("a dossier filed while signing is down");
    let slip_unsigned = |dossier: &intake_pb::Dossier| {
        dossier.follow_ups.iter().any(|job| {
            job.kind() == intake_pb::FollowUpKind::AcknowledgementSlip
                && job.state() == intake_pb::FollowUpState::Done
                && job.signature_log_index.is_none()
        })
    };
    wait_for(&counter, &cluster, &unsigned, "its slip numbered, its signature waiting", slip_unsigned).await;

    // Receipt is stopped as an orchestrator stops it: filing goes on, the follow-ups wait with their error.
    cluster.process(ServiceKind::Receipt, 0).stop().await;
    filed.extend(counter.file(&cluster, &components, 60..100, 4).await);
    let waiting = filed.last().cloned().expect("a dossier filed while receipt is down");
    let slip_waits = |dossier: &intake_pb::Dossier| {
        dossier.follow_ups.iter().any(|job| {
            job.kind() == intake_pb::FollowUpKind::AcknowledgementSlip
                && job.state() == intake_pb::FollowUpState::Pending
                && job.attempts > 0
                && !job.last_error_reason.is_empty()
        })
    };
    wait_for(&counter, &cluster, &waiting, "its slip pending with the last error", slip_waits).await;
    let dossier = counter.dossier(&cluster, 0, &waiting).await;
    assert!(dossier.receipts.is_empty(), "nothing issued while receipt is down: {:?}", dossier.receipts);

    // Both come back where intake and receipt expect them, with the same databases and secrets.
    cluster.process(ServiceKind::Signing, 0).start().await;
    cluster.process(ServiceKind::Receipt, 0).start().await;
    let waited = wait_until_signed(&cluster, 2 * filed.len() as i64, FOLLOW_UPS_WAIT).await;
    eprintln!("the waiting follow-ups completed {waited:?} after signing and receipt came back");
    check_whole_path(&counter, &cluster, &filed, 1).await;

    // One of them goes on to its result, signed and sealed through the signing that came back.
    demo::resolve_approve_return_and_verify(&counter, &cluster, &filed[0]).await;
}

/// Waits (at most 30 s) until `code`'s dossier shows `what`.
async fn wait_for(
    counter: &Counter,
    cluster: &Cluster,
    code: &str,
    what: &str,
    holds: impl Fn(&intake_pb::Dossier) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let dossier = counter.dossier(cluster, 0, code).await;
        if holds(&dossier) {
            return;
        }
        assert!(Instant::now() < deadline, "{code}: {what}, not so within 30 s: {:?}", dossier.follow_ups);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
