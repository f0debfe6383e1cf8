//! `WatchEvents`, written once for every service with a feed: the events after the caller's cursor,
//! then each new one as it is numbered, each decoded into the service's event message and given its
//! envelope, with heartbeats while idle. A service's handler only names its event message.

use motcua_proto::motcua::{common::v1::EventEnvelope, intake, receipt, signing};
use tokio_stream::StreamExt;
use tonic::{Status, codegen::BoxStream};

use super::{Feed, FeedItem, StoredEvent};
use crate::{error::ApiError, timestamps};

/// A service's event message as `WatchEvents` streams it: stored without its envelope, given it when
/// read, and able to carry a heartbeat.
pub trait FeedEvent: prost::Message + Default + Send + 'static {
    /// Sets the envelope of a decoded event.
    fn set_envelope(&mut self, envelope: EventEnvelope);

    /// A heartbeat: the feed's head at `time`, and no envelope.
    fn heartbeat(head_sequence: i64, time: prost_types::Timestamp) -> Self;
}

/// The contracts' event messages have the same shape: an envelope and a `payload` oneof with a
/// `FeedHeartbeat`.
macro_rules! feed_event {
    ($($package:ident :: $event:ident, $payload:ident);+ $(;)?) => {$(
        impl FeedEvent for $package::v1::$event {
            fn set_envelope(&mut self, envelope: EventEnvelope) {
                self.envelope = Some(envelope);
            }

            fn heartbeat(head_sequence: i64, time: prost_types::Timestamp) -> Self {
                Self {
                    envelope: None,
                    payload: Some($package::v1::$payload::Payload::Heartbeat($package::v1::FeedHeartbeat {
                        head_sequence,
                        time: Some(time),
                    })),
                }
            }
        }
    )+};
}

feed_event!(
    intake::IntakeEvent, intake_event;
    receipt::ReceiptEvent, receipt_event;
    signing::SigningEvent, signing_event;
);

impl Feed {
    /// The answer of `WatchEvents` from `after_sequence`, errors in `domain`. A negative cursor is
    /// INVALID_ARGUMENT with reason INVALID_CURSOR.
    pub fn watch_events<E: FeedEvent>(
        &self,
        after_sequence: i64,
        domain: &'static str,
    ) -> Result<BoxStream<E>, Status> {
        if after_sequence < 0 {
            return Err(
                ApiError::invalid("INVALID_CURSOR", "after_sequence", "must not be negative").into_status(domain)
            );
        }
        let stream = self.watch(after_sequence).map(move |item| match item {
            Ok(FeedItem::Event(stored)) => decode(stored).map_err(|error| error.into_status(domain)),
            Ok(FeedItem::Heartbeat { head, time }) => Ok(E::heartbeat(head, timestamps::to_proto(time))),
            Err(error) => Err(ApiError::from(error).into_status(domain)),
        });
        Ok(Box::pin(stream))
    }
}

fn decode<E: FeedEvent>(stored: StoredEvent) -> Result<E, ApiError> {
    let mut event = E::decode(stored.payload.as_slice())
        .map_err(|error| ApiError::internal(format!("event {} does not decode: {error}", stored.sequence)))?;
    event.set_envelope(EventEnvelope {
        sequence: stored.sequence,
        event_id: stored.event_id,
        occur_time: Some(timestamps::to_proto(stored.occur_time)),
        subject: stored.subject,
        request_id: stored.request_id,
        traceparent: stored.traceparent,
    });
    Ok(event)
}
