//! Request a copy: a visitor who may not read a document (staff-only,
//! registered users only, embargoed) leaves their address and a note; the
//! depositor or an editor in scope approves or refuses; an approval sends
//! the visitor a download link that works for [`COPY_VALID_DAYS`] days.
//! Every message goes through [`crate::mail`] (the outbox, and SMTP when
//! configured), like resets.

use super::items::WorkflowError;
use super::metadata::FieldProblem;
use super::permissions::in_scope;
use crate::accounts::tokens::{random_token, session_hash};
use crate::rate_limits::{claim_recipient, claim_requester, MailKind, MailRefused};
use crate::Repository;
use arkiv_model::{Document, Record, RecordId, Timestamp, User};
use arkiv_storage::CopyRequest;

pub const COPY_VALID_DAYS: i64 = 7;

type Result<T> = std::result::Result<T, WorkflowError>;

fn store_err(e: impl Into<anyhow::Error>) -> WorkflowError {
    WorkflowError::Store(e.into())
}

fn invalid(field: &str, problem: &str) -> WorkflowError {
    WorkflowError::Invalid(vec![FieldProblem { field: field.into(), problem: problem.into() }])
}

/// The live record and its document `pos`, if the document is one a copy
/// may be asked of (it exists and is not open access).
async fn restricted_document(repo: &Repository, id: RecordId, pos: u32) -> Result<(Record, Document)> {
    let record =
        repo.store.get_record(id).await.map_err(store_err)?.filter(Record::is_live).ok_or(WorkflowError::NotFound)?;
    let doc = record.document(pos).cloned().ok_or(WorkflowError::NotFound)?;
    if doc.is_open_access(repo.today()) {
        return Err(invalid("document", "this document is open to everyone: download it from the item's page"));
    }
    Ok((record, doc))
}

/// Files a visitor's request, made from `address`, and tells the
/// depositor (through the outbox). One address may make only a few
/// requests an hour ([`MailKind::CopyRequest`]); beyond, the request is
/// refused and nothing is kept. A depositor gets only so many of these
/// mails an hour; further requests wait on `/copy-requests` unmailed.
pub async fn request_copy(
    repo: &Repository,
    id: RecordId,
    pos: u32,
    email: &str,
    name: &str,
    message: &str,
    address: &str,
) -> Result<()> {
    let (record, doc) = restricted_document(repo, id, pos).await?;
    // The request is for these bytes: an approval grants them and no
    // others, whatever later takes the document's position.
    let main = doc.main_file();
    let email = email.trim();
    if email.len() > 254
        || !email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        || email.contains(char::is_whitespace)
    {
        return Err(invalid("email", "please give a valid e-mail address: the copy is sent there"));
    }
    let name: String = name.trim().chars().filter(|c| !c.is_control()).take(200).collect();
    if name.is_empty() {
        return Err(invalid("name", "please give your name"));
    }
    let message: String = message.trim().chars().take(2000).collect();
    if let Err(MailRefused::Requester { seconds } | MailRefused::Recipient { seconds }) =
        claim_requester(repo, MailKind::CopyRequest, address).await.map_err(store_err)?
    {
        return Err(WorkflowError::TooMany { seconds });
    }
    let now = repo.now();
    let request = CopyRequest {
        id: 0,
        record_id: id,
        doc_pos: pos,
        file_name: main.map(|f| f.filename.clone()),
        file_sha256: main.and_then(|f| f.sha256.clone()),
        requester_email: email.to_string(),
        requester_name: name.clone(),
        message,
        created: now,
        state: "pending".into(),
        decided_by: None,
        expires: None,
    };
    repo.accounts.add_copy_request(&request).await.map_err(store_err)?;
    let base = repo.base_url();
    let to = match record.userid {
        Some(uid) => repo.accounts.user(uid).await.map_err(store_err)?.map(|u| u.email),
        None => None,
    }
    .unwrap_or_else(|| repo.settings().contact_email.clone());
    if claim_recipient(repo, MailKind::CopyRequest, &to).await.map_err(store_err)?.is_err() {
        return Ok(());
    }
    // What the visitor typed is quoted as theirs, never stated as fact:
    // anyone can type any name and any address into the form.
    let body = format!(
        "A visitor asked for a copy of a restricted document of \"{}\" ({base}/{id}/)\n\
         ({}).\n\n\
         They gave their name as \"{name}\" and their e-mail address as {email}; neither is checked.\n\
         An approval sends a download link to that address.\n\n\
         Approve or refuse it at {base}/copy-requests\n",
        record.title,
        crate::mail::asked_from(address, now),
    );
    outbox(repo, &to, &format!("A request for a copy of \"{}\"", record.title), &body).await
}

async fn outbox(repo: &Repository, to: &str, subject: &str, body: &str) -> Result<()> {
    crate::mail::send(repo, to, subject, body, None).await.map_err(store_err)?;
    Ok(())
}

/// A pending request with what the deciding user needs to see.
#[derive(Debug, Clone)]
pub struct PendingCopy {
    pub request: CopyRequest,
    pub record: Record,
}

/// The pending requests `user` may decide: those about their own records,
/// and, for staff, those about records in their scope. Oldest first.
pub async fn pending_for(repo: &Repository, user: &User, limit: i64) -> Result<Vec<PendingCopy>> {
    let owner = if user.role.is_staff() { None } else { Some(user.id) };
    let requests = repo.accounts.pending_copy_requests(owner, limit).await.map_err(store_err)?;
    let ids: Vec<RecordId> = requests.iter().map(|r| r.record_id).collect();
    let records = repo.store.get_records(&ids).await.map_err(store_err)?;
    Ok(requests
        .into_iter()
        .filter_map(|request| {
            let record = records.iter().find(|r| r.id == Some(request.record_id))?.clone();
            let allowed = record.userid == Some(user.id) || in_scope(user, &record);
            allowed.then_some(PendingCopy { request, record })
        })
        .collect())
}

/// Approves or refuses a request; the requester is told either way.
pub async fn decide(repo: &Repository, user: &User, request_id: i64, approve: bool) -> Result<()> {
    let request = repo.accounts.copy_request(request_id).await.map_err(store_err)?.ok_or(WorkflowError::NotFound)?;
    let record = repo.store.get_record(request.record_id).await.map_err(store_err)?.ok_or(WorkflowError::NotFound)?;
    if !(record.userid == Some(user.id) || in_scope(user, &record)) {
        return Err(WorkflowError::NotFound);
    }
    let now = Timestamp::now();
    let token = approve.then(random_token);
    let expires = approve.then_some(Timestamp(now.0 + COPY_VALID_DAYS * 86_400));
    let hash = token.as_deref().map(session_hash);
    if !repo
        .accounts
        .decide_copy_request(request_id, approve, user.id, now, hash.as_deref(), expires)
        .await
        .map_err(store_err)?
    {
        return Err(invalid("request", "this request has been decided already"));
    }
    let base = repo.base_url();
    let (subject, body) = match token {
        Some(token) => (
            format!("Your copy of \"{}\"", record.title),
            format!(
                "Dear {},\n\nyour request for a copy of \"{}\" has been approved. Download it within {COPY_VALID_DAYS} days at:\n\n{base}/copy/{token}\n",
                request.requester_name, record.title
            ),
        ),
        None => (
            format!("Your request for a copy of \"{}\"", record.title),
            format!("Dear {},\n\nyour request for a copy of \"{}\" could not be granted.\n", request.requester_name, record.title),
        ),
    };
    outbox(repo, &request.requester_email, &subject, &body).await
}

/// What an approved download link gives.
#[derive(Debug)]
pub enum CopyGrant {
    /// The document whose main file is the one approved.
    File(Box<Document>),
    /// The link is valid but the file it was approved for is gone: the
    /// record was withdrawn, or the document removed or its file replaced
    /// (perhaps by another, restricted one at the same position).
    NoLongerAvailable,
}

/// What an approved download link gives while it is valid; `NotFound`
/// otherwise. The link serves the file the request named (by name and
/// SHA-256) and nothing else.
pub async fn by_token(repo: &Repository, token: &str) -> Result<CopyGrant> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WorkflowError::NotFound);
    }
    let request = repo
        .accounts
        .copy_by_token(&session_hash(token), Timestamp::now())
        .await
        .map_err(store_err)?
        .ok_or(WorkflowError::NotFound)?;
    let Some(record) = repo.store.get_record(request.record_id).await.map_err(store_err)?.filter(Record::is_live)
    else {
        return Ok(CopyGrant::NoLongerAvailable);
    };
    let Some(doc) = record.document(request.doc_pos).cloned() else {
        return Ok(CopyGrant::NoLongerAvailable);
    };
    let granted = |f: &arkiv_model::StoredFile| {
        request.file_sha256.is_some()
            && f.sha256 == request.file_sha256
            && Some(f.filename.as_str()) == request.file_name.as_deref()
    };
    if !doc.main_file().is_some_and(granted) {
        return Ok(CopyGrant::NoLongerAvailable);
    }
    Ok(CopyGrant::File(Box::new(doc)))
}
