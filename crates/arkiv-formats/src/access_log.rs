//! Web server access logs in the combined format Apache and nginx both
//! write by default (`%h %l %u %t "%r" %>s %b "%{Referer}i"
//! "%{User-agent}i"`), one line at a time, so that a repository moving to
//! Arkiv keeps the download history its old server logged.
//!
//! Hand-written: the format is one line of fields, some quoted (with `\"`
//! escapes), one bracketed; the crates that parse it are small and
//! unmaintained, and a hostile line must become an error for that line,
//! never a panic or a stop. Lines longer than [`MAX_LINE`] are refused
//! without being looked at further.

use std::fmt;

/// Bytes of a line at most (a request line is limited to 8 KiB by Apache
/// and nginx; referer and user agent add a few more).
pub const MAX_LINE: usize = 32 * 1024;

/// One request as the log has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHit<'a> {
    /// The client address (`%h`), as written.
    pub client: &'a str,
    /// Unix seconds.
    pub at: i64,
    pub method: &'a str,
    /// The request target: path and query, as sent (percent-encoded).
    pub target: &'a str,
    pub status: u16,
    /// The user agent; empty when the log says `-`.
    pub user_agent: String,
}

/// Why a line was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLineError(pub &'static str);

impl fmt::Display for LogLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for LogLineError {}

fn err<T>(why: &'static str) -> Result<T, LogLineError> {
    Err(LogLineError(why))
}

/// Reads one line of the combined (or common) log format.
pub fn parse_line(line: &str) -> Result<LogHit<'_>, LogLineError> {
    if line.len() > MAX_LINE {
        return err("the line is longer than 32 KiB");
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let (client, rest) = line.split_once(' ').ok_or(LogLineError("no client address"))?;
    if client.is_empty() {
        return err("no client address");
    }
    // %l and %u: two tokens, then the bracketed time.
    let open = rest.find('[').ok_or(LogLineError("no [time]"))?;
    let close = rest[open..].find(']').map(|c| open + c).ok_or(LogLineError("no [time]"))?;
    let at = parse_time(&rest[open + 1..close])?;
    let rest = rest[close + 1..].trim_start();
    let (request, rest) = quoted(rest)?;
    let mut parts = request.split(' ');
    let method = parts.next().filter(|m| !m.is_empty()).ok_or(LogLineError("no request method"))?;
    let target = parts.next().filter(|t| !t.is_empty()).ok_or(LogLineError("no request target"))?;
    let rest = rest.trim_start();
    let (status, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let status: u16 = status.parse().map_err(|_| LogLineError("the status is not a number"))?;
    if !(100..=599).contains(&status) {
        return err("the status is not an HTTP status");
    }
    // %b, then (combined format) the quoted referer and user agent.
    let rest = rest.trim_start();
    let rest = rest.split_once(' ').map(|(_, r)| r).unwrap_or("").trim_start();
    let user_agent = if rest.is_empty() {
        String::new()
    } else {
        let (_referer, rest) = quoted(rest)?;
        let (agent, _) = quoted(rest.trim_start())?;
        if agent == "-" {
            String::new()
        } else {
            agent.replace("\\\"", "\"").replace("\\\\", "\\")
        }
    };
    Ok(LogHit { client, at, method, target, status, user_agent })
}

/// A `"..."` field (with `\"` inside), and what follows it.
fn quoted(s: &str) -> Result<(&str, &str), LogLineError> {
    let body = s.strip_prefix('"').ok_or(LogLineError("a quoted field is missing"))?;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok((&body[..i], &body[i + 1..])),
            _ => i += 1,
        }
    }
    err("a quoted field is not closed")
}

/// `10/Oct/2000:13:55:36 -0700` as Unix seconds.
fn parse_time(s: &str) -> Result<i64, LogLineError> {
    let bad = LogLineError("the time is not dd/Mon/yyyy:hh:mm:ss +zzzz");
    let (clock, zone) = s.split_once(' ').ok_or(bad.clone())?;
    let mut it = clock.splitn(4, [':']);
    let date = it.next().ok_or(bad.clone())?;
    let (h, m, sec) = (it.next(), it.next(), it.next());
    let mut d = date.split('/');
    let day: u8 = d.next().and_then(|v| v.parse().ok()).ok_or(bad.clone())?;
    let month = match d.next().ok_or(bad.clone())? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return Err(bad),
    };
    let year: i32 = d.next().and_then(|v| v.parse().ok()).filter(|y| (1990..=9999).contains(y)).ok_or(bad.clone())?;
    let num = |v: Option<&str>, max: u8| v.and_then(|v| v.parse::<u8>().ok()).filter(|n| *n <= max);
    let (h, m, sec) =
        (num(h, 23).ok_or(bad.clone())?, num(m, 59).ok_or(bad.clone())?, num(sec, 60).ok_or(bad.clone())?);
    let sign = match zone.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(bad),
    };
    let zone_digits = &zone[1..];
    if zone_digits.len() != 4 || !zone_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    let offset = sign
        * (zone_digits[..2].parse::<i64>().unwrap_or(0) * 3600 + zone_digits[2..].parse::<i64>().unwrap_or(0) * 60);
    let month = time::Month::try_from(month).map_err(|_| bad.clone())?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| bad.clone())?;
    let t = time::Time::from_hms(h, m, sec.min(59)).map_err(|_| bad)?;
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp() - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apache_s_own_example() {
        // From Apache's log file documentation.
        let hit = parse_line(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#,
        )
        .unwrap();
        assert_eq!(hit.client, "127.0.0.1");
        assert_eq!(hit.at, 971_211_336, "2000-10-10T20:55:36Z");
        assert_eq!((hit.method, hit.target, hit.status), ("GET", "/apache_pb.gif", 200));
        assert_eq!(hit.user_agent, "Mozilla/4.08 [en] (Win98; I ;Nav)");
    }

    #[test]
    fn nginx_lines_and_the_common_format() {
        let hit = parse_line(
            r#"2001:db8::7 - - [29/May/2014:10:03:12 +0000] "GET /id/eprint/1/1/commentary_137.pdf HTTP/1.1" 206 1024 "-" "Mozilla/5.0 \"quoted\"""#,
        )
        .unwrap();
        assert_eq!((hit.status, hit.user_agent.as_str()), (206, "Mozilla/5.0 \"quoted\""));
        let common = parse_line(r#"192.0.2.1 - - [29/May/2014:10:03:12 +0200] "GET /1/ HTTP/1.1" 304 -"#).unwrap();
        assert_eq!((common.at, common.user_agent.as_str()), (1_401_350_592, ""));
    }

    #[test]
    fn hostile_lines_are_errors_not_panics() {
        for bad in [
            "",
            "garbage",
            "1.2.3.4 - - [99/Foo/2014:10:03:12 +0000] \"GET / HTTP/1.1\" 200 1",
            "1.2.3.4 - - [29/May/2014:25:03:12 +0000] \"GET / HTTP/1.1\" 200 1",
            "1.2.3.4 - - [29/May/2014:10:03:12 +0000] \"GET / HTTP/1.1\" 999 1",
            "1.2.3.4 - - [29/May/2014:10:03:12 +0000] \"GET / HTTP/1.1",
            "1.2.3.4 - - [29/May/2014:10:03:12 0000] \"GET / HTTP/1.1\" 200 1",
            "1.2.3.4 - - [29/May/2014:10:03:12 +0000 \"GET / HTTP/1.1\" 200 1",
            "1.2.3.4 - - [29/May/2014:10:03:12 +0000] \"\" 200 1",
            "1.2.3.4 - - [31/Feb/2014:10:03:12 +0000] \"GET / HTTP/1.1\" 200 1",
            "\u{0}\u{1}[]\"\"\"\\",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
        assert!(parse_line(&"x".repeat(MAX_LINE + 1)).is_err());
    }
}
