//! `arkiv user add`: accounts made from the command line, which is how a
//! repository gets its first admin. The password is read from a prompt
//! that does not echo, or from standard input (`--password-stdin`, for
//! scripts); it is never an argument, where `ps` and shell history would
//! show it.

use anyhow::{bail, Result};
use arkiv_model::{EditorScope, Role};
use arkiv_services::accounts::{create_user, NewAccount};
use arkiv_services::Repository;
use std::io::BufRead;
use std::path::Path;
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
