//! Receipt's storage: sea-orm entities and the queries the service needs. Transactions live here.

pub mod entities;
pub mod numbering;
pub mod receipts;
pub mod series;
pub mod signatures;
pub mod usage;

use motcua_chassis::feed::NewEvent;

/// What a mutation returns: its fresh result, or the stored response of an earlier call with the
/// same request id.
pub enum Outcome<T> {
    /// Done now.
    Done(T),
    /// Done before: the original response, encoded.
    Replayed(Vec<u8>),
}

/// What a mutation writes besides its rows: the encoded response for the request log, and the events
/// for the feed.
pub struct Effects {
    /// The RPC's response, encoded, returned again to a retry.
    pub response: Vec<u8>,
    /// The events to append, in order.
    pub events: Vec<NewEvent>,
}

/// `YYYY-MM-DD`, the stored form of a day: text that compares in date order on both databases.
pub fn day_text(day: chrono::NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}
