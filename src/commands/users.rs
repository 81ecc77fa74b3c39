//! `arkiv user add` and `arkiv user token`: accounts and API tokens made from the command line, which is how a
//! repository gets its first admin. The password is read from a prompt
//! that does not echo, or from standard input (`--password-stdin`, for
//! scripts); it is never an argument, where `ps` and shell history would
//! show it. And `arkiv import users`: EPrints' users, with their password
//! hashes from a dump of its user table.

use anyhow::{bail, Result};
use arkiv_model::{EditorScope, Role};
use arkiv_services::accounts::{create_user, NewAccount};
use arkiv_services::Repository;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub async fn user_add(
    repo_dir: &Path,
    email: &str,
    name: &str,
    role: &str,
    orcid: Option<String>,
    password_stdin: bool,
) -> Result<ExitCode> {
    let Some(role) = Role::parse(role) else { bail!("unknown role {role:?}: use admin, editor or depositor") };
    let repo = Repository::open(repo_dir).await?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        let first = rpassword::prompt_password(format!("Password for {email}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ; nothing was created");
        }
        first
    };
    let new = NewAccount {
        email: email.to_string(),
        name: name.to_string(),
        password,
        role,
        scope: EditorScope::default(),
        orcid,
    };
    let user = create_user(repo.accounts.as_ref(), new).await?;
    println!("created user {} <{}> ({})", user.id, user.email, user.role.as_str());
    Ok(ExitCode::SUCCESS)
}

/// `arkiv user token EMAIL`: a personal API token for an account, made as
/// its user makes one on `/profile` (the same scopes' rules), printed once:
/// for an operator setting up a system that deposits (a CRIS, a router).
pub async fn user_token(repo_dir: &Path, email: &str, name: &str, scopes: &str, days: i64) -> Result<ExitCode> {
    use arkiv_services::accounts::api_tokens::{create_token, Scope};
    let repo = Repository::open(repo_dir).await?;
    let Some(user) = repo.accounts.user_by_email(email).await? else { bail!("no account has the address {email}") };
    let mut wanted = Vec::new();
    for word in scopes.split([',', ' ']).filter(|w| !w.is_empty()) {
        let Some(scope) = Scope::parse(word) else { bail!("unknown scope {word:?}: use read, deposit, edit or admin") };
        wanted.push(scope);
    }
    match create_token(repo.accounts.as_ref(), &user, name, &wanted, days).await {
        Ok((token, info)) => {
            eprintln!("token {} for {} ({}), expires {}:", info.id, user.email, scopes, info.expires.date());
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Err(arkiv_services::accounts::api_tokens::NewTokenError::Store(e)) => Err(e.into()),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// The largest users export or password dump read: far more than the
/// users of any repository take (about 1 KiB each).
const MAX_USERS_FILE_BYTES: u64 = 256 << 20;

fn read_bounded(path: &Path, what: &str) -> Result<Vec<u8>> {
    use anyhow::Context;
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    anyhow::ensure!(
        size <= MAX_USERS_FILE_BYTES,
        "{} is {size} bytes, more than {what} takes ({MAX_USERS_FILE_BYTES})",
        path.display()
    );
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// `arkiv import users USERS.xml [--passwords DUMP]`.
pub async fn import_users(repo_dir: &Path, files: &[PathBuf], passwords: Option<&Path>) -> Result<ExitCode> {
    use arkiv_formats::eprints::users::{read_password_dump, read_users_xml};
    use arkiv_services::users_import::import_users;
    let repo = Repository::open(repo_dir).await?;
    let dump = match passwords {
        Some(path) => {
            let bytes = read_bounded(path, "a user table takes")?;
            Some(read_password_dump(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let mut failed = false;
    for file in files {
        let bytes = read_bounded(file, "a users export takes")?;
        let users = read_users_xml(&bytes);
        if users.is_empty() {
            bail!("{} holds no <user> element: is it EPrints' XML export of its users?", file.display());
        }
        let report = import_users(&repo, users, dump.clone()).await?;
        let (f, d) = (file.display(), passwords.map(|p| p.display().to_string()).unwrap_or_default());
        for (line, why) in &report.dump_rejected {
            println!("rejected: {d}, line {line}: {why}");
        }
        for (line, why) in &report.rejected {
            println!("rejected: {f}, line {line}: {why}");
        }
        for (line, why) in &report.bad_hashes {
            println!("error: {f}, line {line}: {why}");
        }
        for (line, what) in &report.warnings {
            println!("warning: {f}, line {line}: {what}");
        }
        if !report.without_password.is_empty() {
            println!(
                "without a password (their first login attempt mails them a reset link, or they ask for one): {}",
                report.without_password.join(", ")
            );
        }
        if dump.is_none() && report.imported > 0 {
            println!("no --passwords dump: EPrints' XML export carries no passwords, so none came along.");
        }
        println!(
            "{} users imported ({} with their EPrints password), {} imported before, {} rejected; {} records \
             given their depositor.",
            report.imported,
            report.with_password,
            report.already,
            report.rejected.len(),
            report.depositors_given
        );
        failed |= report.has_errors();
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
