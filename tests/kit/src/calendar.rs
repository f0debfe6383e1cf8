//! The day and year in Asia/Ho_Chi_Minh, where the services count days, and reporting periods
//! around them.

use chrono::{Datelike, NaiveDate};
use motcua_chassis::clock::Clock;
use motcua_proto::{google::r#type::Date, motcua::reporting::v1 as reporting_pb};

/// Today in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
pub fn today() -> NaiveDate {
    (Clock::system().now() + chrono::Duration::hours(7)).date_naive()
}

/// The current year in Asia/Ho_Chi_Minh, the year of series that issue today.
pub fn this_year() -> i32 {
    today().year()
}

/// `day` as a protobuf `Date`.
pub fn date(day: NaiveDate) -> Date {
    Date { year: day.year(), month: day.month() as i32, day: day.day() as i32 }
}

/// Yesterday to tomorrow, so that a run across midnight still sees every event.
pub fn around_today() -> reporting_pb::Period {
    reporting_pb::Period {
        kind: reporting_pb::PeriodKind::Custom as i32,
        date: Some(date(today() - chrono::Duration::days(1))),
        end_date: Some(date(today() + chrono::Duration::days(1))),
    }
}
