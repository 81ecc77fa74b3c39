//! Fetching the files an import references by URL (`import --fetch-files`):
//! an EPrints export often names its documents by their old addresses
//! instead of carrying them. Each file is fetched with a size limit (the
//! import's `max_file_bytes`), a time limit for the whole answer (a server
//! that stalls mid-body is given up on, not waited for), a few retries with
//! a growing pause for what may pass (a timeout, a dropped connection, a
//! 5xx), and a check against what the export says of the file: the size it
//! announced and the MD5 it recorded. Whatever goes wrong is one clear
//! message for that file; the record keeps the file's metadata and the rest
//! of the import goes on.
//!
//! An outbound client, not an interface: the services layer serves no
//! HTTP, but an import may read from the web as it reads from disk.

use futures::StreamExt;
use md5::{Digest, Md5};
use std::time::Duration;

/// How files are fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Time for one attempt, connection to last byte.
    pub timeout: Duration,
    /// Attempts after the first, for failures that may pass.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_bytes: 1 << 30,
            timeout: Duration::from_secs(60),
            retries: 2,
            backoff: Duration::from_secs(1),
        }
    }
}

/// What the export says of a file, to check the bytes against.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// The size the export gives (`<filesize>`), if any.
    pub size: Option<u64>,
    /// The MD5 the export recorded (`<hash>` with `<hash_type>MD5`), hex.
    pub md5: Option<String>,
}

/// Fetches over HTTP(S), one client for a whole import.
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

/// Why one attempt failed, and whether another may succeed.
struct Failure {
    message: String,
    may_pass: bool,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Fetcher, String> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("Arkiv/", env!("CARGO_PKG_VERSION"), " (file import)"))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(Fetcher { client, options })
    }

    /// The bytes at `url`, checked against `expected`; or why not, in one
    /// sentence.
    pub async fn fetch(&self, url: &str, expected: &Expected) -> Result<Vec<u8>, String> {
        let mut pause = self.options.backoff;
        let mut attempt = 0;
        loop {
            match self.attempt(url, expected).await {
                Ok(bytes) => return Ok(bytes),
                Err(f) if f.may_pass && attempt < self.options.retries => {
                    attempt += 1;
                    tracing::info!(url, attempt, error = %f.message, "fetching again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(f) => {
                    let tries = if attempt > 0 { format!(" (after {} attempts)", attempt + 1) } else { String::new() };
                    return Err(format!("{}{tries}", f.message));
                }
            }
        }
    }

    async fn attempt(&self, url: &str, expected: &Expected) -> Result<Vec<u8>, Failure> {
        let max = self.options.max_bytes;
        let lasting = |message: String| Failure { message, may_pass: false };
        let passing = |message: String| Failure { message, may_pass: true };
        let timeout = self.options.timeout.as_secs();
        let res = self.client.get(url).send().await.map_err(|e| {
            if e.is_timeout() {
                passing(format!("no answer within {timeout} s"))
            } else {
                passing(format!("cannot connect: {}", root_cause(&e)))
            }
        })?;
        let status = res.status();
        if status.is_server_error() {
            return Err(passing(format!("the server answered {status}")));
        }
        if !status.is_success() {
            return Err(lasting(format!("the server answered {status}")));
        }
        let announced = res.content_length();
        if let Some(n) = announced.filter(|&n| n > max) {
            return Err(lasting(format!("the server announces {n} bytes, over the limit of {max}")));
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0).min(max) as usize);
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if e.is_timeout() {
                    passing(format!("the transfer stalled: not done within {timeout} s"))
                } else {
                    passing(format!("the transfer broke off after {} bytes: {}", body.len(), root_cause(&e)))
                }
            })?;
            if body.len() as u64 + chunk.len() as u64 > max {
                return Err(lasting(format!("the file is larger than the limit of {max} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let got = body.len() as u64;
        if let Some(n) = announced.filter(|&n| n != got) {
            return Err(passing(format!("the server announced {n} bytes and sent {got}")));
        }
        if let Some(n) = expected.size.filter(|&n| n != got) {
            return Err(lasting(format!("the export gives {n} bytes, the server sent {got}")));
        }
        if let Some(want) = &expected.md5 {
            let have = hex::encode(Md5::digest(&body));
            if !have.eq_ignore_ascii_case(want.trim()) {
                return Err(lasting(format!("the bytes do not match the export's MD5 ({want}; these are {have})")));
            }
        }
        Ok(body)
    }
}

/// The innermost error's words (reqwest's own say only "error sending
/// request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
