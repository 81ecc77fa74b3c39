//! The repository's clock: what "now" and "today" are for every use case
//! that asks the repository.
//!
//! What a reader may see depends on the day (an embargo ends at midnight),
//! and the workflow stamps every change with a time. Both ask
//! [`Repository::now`](crate::repository::Repository::now) or
//! [`Repository::today`](crate::repository::Repository::today) instead of
//! the system clock, so one clock decides, and a test can set the date an
//! embargo ends or the second a change lands instead of waiting for it.
//! The store stamps its own bookkeeping (the change feed's times) and
//! accounts their sessions with the system clock.

use arkiv_model::{PartialDate, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};

/// Where the time comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;

    /// Today's date (UTC), from [`Clock::now`].
    fn today(&self) -> PartialDate {
        self.now().date()
    }
}

/// The operating system's clock: what a repository runs on.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that shows the time it was last set to: for tests that need a
/// day to pass or a second to tick.
#[derive(Debug)]
pub struct SetClock(AtomicI64);

impl SetClock {
    pub fn new(at: Timestamp) -> SetClock {
        SetClock(AtomicI64::new(at.0))
    }

    pub fn set(&self, at: Timestamp) {
        self.0.store(at.0, Ordering::SeqCst);
    }

    /// Moves the clock on by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for SetClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_stays_until_moved() {
        let clock = SetClock::new(Timestamp(951_782_400)); // 2000-02-29 00:00 UTC
        assert_eq!(clock.today().to_string(), "2000-02-29");
        clock.advance(86_399);
        assert_eq!(clock.today().to_string(), "2000-02-29");
        clock.advance(1);
        assert_eq!(clock.today().to_string(), "2000-03-01");
        assert_eq!(clock.now(), Timestamp(951_868_800));
    }
}
