//! WatchEvents: the signing feed, replayed from the caller's cursor then followed live, each stored
//! event decoded and given its envelope, with heartbeats while idle.

use futures::StreamExt;
use motcua_chassis::{ApiError, feed::FeedItem, timestamps};
use motcua_proto::motcua::{
    common::v1::EventEnvelope,
    signing::v1::{self as pb, signing_event::Payload},
};
use prost::Message;
use tonic::{Status, codegen::BoxStream};

use super::{State, db_status, status};

pub(super) fn watch(state: &State, request: pb::WatchEventsRequest) -> Result<BoxStream<pb::SigningEvent>, Status> {
    if request.after_sequence < 0 {
        return Err(status(ApiError::invalid("INVALID_CURSOR", "after_sequence", "must not be negative")));
    }
    let stream = state.feed.watch(request.after_sequence).map(|item| match item {
        Err(error) => Err(db_status(error)),
        Ok(FeedItem::Heartbeat { head, time }) => Ok(pb::SigningEvent {
            envelope: None,
            payload: Some(Payload::Heartbeat(pb::FeedHeartbeat {
                head_sequence: head,
                time: Some(timestamps::to_proto(time)),
            })),
        }),
        Ok(FeedItem::Event(event)) => {
            let mut decoded = pb::SigningEvent::decode(event.payload.as_slice()).map_err(|error| {
                status(ApiError::internal(format!("event {} does not decode: {error}", event.sequence)))
            })?;
            decoded.envelope = Some(EventEnvelope {
                sequence: event.sequence,
                event_id: event.event_id,
                occur_time: Some(timestamps::to_proto(event.occur_time)),
                subject: event.subject,
                request_id: event.request_id,
                traceparent: event.traceparent,
            });
            Ok(decoded)
        }
    });
    Ok(Box::pin(stream))
}
