//! Dates as repositories record them: often just a year, sometimes a month,
//! sometimes a day. The precision is part of the data: a policy paper dated
//! "2014" must never be shown as "01.01.2014".

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How much of a [`PartialDate`] is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePrecision {
    Year,
    Month,
    Day,
}

/// A calendar date known to year, month or day precision (`2014`, `2014-05`,
/// `2014-05-29`), the way EPrints stores `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// Today in UTC, the calendar embargo dates are read in: the one clock
    /// every access decision asks.
    pub fn today() -> Self {
        Timestamp::now().date()
    }

    pub fn year(year: i32) -> Self {
        PartialDate { year, month: None, day: None }
    }

    /// Whether the parts make a real date (a value built by hand, not parsed,
    /// can claim month 13).
    pub fn is_valid(&self) -> bool {
        if !(0..=9999).contains(&self.year) {
            return false;
        }
        match (self.month, self.day) {
            (None, None) => true,
            (Some(m), None) => (1..=12).contains(&m),
            (Some(m), Some(d)) => (1..=12).contains(&m) && d >= 1 && d <= days_in_month(self.year, m),
            (None, Some(_)) => false,
        }
    }

    pub fn precision(&self) -> DatePrecision {
        match (self.month, self.day) {
            (Some(_), Some(_)) => DatePrecision::Day,
            (Some(_), None) => DatePrecision::Month,
            _ => DatePrecision::Year,
        }
    }

    /// `29.05.2014`, `05.2014` or `2014`: the form EPrints' citations use for
    /// policy and working papers.
    pub fn dotted(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{d:02}.{m:02}.{:04}", self.year),
            (Some(m), None) => format!("{m:02}.{:04}", self.year),
            _ => format!("{:04}", self.year),
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
            if let Some(d) = self.day {
                write!(f, "-{d:02}")?;
            }
        }
        Ok(())
    }
}

/// Why a date string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date of the form YYYY, YYYY-MM or YYYY-MM-DD: {0:?}")]
pub struct DateError(pub String);

impl FromStr for PartialDate {
    type Err = DateError;

    /// Accepts `YYYY`, `YYYY-MM`, `YYYY-MM-DD`; a trailing time (`2014-05-29
    /// 10:00:00`, as some exports write dates) is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DateError(s.chars().take(64).collect());
        let s = s.trim();
        let date_part = s.split([' ', 'T']).next().unwrap_or("");
        let mut parts = date_part.split('-');
        let year: i32 = parts.next().filter(|y| y.len() == 4).and_then(|y| parse_digits(Some(y), 4)).ok_or_else(err)?;
        let month = match parts.next() {
            Some(p) => Some(parse_digits(p.into(), 2).filter(|m| (1..=12).contains(m)).ok_or_else(err)? as u8),
            None => None,
        };
        let day = match parts.next() {
            Some(p) => {
                let d = parse_digits(p.into(), 2).ok_or_else(err)? as u8;
                let max = days_in_month(year, month.unwrap_or(1));
                if d == 0 || d > max {
                    return Err(err());
                }
                Some(d)
            }
            None => None,
        };
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(PartialDate { year, month, day })
    }
}

fn parse_digits(s: Option<&str>, max_len: usize) -> Option<i32> {
    let s = s?;
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The English month names, January first: the one table that pages,
/// citations and the citation readers share.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The English name of month `m` (1 to 12); empty for anything else.
pub fn month_name(m: u8) -> &'static str {
    MONTH_NAMES.get(usize::from(m).wrapping_sub(1)).copied().unwrap_or("")
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A moment in UTC to the second, as the repository records when something
/// happened (datestamp, last modified). Kept as Unix seconds so that it sorts
/// and compares cheaply in every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(time::OffsetDateTime::now_utc().unix_timestamp())
    }

    fn datetime(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    /// `2014-05-29 10:03:12`, the form EPrints XML uses.
    pub fn to_eprints(&self) -> String {
        let d = self.datetime();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }

    /// `2014-05-29T10:03:12Z`, ISO 8601 as OAI-PMH and feeds want it.
    pub fn to_iso8601(&self) -> String {
        self.to_eprints().replacen(' ', "T", 1) + "Z"
    }

    /// The day this moment falls on (UTC), as a full date.
    pub fn date(&self) -> PartialDate {
        let d = self.datetime();
        PartialDate { year: d.year(), month: Some(u8::from(d.month())), day: Some(d.day()) }
    }

    /// Just the day: `2014-05-29`.
    pub fn day(&self) -> String {
        self.to_eprints()[..10].to_string()
    }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim().trim_end_matches('Z');
        let (day, clock) = match s.split_once([' ', 'T']) {
            Some((d, c)) => (d, Some(c)),
            None => (s, None),
        };
        let date: PartialDate = day.parse().ok()?;
        let (month, dom) = (date.month?, date.day?);
        let (mut h, mut m, mut sec) = (0u8, 0u8, 0u8);
        if let Some(c) = clock {
            let mut it = c.split(':');
            h = it.next()?.parse().ok()?;
            m = it.next().unwrap_or("0").parse().ok()?;
            sec = it.next().unwrap_or("0").split('.').next()?.parse().ok()?;
        }
        let date = time::Date::from_calendar_date(date.year, time::Month::try_from(month).ok()?, dom).ok()?;
        let t = time::Time::from_hms(h, m, sec).ok()?;
        Some(Timestamp(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_their_precision() {
        let d: PartialDate = "2014-05-29".parse().unwrap();
        assert_eq!(d.dotted(), "29.05.2014");
        assert_eq!(d.precision(), DatePrecision::Day);
        assert_eq!("2014".parse::<PartialDate>().unwrap().dotted(), "2014");
        assert_eq!("2008-08".parse::<PartialDate>().unwrap().to_string(), "2008-08");
        assert_eq!("2010-09-17 23:03:48".parse::<PartialDate>().unwrap().to_string(), "2010-09-17");
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in ["", "14", "2014-13", "2014-02-30", "2014-05-29-1", "abcd", "2014-5x"] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad}");
        }
        assert!("2012-02-29".parse::<PartialDate>().is_ok());
    }

    #[test]
    fn timestamps_round_trip() {
        let t = Timestamp::parse("2010-09-17 23:03:48").unwrap();
        assert_eq!(t.to_eprints(), "2010-09-17 23:03:48");
        assert_eq!(t.to_iso8601(), "2010-09-17T23:03:48Z");
        assert_eq!(Timestamp::parse("2005-05-05").unwrap().to_eprints(), "2005-05-05 00:00:00");
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
