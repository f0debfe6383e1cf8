//! The time a service reads: the system clock, or in tests a manual clock set and advanced by hand,
//! so that deadlines, day boundaries and reports can be tested on fixed dates.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A clock: the system's, or a manual one shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands at `start` until set or advanced.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self { manual: Some(Arc::new(Mutex::new(start))) }
    }

    /// The current time.
    #[allow(clippy::disallowed_methods, reason = "the one place that reads the system's time")]
    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            // A poisoned lock still holds a valid time.
            Some(time) => *time.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            None => Utc::now(),
        }
    }

    /// Moves a manual clock to `time`; the system clock ignores it.
    pub fn set(&self, time: DateTime<Utc>) {
        if let Some(manual) = &self.manual {
            *manual.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = time;
        }
    }

    /// Moves a manual clock forward by `by`; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_move_with_it() {
        let start = DateTime::from_timestamp(1_772_000_000, 0).expect("a valid time");
        let clock = Clock::manual(start);
        let clone = clock.clone();
        assert_eq!(clock.now(), start);
        clone.advance(Duration::days(2));
        assert_eq!(clock.now(), start + Duration::days(2));
        assert!(Clock::system().now() > start - Duration::days(365 * 10));
    }
}
