//! [`AccountStore`] on SQLite: writes go through the store's one writing
//! connection, like every other write, reads use the pool.

use super::*;
use crate::sqlite::SqliteStore;
use arkiv_model::account::email_key;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

const USER_COLUMNS: &str = "id, email, name, password_hash, role, scope, orcid, created, disabled";
const SESSION_COLUMNS: &str = "id_hash, user_id, created, last_seen, expires, csrf_secret";

fn user_row(row: &SqliteRow) -> User {
    User {
        id: row.get(0),
        email: row.get(1),
        name: row.get(2),
        password_hash: row.get(3),
        role: parse_role(row.get(4)),
        scope: parse_scope(row.get(5)),
        orcid: row.get(6),
        created: Timestamp(row.get(7)),
        disabled: row.get::<i64, _>(8) != 0,
    }
}

fn session_row(row: &SqliteRow) -> SessionRow {
    SessionRow {
        id_hash: row.get(0),
        user_id: row.get(1),
        created: Timestamp(row.get(2)),
        last_seen: Timestamp(row.get(3)),
        expires: Timestamp(row.get(4)),
        csrf_secret: row.get(5),
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, user: &NewUser) -> Result<Option<User>> {
        let created = Timestamp::now();
        let mut conn = self.writer.lock().await;
        let inserted = sqlx::query(&format!(
            "INSERT INTO users (email, email_key, name, password_hash, role, scope, orcid, created, disabled) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING {USER_COLUMNS}"
        ))
        .bind(user.email.trim())
        .bind(email_key(&user.email))
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(scope_json(&user.scope))
        .bind(&user.orcid)
        .bind(created.0)
        .fetch_one(&mut *conn)
        .await;
        match inserted {
            Ok(row) => Ok(Some(user_row(&row))),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_row))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = ?"))
            .bind(email_key(email))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_row))
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(
            "UPDATE users SET name = ?, password_hash = ?, role = ?, scope = ?, orcid = ?, disabled = ? WHERE id = ?",
        )
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(scope_json(&user.scope))
        .bind(&user.orcid)
        .bind(user.disabled as i64)
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id")).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(user_row).collect())
    }

    async fn create_session(&self, s: &SessionRow) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(&format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"))
            .bind(&s.id_hash)
            .bind(s.user_id)
            .bind(s.created.0)
            .bind(s.last_seen.0)
            .bind(s.expires.0)
            .bind(&s.csrf_secret)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?"))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(session_row))
    }

    async fn touch_session(&self, id_hash: &str, last_seen: Timestamp, expires: Timestamp) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query("UPDATE sessions SET last_seen = ?, expires = ? WHERE id_hash = ?")
            .bind(last_seen.0)
            .bind(expires.0)
            .bind(id_hash)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?").bind(id_hash).execute(&mut *conn).await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = ?").bind(user).execute(&mut *conn).await?;
        Ok(done.rows_affected())
    }

    async fn purge_sessions(&self, now: Timestamp) -> Result<u64> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("DELETE FROM sessions WHERE expires < ?").bind(now.0).execute(&mut *conn).await?;
        Ok(done.rows_affected())
    }

    async fn add_login_failure(&self, keys: &[String], at: Timestamp, forget_before: Timestamp) -> Result<()> {
        let mut conn = self.writer.lock().await;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for key in keys {
            sqlx::query("DELETE FROM login_failures WHERE key = ? AND at < ?")
                .bind(key)
                .bind(forget_before.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO login_failures (key, at) VALUES (?, ?)").bind(key).bind(at.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures(&self, key: &str, since: Timestamp) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?")
            .bind(key)
            .bind(since.0)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query("DELETE FROM login_failures WHERE key = ?").bind(key).execute(&mut *conn).await?;
        Ok(())
    }

    async fn create_reset(&self, token_hash: &str, user: UserId, created: Timestamp, expires: Timestamp) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, created, expires) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(user)
            .bind(created.0)
            .bind(expires.0)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn take_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>> {
        let mut conn = self.writer.lock().await;
        let row: Option<(i64, i64)> = // Deleted as it is read: two uses of one token cannot both win.
        sqlx::query_as("DELETE FROM password_resets WHERE token_hash = ? RETURNING user_id, expires")
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((user, expires)) = row else { return Ok(None) };
        sqlx::query("DELETE FROM password_resets WHERE user_id = ?").bind(user).execute(&mut *conn).await?;
        Ok((expires > now.0).then_some(user))
    }

    async fn add_to_outbox(&self, to: &str, subject: &str, body: &str, created: Timestamp) -> Result<i64> {
        let mut conn = self.writer.lock().await;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (to_addr, subject, body, created) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(created.0)
        .fetch_one(&mut *conn)
        .await?;
        Ok(id)
    }

    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<(i64, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, to_addr, subject, body, created, sent FROM outbox ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_message).collect())
    }

    async fn mark_sent(&self, id: i64, at: Timestamp) -> Result<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query("UPDATE outbox SET sent = ? WHERE id = ? AND sent IS NULL")
            .bind(at.0)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn unsent(&self, since: Timestamp, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<(i64, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, to_addr, subject, body, created, sent FROM outbox \
             WHERE sent IS NULL AND created >= ? ORDER BY id LIMIT ?",
        )
        .bind(since.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_message).collect())
    }

    async fn add_copy_request(&self, r: &CopyRequest) -> Result<i64> {
        let mut conn = self.writer.lock().await;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO copy_requests (record_id, doc_pos, requester_email, requester_name, message, created, state) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending') RETURNING id",
        )
        .bind(r.record_id)
        .bind(i64::from(r.doc_pos))
        .bind(&r.requester_email)
        .bind(&r.requester_name)
        .bind(&r.message)
        .bind(r.created.0)
        .fetch_one(&mut *conn)
        .await?;
        Ok(id)
    }

    async fn copy_request(&self, id: i64) -> Result<Option<CopyRequest>> {
        let row = sqlx::query(&format!("SELECT {COPY_COLUMNS} FROM copy_requests WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(copy_request_of))
    }

    async fn pending_copy_requests(&self, owner: Option<UserId>, limit: i64) -> Result<Vec<CopyRequest>> {
        let rows = match owner {
            Some(owner) => {
                sqlx::query(&format!(
                    "SELECT {COPY_COLUMNS} FROM copy_requests c WHERE c.state = 'pending' \
                     AND c.record_id IN (SELECT r.id FROM records r WHERE r.userid = ?) ORDER BY c.created, c.id LIMIT ?"
                ))
                .bind(owner)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COPY_COLUMNS} FROM copy_requests c WHERE c.state = 'pending' ORDER BY c.created, c.id LIMIT ?"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows.iter().map(copy_request_of).collect())
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
        let mut conn = self.writer.lock().await;
        let done = sqlx::query(
            "UPDATE copy_requests SET state = ?, decided_by = ?, decided_at = ?, token_hash = ?, expires = ? \
             WHERE id = ? AND state = 'pending'",
        )
        .bind(if approved { "approved" } else { "refused" })
        .bind(by)
        .bind(at.0)
        .bind(token_hash)
        .bind(expires.map(|t| t.0))
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn copy_by_token(&self, token_hash: &str, now: Timestamp) -> Result<Option<CopyRequest>> {
        let row = sqlx::query(&format!(
            "SELECT {COPY_COLUMNS} FROM copy_requests WHERE token_hash = ? AND state = 'approved' AND expires > ?"
        ))
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(copy_request_of))
    }
}
