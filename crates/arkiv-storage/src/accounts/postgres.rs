//! [`AccountStore`] on PostgreSQL: plain statements on the pool; none of
//! them needs the records' write lock.

use super::*;
use crate::postgres::PostgresStore;
use arkiv_model::account::email_key;
use sqlx::postgres::PgRow;
use sqlx::Row;

const USER_COLUMNS: &str = "id, email, name, password_hash, role, scope, orcid, created, disabled";
const SESSION_COLUMNS: &str = "id_hash, user_id, created, last_seen, expires, csrf_secret";

fn user_row(row: &PgRow) -> User {
    User {
        id: row.get(0),
        email: row.get(1),
        name: row.get(2),
        password_hash: row.get(3),
        role: parse_role(row.get(4)),
        scope: parse_scope(row.get(5)),
        orcid: row.get(6),
        created: Timestamp(row.get(7)),
        disabled: row.get::<bool, _>(8),
    }
}

fn session_row(row: &PgRow) -> SessionRow {
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
impl AccountStore for PostgresStore {
    async fn create_user(&self, user: &NewUser) -> Result<Option<User>> {
        let created = Timestamp::now();
        let inserted = sqlx::query(&format!(
            "INSERT INTO users (email, email_key, name, password_hash, role, scope, orcid, created, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE) RETURNING {USER_COLUMNS}"
        ))
        .bind(user.email.trim())
        .bind(email_key(&user.email))
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(scope_json(&user.scope))
        .bind(&user.orcid)
        .bind(created.0)
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(row) => Ok(Some(user_row(&row))),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_row))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1"))
            .bind(email_key(email))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_row))
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        sqlx::query(
            "UPDATE users SET name = $1, password_hash = $2, role = $3, scope = $4, orcid = $5, disabled = $6 WHERE id = $7",
        )
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(scope_json(&user.scope))
        .bind(&user.orcid)
        .bind(user.disabled)
        .bind(user.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY id")).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(user_row).collect())
    }

    async fn create_session(&self, s: &SessionRow) -> Result<()> {
        sqlx::query(&format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&s.id_hash)
            .bind(s.user_id)
            .bind(s.created.0)
            .bind(s.last_seen.0)
            .bind(s.expires.0)
            .bind(&s.csrf_secret)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1"))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(session_row))
    }

    async fn touch_session(&self, id_hash: &str, last_seen: Timestamp, expires: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = $1, expires = $2 WHERE id_hash = $3")
            .bind(last_seen.0)
            .bind(expires.0)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn purge_sessions(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires < $1").bind(now.0).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn add_login_failure(&self, keys: &[String], at: Timestamp, forget_before: Timestamp) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for key in keys {
            sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
                .bind(key)
                .bind(forget_before.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(key).bind(at.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn login_failures(&self, key: &str, since: Timestamp) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
            .bind(key)
            .bind(since.0)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_reset(&self, token_hash: &str, user: UserId, created: Timestamp, expires: Timestamp) -> Result<()> {
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, created, expires) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user)
            .bind(created.0)
            .bind(expires.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<UserId>> {
        let row: Option<(i64, i64)> = // Deleted as it is read: two uses of one token cannot both win.
        sqlx::query_as("DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some((user, expires)) = row else { return Ok(None) };
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1").bind(user).execute(&self.pool).await?;
        Ok((expires > now.0).then_some(user))
    }

    async fn add_to_outbox(&self, to: &str, subject: &str, body: &str, created: Timestamp) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (to_addr, subject, body, created) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(to)
        .bind(subject)
        .bind(body)
        .bind(created.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<(i64, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, to_addr, subject, body, created, sent FROM outbox ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_message).collect())
    }

    async fn mark_sent(&self, id: i64, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE outbox SET sent = $1 WHERE id = $2 AND sent IS NULL")
            .bind(at.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn unsent(&self, since: Timestamp, limit: i64) -> Result<Vec<OutboxMessage>> {
        let rows: Vec<(i64, String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, to_addr, subject, body, created, sent FROM outbox \
             WHERE sent IS NULL AND created >= $1 ORDER BY id LIMIT $2",
        )
        .bind(since.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(outbox_message).collect())
    }

    async fn add_copy_request(&self, r: &CopyRequest) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO copy_requests (record_id, doc_pos, requester_email, requester_name, message, created, state) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending') RETURNING id",
        )
        .bind(r.record_id)
        .bind(i64::from(r.doc_pos))
        .bind(&r.requester_email)
        .bind(&r.requester_name)
        .bind(&r.message)
        .bind(r.created.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn copy_request(&self, id: i64) -> Result<Option<CopyRequest>> {
        let row = sqlx::query(&format!("SELECT {COPY_COLUMNS} FROM copy_requests WHERE id = $1"))
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
                     AND c.record_id IN (SELECT r.id FROM records r WHERE r.userid = $1) ORDER BY c.created, c.id LIMIT $2"
                ))
                .bind(owner)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COPY_COLUMNS} FROM copy_requests c WHERE c.state = 'pending' ORDER BY c.created, c.id LIMIT $1"
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
        let done = sqlx::query(
            "UPDATE copy_requests SET state = $1, decided_by = $2, decided_at = $3, token_hash = $4, expires = $5 \
             WHERE id = $6 AND state = 'pending'",
        )
        .bind(if approved { "approved" } else { "refused" })
        .bind(by)
        .bind(at.0)
        .bind(token_hash)
        .bind(expires.map(|t| t.0))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn copy_by_token(&self, token_hash: &str, now: Timestamp) -> Result<Option<CopyRequest>> {
        let row = sqlx::query(&format!(
            "SELECT {COPY_COLUMNS} FROM copy_requests WHERE token_hash = $1 AND state = 'approved' AND expires > $2"
        ))
        .bind(token_hash)
        .bind(now.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(copy_request_of))
    }
}
