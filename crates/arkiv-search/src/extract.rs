//! Full text: the text of a record's public documents, extracted in
//! isolation.
//!
//! PDF parsing is where hostile input does harm: a crafted or broken file
//! can make a parser loop, allocate without bound or panic. So the server
//! never parses a PDF in its own process. [`Extractor`] runs a child process
//! (`arkiv-extract-text`, or the `arkiv` binary itself re-executed with
//! [`CHILD_ENV`] set) that reads the PDF on stdin and writes the text on
//! stdout, under an address-space limit (`RLIMIT_AS`), a CPU-time limit
//! (`RLIMIT_CPU`), no core dumps, a wall-clock timeout after which the parent
//! kills it, and a cap on the text read back. A child that crashes, hangs or
//! runs out of memory costs that one document its text, nothing else.
//!
//! Extracted texts are cached by the file's SHA-256 (file bytes never change
//! under a hash) in a directory beside the index, so a reindex or an edit of
//! a record's metadata does not parse its PDFs again; a file whose
//! extraction failed or timed out is cached as empty, so a hostile file is
//! tried once (a child that could not be started caches nothing).
//! The cache is an optimisation only: deleting it loses nothing.
//!
//! Plain-text documents (`text/plain`) are read as they are, in process.

use crate::schema::{document_is_public, truncate_at_char, MAX_FULL_TEXT_BYTES};
use arkiv_model::Record;
use arkiv_storage::FileStore;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// When this environment variable is set to `1`, a binary that calls
/// [`run_child_if_requested`] first thing acts as the extraction child.
pub const CHILD_ENV: &str = "ARKIV_EXTRACT_TEXT_CHILD";
/// Overrides the extraction program: a path to `arkiv-extract-text`.
pub const PROGRAM_ENV: &str = "ARKIV_EXTRACT_TEXT_BIN";
/// Files larger than this are not extracted.
pub const MAX_INPUT_BYTES: u64 = 200 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("text extraction timed out after {0:?}")]
    Timeout(Duration),
    #[error("text extraction failed: {0}")]
    Failed(String),
    #[error("cannot run the text extractor: {0}")]
    Spawn(#[from] std::io::Error),
}

/// Runs text extraction in a child process with limits; see the module docs.
#[derive(Debug, Clone)]
pub struct Extractor {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Extra environment for the child (e.g. [`CHILD_ENV`]).
    pub env: Vec<(String, String)>,
    /// Wall-clock limit per file.
    pub timeout: Duration,
    /// Address-space limit of the child, in bytes.
    pub memory_limit: u64,
    /// At most this many bytes of text are read back.
    pub max_output: usize,
    /// Where extracted texts are cached by SHA-256; `None`: no cache.
    pub cache_dir: Option<PathBuf>,
}

impl Extractor {
    /// An extractor running `program` (an `arkiv-extract-text` binary).
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Extractor {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            timeout: Duration::from_secs(30),
            memory_limit: 1 << 30,
            max_output: MAX_FULL_TEXT_BYTES,
            cache_dir: None,
        }
    }

    /// An extractor that re-executes the running binary as the child; that
    /// binary's `main` must call [`run_child_if_requested`] first.
    pub fn current_exe() -> std::io::Result<Self> {
        let mut e = Extractor::new(std::env::current_exe()?);
        e.env.push((CHILD_ENV.into(), "1".into()));
        Ok(e)
    }

    /// The program named by [`PROGRAM_ENV`], else `arkiv-extract-text` beside
    /// the running binary, else the running binary itself
    /// ([`Extractor::current_exe`]).
    pub fn discover() -> std::io::Result<Self> {
        if let Some(p) = std::env::var_os(PROGRAM_ENV) {
            return Ok(Extractor::new(p));
        }
        let exe = std::env::current_exe()?;
        if let Some(dir) = exe.parent() {
            let sibling = dir.join("arkiv-extract-text");
            if sibling.is_file() {
                return Ok(Extractor::new(sibling));
            }
        }
        Extractor::current_exe()
    }

    pub fn with_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// The text of one PDF, extracted in a child process.
    pub async fn extract_pdf(&self, pdf: &[u8]) -> Result<String, ExtractError> {
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mem = self.memory_limit;
        let cpu = self.timeout.as_secs() + 1;
        // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let set = |res, v: u64| {
                    let lim = libc::rlimit { rlim_cur: v as libc::rlim_t, rlim_max: v as libc::rlim_t };
                    libc::setrlimit(res, &lim)
                };
                set(libc::RLIMIT_AS, mem);
                set(libc::RLIMIT_CPU, cpu);
                set(libc::RLIMIT_CORE, 0);
                Ok(())
            });
        }
        let mut child = cmd.spawn()?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let input = pdf.to_vec();
        // The child may exit without reading everything: ignore EPIPE.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input).await;
        });
        let errors = tokio::spawn(async move {
            let mut err = Vec::new();
            let _ = (&mut stderr).take(4096).read_to_end(&mut err).await;
            err
        });
        let deadline = tokio::time::Instant::now() + self.timeout;
        let max = self.max_output as u64;
        let mut out = Vec::new();
        let read = tokio::time::timeout_at(deadline, (&mut stdout).take(max).read_to_end(&mut out)).await;
        let kill = |child: &mut tokio::process::Child| {
            let _ = child.start_kill();
        };
        match read {
            Err(_) => {
                kill(&mut child);
                let _ = child.wait().await;
                return Err(ExtractError::Timeout(self.timeout));
            }
            Ok(Err(e)) => {
                kill(&mut child);
                let _ = child.wait().await;
                return Err(ExtractError::Failed(format!("cannot read the extractor's output: {e}")));
            }
            Ok(Ok(_)) => {}
        }
        if out.len() as u64 >= max {
            // Text past the cap is dropped: stop the child rather than wait.
            kill(&mut child);
            let _ = child.wait().await;
            let text = String::from_utf8_lossy(&out).into_owned();
            return Ok(truncate_at_char(&text, self.max_output).to_string());
        }
        let status = match tokio::time::timeout_at(deadline, child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                kill(&mut child);
                let _ = child.wait().await;
                return Err(ExtractError::Timeout(self.timeout));
            }
        };
        if status.success() {
            let text = String::from_utf8_lossy(&out).into_owned();
            Ok(truncate_at_char(&text, self.max_output).to_string())
        } else {
            let err = tokio::time::timeout(Duration::from_secs(1), errors)
                .await
                .ok()
                .and_then(|r| r.ok())
                .unwrap_or_default();
            let msg = String::from_utf8_lossy(&err);
            Err(ExtractError::Failed(format!("{status}: {}", msg.trim())))
        }
    }

    fn cached(&self, sha: &str) -> Option<String> {
        let dir = self.cache_dir.as_ref()?;
        if !arkiv_storage::files::is_sha256(sha) {
            return None;
        }
        std::fs::read_to_string(dir.join(format!("{sha}.txt"))).ok()
    }

    fn store_cache(&self, sha: &str, text: &str) {
        let Some(dir) = self.cache_dir.as_ref() else { return };
        if !arkiv_storage::files::is_sha256(sha) {
            return;
        }
        let _ = write_atomically(dir, &format!("{sha}.txt"), text.as_bytes());
    }

    /// The text of one stored file, from the cache or extracted; `None` for
    /// files that are neither PDF nor plain text, are missing, too large, or
    /// fail to extract (logged).
    pub async fn file_text(&self, files: &FileStore, file: &arkiv_model::StoredFile) -> Option<String> {
        let sha = file.sha256.as_deref()?;
        let mime = file.mime_type.as_deref().unwrap_or("").to_ascii_lowercase();
        let name = file.filename.to_ascii_lowercase();
        let is_pdf = mime == "application/pdf" || name.ends_with(".pdf");
        let is_text = mime.starts_with("text/plain") || name.ends_with(".txt");
        if !is_pdf && !is_text {
            return None;
        }
        if let Some(t) = self.cached(sha) {
            return Some(t);
        }
        if files.size(sha).await.ok().flatten().is_none_or(|s| s > MAX_INPUT_BYTES) {
            return None;
        }
        let bytes = match files.get(sha).await {
            Ok(Some(b)) => b,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(sha, "cannot read a file for text extraction: {e}");
                return None;
            }
        };
        let text = if is_pdf {
            match self.extract_pdf(&bytes).await {
                Ok(t) => t,
                // The extractor could not be started: nothing is learnt about
                // the file, so nothing is cached; it is tried again next time.
                Err(e @ ExtractError::Spawn(_)) => {
                    tracing::warn!(sha, file = %file.filename, "{e}");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(sha, file = %file.filename, "{e}");
                    String::new()
                }
            }
        } else {
            let t = String::from_utf8_lossy(&bytes);
            truncate_at_char(&t, self.max_output).to_string()
        };
        self.store_cache(sha, &text);
        Some(text)
    }

    /// The full text of a record: its public, unembargoed documents' files,
    /// joined, capped at [`MAX_FULL_TEXT_BYTES`]. `None` when there is none.
    pub async fn record_text(&self, files: &FileStore, record: &Record) -> Option<String> {
        let today = arkiv_model::PartialDate::today();
        let mut text = String::new();
        for doc in record.documents.iter().filter(|d| document_is_public(d, today)) {
            let Some(file) = doc.main_file() else { continue };
            if let Some(t) = self.file_text(files, file).await {
                if !t.trim().is_empty() {
                    if !text.is_empty() {
                        text.push_str("\n\n");
                    }
                    text.push_str(&t);
                }
            }
            if text.len() >= MAX_FULL_TEXT_BYTES {
                break;
            }
        }
        let text = truncate_at_char(&text, MAX_FULL_TEXT_BYTES).to_string();
        (!text.trim().is_empty()).then_some(text)
    }
}

/// Writes `dir/name` through a temporary file and a rename.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}

/// PDF → text in this process. For the child and for tests: the server goes
/// through [`Extractor`]. A panic in the parser is caught and reported.
///
/// `pdf-extract` reads text shown by `Tj` and `TJ` but ignores the `'` and
/// `"` operators (move to the next line, then show), which simple PDF
/// writers use for every line; they are rewritten into `T*` + `Tj` first.
#[cfg(feature = "pdf-text")]
pub fn extract_pdf_in_process(pdf: &[u8]) -> Result<String, String> {
    let result = std::panic::catch_unwind(|| -> Result<String, String> {
        let mut doc = lopdf::Document::load_mem(pdf).map_err(|e| e.to_string())?;
        if doc.is_encrypted() {
            doc.decrypt("").map_err(|e| format!("encrypted PDF: {e}"))?;
        }
        normalize_text_operators(&mut doc);
        let mut text = String::new();
        {
            let mut out = pdf_extract::PlainTextOutput::new(&mut text);
            pdf_extract::output_doc(&doc, &mut out).map_err(|e| e.to_string())?;
        }
        Ok(text)
    });
    match result {
        Ok(r) => r,
        Err(_) => Err("the PDF parser panicked".into()),
    }
}

/// Rewrites `(s) '` as `T* (s) Tj` and `aw ac (s) "` as `aw Tw ac Tc T* (s) Tj`
/// in every page's content. Pages whose content cannot be decoded are left
/// as they are.
#[cfg(feature = "pdf-text")]
fn normalize_text_operators(doc: &mut lopdf::Document) {
    use lopdf::content::Operation;
    let pages: Vec<lopdf::ObjectId> = doc.get_pages().into_values().collect();
    for page in pages {
        let Ok(mut content) = doc.get_and_decode_page_content(page) else { continue };
        if !content.operations.iter().any(|op| op.operator == "'" || op.operator == "\"") {
            continue;
        }
        let mut ops = Vec::with_capacity(content.operations.len() + 16);
        for op in content.operations.drain(..) {
            match (op.operator.as_str(), op.operands.len()) {
                ("'", 1) => {
                    ops.push(Operation::new("T*", vec![]));
                    ops.push(Operation::new("Tj", op.operands));
                }
                ("\"", 3) => {
                    let mut it = op.operands.into_iter();
                    let (aw, ac, s) = (it.next(), it.next(), it.next());
                    ops.push(Operation::new("Tw", aw.into_iter().collect()));
                    ops.push(Operation::new("Tc", ac.into_iter().collect()));
                    ops.push(Operation::new("T*", vec![]));
                    ops.push(Operation::new("Tj", s.into_iter().collect()));
                }
                _ => ops.push(op),
            }
        }
        content.operations = ops;
        if let Ok(bytes) = content.encode() {
            let _ = doc.change_page_content(page, bytes);
        }
    }
}

/// The child's main: PDF on stdin, text on stdout, exit 0; an error on
/// stderr and exit 2 otherwise. Output of the parser itself is sent to
/// stderr so that only the text reaches stdout.
#[cfg(feature = "pdf-text")]
pub fn child_main() -> ! {
    use std::io::{Read, Write};
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().take(MAX_INPUT_BYTES).read_to_end(&mut input) {
        eprintln!("cannot read the PDF: {e}");
        std::process::exit(2);
    }
    // Whatever the parser prints goes to stderr while it runs.
    // SAFETY: plain fd juggling on this process's own descriptors.
    let saved = unsafe {
        let saved = libc::dup(1);
        libc::dup2(2, 1);
        saved
    };
    std::panic::set_hook(Box::new(|_| {}));
    let result = extract_pdf_in_process(&input);
    let _ = std::io::stdout().flush();
    if saved >= 0 {
        unsafe {
            libc::dup2(saved, 1);
            libc::close(saved);
        }
    }
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    }
}

/// Call first thing in a binary's `main`: when started as the extraction
/// child ([`CHILD_ENV`]`=1`), it runs [`child_main`] and never returns.
pub fn run_child_if_requested() {
    if std::env::var_os(CHILD_ENV).is_some_and(|v| v == "1") {
        #[cfg(feature = "pdf-text")]
        child_main();
        #[cfg(not(feature = "pdf-text"))]
        {
            eprintln!("built without the pdf-text feature");
            std::process::exit(2);
        }
    }
}
