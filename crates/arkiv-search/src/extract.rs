//! Full text: the text of a record's public documents, extracted in
//! isolation, read only as far as the index keeps it.
//!
//! PDF parsing is where hostile input does harm: a crafted or broken file
//! can make a parser loop, allocate without bound or panic. So the server
//! never parses a PDF in its own process. [`Extractor`] runs a child process
//! (`arkiv-extract-text`, or the `arkiv` binary itself re-executed with
//! [`CHILD_ENV`] set) that reads the PDF on stdin and writes the text on
//! stdout, under an address-space limit (`RLIMIT_AS`), a CPU-time limit
//! (`RLIMIT_CPU`), no core dumps, a wall-clock timeout after which the parent
//! kills it, and a cap on the text read back. A child that crashes, hangs or
//! runs out of memory costs that one document its text, nothing else. The
//! PDF goes to the child in chunks read from the file store
//! ([`PDF_CHUNK`]), never whole in the server's memory; a PDF over
//! [`MAX_INPUT_BYTES`] is not extracted at all.
//!
//! Extracted texts are cached by the file's SHA-256 (file bytes never change
//! under a hash) in a directory beside the index, so a reindex or an edit of
//! a record's metadata does not parse its PDFs again; a file whose
//! extraction failed or timed out is cached as empty, so a hostile file is
//! tried once (a child that could not be started, or bytes that could not
//! be read from the store, cache nothing). The cache is an optimisation and
//! the way a finished background extraction reaches the index
//! ([`crate::text_jobs`]); deleting it loses nothing.
//!
//! Plain-text documents (`text/plain`) are read in process, and only their
//! first [`Extractor::max_output`] bytes (what the index keeps) through a
//! ranged read, cut at a character boundary: a 190 MB text file costs 2 MiB.
//!
//! Two ways to ask for a record's text: [`Extractor::record_text_now`]
//! never runs the child and names the PDFs still to extract (what the
//! follower does, see [`crate::follow`]); [`Extractor::record_text`] and
//! [`Extractor::record_text_waiting`] extract them first, one at a time
//! (what `arkiv reindex` does).

use crate::schema::{document_is_public, truncate_at_char, MAX_FULL_TEXT_BYTES};
use arkiv_model::{Record, StoredFile};
use arkiv_storage::FileStore;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// When this environment variable is set to `1`, a binary that calls
/// [`run_child_if_requested`] first thing acts as the extraction child.
pub const CHILD_ENV: &str = "ARKIV_EXTRACT_TEXT_CHILD";
/// Overrides the extraction program: a path to `arkiv-extract-text`.
pub const PROGRAM_ENV: &str = "ARKIV_EXTRACT_TEXT_BIN";
/// PDFs larger than this are not extracted.
pub const MAX_INPUT_BYTES: u64 = 200 << 20;
/// A stored PDF is read from the file store and written to the child this
/// many bytes at a time.
pub const PDF_CHUNK: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("text extraction timed out after {0:?}")]
    Timeout(Duration),
    #[error("text extraction failed: {0}")]
    Failed(String),
    #[error("cannot run the text extractor: {0}")]
    Spawn(#[from] std::io::Error),
    /// The file's bytes could not be read from the store: nothing is
    /// learnt about the file.
    #[error("cannot read the file for text extraction: {0}")]
    Input(String),
}

impl ExtractError {
    /// Whether the error says something about the file (it failed or hung:
    /// cache it as empty) rather than about this attempt (the child could
    /// not start, the store could not be read: try again another time).
    fn blames_the_file(&self) -> bool {
        matches!(self, ExtractError::Timeout(_) | ExtractError::Failed(_))
    }
}

/// What the child reads on stdin.
enum Input {
    Bytes(Vec<u8>),
    /// A stored file, fed in [`PDF_CHUNK`]s.
    Stored {
        files: FileStore,
        sha: String,
        size: u64,
    },
}

/// Writes the input to the child. Fails only when the store cannot be
/// read; a child that stops reading (it exited, or was killed) ends the
/// feeding quietly. `reading` is true while it waits for the store.
async fn feed(mut stdin: tokio::process::ChildStdin, input: Input, reading: Arc<AtomicBool>) -> Result<(), String> {
    match input {
        Input::Bytes(b) => {
            let _ = stdin.write_all(&b).await;
        }
        Input::Stored { files, sha, size } => {
            let size = size.min(MAX_INPUT_BYTES);
            let mut at = 0;
            while at < size {
                let end = (at + PDF_CHUNK).min(size);
                reading.store(true, Ordering::SeqCst);
                let chunk = files.get_range(&sha, at..end).await.map_err(|e| e.to_string())?;
                reading.store(false, Ordering::SeqCst);
                if chunk.is_empty() {
                    return Err(format!("the stored file ends at {at} bytes, before its {size}"));
                }
                at += chunk.len() as u64;
                if stdin.write_all(&chunk).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Aborts a task when dropped: an extraction given up drops its feeder.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The kind of file whose text is indexed, from its declared type or name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Plain,
}

fn kind(file: &StoredFile) -> Option<Kind> {
    let mime = file.mime_type.as_deref().unwrap_or("").to_ascii_lowercase();
    let name = file.filename.to_ascii_lowercase();
    if mime == "application/pdf" || name.ends_with(".pdf") {
        Some(Kind::Pdf)
    } else if mime.starts_with("text/plain") || name.ends_with(".txt") {
        Some(Kind::Plain)
    } else {
        None
    }
}

/// What is known of one file's text without running the extractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileText {
    /// Its text (possibly empty: a PDF that failed is cached as empty).
    Text(String),
    /// It has no text to index: not a PDF or plain text, missing from the
    /// store, unreadable, or a PDF over [`MAX_INPUT_BYTES`].
    Nothing,
    /// A PDF whose text is not cached yet: it must be extracted.
    Pending,
}

/// What is known of a record's full text: the text of its public files so
/// far, and the PDFs whose text it still lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordText {
    /// The texts known, joined and capped at [`MAX_FULL_TEXT_BYTES`];
    /// `None` when there is none.
    pub text: Option<String>,
    /// Public PDFs whose text is still to be extracted (or, from
    /// [`Extractor::record_text_waiting`], could not be: the extractor
    /// did not start, or the store could not be read).
    pub pending: Vec<StoredFile>,
}

/// The longest prefix of `bytes` that does not end inside a character:
/// a ranged read may stop in the middle of one.
fn without_cut_char(bytes: &[u8]) -> &[u8] {
    for back in 1..=bytes.len().min(4) {
        let b = bytes[bytes.len() - back];
        if b & 0xC0 != 0x80 {
            let len = match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if len > back { &bytes[..bytes.len() - back] } else { bytes };
        }
    }
    bytes
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
    /// At most this many bytes of text are read back from the child, or
    /// from a plain-text file.
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
        self.run_child(Input::Bytes(pdf.to_vec())).await
    }

    /// The text of one stored PDF, extracted in a child process that reads
    /// it from the store in [`PDF_CHUNK`]s (at most [`MAX_INPUT_BYTES`]).
    pub async fn extract_stored_pdf(&self, files: &FileStore, sha: &str) -> Result<String, ExtractError> {
        let size = match files.size(sha).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(ExtractError::Input("the file is missing from the store".into())),
            Err(e) => return Err(ExtractError::Input(e.to_string())),
        };
        self.run_child(Input::Stored { files: files.clone(), sha: sha.to_string(), size }).await
    }

    async fn run_child(&self, input: Input) -> Result<String, ExtractError> {
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
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let reading = Arc::new(AtomicBool::new(false));
        let mut feeder = AbortOnDrop(tokio::spawn(feed(stdin, input, reading.clone())));
        let errors = tokio::spawn(async move {
            let mut err = Vec::new();
            let _ = (&mut stderr).take(4096).read_to_end(&mut err).await;
            err
        });
        let outcome = self.await_child(&mut child, &mut stdout, errors).await;
        // Whatever the child made of it, a file the store could not give
        // whole says nothing about the file. Once the child has ended, the
        // feeder ends at once (its writes fail). One still waiting for the
        // store a second later means a store too slow to blame the file for
        // a timeout; one still writing (a grandchild of the child holds the
        // pipe) says nothing: the child's outcome stands.
        let fed = match tokio::time::timeout(Duration::from_secs(1), &mut feeder.0).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("the feeding task failed: {e}")),
            Err(_) if reading.load(Ordering::SeqCst) => Err("the file store did not deliver the file in time".into()),
            Err(_) => Ok(()),
        };
        match (outcome, fed) {
            (Err(e @ ExtractError::Spawn(_)), _) => Err(e),
            (_, Err(e)) => Err(ExtractError::Input(e)),
            (outcome, Ok(())) => outcome,
        }
    }

    /// Reads the child's output until it ends, the cap or the deadline.
    async fn await_child(
        &self,
        child: &mut tokio::process::Child,
        stdout: &mut tokio::process::ChildStdout,
        errors: tokio::task::JoinHandle<Vec<u8>>,
    ) -> Result<String, ExtractError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let max = self.max_output as u64;
        let mut out = Vec::new();
        let read = tokio::time::timeout_at(deadline, stdout.take(max).read_to_end(&mut out)).await;
        async fn kill(child: &mut tokio::process::Child) {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        match read {
            Err(_) => {
                kill(child).await;
                return Err(ExtractError::Timeout(self.timeout));
            }
            Ok(Err(e)) => {
                kill(child).await;
                return Err(ExtractError::Failed(format!("cannot read the extractor's output: {e}")));
            }
            Ok(Ok(_)) => {}
        }
        if out.len() as u64 >= max {
            // Text past the cap is dropped: stop the child rather than wait.
            kill(child).await;
            let text = String::from_utf8_lossy(&out).into_owned();
            return Ok(truncate_at_char(&text, self.max_output).to_string());
        }
        let status = match tokio::time::timeout_at(deadline, child.wait()).await {
            Ok(status) => status?,
            Err(_) => {
                kill(child).await;
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

    /// Caches a text; returns whether it is now in the cache.
    fn store_cache(&self, sha: &str, text: &str) -> bool {
        let Some(dir) = self.cache_dir.as_ref() else { return false };
        if !arkiv_storage::files::is_sha256(sha) {
            return false;
        }
        match write_atomically(dir, &format!("{sha}.txt"), text.as_bytes()) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(sha, "cannot cache an extracted text: {e}");
                false
            }
        }
    }

    /// The first [`Extractor::max_output`] bytes of a plain-text file of
    /// `size` bytes, read as such (never the whole file), as text.
    async fn plain_text(&self, files: &FileStore, sha: &str, size: u64) -> arkiv_storage::Result<String> {
        let want = size.min(self.max_output as u64);
        if want == 0 {
            return Ok(String::new());
        }
        let bytes = files.get_range(sha, 0..want).await?;
        let bytes = if want < size { without_cut_char(&bytes) } else { &bytes[..] };
        Ok(truncate_at_char(&String::from_utf8_lossy(bytes), self.max_output).to_string())
    }

    /// What is known of one stored file's text without running the
    /// extractor: the cache, or a plain-text file read up to the cap (and
    /// cached), or [`FileText::Pending`] for a PDF still to extract.
    pub async fn file_text_now(&self, files: &FileStore, file: &StoredFile) -> FileText {
        let (Some(sha), Some(kind)) = (file.sha256.as_deref(), kind(file)) else { return FileText::Nothing };
        if let Some(t) = self.cached(sha) {
            return FileText::Text(t);
        }
        let size = match files.size(sha).await {
            Ok(Some(s)) => s,
            Ok(None) => return FileText::Nothing,
            Err(e) => {
                tracing::warn!(sha, "cannot read a file for text extraction: {e}");
                return FileText::Nothing;
            }
        };
        match kind {
            Kind::Pdf if size > MAX_INPUT_BYTES => FileText::Nothing,
            Kind::Pdf => FileText::Pending,
            Kind::Plain => match self.plain_text(files, sha, size).await {
                Ok(t) => {
                    self.store_cache(sha, &t);
                    FileText::Text(t)
                }
                Err(e) => {
                    tracing::warn!(sha, "cannot read a file for text extraction: {e}");
                    FileText::Nothing
                }
            },
        }
    }

    /// Extracts a PDF whose text is not cached, and caches the text (empty
    /// if the extraction failed or timed out). Returns the text and whether
    /// it is now cached; an error when nothing was learnt about the file
    /// (the child did not start, the store could not be read).
    pub async fn extract_to_cache(&self, files: &FileStore, file: &StoredFile) -> Result<(String, bool), ExtractError> {
        let sha = file.sha256.as_deref().unwrap_or_default();
        // Another worker or process may have been first.
        if let Some(t) = self.cached(sha) {
            return Ok((t, true));
        }
        let text = match self.extract_stored_pdf(files, sha).await {
            Ok(t) => t,
            Err(e) if e.blames_the_file() => {
                tracing::warn!(sha, file = %file.filename, "{e}");
                String::new()
            }
            Err(e) => {
                tracing::warn!(sha, file = %file.filename, "{e}");
                return Err(e);
            }
        };
        let cached = self.store_cache(sha, &text);
        Ok((text, cached))
    }

    /// The text of one stored file, from the cache or extracted (waiting
    /// for the child); `None` for files that are neither PDF nor plain
    /// text, are missing, too large, or could not be extracted (logged).
    pub async fn file_text(&self, files: &FileStore, file: &StoredFile) -> Option<String> {
        match self.file_text_now(files, file).await {
            FileText::Text(t) => Some(t),
            FileText::Nothing => None,
            FileText::Pending => self.extract_to_cache(files, file).await.ok().map(|(t, _)| t),
        }
    }

    /// The full text of a record: its public, unembargoed documents' files,
    /// joined, capped at [`MAX_FULL_TEXT_BYTES`]; PDFs are extracted first,
    /// one at a time. `None` when there is none.
    pub async fn record_text(&self, files: &FileStore, record: &Record) -> Option<String> {
        self.record_text_waiting(files, record).await.text
    }

    /// As [`Extractor::record_text`], saying also which PDFs could not be
    /// extracted for a reason that is not the file's own.
    pub async fn record_text_waiting(&self, files: &FileStore, record: &Record) -> RecordText {
        self.gather(files, record, true).await
    }

    /// What is known of a record's full text without running the
    /// extractor: cached texts and plain-text files, and the PDFs it still
    /// lacks. Never waits for a child.
    pub async fn record_text_now(&self, files: &FileStore, record: &Record) -> RecordText {
        self.gather(files, record, false).await
    }

    async fn gather(&self, files: &FileStore, record: &Record, wait: bool) -> RecordText {
        let today = arkiv_model::PartialDate::today();
        let mut text = String::new();
        let mut pending = Vec::new();
        for doc in record.documents.iter().filter(|d| document_is_public(d, today)) {
            let Some(file) = doc.main_file() else { continue };
            let t = match self.file_text_now(files, file).await {
                FileText::Text(t) => t,
                FileText::Nothing => continue,
                FileText::Pending if wait => match self.extract_to_cache(files, file).await {
                    Ok((t, _)) => t,
                    Err(_) => {
                        pending.push(file.clone());
                        continue;
                    }
                },
                FileText::Pending => {
                    pending.push(file.clone());
                    continue;
                }
            };
            if !t.trim().is_empty() {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(&t);
            }
            if text.len() >= MAX_FULL_TEXT_BYTES {
                break;
            }
        }
        let text = truncate_at_char(&text, MAX_FULL_TEXT_BYTES).to_string();
        RecordText { text: (!text.trim().is_empty()).then_some(text), pending }
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

#[cfg(test)]
mod tests {
    use super::without_cut_char;

    #[test]
    fn a_read_cut_inside_a_character_drops_the_piece() {
        let text = "façade 日本 😀".as_bytes();
        for end in 0..=text.len() {
            let kept = without_cut_char(&text[..end]);
            let s = std::str::from_utf8(kept).unwrap_or_else(|e| panic!("cut at {end}: {e}"));
            assert!(text.len() - kept.len() - (text.len() - end) < 4, "cut at {end} lost whole characters");
            assert!(std::str::from_utf8(text).unwrap().starts_with(s));
        }
    }
}
