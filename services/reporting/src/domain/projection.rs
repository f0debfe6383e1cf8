//! How one event of a feed moves the rollups: every event, in the domain form the feed clients make of
//! it, together with reporting's own record of its dossier, gives the record after it and the counters
//! to add on which day. Applying the same events in the same order always gives the same rollups, which
//! is what makes a rebuild equal the incremental result.

use chrono::NaiveDate;

use super::metrics::{Dims, bucket_metric, bucket_of, metric};

/// The proto enum numbers this module compares with (motcua.common.v1 and intake.v1).
pub mod codes {
    pub const STATUS_RECEIVED: i32 = 2;
    pub const CHANNEL_ONLINE: i32 = 2;
    /// The statuses in which a dossier is still being handled: received, processing, supplement or
    /// payment requested.
    pub const OPEN_STATUSES: [i32; 4] = [2, 4, 5, 6];
}

/// The components filed with a dossier, as the digitization indicators count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Components {
    pub filed: i32,
    pub digitized: i32,
    pub reused: i32,
}

/// What reporting remembers of one dossier between its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub dims: Dims,
    /// The day it was received (status 2 reached); `None` while only registered online.
    pub received_day: Option<NaiveDate>,
    /// Its national status after the last event.
    pub status: i32,
    /// Its appointment, in milliseconds since the epoch.
    pub appointment_ms: Option<i64>,
    pub components: Components,
    /// Whether it already counts among the dossiers with a complaint or a dissatisfied rating.
    pub flagged: bool,
}

impl Tracked {
    /// Whether the dossier is received and still being handled.
    pub fn is_open(&self) -> bool {
        self.received_day.is_some() && codes::OPEN_STATUSES.contains(&self.status)
    }
}

/// The facts every dossier event repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFacts {
    pub dossier_code: String,
    pub dims: Dims,
    pub status: i32,
    /// The day the clock started (Asia/Ho_Chi_Minh); `None` while only registered online.
    pub received_day: Option<NaiveDate>,
    pub appointment_ms: Option<i64>,
}

/// How a dossier's processing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Refused,
    Stopped,
    Withdrawn,
    /// Approved and sealed.
    Resolved {
        on_time: bool,
        signed_and_sealed: bool,
        electronic: bool,
    },
}

/// The change an intake event describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DossierChange {
    Created {
        components: Components,
    },
    Accepted,
    /// A move that changes no counter: processing started, a transfer, a supplement, a payment, the
    /// officer's signature.
    Moved,
    SupplementRequested,
    Apologized,
    /// Processing ended; the processing time in seconds where the event gives one.
    Ended {
        ending: Ending,
        processing_seconds: Option<i64>,
    },
    Returned,
    Rated {
        satisfied: bool,
        dissatisfied: bool,
    },
    Feedback {
        complaint: bool,
    },
}

/// One event that counts, in domain form, with the day it happened on. `FollowUpDone` (one of intake's
/// follow-ups issued a slip, or with `fee` a fee receipt) changes no dossier record: the job may finish
/// after later moves of its dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    Dossier { facts: DossierFacts, change: DossierChange, day: NaiveDate },
    Signed { branch_code: String, day: NaiveDate },
    Sealed { branch_code: String, day: NaiveDate },
    ReceiptIssued { dims: Dims, day: NaiveDate, fee: bool, amount_delta: i64, paid_online: bool },
    ReceiptCancelled { dims: Dims, day: NaiveDate, fee: bool, amount: i64 },
    FollowUpDone { dims: Dims, day: NaiveDate, fee: bool },
}

/// Counters to add: on `day`, for `dims`, `amount` to `metric`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub day: NaiveDate,
    pub dims: Dims,
    pub metric: String,
    pub amount: i64,
}

/// What applying an event does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The dossier's record after the event, to store (dossier events only).
    pub tracked: Option<(String, Tracked)>,
    pub deltas: Vec<Delta>,
}

/// Applies `event` to `tracked`, the stored record of its dossier (if any).
pub fn apply(event: &FeedEvent, tracked: Option<&Tracked>) -> Outcome {
    let mut outcome = Outcome::default();
    match event {
        FeedEvent::Signed { branch_code, day } => outcome.add(*day, &branch_only(branch_code), metric::SIGNATURES, 1),
        FeedEvent::Sealed { branch_code, day } => outcome.add(*day, &branch_only(branch_code), metric::SEALS, 1),
        FeedEvent::ReceiptIssued { dims, day, fee: true, amount_delta, paid_online } => {
            outcome.add(*day, dims, metric::FEE_RECEIPTS_ISSUED, 1);
            outcome.add(*day, dims, metric::AMOUNT_COLLECTED, *amount_delta);
            if *paid_online {
                outcome.add(*day, dims, metric::FEE_RECEIPTS_PAID_ONLINE, 1);
            }
        }
        FeedEvent::ReceiptIssued { dims, day, fee: false, .. } => {
            outcome.add(*day, dims, metric::ACKNOWLEDGEMENT_SLIPS_ISSUED, 1);
        }
        FeedEvent::ReceiptCancelled { dims, day, fee, amount } => {
            if *fee {
                outcome.add(*day, dims, metric::FEE_RECEIPTS_CANCELLED, 1);
                outcome.add(*day, dims, metric::AMOUNT_COLLECTED, -amount);
            }
        }
        FeedEvent::FollowUpDone { dims, day, fee } => {
            let name = if *fee { metric::DOSSIER_FEE_RECEIPTS_ISSUED } else { metric::DOSSIER_SLIPS_ISSUED };
            outcome.add(*day, dims, name, 1);
        }
        FeedEvent::Dossier { facts, change, day } => apply_dossier(&mut outcome, facts, change, *day, tracked),
    }
    outcome
}

fn apply_dossier(
    outcome: &mut Outcome,
    facts: &DossierFacts,
    change: &DossierChange,
    day: NaiveDate,
    tracked: Option<&Tracked>,
) {
    let mut record = tracked.cloned().unwrap_or_else(|| Tracked {
        dims: facts.dims.clone(),
        received_day: None,
        status: facts.status,
        appointment_ms: facts.appointment_ms,
        components: Components::default(),
        flagged: false,
    });
    let dims = facts.dims.clone();
    let was_received = record.received_day.is_some();
    record.status = facts.status;
    if facts.appointment_ms.is_some() {
        record.appointment_ms = facts.appointment_ms;
    }
    match change {
        DossierChange::Created { components } => record.components = *components,
        DossierChange::Accepted => outcome.add(day, &dims, metric::ACCEPTED, 1),
        DossierChange::Moved => {}
        DossierChange::SupplementRequested => outcome.add(day, &dims, metric::SUPPLEMENT_REQUESTS, 1),
        DossierChange::Apologized => outcome.add(day, &dims, metric::APOLOGIES, 1),
        DossierChange::Ended { ending, processing_seconds } => {
            let name = match ending {
                Ending::Refused => metric::REFUSED,
                Ending::Stopped => metric::STOPPED,
                Ending::Withdrawn => metric::WITHDRAWN,
                Ending::Resolved { on_time: true, .. } => metric::RESOLVED_ON_TIME,
                Ending::Resolved { on_time: false, .. } => metric::RESOLVED_LATE,
            };
            outcome.add(day, &dims, name, 1);
            if let Ending::Resolved { signed_and_sealed, electronic, .. } = ending {
                if *signed_and_sealed {
                    outcome.add(day, &dims, metric::RESOLVED_SIGNED_AND_SEALED, 1);
                }
                if *electronic {
                    outcome.add(day, &dims, metric::ELECTRONIC_RESULTS, 1);
                }
            }
            if let Some(seconds) = processing_seconds {
                outcome.add(day, &dims, metric::PROCESSING_COUNT, 1);
                outcome.add(day, &dims, metric::PROCESSING_SECONDS, *seconds);
                outcome.add(day, &dims, &bucket_metric(bucket_of(*seconds)), 1);
            }
        }
        DossierChange::Returned => outcome.add(day, &dims, metric::RETURNED, 1),
        DossierChange::Rated { satisfied, dissatisfied } => {
            let name = match (satisfied, dissatisfied) {
                (true, _) => metric::RATINGS_SATISFIED,
                (_, true) => metric::RATINGS_DISSATISFIED,
                _ => metric::RATINGS_NEUTRAL,
            };
            outcome.add(day, &dims, name, 1);
            if *dissatisfied {
                flag_once(outcome, &mut record, day, &dims);
            }
        }
        DossierChange::Feedback { complaint } => {
            outcome.add(day, &dims, if *complaint { metric::COMPLAINTS } else { metric::SUGGESTIONS }, 1);
            if *complaint {
                flag_once(outcome, &mut record, day, &dims);
            }
        }
    }
    // Reaching status 2 counts the dossier as received, once, on the day its clock started.
    if !was_received && facts.status == codes::STATUS_RECEIVED {
        let received_day = facts.received_day.unwrap_or(day);
        record.received_day = Some(received_day);
        outcome.add(received_day, &dims, metric::RECEIVED, 1);
        if dims.channel == codes::CHANNEL_ONLINE {
            outcome.add(received_day, &dims, metric::RECEIVED_ONLINE, 1);
        }
        let components = record.components;
        if components.filed > 0 && components.digitized >= components.filed {
            outcome.add(received_day, &dims, metric::DIGITIZED_DOSSIERS, 1);
        }
        if components.reused > 0 {
            outcome.add(received_day, &dims, metric::REUSING_DOSSIERS, 1);
            outcome.add(received_day, &dims, metric::REUSED_DOCUMENTS, i64::from(components.reused));
        }
    }
    outcome.tracked = Some((facts.dossier_code.clone(), record));
}

fn flag_once(outcome: &mut Outcome, record: &mut Tracked, day: NaiveDate, dims: &Dims) {
    if !record.flagged {
        record.flagged = true;
        outcome.add(day, dims, metric::COMPLAINED_OR_DISSATISFIED_DOSSIERS, 1);
    }
}

fn branch_only(branch_code: &str) -> Dims {
    Dims { branch_code: branch_code.to_owned(), ..Dims::default() }
}

impl Outcome {
    fn add(&mut self, day: NaiveDate, dims: &Dims, metric: &str, amount: i64) {
        self.deltas.push(Delta { day, dims: dims.clone(), metric: metric.to_owned(), amount });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).expect("a valid test date")
    }

    fn dims() -> Dims {
        Dims { branch_code: "CN01".into(), procedure_code: "1.001".into(), level: 4, channel: 2 }
    }

    fn facts(status: i32, received: Option<NaiveDate>) -> DossierFacts {
        DossierFacts {
            dossier_code: "D1".into(),
            dims: dims(),
            status,
            received_day: received,
            appointment_ms: Some(1),
        }
    }

    fn sum(outcome: &Outcome, name: &str) -> i64 {
        outcome.deltas.iter().filter(|delta| delta.metric == name).map(|delta| delta.amount).sum()
    }

    #[test]
    fn an_online_dossier_counts_as_received_when_accepted_with_its_components() {
        let created = FeedEvent::Dossier {
            facts: facts(1, None),
            change: DossierChange::Created { components: Components { filed: 2, digitized: 2, reused: 1 } },
            day: day(1),
        };
        let first = apply(&created, None);
        assert_eq!(sum(&first, metric::RECEIVED), 0);
        let (_, tracked) = first.tracked.expect("a record");
        assert!(!tracked.is_open());

        let accepted =
            FeedEvent::Dossier { facts: facts(2, Some(day(2))), change: DossierChange::Accepted, day: day(2) };
        let second = apply(&accepted, Some(&tracked));
        for name in [
            metric::ACCEPTED,
            metric::RECEIVED,
            metric::RECEIVED_ONLINE,
            metric::DIGITIZED_DOSSIERS,
            metric::REUSING_DOSSIERS,
            metric::REUSED_DOCUMENTS,
        ] {
            assert_eq!(sum(&second, name), 1, "{name}");
        }
        assert!(second.tracked.expect("a record").1.is_open());
    }

    #[test]
    fn a_dossier_with_a_complaint_and_a_dissatisfied_rating_counts_once_for_indicator_5_4() {
        let created = FeedEvent::Dossier {
            facts: facts(2, Some(day(1))),
            change: DossierChange::Created { components: Components::default() },
            day: day(1),
        };
        let (_, tracked) = apply(&created, None).tracked.expect("a record");
        let complaint = FeedEvent::Dossier {
            facts: facts(10, Some(day(1))),
            change: DossierChange::Feedback { complaint: true },
            day: day(5),
        };
        let after_complaint = apply(&complaint, Some(&tracked));
        assert_eq!(sum(&after_complaint, metric::COMPLAINED_OR_DISSATISFIED_DOSSIERS), 1);
        let (_, tracked) = after_complaint.tracked.expect("a record");
        let rating = FeedEvent::Dossier {
            facts: facts(10, Some(day(1))),
            change: DossierChange::Rated { satisfied: false, dissatisfied: true },
            day: day(6),
        };
        let after_rating = apply(&rating, Some(&tracked));
        assert_eq!(sum(&after_rating, metric::RATINGS_DISSATISFIED), 1);
        assert_eq!(sum(&after_rating, metric::COMPLAINED_OR_DISSATISFIED_DOSSIERS), 0);
    }

    #[test]
    fn a_resolution_counts_its_timeliness_seal_and_processing_time_bucket() {
        let resolved = FeedEvent::Dossier {
            facts: facts(9, Some(day(1))),
            change: DossierChange::Ended {
                ending: Ending::Resolved { on_time: false, signed_and_sealed: true, electronic: true },
                processing_seconds: Some(2 * 86_400),
            },
            day: day(4),
        };
        let outcome = apply(&resolved, None);
        assert_eq!(sum(&outcome, metric::RESOLVED_LATE), 1);
        assert_eq!(sum(&outcome, metric::RESOLVED_ON_TIME), 0);
        assert_eq!(sum(&outcome, metric::RESOLVED_SIGNED_AND_SEALED), 1);
        assert_eq!(sum(&outcome, metric::PROCESSING_SECONDS), 2 * 86_400);
        assert_eq!(sum(&outcome, &bucket_metric(2)), 1);
    }

    #[test]
    fn a_cancelled_fee_receipt_takes_its_amount_back() {
        let dims = Dims { branch_code: "CN01".into(), procedure_code: "1.001".into(), ..Dims::default() };
        let issued = apply(
            &FeedEvent::ReceiptIssued {
                dims: dims.clone(),
                day: day(1),
                fee: true,
                amount_delta: 50_000,
                paid_online: true,
            },
            None,
        );
        let cancelled = apply(&FeedEvent::ReceiptCancelled { dims, day: day(2), fee: true, amount: 50_000 }, None);
        assert_eq!(sum(&issued, metric::AMOUNT_COLLECTED) + sum(&cancelled, metric::AMOUNT_COLLECTED), 0);
        assert_eq!(sum(&issued, metric::FEE_RECEIPTS_PAID_ONLINE), 1);
        assert_eq!(sum(&cancelled, metric::FEE_RECEIPTS_CANCELLED), 1);
    }
}
