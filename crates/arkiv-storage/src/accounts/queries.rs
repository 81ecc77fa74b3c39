//! The account seams ([`Users`], [`Sessions`], [`ApiTokens`], [`RateLimits`],
//! [`Outbox`], [`CopyRequests`]), implemented once for every [`Backend`]:
//! writes go through the backend's writer (SQLite's one writing
//! connection, like every other write; a pooled connection on PostgreSQL,
//! where none of them needs the records' write lock), reads through its
//! pool.

use super::*;
use crate::sql::{Backend, Bind, Sql, SqlRow};
use arkiv_model::account::{email_key, unlisted_email_key, username_key};

const USER_COLUMNS: &str = "id, email, name, password_hash, role, scope, orcid, created, disabled, verified, username";
const SESSION_COLUMNS: &str = "id_hash, user_id, created, last_seen, expires, csrf_secret";
const API_TOKEN_COLUMNS: &str = "id, user_id, name, token_hash, scopes, created, expires, last_used, revoked";
const OUTBOX_COLUMNS: &str = "id, to_addr, subject, body, created, sent";
const COPY_COLUMNS: &str =
    "id, record_id, doc_pos, requester_email, requester_name, message, created, state, decided_by, expires, file_name, file_sha256";

fn scope_json(scope: &EditorScope) -> String {
    serde_json::to_string(scope).expect("a scope serializes")
}

/// Reads a stored scope; an unreadable one limits the editor to nothing
/// rather than to everything.
fn parse_scope(json: &str) -> EditorScope {
    serde_json::from_str(json).unwrap_or_else(|_| EditorScope { types: vec![String::new()], ..Default::default() })
}

/// Reads a stored role; an unknown one is the least powerful.
fn parse_role(s: &str) -> Role {
    Role::parse(s).unwrap_or(Role::Depositor)
}

/// Whether a database error is a unique-key violation (the address is taken).
fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
}

/// A user from a row of [`USER_COLUMNS`].
fn user_of(row: &impl SqlRow) -> User {
    User {
        id: row.int(0),
        email: row.text(1).to_string(),
        name: row.text(2).to_string(),
        password_hash: row.text(3).to_string(),
        role: parse_role(row.text(4)),
        scope: parse_scope(row.text(5)),
        orcid: row.opt_text(6).map(str::to_string),
        created: Timestamp(row.int(7)),
        disabled: row.flag(8),
        verified: row.flag(9),
        username: row.opt_text(10).map(str::to_string),
    }
}

/// A session from a row of [`SESSION_COLUMNS`].
fn session_of(row: &impl SqlRow) -> SessionRow {
    SessionRow {
        id_hash: row.text(0).to_string(),
        user_id: row.int(1),
        created: Timestamp(row.int(2)),
        last_seen: Timestamp(row.int(3)),
        expires: Timestamp(row.int(4)),
        csrf_secret: row.text(5).to_string(),
    }
}

/// A token from a row of [`API_TOKEN_COLUMNS`].
fn api_token_of(row: &impl SqlRow) -> ApiTokenRow {
    ApiTokenRow {
        id: row.int(0),
        user_id: row.int(1),
        name: row.text(2).to_string(),
        token_hash: row.text(3).to_string(),
        scopes: row.text(4).to_string(),
        created: Timestamp(row.int(5)),
        expires: Timestamp(row.int(6)),
        last_used: row.opt_int(7).map(Timestamp),
        revoked: row.opt_int(8).map(Timestamp),
    }
}

/// A message from a row of [`OUTBOX_COLUMNS`].
fn message_of(row: &impl SqlRow) -> OutboxMessage {
    OutboxMessage {
        id: row.int(0),
        to: row.text(1).to_string(),
        subject: row.text(2).to_string(),
        body: row.text(3).to_string(),
        created: Timestamp(row.int(4)),
        sent: row.opt_int(5).map(Timestamp),
    }
}

/// A copy request from a row of [`COPY_COLUMNS`].
fn copy_request_of(row: &impl SqlRow) -> CopyRequest {
    CopyRequest {
        id: row.int(0),
        record_id: row.int(1),
        doc_pos: u32::try_from(row.int(2)).unwrap_or(0),
        requester_email: row.text(3).to_string(),
        requester_name: row.text(4).to_string(),
        message: row.text(5).to_string(),
        created: Timestamp(row.int(6)),
        state: row.text(7).to_string(),
        decided_by: row.opt_int(8),
        expires: row.opt_int(9).map(Timestamp),
        file_name: row.opt_text(10).map(str::to_string),
        file_sha256: row.opt_text(11).map(str::to_string),
    }
}

/// Runs a statement on the backend's writer; returns the rows it changed.
async fn write<B: Backend>(store: &B, sql: &str, binds: &[Bind<'_>]) -> Result<u64> {
    store.writer().await?.run(sql, binds).await
}

/// The id a `... RETURNING id` statement gives, run on the writer.
async fn insert_returning_id<B: Backend>(store: &B, sql: &str, binds: &[Bind<'_>]) -> Result<i64> {
    let row = store.writer().await?.row(sql, binds).await?;
    Ok(row.map(|r| r.int(0)).expect("INSERT ... RETURNING gives a row"))
}

#[async_trait]
impl<B: Backend> Users for B {
    async fn create_user(&self, user: &NewUser) -> Result<Option<User>> {
        let sql = format!(
            "INSERT INTO users (email, email_key, name, password_hash, role, scope, orcid, created, disabled, verified, \
             username, username_key, eprints_userid) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, $10, $11, $12) RETURNING {USER_COLUMNS}"
        );
        let key = match (user.address_login, user.eprints_userid) {
            (false, Some(eprints_userid)) => unlisted_email_key(eprints_userid),
            _ => email_key(&user.email),
        };
        let scope = scope_json(&user.scope);
        let username = user.username.as_deref().map(str::trim);
        let username_key = username.map(username_key);
        let inserted = self
            .writer()
            .await?
            .row(
                &sql,
                &[
                    Bind::Text(user.email.trim()),
                    Bind::Text(&key),
                    Bind::Text(&user.name),
                    Bind::Text(&user.password_hash),
                    Bind::Text(user.role.as_str()),
                    Bind::Text(&scope),
                    Bind::OptText(user.orcid.as_deref()),
                    Bind::Int(Timestamp::now().0),
                    Bind::Bool(user.verified),
                    Bind::OptText(username),
                    Bind::OptText(username_key.as_deref()),
                    Bind::OptInt(user.eprints_userid),
                ],
            )
            .await;
        match inserted {
            Ok(row) => Ok(row.as_ref().map(user_of)),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Int(id)]).await?.as_ref().map(user_of))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Text(&email_key(email))]).await?.as_ref().map(user_of))
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Text(&username_key(username))]).await?.as_ref().map(user_of))
    }

    async fn eprints_users(&self) -> Result<std::collections::HashMap<i64, UserId>> {
        let rows = self
            .reader()
            .await?
            .rows("SELECT eprints_userid, id FROM users WHERE eprints_userid IS NOT NULL", &[])
            .await?;
        Ok(rows.iter().map(|r| (r.int(0), r.int(1))).collect())
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        write(
            self,
            "UPDATE users SET name = $1, password_hash = $2, role = $3, scope = $4, orcid = $5, disabled = $6, \
             verified = $7 WHERE id = $8",
            &[
                Bind::Text(&user.name),
                Bind::Text(&user.password_hash),
                Bind::Text(user.role.as_str()),
                Bind::Text(&scope_json(&user.scope)),
                Bind::OptText(user.orcid.as_deref()),
                Bind::Bool(user.disabled),
                Bind::Bool(user.verified),
                Bind::Int(user.id),
            ],
        )
        .await?;
        Ok(())
    }

    async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        Ok(self.reader().await?.rows(&sql, &[]).await?.iter().map(user_of).collect())
    }

    async fn create_reset(&self, token_hash: &str, user: UserId, created: Timestamp, expires: Timestamp) -> Result<()> {
        write(
            self,
            "INSERT INTO password_resets (token_hash, user_id, created, expires) VALUES ($1, $2, $3, $4)",
            &[Bind::Text(token_hash), Bind::Int(user), Bind::Int(created.0), Bind::Int(expires.0)],
        )
        .await?;
        Ok(())
    }

    async fn take_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>> {
        let mut conn = self.writer().await?;
        // Deleted as it is read: two uses of one token cannot both win.
        let row = conn
            .row(
                "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires",
                &[Bind::Text(token_hash)],
            )
            .await?;
        let Some((user, expires)) = row.map(|r| (r.int(0), r.int(1))) else { return Ok(None) };
        conn.run("DELETE FROM password_resets WHERE user_id = $1", &[Bind::Int(user)]).await?;
        Ok((expires > now.0).then_some(user))
    }

    async fn create_confirmation(
        &self,
        token_hash: &str,
        user: UserId,
        created: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        write(
            self,
            "INSERT INTO address_confirmations (token_hash, user_id, created, expires) VALUES ($1, $2, $3, $4)",
            &[Bind::Text(token_hash), Bind::Int(user), Bind::Int(created.0), Bind::Int(expires.0)],
        )
        .await?;
        Ok(())
    }

    async fn confirmation_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>> {
        let row = self
            .reader()
            .await?
            .row(
                "SELECT user_id FROM address_confirmations WHERE token_hash = $1 AND expires > $2",
                &[Bind::Text(token_hash), Bind::Int(now.0)],
            )
            .await?;
        Ok(row.map(|r| r.int(0)))
    }

    async fn take_confirmation(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>> {
        let mut conn = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // Deleted as it is read: two uses of one token cannot both win.
        let row = tx
            .row(
                "DELETE FROM address_confirmations WHERE token_hash = $1 RETURNING user_id, expires",
                &[Bind::Text(token_hash)],
            )
            .await?;
        let Some((user, expires)) = row.map(|r| (r.int(0), r.int(1))) else { return Ok(None) };
        if expires <= now.0 {
            tx.commit().await?;
            return Ok(None);
        }
        tx.run("DELETE FROM address_confirmations WHERE user_id = $1", &[Bind::Int(user)]).await?;
        tx.run("UPDATE users SET verified = TRUE WHERE id = $1", &[Bind::Int(user)]).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn last_confirmation(&self, user: UserId) -> Result<Option<Timestamp>> {
        let row = self
            .reader()
            .await?
            .row("SELECT MAX(created) FROM address_confirmations WHERE user_id = $1", &[Bind::Int(user)])
            .await?;
        Ok(row.and_then(|r| r.opt_int(0)).map(Timestamp))
    }
}

#[async_trait]
impl<B: Backend> Sessions for B {
    async fn create_session(&self, s: &SessionRow) -> Result<()> {
        let sql = format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        write(
            self,
            &sql,
            &[
                Bind::Text(&s.id_hash),
                Bind::Int(s.user_id),
                Bind::Int(s.created.0),
                Bind::Int(s.last_seen.0),
                Bind::Int(s.expires.0),
                Bind::Text(&s.csrf_secret),
            ],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Text(id_hash)]).await?.as_ref().map(session_of))
    }

    async fn touch_session(&self, id_hash: &str, last_seen: Timestamp, expires: Timestamp) -> Result<()> {
        write(
            self,
            "UPDATE sessions SET last_seen = $1, expires = $2 WHERE id_hash = $3",
            &[Bind::Int(last_seen.0), Bind::Int(expires.0), Bind::Text(id_hash)],
        )
        .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        write(self, "DELETE FROM sessions WHERE id_hash = $1", &[Bind::Text(id_hash)]).await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        write(self, "DELETE FROM sessions WHERE user_id = $1", &[Bind::Int(user)]).await
    }

    async fn purge_sessions(&self, now: Timestamp) -> Result<u64> {
        write(self, "DELETE FROM sessions WHERE expires < $1", &[Bind::Int(now.0)]).await
    }
}

/// The waits of a policy as one SQL `CASE` over the new attempt count
/// `attempts` (an SQL expression), so that the claim computes the next
/// permitted time in the same statement that counts the attempt. The
/// numbers are the policy's own integers, never user input.
fn wait_case(policy: &RatePolicy, attempts: &str) -> String {
    let mut sql = format!("CASE WHEN {attempts} < {} THEN 0", policy.free);
    let mut attempt = policy.free;
    loop {
        let wait = policy.wait_after(attempt);
        if wait >= policy.max_wait || attempt - policy.free > 64 {
            break;
        }
        sql.push_str(&format!(" WHEN {attempts} = {attempt} THEN {wait}"));
        attempt += 1;
    }
    sql.push_str(&format!(" ELSE {} END", policy.max_wait));
    sql
}

#[async_trait]
impl<B: Backend> ApiTokens for B {
    async fn create_api_token(&self, t: &ApiTokenRow) -> Result<i64> {
        insert_returning_id(
            self,
            "INSERT INTO api_tokens (user_id, name, token_hash, scopes, created, expires) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                Bind::Int(t.user_id),
                Bind::Text(&t.name),
                Bind::Text(&t.token_hash),
                Bind::Text(&t.scopes),
                Bind::Int(t.created.0),
                Bind::Int(t.expires.0),
            ],
        )
        .await
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Text(token_hash)]).await?.as_ref().map(api_token_of))
    }

    async fn user_api_tokens(&self, user: UserId) -> Result<Vec<ApiTokenRow>> {
        let sql = format!("SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC");
        Ok(self.reader().await?.rows(&sql, &[Bind::Int(user)]).await?.iter().map(api_token_of).collect())
    }

    async fn revoke_api_token(&self, user: UserId, id: i64, at: Timestamp) -> Result<bool> {
        let n = write(
            self,
            "UPDATE api_tokens SET revoked = $1 WHERE id = $2 AND user_id = $3 AND revoked IS NULL",
            &[Bind::Int(at.0), Bind::Int(id), Bind::Int(user)],
        )
        .await?;
        Ok(n > 0)
    }

    async fn touch_api_token(&self, id: i64, at: Timestamp) -> Result<()> {
        write(self, "UPDATE api_tokens SET last_used = $1 WHERE id = $2", &[Bind::Int(at.0), Bind::Int(id)]).await?;
        Ok(())
    }
}

#[async_trait]
impl<B: Backend> RateLimits for B {
    async fn claim(&self, key: &str, policy: &RatePolicy, now: Timestamp) -> Result<Claim> {
        // One statement, so that the check and the count cannot be
        // interleaved: an upsert whose update applies only when the key's
        // time has come (PostgreSQL locks the row for the upsert and
        // re-evaluates the condition on its newest version; SQLite has one
        // writer). A key quiet for `forget_after` starts from one again.
        // A key whose last claim imposed no wait (`next_allowed` is its
        // `last_attempt`) is open to any claim, also one whose `now` was
        // read a moment before that claim's and stamped a second earlier:
        // two nodes (or two requests) using one API token at a second's
        // turn would otherwise get a 429 well within the allowance.
        let attempts = format!(
            "(CASE WHEN rate_limits.last_attempt <= $2 - {forget} THEN 1 ELSE rate_limits.attempts + 1 END)",
            forget = policy.forget_after
        );
        let sql = format!(
            "INSERT INTO rate_limits (key, attempts, last_attempt, next_allowed) \
             VALUES ($1, 1, $2, $2 + {first}) \
             ON CONFLICT (key) DO UPDATE SET \
               attempts = {attempts}, last_attempt = $2, next_allowed = $2 + {wait} \
             WHERE rate_limits.next_allowed <= $2 OR rate_limits.next_allowed <= rate_limits.last_attempt \
             RETURNING attempts",
            first = policy.wait_after(1),
            wait = wait_case(policy, &attempts),
        );
        let mut conn = self.writer().await?;
        if conn.row(&sql, &[Bind::Text(key), Bind::Int(now.0)]).await?.is_some() {
            return Ok(Claim::Allowed);
        }
        let row = conn.row("SELECT next_allowed FROM rate_limits WHERE key = $1", &[Bind::Text(key)]).await?;
        let next = row.map(|r| r.int(0)).unwrap_or(now.0);
        Ok(Claim::Wait { seconds: (next - now.0).max(1) })
    }

    async fn refund(&self, key: &str) -> Result<()> {
        write(
            self,
            "UPDATE rate_limits SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0",
            &[Bind::Text(key)],
        )
        .await?;
        Ok(())
    }

    async fn forget(&self, key: &str) -> Result<()> {
        write(self, "DELETE FROM rate_limits WHERE key = $1", &[Bind::Text(key)]).await?;
        Ok(())
    }

    async fn forget_prefix(&self, prefix: &str) -> Result<u64> {
        let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        write(self, "DELETE FROM rate_limits WHERE key LIKE $1 ESCAPE '\\'", &[Bind::Text(&pattern)]).await
    }

    async fn purge_rate_limits(&self, quiet_since: Timestamp) -> Result<u64> {
        write(self, "DELETE FROM rate_limits WHERE last_attempt < $1", &[Bind::Int(quiet_since.0)]).await
    }
}

#[async_trait]
impl<B: Backend> Outbox for B {
    async fn add_to_outbox(&self, to: &str, subject: &str, body: &str, created: Timestamp) -> Result<i64> {
        insert_returning_id(
            self,
            "INSERT INTO outbox (to_addr, subject, body, created) VALUES ($1, $2, $3, $4) RETURNING id",
            &[Bind::Text(to), Bind::Text(subject), Bind::Text(body), Bind::Int(created.0)],
        )
        .await
    }

    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1");
        Ok(self.reader().await?.rows(&sql, &[Bind::Int(limit)]).await?.iter().map(message_of).collect())
    }

    async fn mark_sent(&self, id: i64, at: Timestamp) -> Result<()> {
        write(self, "UPDATE outbox SET sent = $1 WHERE id = $2 AND sent IS NULL", &[Bind::Int(at.0), Bind::Int(id)])
            .await?;
        Ok(())
    }

    async fn unsent(&self, since: Timestamp, limit: i64) -> Result<Vec<OutboxMessage>> {
        let sql =
            format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE sent IS NULL AND created >= $1 ORDER BY id LIMIT $2");
        let rows = self.reader().await?.rows(&sql, &[Bind::Int(since.0), Bind::Int(limit)]).await?;
        Ok(rows.iter().map(message_of).collect())
    }

    async fn unsent_count(&self) -> Result<u64> {
        let rows = self.reader().await?.rows("SELECT COUNT(*) FROM outbox WHERE sent IS NULL", &[]).await?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0).max(0) as u64)
    }
}

#[async_trait]
impl<B: Backend> CopyRequests for B {
    async fn add_copy_request(&self, r: &CopyRequest) -> Result<i64> {
        insert_returning_id(
            self,
            "INSERT INTO copy_requests (record_id, doc_pos, requester_email, requester_name, message, created, state, \
             file_name, file_sha256) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) RETURNING id",
            &[
                Bind::Int(r.record_id),
                Bind::Int(i64::from(r.doc_pos)),
                Bind::Text(&r.requester_email),
                Bind::Text(&r.requester_name),
                Bind::Text(&r.message),
                Bind::Int(r.created.0),
                Bind::OptText(r.file_name.as_deref()),
                Bind::OptText(r.file_sha256.as_deref()),
            ],
        )
        .await
    }

    async fn copy_request(&self, id: i64) -> Result<Option<CopyRequest>> {
        let sql = format!("SELECT {COPY_COLUMNS} FROM copy_requests WHERE id = $1");
        Ok(self.reader().await?.row(&sql, &[Bind::Int(id)]).await?.as_ref().map(copy_request_of))
    }

    async fn pending_copy_requests(&self, owner: Option<UserId>, limit: i64) -> Result<Vec<CopyRequest>> {
        let (sql, binds) = match owner {
            Some(owner) => (
                format!(
                    "SELECT {COPY_COLUMNS} FROM copy_requests c WHERE c.state = 'pending' \
                     AND c.record_id IN (SELECT r.id FROM records r WHERE r.userid = $1) \
                     ORDER BY c.created, c.id LIMIT $2"
                ),
                vec![Bind::Int(owner), Bind::Int(limit)],
            ),
            None => (
                format!(
                    "SELECT {COPY_COLUMNS} FROM copy_requests c WHERE c.state = 'pending' \
                     ORDER BY c.created, c.id LIMIT $1"
                ),
                vec![Bind::Int(limit)],
            ),
        };
        Ok(self.reader().await?.rows(&sql, &binds).await?.iter().map(copy_request_of).collect())
    }

    async fn decide_copy_request(
        &self,
        id: i64,
        approved: bool,
        by: UserId,
        at: Timestamp,
        token_hash: Option<&str>,
        expires: Option<Timestamp>,
    ) -> Result<bool> {
        let changed = write(
            self,
            "UPDATE copy_requests SET state = $1, decided_by = $2, decided_at = $3, token_hash = $4, expires = $5 \
             WHERE id = $6 AND state = 'pending'",
            &[
                Bind::Text(if approved { "approved" } else { "refused" }),
                Bind::Int(by),
                Bind::Int(at.0),
                Bind::OptText(token_hash),
                Bind::OptInt(expires.map(|t| t.0)),
                Bind::Int(id),
            ],
        )
        .await?;
        Ok(changed == 1)
    }

    async fn copy_by_token(&self, token_hash: &str, now: Timestamp) -> Result<Option<CopyRequest>> {
        let sql = format!(
            "SELECT {COPY_COLUMNS} FROM copy_requests WHERE token_hash = $1 AND state = 'approved' AND expires > $2"
        );
        let row = self.reader().await?.row(&sql, &[Bind::Text(token_hash), Bind::Int(now.0)]).await?;
        Ok(row.as_ref().map(copy_request_of))
    }
}
