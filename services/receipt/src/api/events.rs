//! The receipt event feed: the events each change appends (numbers, codes, amounts and times, never
//! personal data) and `WatchEvents`, which streams them.

use motcua_chassis::{
    ApiError,
    feed::{FeedItem, NewEvent},
    timestamps,
};
use motcua_proto::motcua::{
    common::v1::EventEnvelope,
    receipt::v1::{self as pb, receipt_event::Payload},
};
use prost::Message;
use tokio_stream::StreamExt;

use super::{ReceiptApi, WatchStream, convert};
use crate::domain::receipt::Receipt;

/// The event of a change of `subject`, its payload encoded without the envelope (the feed adds it
/// when read).
pub fn event(subject: String, request_id: &str, payload: Payload) -> NewEvent {
    let event_type = match &payload {
        Payload::SeriesCreated(_) => "series_created",
        Payload::SeriesClosed(_) => "series_closed",
        Payload::ReceiptIssued(_) => "receipt_issued",
        Payload::ReceiptSigned(_) => "receipt_signed",
        Payload::ReceiptCancelled(_) => "receipt_cancelled",
        Payload::Heartbeat(_) => "heartbeat",
    }
    .to_owned();
    let event = pb::ReceiptEvent { envelope: None, payload: Some(payload) };
    NewEvent {
        occur_time: chrono::Utc::now(),
        subject,
        request_id: request_id.to_owned(),
        event_type,
        payload: event.encode_to_vec(),
    }
}

/// `ReceiptIssued` for `receipt`; for a replacement, `original` is the receipt it replaces.
pub fn issued(receipt: &Receipt, original: Option<&Receipt>, request_id: &str) -> NewEvent {
    let issued = &receipt.issued;
    let replaced_total = original
        .filter(|_| issued.relation == crate::domain::receipt::Relation::Replacement)
        .map(|original| convert::money(original.issued.total));
    let payload = Payload::ReceiptIssued(pb::ReceiptIssued {
        receipt: format!("receipts/{}", issued.receipt_id),
        series: format!("series/{}", issued.series_id),
        branch_code: issued.branch_code.clone(),
        kind: issued.kind as i32,
        number: issued.number,
        dossier_code: issued.content.dossier_code.clone(),
        procedure_code: issued.content.procedure_code.clone(),
        total: Some(convert::money(issued.total)),
        payment_method: issued.content.payment_method as i32,
        issue_date: Some(convert::date(issued.content.issue_date)),
        relation: issued.relation as i32,
        original_receipt: issued.original_receipt_id.as_ref().map(|id| format!("receipts/{id}")).unwrap_or_default(),
        original_total: replaced_total,
    });
    event(format!("receipts/{}", issued.receipt_id), request_id, payload)
}

/// `ReceiptCancelled` for `receipt`.
pub fn cancelled(receipt: &Receipt, request_id: &str) -> NewEvent {
    let issued = &receipt.issued;
    let payload = Payload::ReceiptCancelled(pb::ReceiptCancelled {
        receipt: format!("receipts/{}", issued.receipt_id),
        series: format!("series/{}", issued.series_id),
        branch_code: issued.branch_code.clone(),
        kind: issued.kind as i32,
        number: issued.number,
        dossier_code: issued.content.dossier_code.clone(),
        total: Some(convert::money(issued.total)),
        issue_date: Some(convert::date(issued.content.issue_date)),
    });
    event(format!("receipts/{}", issued.receipt_id), request_id, payload)
}

impl ReceiptApi {
    pub(super) fn watch_events_handler(&self, request: pb::WatchEventsRequest) -> Result<WatchStream, ApiError> {
        if request.after_sequence < 0 {
            return Err(ApiError::invalid("INVALID_ARGUMENT", "after_sequence", "must not be negative"));
        }
        let stream = self.state.feed.watch(request.after_sequence).map(|item| match item {
            Ok(FeedItem::Event(stored)) => {
                let mut event = pb::ReceiptEvent::decode(stored.payload.as_slice()).map_err(|error| {
                    super::status(ApiError::internal(format!("event {}: {error}", stored.sequence)))
                })?;
                event.envelope = Some(EventEnvelope {
                    sequence: stored.sequence,
                    event_id: stored.event_id,
                    occur_time: Some(timestamps::to_proto(stored.occur_time)),
                    subject: stored.subject,
                    request_id: stored.request_id,
                    traceparent: stored.traceparent,
                });
                Ok(event)
            }
            Ok(FeedItem::Heartbeat { head, time }) => Ok(pb::ReceiptEvent {
                envelope: None,
                payload: Some(Payload::Heartbeat(pb::FeedHeartbeat {
                    head_sequence: head,
                    time: Some(timestamps::to_proto(time)),
                })),
            }),
            Err(error) => Err(super::status(error.into())),
        });
        Ok(Box::pin(stream))
    }
}
