//! Time as the contracts and the field use it: conversions to the protobuf `Timestamp`, and
//! Asia/Ho_Chi_Minh, the zone of every day boundary, code and deadline.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving).
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The local (Asia/Ho_Chi_Minh) calendar day of `time`.
pub fn local_date(time: DateTime<Utc>) -> NaiveDate {
    time.with_timezone(&vietnam()).date_naive()
}

/// The protobuf timestamp of `time`.
pub fn to_proto(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: time.timestamp(), nanos: time.timestamp_subsec_nanos() as i32 }
}

/// The time of a protobuf timestamp, or `None` when it is out of chrono's range.
pub fn from_proto(timestamp: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(timestamp.seconds, u32::try_from(timestamp.nanos).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        let time = DateTime::from_timestamp(1_764_000_000, 123_000).expect("in range");
        assert_eq!(from_proto(&to_proto(time)), Some(time));
    }
}
