//! What Arkiv's tests share, so that every crate's tests find the same
//! things the same way: `../shared` beside the project (skipped with a
//! message when absent, a failure under `CI=true`), its corpora as records
//! (the seed, the EPrints XML corpus, and arXiv and Zenodo metadata mapped
//! here, in test code), and the third-party checkers the tests run against
//! Arkiv's output: xmllint with the official schemas, and the Python clients
//! that `scripts/tools.sh` installs.
//!
//! A dev-dependency only: nothing here ships in the binary.

pub mod checkers;
pub mod html;
pub mod postgres;

use arkiv_formats::EprintsReader;
use arkiv_model::{Creator, PartialDate, Record, Status};
use std::path::{Path, PathBuf};

/// The project's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `true` under CI, where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Says a test is skipped because `what` is missing, or fails it under CI.
pub fn skip(what: &str) {
    if under_ci() {
        panic!("{what} is missing and CI=true: this test cannot be skipped");
    }
    eprintln!("SKIP: {what} is missing; test skipped");
}

/// `../shared` beside the project, or `None` (after [`skip`]).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = workspace().join("../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    skip("../shared");
    None
}

/// `../shared/corpus`, or `None` (after [`skip`]).
pub fn corpus_dir() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("corpus"))
}

/// `../shared/xsd` (the official schemas and their catalog.xml), or `None`
/// (after [`skip`]).
pub fn xsd_dir() -> Option<PathBuf> {
    shared_dir().map(|d| d.join("xsd"))
}

/// The S3-compatible server the file-store tests run against, from
/// `ARKIV_TEST_S3_URL` as `scripts/seaweedfs.sh` prints it
/// (`http://KEY:SECRET@HOST:PORT`).
#[derive(Debug, Clone)]
pub struct S3Server {
    /// `http://HOST:PORT`, without the credentials.
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The S3 server named by `ARKIV_TEST_S3_URL`, or `None` (after [`skip`]:
/// a failure under CI). Each test makes a bucket of its own
/// ([`unique_bucket`]), so tests run in parallel.
pub fn s3_server() -> Option<S3Server> {
    let Ok(url) = std::env::var("ARKIV_TEST_S3_URL") else {
        skip("ARKIV_TEST_S3_URL (an S3 server: export ARKIV_TEST_S3_URL=$(scripts/seaweedfs.sh | tail -n1))");
        return None;
    };
    let (scheme, rest) = url.split_once("://").expect("ARKIV_TEST_S3_URL is http://KEY:SECRET@HOST:PORT");
    let (credentials, host) = rest.rsplit_once('@').expect("ARKIV_TEST_S3_URL carries KEY:SECRET@");
    let (key, secret) = credentials.split_once(':').expect("ARKIV_TEST_S3_URL carries KEY:SECRET@");
    Some(S3Server {
        endpoint: format!("{scheme}://{}", host.trim_end_matches('/')),
        access_key_id: key.into(),
        secret_access_key: secret.into(),
    })
}

/// A bucket name no other test (of this run or another) uses.
pub fn unique_bucket() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!(
        "arkiv-test-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000_000_000
    )
}

/// `len` bytes that no other call of this process gives (a counter seeds
/// xorshift): file contents that are stored apart, never deduplicated.
pub fn unique_bytes(len: usize) -> Vec<u8> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEED: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let mut x = SEED.fetch_add(0x6a09_e667_f3bc_c909, Ordering::SeqCst) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn read_eprints(path: &Path) -> Vec<Record> {
    let file = std::fs::File::open(path).unwrap();
    EprintsReader::new(std::io::BufReader::new(file)).filter_map(|item| item.result.ok()).map(|i| i.record).collect()
}

pub fn seed() -> Record {
    let mut r = read_eprints(&workspace().join("data/seed/seed.xml")).remove(0);
    r.status = Status::Archive;
    r
}

pub fn eprints_corpus(dir: &Path) -> Vec<Record> {
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("eprints_xml")).unwrap().flatten().map(|e| e.path()).collect();
    paths.sort();
    paths.iter().flat_map(|p| read_eprints(p)).collect()
}

fn split_name(full: &str) -> Creator {
    let full = full.trim();
    if let Some((family, given)) = full.split_once(", ") {
        return Creator::new(family.trim(), given.trim());
    }
    match full.rsplit_once(' ') {
        Some((given, family)) => Creator::new(family, given),
        None => Creator::new(full, ""),
    }
}

/// arXiv metadata (one JSON object a line) as records.
pub fn arxiv(dir: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(dir.join("arxiv_0704_1001.jsonl")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            let s =
                |k: &str| v.get(k).and_then(|x| x.as_str()).map(|x| x.split_whitespace().collect::<Vec<_>>().join(" "));
            let mut r = Record::new("article", &s("title").unwrap_or_default());
            r.status = Status::Archive;
            r.abstract_text = s("abstract");
            r.doi = s("doi");
            r.id_number = s("id").map(|i| format!("arXiv:{i}"));
            r.publication = s("journal-ref");
            r.number = s("report-no");
            if let Some(a) = s("authors") {
                r.creators =
                    a.replace(" and ", ", ").split(", ").filter(|n| !n.trim().is_empty()).map(split_name).collect();
            }
            let year = v
                .get("date")
                .and_then(|d| d.get(0))
                .and_then(|d| d.as_str())
                .and_then(|d| d.split_whitespace().find_map(|w| w.parse::<i32>().ok().filter(|y| *y > 1900)));
            r.date = year.map(PartialDate::year);
            r.keywords = s("categories").map(|c| c.split(' ').map(String::from).collect()).unwrap_or_default();
            r.languages = vec!["en".into()];
            r
        })
        .collect()
}

/// Zenodo oai_dc (one JSON object a line) as records.
pub fn zenodo(dir: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(dir.join("zenodo_oai_dc_200.jsonl")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            let list = |k: &str| -> Vec<String> {
                v.get(k)
                    .and_then(|x| x.as_array())
                    .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
                    .unwrap_or_default()
            };
            let first = |k: &str| list(k).into_iter().next();
            let kind = first("type").unwrap_or_default();
            let item_type = match kind.rsplit('/').next().unwrap_or("") {
                "article" => "article",
                "conferencePaper" | "conferencePoster" => "conference_item",
                "report" | "workingPaper" => "report",
                "book" => "book",
                "bookPart" => "book_section",
                "doctoralThesis" | "masterThesis" | "bachelorThesis" => "thesis",
                _ => "other",
            };
            let mut r = Record::new(item_type, &first("title").unwrap_or_default());
            r.status = Status::Archive;
            r.creators = list("creator").iter().map(|c| split_name(c)).collect();
            r.abstract_text = first("description");
            r.date = first("date").and_then(|d| d.parse().ok());
            r.doi = list("identifier").into_iter().find_map(|i| i.strip_prefix("https://doi.org/").map(String::from));
            r.keywords = list("subject");
            r.languages = list("language");
            r.publisher = first("publisher");
            r
        })
        .collect()
}

/// Every corpus record, with ids 1.. in order: the seed first.
pub fn all_records(dir: &Path) -> Vec<Record> {
    let mut records = vec![seed()];
    records.extend(eprints_corpus(dir).into_iter().map(|mut r| {
        r.status = Status::Archive;
        r
    }));
    records.extend(arxiv(dir));
    records.extend(zenodo(dir));
    for (i, r) in records.iter_mut().enumerate() {
        r.id = Some(i as i64 + 1);
    }
    records
}
