//! An OAI-PMH request: the arguments as sent (repeats kept, so that a
//! repeated argument can be refused), checked against what each verb
//! allows, and the protocol's error codes.

use arkiv_model::Timestamp;

/// The six verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Identify,
    ListMetadataFormats,
    ListSets,
    GetRecord,
    ListIdentifiers,
    ListRecords,
}

impl Verb {
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "Identify" => Verb::Identify,
            "ListMetadataFormats" => Verb::ListMetadataFormats,
            "ListSets" => Verb::ListSets,
            "GetRecord" => Verb::GetRecord,
            "ListIdentifiers" => Verb::ListIdentifiers,
            "ListRecords" => Verb::ListRecords,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Verb::Identify => "Identify",
            Verb::ListMetadataFormats => "ListMetadataFormats",
            Verb::ListSets => "ListSets",
            Verb::GetRecord => "GetRecord",
            Verb::ListIdentifiers => "ListIdentifiers",
            Verb::ListRecords => "ListRecords",
        }
    }

    /// Arguments the verb takes: (name, required unless a token is given).
    fn arguments(&self) -> &'static [&'static str] {
        match self {
            Verb::Identify => &[],
            Verb::ListMetadataFormats => &["identifier"],
            Verb::ListSets => &["resumptionToken"],
            Verb::GetRecord => &["identifier", "metadataPrefix"],
            Verb::ListIdentifiers | Verb::ListRecords => &["metadataPrefix", "from", "until", "set", "resumptionToken"],
        }
    }
}

/// The error codes of OAI-PMH 2.0, section 3.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
    NoMetadataFormats,
    NoSetHierarchy,
}

impl ErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::BadArgument => "badArgument",
            ErrorCode::BadResumptionToken => "badResumptionToken",
            ErrorCode::BadVerb => "badVerb",
            ErrorCode::CannotDisseminateFormat => "cannotDisseminateFormat",
            ErrorCode::IdDoesNotExist => "idDoesNotExist",
            ErrorCode::NoRecordsMatch => "noRecordsMatch",
            ErrorCode::NoMetadataFormats => "noMetadataFormats",
            ErrorCode::NoSetHierarchy => "noSetHierarchy",
        }
    }
}

/// A protocol error with the message a harvester's log will show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiError {
    pub code: ErrorCode,
    pub message: String,
}

impl OaiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        OaiError { code, message: message.into() }
    }
    pub fn bad_argument(message: impl Into<String>) -> Self {
        OaiError::new(ErrorCode::BadArgument, message)
    }
}

/// A request whose verb and arguments are known to fit together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub verb: Verb,
    /// The arguments, each once, in the order sent.
    pub args: Vec<(String, String)>,
}

/// Longest argument value accepted: identifiers, set specs and tokens are
/// far shorter; anything longer is refused before any work.
const MAX_VALUE: usize = 2048;

impl Request {
    /// Checks the verb and that every argument is known to it, given once,
    /// and that required ones are there (`resumptionToken` is exclusive).
    pub fn parse(args: &[(String, String)]) -> Result<Request, OaiError> {
        let verbs: Vec<&str> = args.iter().filter(|(k, _)| k == "verb").map(|(_, v)| v.as_str()).collect();
        let verb = match verbs.as_slice() {
            [] => return Err(OaiError::new(ErrorCode::BadVerb, "The verb argument is missing.")),
            [v] => Verb::parse(v)
                .ok_or_else(|| OaiError::new(ErrorCode::BadVerb, format!("{:?} is not an OAI-PMH verb.", short(v))))?,
            _ => return Err(OaiError::new(ErrorCode::BadVerb, "The verb argument is repeated.")),
        };
        let mut kept: Vec<(String, String)> = Vec::new();
        for (k, v) in args.iter().filter(|(k, _)| k != "verb") {
            if !verb.arguments().contains(&k.as_str()) {
                return Err(OaiError::bad_argument(format!(
                    "{} does not take the argument {:?}.",
                    verb.as_str(),
                    short(k)
                )));
            }
            if kept.iter().any(|(seen, _)| seen == k) {
                return Err(OaiError::bad_argument(format!("The argument {k} is repeated.")));
            }
            if v.len() > MAX_VALUE {
                return Err(OaiError::bad_argument(format!("The argument {k} is longer than {MAX_VALUE} bytes.")));
            }
            kept.push((k.clone(), v.clone()));
        }
        let request = Request { verb, args: kept };
        let token = request.get("resumptionToken").is_some();
        if token && request.args.len() > 1 {
            return Err(OaiError::bad_argument(
                "resumptionToken is an exclusive argument: send it alone with the verb.",
            ));
        }
        let required: &[&str] = match verb {
            Verb::GetRecord => &["identifier", "metadataPrefix"],
            Verb::ListIdentifiers | Verb::ListRecords if !token => &["metadataPrefix"],
            _ => &[],
        };
        for name in required {
            if request.get(name).is_none() {
                return Err(OaiError::bad_argument(format!("{} needs the argument {name}.", verb.as_str())));
            }
        }
        Ok(request)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// At most 60 characters of what a client sent, for an error message.
fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The granularity of a from/until value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Second,
}

/// Parses a from/until value: `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`, nothing
/// else. `end_of_day`: a day-granular `until` means its last second.
pub fn parse_datestamp(s: &str, end_of_day: bool) -> Result<(i64, Granularity), OaiError> {
    let bad =
        || OaiError::bad_argument(format!("{:?} is not a datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ).", short(s)));
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let day_ok = b.len() >= 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    let (granularity, ok) = match b.len() {
        10 => (Granularity::Day, day_ok),
        20 => (
            Granularity::Second,
            day_ok
                && b[10] == b'T'
                && digits(11..13)
                && b[13] == b':'
                && digits(14..16)
                && b[16] == b':'
                && digits(17..19)
                && b[19] == b'Z',
        ),
        _ => return Err(bad()),
    };
    if !ok {
        return Err(bad());
    }
    let t = Timestamp::parse(s).ok_or_else(bad)?;
    // Timestamp::parse is lenient about ranges; the round trip is not.
    let canonical = if granularity == Granularity::Day { t.day() } else { t.to_iso8601() };
    if canonical != s {
        return Err(bad());
    }
    Ok((if end_of_day && granularity == Granularity::Day { t.0 + 86_399 } else { t.0 }, granularity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn verbs_and_arguments_are_checked() {
        let code = |q: &[(&str, &str)]| Request::parse(&args(q)).err().map(|e| e.code);
        assert_eq!(code(&[]), Some(ErrorCode::BadVerb));
        assert_eq!(code(&[("verb", "Nonsense")]), Some(ErrorCode::BadVerb));
        assert_eq!(code(&[("verb", "Identify"), ("verb", "Identify")]), Some(ErrorCode::BadVerb));
        assert_eq!(code(&[("verb", "Identify"), ("extra", "1")]), Some(ErrorCode::BadArgument));
        assert_eq!(code(&[("verb", "ListRecords")]), Some(ErrorCode::BadArgument));
        assert_eq!(
            code(&[("verb", "ListRecords"), ("metadataPrefix", "a"), ("metadataPrefix", "a")]),
            Some(ErrorCode::BadArgument)
        );
        assert_eq!(
            code(&[("verb", "ListRecords"), ("metadataPrefix", "a"), ("resumptionToken", "x")]),
            Some(ErrorCode::BadArgument)
        );
        assert_eq!(code(&[("verb", "ListRecords"), ("resumptionToken", "x")]), None);
        assert_eq!(code(&[("verb", "GetRecord"), ("identifier", "x")]), Some(ErrorCode::BadArgument));
    }

    #[test]
    fn datestamps_in_both_granularities_and_nothing_else() {
        assert_eq!(parse_datestamp("2020-01-02", false).unwrap(), (1_577_923_200, Granularity::Day));
        assert_eq!(parse_datestamp("2020-01-02", true).unwrap().0, 1_577_923_200 + 86_399);
        assert_eq!(parse_datestamp("2020-01-02T03:04:05Z", false).unwrap(), (1_577_934_245, Granularity::Second));
        for bad in [
            "2020-1-2",
            "2020-01-02T03:04Z",
            "2020-13-01",
            "2020-02-30",
            "2020-01-02 03:04:05",
            "x",
            "2020-01-02T03:04:05.1Z",
        ] {
            assert!(parse_datestamp(bad, false).is_err(), "{bad}");
        }
    }
}
