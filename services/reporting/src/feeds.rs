//! The three feeds reporting follows, as clients of intake's, signing's and receipt's `WatchEvents`,
//! and the translation of their typed events into the domain's `FeedEvent`. Only events that count
//! become one; every other event still moves the cursor.

use std::pin::Pin;

use chrono::{DateTime, NaiveDate, Utc};
use futures::{Stream, StreamExt};
use motcua_chassis::{clock::Clock, peer::PeerChannel, timestamps};
use motcua_proto::motcua::{
    intake::v1::{self as intake, intake_event::Payload as IntakePayload, intake_service_client::IntakeServiceClient},
    receipt::v1::{
        self as receipt, receipt_event::Payload as ReceiptPayload, receipt_service_client::ReceiptServiceClient,
    },
    reporting::v1 as pb,
    signing::v1::{
        self as signing, signing_event::Payload as SigningPayload, signing_service_client::SigningServiceClient,
    },
};
use tonic::Status;

use crate::domain::{
    metrics::Dims,
    projection::{Components, DossierChange, DossierFacts, Ending, FeedEvent},
};

/// One of the feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedName {
    Intake,
    Signing,
    Receipt,
}

impl FeedName {
    pub const ALL: [FeedName; 3] = [FeedName::Intake, FeedName::Signing, FeedName::Receipt];

    /// The name of its cursor row.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Signing => "signing",
            Self::Receipt => "receipt",
        }
    }

    /// Its proto enum.
    pub fn to_proto(self) -> pb::Feed {
        match self {
            Self::Intake => pb::Feed::Intake,
            Self::Signing => pb::Feed::Signing,
            Self::Receipt => pb::Feed::Receipt,
        }
    }
}

/// What a feed's stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedMessage {
    /// An event: its sequence, commit time, and what it counts for (nothing for most).
    /// The W3C traceparent of the request that appended it, or empty: the follower links to it.
    Event { sequence: i64, occur_time: DateTime<Utc>, traceparent: String, event: Option<FeedEvent> },
    /// The source's head, while there is nothing new.
    Heartbeat { head: i64 },
}

/// A stream of one feed.
pub type FeedStream = Pin<Box<dyn Stream<Item = Result<FeedMessage, Status>> + Send>>;

/// The clients of the three feeds, each connected on first use.
#[derive(Clone)]
pub struct Sources {
    pub intake: IntakeServiceClient<PeerChannel>,
    pub signing: SigningServiceClient<PeerChannel>,
    pub receipt: ReceiptServiceClient<PeerChannel>,
    /// The URLs, for the ingestion status.
    pub urls: [String; 3],
}

impl Sources {
    /// The URL of `feed`'s service.
    pub fn url(&self, feed: FeedName) -> &str {
        &self.urls[feed as usize]
    }

    /// Streams `feed` from after `after_sequence`.
    pub async fn watch(&self, feed: FeedName, after_sequence: i64) -> Result<FeedStream, Status> {
        Ok(match feed {
            FeedName::Intake => {
                let request = intake::WatchEventsRequest { after_sequence };
                let stream = self.intake.clone().watch_events(request).await?.into_inner();
                Box::pin(stream.map(|item| item.and_then(from_intake)))
            }
            FeedName::Signing => {
                let request = signing::WatchEventsRequest { after_sequence };
                let stream = self.signing.clone().watch_events(request).await?.into_inner();
                Box::pin(stream.map(|item| item.and_then(from_signing)))
            }
            FeedName::Receipt => {
                let request = receipt::WatchEventsRequest { after_sequence };
                let stream = self.receipt.clone().watch_events(request).await?.into_inner();
                Box::pin(stream.map(|item| item.and_then(from_receipt)))
            }
        })
    }
}

fn envelope(
    envelope: Option<&motcua_proto::motcua::common::v1::EventEnvelope>,
) -> Result<(i64, DateTime<Utc>, String), Status> {
    let envelope = envelope.ok_or_else(|| Status::data_loss("an event without an envelope"))?;
    let occur_time =
        envelope.occur_time.as_ref().and_then(timestamps::from_proto).unwrap_or_else(|| Clock::system().now());
    Ok((envelope.sequence, occur_time, envelope.traceparent.clone()))
}

fn day_of(time: Option<&prost_types::Timestamp>, fallback: DateTime<Utc>) -> NaiveDate {
    timestamps::local_date(time.and_then(timestamps::from_proto).unwrap_or(fallback))
}

fn from_intake(event: intake::IntakeEvent) -> Result<FeedMessage, Status> {
    if let Some(IntakePayload::Heartbeat(heartbeat)) = &event.payload {
        return Ok(FeedMessage::Heartbeat { head: heartbeat.head_sequence });
    }
    let (sequence, occur_time, traceparent) = envelope(event.envelope.as_ref())?;
    let on = |time: Option<&prost_types::Timestamp>| day_of(time, occur_time);
    let dossier = |facts: &Option<intake::DossierFacts>, change: DossierChange, day: NaiveDate| {
        facts.as_ref().map(|facts| FeedEvent::Dossier { facts: dossier_facts(facts), change, day })
    };
    let today = on(None);
    let counted = match &event.payload {
        Some(IntakePayload::DossierCreated(created)) => {
            let components = created.components.as_ref().map_or(Components::default(), |counts| Components {
                filed: counts.filed,
                digitized: counts.digitized,
                reused: counts.reused,
            });
            dossier(&created.dossier, DossierChange::Created { components }, today)
        }
        Some(IntakePayload::DossierAccepted(accepted)) => dossier(&accepted.dossier, DossierChange::Accepted, today),
        Some(IntakePayload::DossierRefused(refused)) => {
            let (change, day) = ended(Ending::Refused, refused.completion.as_ref(), occur_time);
            dossier(&refused.dossier, change, day)
        }
        Some(IntakePayload::ProcessingStarted(moved)) => dossier(&moved.dossier, DossierChange::Moved, today),
        Some(IntakePayload::DossierTransferred(moved)) => dossier(&moved.dossier, DossierChange::Moved, today),
        Some(IntakePayload::SupplementRequested(requested)) => {
            dossier(&requested.dossier, DossierChange::SupplementRequested, today)
        }
        Some(IntakePayload::DossierSupplemented(moved)) => dossier(&moved.dossier, DossierChange::Moved, today),
        Some(IntakePayload::PaymentRequested(moved)) => dossier(&moved.dossier, DossierChange::Moved, today),
        Some(IntakePayload::PaymentConfirmed(moved)) => dossier(&moved.dossier, DossierChange::Moved, today),
        Some(IntakePayload::ResultSigned(moved)) => dossier(&moved.dossier, DossierChange::Moved, today),
        Some(IntakePayload::DossierStopped(stopped)) => {
            let (change, day) = ended(Ending::Stopped, stopped.completion.as_ref(), occur_time);
            dossier(&stopped.dossier, change, day)
        }
        Some(IntakePayload::DossierWithdrawn(withdrawn)) => {
            let change = DossierChange::Ended { ending: Ending::Withdrawn, processing_seconds: None };
            dossier(&withdrawn.dossier, change, today)
        }
        Some(IntakePayload::ResultApproved(approved)) => {
            let completion = approved.completion.as_ref();
            let on_time = completion.is_none_or(|completion| completion.timeliness != intake::Timeliness::Late as i32);
            let ending = Ending::Resolved {
                on_time,
                signed_and_sealed: !approved.officer_signature.is_empty() && !approved.seal_signature.is_empty(),
                electronic: approved.electronic,
            };
            let (change, day) = ended(ending, completion, occur_time);
            dossier(&approved.dossier, change, day)
        }
        Some(IntakePayload::ResultReturned(returned)) => {
            dossier(&returned.dossier, DossierChange::Returned, on(returned.return_time.as_ref()))
        }
        Some(IntakePayload::DossierApologized(apologized)) => {
            dossier(&apologized.dossier, DossierChange::Apologized, today)
        }
        Some(IntakePayload::DossierRated(rated)) => {
            let change = DossierChange::Rated {
                satisfied: rated.rating == intake::Rating::Satisfied as i32,
                dissatisfied: rated.rating == intake::Rating::Dissatisfied as i32,
            };
            dossier(&rated.dossier, change, today)
        }
        Some(IntakePayload::FeedbackCreated(feedback)) => {
            let change = DossierChange::Feedback { complaint: feedback.kind == intake::FeedbackKind::Complaint as i32 };
            dossier(&feedback.dossier, change, today)
        }
        Some(IntakePayload::FollowUpDone(done)) => done.dossier.as_ref().map(|facts| FeedEvent::FollowUpDone {
            dims: dossier_facts(facts).dims,
            day: today,
            fee: done.kind != intake::FollowUpKind::AcknowledgementSlip as i32,
        }),
        Some(IntakePayload::DocumentAdded(_) | IntakePayload::Heartbeat(_)) | None => None,
    };
    Ok(FeedMessage::Event { sequence, occur_time, traceparent, event: counted })
}

fn ended(
    ending: Ending,
    completion: Option<&intake::Completion>,
    occur_time: DateTime<Utc>,
) -> (DossierChange, NaiveDate) {
    let processing_seconds = completion
        .and_then(|completion| completion.processing_duration.as_ref())
        .map(|duration| duration.seconds.max(0));
    let day = day_of(completion.and_then(|completion| completion.end_time.as_ref()), occur_time);
    (DossierChange::Ended { ending, processing_seconds }, day)
}

fn dossier_facts(facts: &intake::DossierFacts) -> DossierFacts {
    let received = facts.counted_receive_time.as_ref().and_then(timestamps::from_proto);
    DossierFacts {
        dossier_code: facts.dossier_code.clone(),
        dims: Dims {
            branch_code: facts.branch_code.clone(),
            procedure_code: facts.procedure_code.clone(),
            level: facts.level,
            channel: facts.channel,
        },
        status: facts.status,
        received_day: received.map(timestamps::local_date),
        appointment_ms: facts
            .appointment_time
            .as_ref()
            .and_then(timestamps::from_proto)
            .map(|time| time.timestamp_millis()),
    }
}

fn from_signing(event: signing::SigningEvent) -> Result<FeedMessage, Status> {
    if let Some(SigningPayload::Heartbeat(heartbeat)) = &event.payload {
        return Ok(FeedMessage::Heartbeat { head: heartbeat.head_sequence });
    }
    let (sequence, occur_time, traceparent) = envelope(event.envelope.as_ref())?;
    let counted = match &event.payload {
        Some(SigningPayload::DocumentSigned(signed)) => Some(FeedEvent::Signed {
            branch_code: signed.branch_code.clone(),
            day: day_of(signed.sign_time.as_ref(), occur_time),
        }),
        Some(SigningPayload::DocumentSealed(sealed)) => Some(FeedEvent::Sealed {
            branch_code: sealed.branch_code.clone(),
            day: day_of(sealed.sign_time.as_ref(), occur_time),
        }),
        _ => None,
    };
    Ok(FeedMessage::Event { sequence, occur_time, traceparent, event: counted })
}

fn from_receipt(event: receipt::ReceiptEvent) -> Result<FeedMessage, Status> {
    if let Some(ReceiptPayload::Heartbeat(heartbeat)) = &event.payload {
        return Ok(FeedMessage::Heartbeat { head: heartbeat.head_sequence });
    }
    let (sequence, occur_time, traceparent) = envelope(event.envelope.as_ref())?;
    let dong = |money: &Option<motcua_proto::motcua::common::v1::Money>| money.as_ref().map_or(0, |money| money.dong);
    let counted = match &event.payload {
        Some(ReceiptPayload::ReceiptIssued(issued)) => {
            let total = dong(&issued.total);
            let amount_delta = if issued.relation == receipt::ReceiptRelation::Replacement as i32 {
                total - dong(&issued.original_total)
            } else {
                total
            };
            Some(FeedEvent::ReceiptIssued {
                // Receipts count by branch only: a cancellation does not carry the procedure.
                dims: Dims { branch_code: issued.branch_code.clone(), ..Dims::default() },
                day: timestamps::local_date(occur_time),
                fee: issued.kind == receipt::ReceiptKind::FeeReceipt as i32,
                amount_delta,
                paid_online: issued.payment_method == receipt::PaymentMethod::NationalPortal as i32,
            })
        }
        Some(ReceiptPayload::ReceiptCancelled(cancelled)) => Some(FeedEvent::ReceiptCancelled {
            dims: Dims { branch_code: cancelled.branch_code.clone(), ..Dims::default() },
            day: timestamps::local_date(occur_time),
            fee: cancelled.kind == receipt::ReceiptKind::FeeReceipt as i32,
            amount: dong(&cancelled.total),
        }),
        _ => None,
    };
    Ok(FeedMessage::Event { sequence, occur_time, traceparent, event: counted })
}
