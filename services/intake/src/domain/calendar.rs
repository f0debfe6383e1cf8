//! Working days and appointment dates: weekends and Vietnamese public holidays skipped, substitute and
//! bridge days off, compensatory working Saturdays counted, from a dated table rather than a formula
//! (lunar holidays move, and the government announces swaps each year).

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

use super::catalogue::{TimeLimit, TimeUnit};

/// Asia/Ho_Chi_Minh: UTC+7 all year (no daylight saving).
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// When offices open and close, local time: an appointment falls due at closing time.
const OFFICE_OPENS: (u32, u32) = (8, 0);
const OFFICE_CLOSES: (u32, u32) = (17, 0);
/// From this hour, some procedures count a dossier as received the next working day.
const LATE_RECEIPT_HOUR: u32 = 15;

motcua_chassis::coded_enum! {
    /// What a dated row of the holiday table says about a day; the words are the holiday file's.
    pub enum DayKind {
        /// A public holiday: no work.
        Holiday => "holiday",
        /// A substitute day off for a holiday that fell on a weekend.
        Substitute => "substitute",
        /// A day off swapped with a working Saturday.
        Bridge => "bridge",
        /// A Saturday worked in exchange for a bridge day: a working day.
        CompensatoryWorkday => "compensatory_workday",
    }
}

/// The working-day calendar of the civil service.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    days_off: HashSet<NaiveDate>,
    extra_working_days: HashSet<NaiveDate>,
}

impl WorkCalendar {
    /// A calendar from dated rows.
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        let mut calendar = Self::default();
        for (date, kind) in days {
            match kind {
                DayKind::CompensatoryWorkday => calendar.extra_working_days.insert(date),
                DayKind::Holiday | DayKind::Substitute | DayKind::Bridge => calendar.days_off.insert(date),
            };
        }
        calendar
    }

    /// Whether civil servants work on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.extra_working_days.contains(&date) {
            return true;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.days_off.contains(&date)
    }

    /// The first working day on or after `date`.
    pub fn working_day_on_or_after(&self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_working_day(date) {
            date = date.succ_opt().unwrap_or(date);
        }
        date
    }

    /// The `count`-th working day after `date` (`date` itself not counted).
    pub fn add_working_days(&self, mut date: NaiveDate, count: u32) -> NaiveDate {
        let mut remaining = count;
        while remaining > 0 {
            date = match date.succ_opt() {
                Some(next) => next,
                None => return date,
            };
            if self.is_working_day(date) {
                remaining -= 1;
            }
        }
        date
    }

    /// How many working days lie after `from` up to and including `to` (0 when `to` is not later).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days().skip(1).take_while(|date| *date <= to).filter(|date| self.is_working_day(*date)).count() as u32
    }

    /// When a dossier received at `received` counts as received: at once on a working day before
    /// 15:00; the next working day's opening when it arrives on a day off, or after 15:00 for a
    /// procedure with the after-15:00 rule.
    pub fn counted_receipt(&self, received: DateTime<Utc>, after_15h_next_working_day: bool) -> DateTime<Utc> {
        let local = received.with_timezone(&vietnam());
        let date = local.date_naive();
        let late = after_15h_next_working_day && local.time() >= time(LATE_RECEIPT_HOUR, 0);
        if self.is_working_day(date) && !late {
            return received;
        }
        let next = self.working_day_on_or_after(date.succ_opt().unwrap_or(date));
        at_local(next, OFFICE_OPENS)
    }

    /// The appointment for a dossier counted as received at `counted`, under `limit`: the due day's
    /// closing time (or the exact hour for a limit in hours). A period ending on a day off ends on the
    /// next working day. A limit of 1 calendar day means same-day handling, as the national database
    /// records it for civil-status procedures.
    pub fn appointment(&self, counted: DateTime<Utc>, limit: TimeLimit) -> DateTime<Utc> {
        let day = counted.with_timezone(&vietnam()).date_naive();
        let due_day = match limit.unit {
            TimeUnit::Hours => return counted + Duration::hours(i64::from(limit.value)),
            TimeUnit::WorkingDays => self.add_working_days(day, limit.value),
            TimeUnit::Days if limit.value <= 1 => day,
            TimeUnit::Days => self.working_day_on_or_after(day + Duration::days(i64::from(limit.value))),
            TimeUnit::Months => {
                let later = day.checked_add_months(Months::new(limit.value)).unwrap_or(day);
                self.working_day_on_or_after(later)
            }
        };
        at_local(due_day, OFFICE_CLOSES)
    }

    /// `appointment` moved later by the working days waited between `from` and `to` (the clock stops
    /// while the applicant supplements).
    pub fn extend_by_wait(&self, appointment: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
        let waited = self.working_days_between(local_date(from), local_date(to));
        if waited == 0 {
            return appointment;
        }
        let local = appointment.with_timezone(&vietnam());
        let moved = self.add_working_days(local.date_naive(), waited);
        at_local(moved, (local.hour_minute().0, local.hour_minute().1))
    }
}

/// The local (Asia/Ho_Chi_Minh) calendar day of `time`.
pub fn local_date(time: DateTime<Utc>) -> NaiveDate {
    time.with_timezone(&vietnam()).date_naive()
}

fn time(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

fn at_local(date: NaiveDate, (hour, minute): (u32, u32)) -> DateTime<Utc> {
    let local = date.and_time(time(hour, minute));
    vietnam().from_local_datetime(&local).single().map_or_else(|| local.and_utc(), |time| time.with_timezone(&Utc))
}

trait HourMinute {
    fn hour_minute(&self) -> (u32, u32);
}

impl HourMinute for DateTime<FixedOffset> {
    fn hour_minute(&self) -> (u32, u32) {
        use chrono::Timelike;
        (self.hour(), self.minute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::holidays;

    fn calendar() -> WorkCalendar {
        holidays::built_in().expect("the shipped holiday table is valid")
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
    }

    fn local(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        at_local(date(year, month, day), (hour, minute))
    }

    fn working_days(value: u32) -> TimeLimit {
        TimeLimit { value, unit: TimeUnit::WorkingDays }
    }

    #[test]
    fn tet_2026_is_skipped_by_working_day_deadlines() {
        // Friday 13 February 2026, 3 working days: Tết runs 16-20 February, so Monday 23, Tuesday 24,
        // Wednesday 25.
        let appointment = calendar().appointment(local(2026, 2, 13, 9, 0), working_days(3));
        assert_eq!(appointment, local(2026, 2, 25, 17, 0));
    }

    #[test]
    fn tet_2024_with_its_substitute_days_is_skipped() {
        // Wednesday 7 February 2024, 3 working days: 8-14 February are Tết and its two substitute days,
        // so Thursday 15, Friday 16 and Monday 19.
        let appointment = calendar().appointment(local(2024, 2, 7, 9, 0), working_days(3));
        assert_eq!(appointment, local(2024, 2, 19, 17, 0));
    }

    #[test]
    fn a_deadline_across_new_year_skips_the_first_of_january() {
        // Wednesday 30 December 2026, 3 working days: Thursday 31, then 1 January 2027 is a holiday, so
        // Monday 4 and Tuesday 5 January.
        let appointment = calendar().appointment(local(2026, 12, 30, 9, 0), working_days(3));
        assert_eq!(appointment, local(2027, 1, 5, 17, 0));
    }

    #[test]
    fn tet_in_a_computed_year_is_off() {
        // 2027's Tết is computed from the lunar calendar: 4-10 February (mùng 1 on Saturday 6).
        let calendar = calendar();
        assert!(!calendar.is_working_day(date(2027, 2, 4)));
        assert!(!calendar.is_working_day(date(2027, 2, 8)));
        assert!(calendar.is_working_day(date(2027, 2, 3)));
    }

    #[test]
    fn an_operator_table_replaces_the_shipped_one() {
        let folder = std::env::temp_dir().join(format!("motcua-holidays-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("a temporary folder");
        std::fs::write(
            folder.join(holidays::HOLIDAYS_FILE),
            "date,kind,name_vi,name_en,status,source\n2026-03-03,holiday,Ngày nghỉ thử,Trial day off,official,test\n",
        )
        .expect("the table is written");
        let replaced = holidays::from_folder_or_built_in(Some(&folder)).expect("the table reads");
        let _ = std::fs::remove_dir_all(&folder);
        assert!(!replaced.is_working_day(date(2026, 3, 3)));
        assert!(calendar().is_working_day(date(2026, 3, 3)));
        // The replacement is the whole table: the shipped 2026 Tết is not in it.
        assert!(replaced.is_working_day(date(2026, 2, 17)));
    }

    #[test]
    fn tet_2025_and_its_weekend_are_skipped() {
        // Friday 24 January 2025, 1 working day: 27-31 January are Tết, so Monday 3 February.
        assert_eq!(calendar().add_working_days(date(2025, 1, 24), 1), date(2025, 2, 3));
    }

    #[test]
    fn hung_kings_day_2025_is_a_day_off() {
        // Giỗ Tổ Hùng Vương fell on Monday 7 April 2025.
        let calendar = calendar();
        assert!(!calendar.is_working_day(date(2025, 4, 7)));
        assert_eq!(calendar.add_working_days(date(2025, 4, 4), 1), date(2025, 4, 8));
    }

    #[test]
    fn hung_kings_day_2026_on_a_sunday_gets_a_substitute_monday() {
        let calendar = calendar();
        assert!(!calendar.is_working_day(date(2026, 4, 26)));
        assert!(!calendar.is_working_day(date(2026, 4, 27)));
        assert_eq!(calendar.add_working_days(date(2026, 4, 24), 1), date(2026, 4, 28));
    }

    #[test]
    fn reunification_and_labour_day_2025_with_the_bridge_and_its_working_saturday() {
        let calendar = calendar();
        // Saturday 26 April 2025 was worked in exchange for Friday 2 May.
        assert!(calendar.is_working_day(date(2025, 4, 26)));
        for day_off in [date(2025, 4, 30), date(2025, 5, 1), date(2025, 5, 2)] {
            assert!(!calendar.is_working_day(day_off), "{day_off}");
        }
        // Friday 25 April, 2 working days: Saturday 26 counts, Monday 28 is the second.
        assert_eq!(calendar.add_working_days(date(2025, 4, 25), 2), date(2025, 4, 28));
        // Tuesday 29 April, 1 working day: the next is Monday 5 May.
        assert_eq!(calendar.add_working_days(date(2025, 4, 29), 1), date(2025, 5, 5));
    }

    #[test]
    fn national_day_2026_bridge_across_the_weekend() {
        let calendar = calendar();
        // 31 August (bridge), 1 and 2 September 2026 off; Saturday 22 August worked.
        assert!(calendar.is_working_day(date(2026, 8, 22)));
        assert_eq!(calendar.add_working_days(date(2026, 8, 28), 1), date(2026, 9, 3));
    }

    #[test]
    fn national_day_in_a_computed_year_is_off() {
        assert!(!calendar().is_working_day(date(2027, 9, 2)));
    }

    #[test]
    fn dossier_received_after_15h_counts_from_next_working_day() {
        let calendar = calendar();
        let friday_late = local(2025, 3, 7, 15, 30);
        assert_eq!(calendar.counted_receipt(friday_late, true), local(2025, 3, 10, 8, 0));
        assert_eq!(calendar.counted_receipt(friday_late, false), friday_late);
        assert_eq!(
            calendar.appointment(calendar.counted_receipt(friday_late, true), working_days(1)),
            local(2025, 3, 11, 17, 0)
        );
    }

    #[test]
    fn dossier_filed_online_on_a_holiday_counts_from_the_next_working_day() {
        let calendar = calendar();
        assert_eq!(calendar.counted_receipt(local(2025, 9, 2, 10, 0), false), local(2025, 9, 3, 8, 0));
    }

    #[test]
    fn one_calendar_day_means_same_day_and_longer_periods_end_on_a_working_day() {
        let calendar = calendar();
        let received = local(2026, 4, 24, 9, 0);
        assert_eq!(
            calendar.appointment(received, TimeLimit { value: 1, unit: TimeUnit::Days }),
            local(2026, 4, 24, 17, 0)
        );
        // 24 April + 3 days = Monday 27 April, a substitute day off: Tuesday 28.
        assert_eq!(
            calendar.appointment(received, TimeLimit { value: 3, unit: TimeUnit::Days }),
            local(2026, 4, 28, 17, 0)
        );
        assert_eq!(
            calendar.appointment(received, TimeLimit { value: 4, unit: TimeUnit::Hours }),
            local(2026, 4, 24, 13, 0)
        );
    }

    #[test]
    fn supplement_wait_moves_the_appointment_by_the_working_days_waited() {
        let calendar = calendar();
        let appointment = local(2025, 3, 14, 17, 0);
        // Requested Monday 3 March, supplemented Thursday 6 March: 3 working days waited.
        let moved = calendar.extend_by_wait(appointment, local(2025, 3, 3, 9, 0), local(2025, 3, 6, 10, 0));
        assert_eq!(moved, local(2025, 3, 19, 17, 0));
    }
}
