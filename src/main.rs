//! The `arkiv` command: one binary that creates, fills, checks, exports and
//! serves a repository. This file only parses the command line; each
//! command's work is in `commands/`, over the services crate.

mod commands;

/// mimalloc instead of the C library's allocator: serving a page or an
/// OAI-PMH list is mostly short-lived strings (decoded records, escaped
/// XML, rendered templates), and glibc's malloc and free were a fifth of
/// the server's time in profiles, more under concurrency.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use arkiv_services::import::Rerun;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "arkiv", version, about = "Arkiv: an open-access repository server in one binary")]
struct Cli {
    /// The repository directory (the one holding arkiv.toml).
    #[arg(long, global = true, env = "ARKIV_REPO", default_value = ".")]
    repo: PathBuf,
    /// How log lines are written to stderr: text for people, json (one
    /// object a line, with the request id of each request's line) for a
    /// log collector. What is logged: ARKIV_LOG (default warn,arkiv=info).
    #[arg(long, global = true, env = "ARKIV_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create a repository: configuration, database and file store.
    Init {
        dir: PathBuf,
        /// The repository's name.
        #[arg(long)]
        name: Option<String>,
        /// Public address, e.g. https://papers.example.org
        #[arg(long)]
        base_url: Option<String>,
        /// Database URL: sqlite://FILE (relative to DIR) or postgres://...
        #[arg(long)]
        database: Option<String>,
    },
    /// Load records from an export.
    ///
    /// Each batch commits with a note of how far into its file the import
    /// got; a file is known by the SHA-256 of its bytes, whatever its name.
    /// A file that an earlier import gave new ids (records without an id in
    /// the file) is refused, since its records would be added twice: if
    /// that import did not finish (killed, or stopped by an error), run
    /// again with --resume to import the rest, or --again to import the
    /// whole file anew; if it finished, only --again goes on. A file whose
    /// records all carry ids is never refused: run again, they are rejected
    /// as existing, or with --update become new revisions.
    ///
    /// Exit status: 0 when every record landed, 2 when some were rejected,
    /// 4 when the import was refused (nothing was written), 1 on an error.
    Import {
        #[arg(value_enum)]
        format: ImportFormat,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Replace records whose id already exists (each becomes a new
        /// revision); without it they are rejected.
        #[arg(long)]
        update: bool,
        /// Take up an import that did not finish: skip the records of each
        /// file that it committed, import the rest, and say how many were
        /// skipped.
        #[arg(long, conflicts_with = "again")]
        resume: bool,
        /// Import each file whole, as a new import, even if an earlier
        /// import of it began or finished (records without ids are then
        /// added again, under new ids).
        #[arg(long)]
        again: bool,
        /// Fetch the files the export references by http(s) URL (each within
        /// [import] max_file_bytes, checked against the size and MD5 the
        /// export gives); without it their metadata is kept and their bytes
        /// are not. A file that cannot be fetched is reported, and its
        /// record imported without its bytes.
        #[arg(long)]
        fetch_files: bool,
        /// Seconds one fetch may take, from connecting to the last byte.
        #[arg(long, default_value_t = 60, requires = "fetch_files")]
        fetch_timeout: u64,
        /// Further attempts at a fetch that failed in a way that may pass
        /// (a timeout, a broken connection, a 5xx answer).
        #[arg(long, default_value_t = 2, requires = "fetch_files")]
        fetch_retries: u32,
        /// For `subjects`: the node whose subtree is the subject tree (the
        /// subtree of `divisions` is always the division tree).
        #[arg(long, default_value = "subjects")]
        subjects_root: String,
        /// EPrints phrase files (cfg/lang/en/phrases/*.xml, repeatable):
        /// an item type the import takes is named as its
        /// `eprint_typename_...` phrase says, not by its id.
        #[arg(long = "phrases", value_name = "FILE")]
        phrases: Vec<PathBuf>,
        /// For `history`: the directory of EPrints' revision files (the
        /// archive's `documents`, or a directory of EPRINTID/N.xml).
        #[arg(long, value_name = "DIR")]
        revisions: Option<PathBuf>,
        /// For `users`: a dump of EPrints' user table with the password
        /// hashes (what `mysqldump eprints user` writes, or a CSV whose header
        /// names userid and password), which the XML export never carries.
        #[arg(long)]
        passwords: Option<PathBuf>,
    },
    /// Harvest another repository over OAI-PMH: its records become live
    /// records here, kept current by later runs (only what changed since
    /// the last complete run is asked for; deletions withdraw; a record
    /// edited here is not overwritten, the newer version waits in
    /// /admin/harvests). Without URL, runs every [[harvest.sources]] of
    /// arkiv.toml (or the one --name names).
    ///
    /// Exit status: 0 when the run reached the end of the source's list and
    /// every record landed, 2 when some records were refused, 3 when the run
    /// stopped early (the reason is printed), 1 on an error here.
    Harvest {
        /// The source's OAI-PMH base URL.
        url: Option<String>,
        /// Harvest only this set.
        #[arg(long)]
        set: Option<String>,
        /// The metadata format asked for: oai_dc, datacite or ep3 (EPrints XML).
        #[arg(long, default_value = "oai_dc")]
        prefix: String,
        /// The name the harvest's progress is kept under (default: the URL,
        /// with the set and prefix); with no URL, the configured source to run.
        #[arg(long)]
        name: Option<String>,
        /// Ask for every record, not only those changed since the last run.
        #[arg(long)]
        full: bool,
    },
    /// Write records out, streamed, to standard output or a file.
    ///
    /// eprints-xml, json and jsonl are full dumps: every record, whatever
    /// its status, unless --status narrows it. Every other format is a
    /// public export: live records only unless --status says otherwise, and
    /// never restricted or embargoed files nor e-mail addresses.
    ///
    /// A MODS collection must hold at least one record: with none to export,
    /// mods writes nothing (no OUTPUT file is created), says "no records to
    /// export" and exits with status 3. Every other format writes its empty
    /// form (an empty XML root, [], a CSV header) and exits with 0.
    Export {
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(commands::export_format_names()))]
        format: String,
        /// Only records in this status: live (= archive), inbox, buffer or
        /// deletion. Default: every status for the dumps, live for the rest.
        #[arg(long)]
        status: Option<String>,
        /// Copy file bytes into OUTPUT.files/ beside the export (EPrints
        /// XML), so that it re-imports with its documents anywhere.
        #[arg(long)]
        with_files: bool,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Make realistic synthetic records, deterministic for a seed.
    Generate {
        #[arg(long, default_value_t = 1000)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Give each record a small PDF.
        #[arg(long)]
        pdfs: bool,
        /// Write EPrints XML here (with the PDFs beside it) instead of
        /// importing into the repository.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check every record against the model and every file against its SHA-256.
    Fsck,
    /// Copy the whole repository into OUT while it serves: every table of
    /// the database as one consistent snapshot, the settings and template
    /// overrides, and the files (a second backup into the same OUT copies
    /// only files it does not hold yet).
    Backup { out: PathBuf },
    /// Build a new repository in --to from a backup, checking every
    /// checksum first. With --database postgres://..., on PostgreSQL: how a
    /// repository moves from SQLite to PostgreSQL.
    Restore {
        backup: PathBuf,
        /// The new repository's directory (missing or empty).
        #[arg(long)]
        to: PathBuf,
        /// The database to restore into (empty; default: the backup's own
        /// setting, a SQLite file in --to).
        #[arg(long)]
        database: Option<String>,
        /// Where the restored repository keeps its file bytes: a directory
        /// or s3://BUCKET/PREFIX (default: the backup's own setting).
        #[arg(long)]
        files: Option<String>,
    },
    /// Purge files removed from drafts that never went live (after
    /// `[files] purge_after_days`) and delete stored bytes that no record
    /// names (after `[files] gc_grace_hours`). The server does it once a day.
    Gc {
        /// Report what would go, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Lift the embargoes that have ended (the server does it hourly; this
    /// is for cron, or to see it done now).
    LiftEmbargoes,
    /// Rebuild the search index from the database; the current index keeps
    /// serving until the new one is complete.
    Reindex,
    /// Serve the repository over HTTP.
    Serve {
        /// Address to listen on (default: the configuration's server.listen).
        #[arg(long)]
        listen: Option<String>,
        /// With several nodes over one PostgreSQL database: record this
        /// node's settings as the ones every node must share (after
        /// changing them on purpose), instead of refusing to start because
        /// they differ from the other nodes'.
        #[arg(long)]
        take_settings: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Usage statistics: import access logs, roll up now.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Create (if absent) and serve a demo repository with the seed record
    /// and generated records.
    Demo {
        #[arg(long, default_value = "arkiv-demo")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Generated records besides the seed.
        #[arg(long, default_value_t = 2000)]
        count: u64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account (the first admin: `arkiv user add EMAIL --name NAME --role admin`).
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// admin, editor or depositor.
        #[arg(long, default_value = "depositor")]
        role: String,
        #[arg(long)]
        orcid: Option<String>,
        /// Read the password from the first line of standard input instead
        /// of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a personal API token for an account (as its user would on
    /// /profile) and print it: it is shown only this once.
    Token {
        email: String,
        /// What the token is for ("CRIS sync").
        #[arg(long)]
        name: String,
        /// Scopes, comma-separated: read, deposit, edit, admin (no more
        /// than the account's role allows).
        #[arg(long, default_value = "read")]
        scopes: String,
        /// Days until it expires (1 to 366).
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Count the views and downloads in web server access logs (Apache or
    /// nginx combined format, plain or gzip) of EPrints' addresses and
    /// Arkiv's, as the server counts; a log imported before counts nothing
    /// again. Exits with 2 if a line was malformed (the rest is counted).
    ImportLog {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Count the views and downloads of an export of EPrints' access table
    /// (`bin/export REPO access XML`, or the table as CSV or `mysql -B`
    /// text with a header row), as the server counts; records keep their
    /// EPrints ids, documents are found by their EPrints ids. A file
    /// imported before counts nothing again. Exits with 2 if a row was
    /// malformed (the rest is counted).
    ImportAccess {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Count the events waiting now (the server does it every five minutes).
    RollUp,
    /// Add a client of the COUNTER_SUSHI API (as an admin does on /admin)
    /// and print its requestor ID and API key.
    SushiClient {
        /// Who harvests: an institution, an aggregator.
        name: String,
        /// The client's customer ID (default: The World's, 0000000000000000).
        #[arg(long, default_value = "")]
        customer_id: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportFormat {
    EprintsXml,
    /// RIS, as EndNote, Zotero and Mendeley export it: each record (TY to
    /// ER) by the tags each reference type gives its fields; L1 links are
    /// the files (fetched with --fetch-files).
    Ris,
    /// BibTeX or BibLaTeX (.bib): each entry by its type and fields;
    /// @string abbreviations applied; LaTeX accents read as Unicode.
    Bibtex,
    /// CSL-JSON (one array, or one item per line), as Zotero, Mendeley
    /// and pandoc write it.
    Csljson,
    /// Crossref REST API works (`api.crossref.org/works/...`): one work, a
    /// list answer (`message.items`), an array or JSON Lines.
    Crossref,
    /// DataCite REST API JSON (`api.datacite.org/dois/...`): one DOI, a
    /// list answer (`data`), an array or JSON Lines.
    Datacite,
    /// EPrints' history dataset (XML export): with --revisions DIR (the
    /// archive's documents directory, where EPrints keeps each revision's
    /// state), every revision an imported eprint had becomes an earlier
    /// revision of its record.
    History,
    /// EPrints' subjects file (cfg/subjects) or subject-dataset XML: the
    /// subtree below --subjects-root becomes the subject tree, the one
    /// below `divisions` the division tree.
    Subjects,
    /// The XML export of EPrints' users, with --passwords for their hashes:
    /// accounts that log in with their EPrints password (by address or
    /// username) and keep their items.
    Users,
}

fn main() -> std::process::ExitCode {
    // The server runs this binary again as the isolated PDF-text child.
    arkiv_search::extract::run_child_if_requested();
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ARKIV_LOG").unwrap_or_else(|_| "warn,arkiv=info".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Init { dir, name, base_url, database } => commands::init(&dir, name, base_url, database).await,
            Command::Import { format: ImportFormat::Subjects, files, subjects_root, .. } => {
                commands::import_subjects(&cli.repo, &files, &subjects_root).await
            }
            Command::Import { format: ImportFormat::History, files, revisions, .. } => {
                commands::import_history(&cli.repo, &files, revisions.as_deref()).await
            }
            Command::Import { format: ImportFormat::Users, files, passwords, .. } => {
                commands::import_users(&cli.repo, &files, passwords.as_deref()).await
            }
            Command::Import {
                format:
                    format @ (ImportFormat::EprintsXml
                    | ImportFormat::Ris
                    | ImportFormat::Bibtex
                    | ImportFormat::Csljson
                    | ImportFormat::Crossref
                    | ImportFormat::Datacite),
                files,
                update,
                resume,
                again,
                fetch_files,
                fetch_timeout,
                fetch_retries,
                subjects_root: _,
                phrases,
                revisions: _,
                passwords: _,
            } => {
                let rerun = match (resume, again) {
                    (true, _) => Rerun::Resume,
                    (_, true) => Rerun::Again,
                    _ => Rerun::Refuse,
                };
                let fetch = fetch_files.then(|| arkiv_services::fetch::FetchOptions {
                    timeout: std::time::Duration::from_secs(fetch_timeout.max(1)),
                    retries: fetch_retries,
                    ..Default::default()
                });
                use arkiv_services::import::RecordFormat;
                let format = match format {
                    ImportFormat::Ris => RecordFormat::Ris,
                    ImportFormat::Bibtex => RecordFormat::Bibtex,
                    ImportFormat::Csljson => RecordFormat::CslJson,
                    ImportFormat::Crossref => RecordFormat::Crossref,
                    ImportFormat::Datacite => RecordFormat::DataciteJson,
                    _ => RecordFormat::EprintsXml,
                };
                commands::import(&cli.repo, format, &files, update, rerun, fetch, &phrases).await
            }
            Command::Harvest { url, set, prefix, name, full } => {
                commands::harvest(&cli.repo, url, set, &prefix, name, full).await
            }
            Command::Export { format, status, with_files, output } => {
                commands::export(&cli.repo, &format, status.as_deref(), with_files, output.as_deref()).await
            }
            Command::Generate { count, seed, pdfs, output } => {
                commands::generate(&cli.repo, count, seed, pdfs, output.as_deref()).await
            }
            Command::Fsck => commands::fsck(&cli.repo).await,
            Command::Backup { out } => commands::backup(&cli.repo, &out).await,
            Command::Restore { backup, to, database, files } => {
                commands::restore(&backup, &to, database.as_deref(), files.as_deref()).await
            }
            Command::Gc { dry_run } => commands::gc(&cli.repo, dry_run).await,
            Command::LiftEmbargoes => commands::lift_embargoes(&cli.repo).await,
            Command::Reindex => commands::reindex(&cli.repo).await,
            Command::Serve { listen, take_settings } => commands::serve(&cli.repo, listen, take_settings).await,
            Command::User(UserCommand::Add { email, name, role, orcid, password_stdin }) => {
                commands::user_add(&cli.repo, &email, &name, &role, orcid, password_stdin).await
            }
            Command::User(UserCommand::Token { email, name, scopes, days }) => {
                commands::user_token(&cli.repo, &email, &name, &scopes, days).await
            }
            Command::Demo { dir, listen, count } => commands::demo(&dir, &listen, count).await,
            Command::Stats(StatsCommand::ImportLog { files }) => {
                commands::import_usage_history(&cli.repo, commands::HistorySource::Log, &files).await
            }
            Command::Stats(StatsCommand::ImportAccess { files }) => {
                commands::import_usage_history(&cli.repo, commands::HistorySource::EprintsAccess, &files).await
            }
            Command::Stats(StatsCommand::RollUp) => commands::roll_up(&cli.repo).await,
            Command::Stats(StatsCommand::SushiClient { name, customer_id }) => {
                commands::add_sushi_client(&cli.repo, &name, &customer_id).await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `arkiv export | head` closes the pipe early; that is the reader's choice,
/// not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
