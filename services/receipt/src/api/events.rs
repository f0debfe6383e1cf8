//! The receipt event feed: the events each change appends (numbers, codes, amounts and times, never
//! personal data); the chassis streams them as `WatchEvents`.

use chrono::{DateTime, Utc};
use motcua_chassis::feed::NewEvent;
use motcua_proto::motcua::receipt::v1::{self as pb, receipt_event::Payload};
use prost::Message;

use super::convert;
use crate::domain::receipt::Receipt;

/// The event of a change of `subject`, its payload encoded without the envelope (the feed adds it
/// when read).
pub fn event(subject: String, request_id: &str, payload: Payload, occur_time: DateTime<Utc>) -> NewEvent {
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
    NewEvent { occur_time, subject, request_id: request_id.to_owned(), event_type, payload: event.encode_to_vec() }
}

/// `ReceiptIssued` for `receipt`; for a replacement, `original` is the receipt it replaces.
pub fn issued(receipt: &Receipt, original: Option<&Receipt>, request_id: &str, occur_time: DateTime<Utc>) -> NewEvent {
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
    event(format!("receipts/{}", issued.receipt_id), request_id, payload, occur_time)
}

/// `ReceiptCancelled` for `receipt`.
pub fn cancelled(receipt: &Receipt, request_id: &str, occur_time: DateTime<Utc>) -> NewEvent {
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
    event(format!("receipts/{}", issued.receipt_id), request_id, payload, occur_time)
}
