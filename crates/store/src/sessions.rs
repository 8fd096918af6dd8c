//! Browser sessions, enterprise accounts made from the reduction list, and one-time sign-in
//! codes. Only hashes of session ids and codes are stored; the server makes them from the
//! operating system's random source and hands them over.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::users::{Role, User, token_hash};
use crate::{Result, Store, StoreError, parse_ts, ts};

/// Wrong codes that lock an account's code sign-in; they count across codes, so asking for a new
/// code does not forgive them.
pub const MAX_CODE_FAILURES: i64 = 5;
/// How long a lock lasts from the wrong code that set it.
pub const LOCK_MINUTES: i64 = 15;
/// The least time between two codes for one account (so one number is not flooded).
pub const CODE_INTERVAL_S: i64 = 60;
/// The most codes one account is sent in a day (UTC).
pub const CODES_PER_DAY: i64 = 10;

/// An account as the office manages it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub name: String,
    pub role: Role,
    pub credit_code: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Wrong; this many tries are left before the lock.
    Wrong(i64),
    /// Too many wrong codes: locked for this many seconds more.
    Locked(i64),
    /// No code was sent, it expired, or it was used.
    NoCode,
}

/// Why a code was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRefusal {
    /// Wait this many seconds.
    TooSoon(i64),
    /// Locked for this many seconds more.
    Locked(i64),
}

/// Seconds until `until`, when it is still ahead of `now`.
fn left(until: Option<&str>, now: DateTime<Utc>) -> Result<Option<i64>> {
    let Some(u) = until else { return Ok(None) };
    let s = (parse_ts(u)? - now).num_seconds();
    Ok((s > 0).then_some(s))
}

fn code_hash(user: &str, code: &str) -> String {
    token_hash(&format!("sign-in-code\0{user}\0{code}"))
}

impl Store {
    /// Starts a session for `user` until `now + ttl`; `id` is the cookie's random value. Audited.
    pub async fn start_session(&self, id: &str, user: &str, now: DateTime<Utc>, ttl: Duration) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO sessions (id_hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(id))
            .bind(user)
            .bind(ts(now))
            .bind(ts(now + ttl))
            .execute(tx.conn())
            .await?;
        tx.audit(now, user, "session-start", user, "").await?;
        tx.commit().await
    }

    /// The user of a live session: not ended, not expired, its account not disabled.
    pub async fn user_by_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT u.name, u.role, u.credit_code FROM sessions s JOIN users u ON u.name = s.user_name \
             WHERE s.id_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(token_hash(id))
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        row.map(crate::users::user_of).transpose()
    }

    /// Ends a session (logout); audited when there was one.
    pub async fn end_session(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        let row: Option<(String,)> = sqlx::query_as(
            "UPDATE sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL RETURNING user_name",
        )
        .bind(token_hash(id))
        .bind(ts(now))
        .fetch_optional(tx.conn())
        .await?;
        if let Some((user,)) = row {
            tx.audit(now, &user, "session-end", &user, "logout").await?;
        }
        tx.commit().await
    }

    pub async fn accounts(&self) -> Result<Vec<Account>> {
        type Row = (String, String, Option<String>, Option<String>, Option<String>, String, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT name, role, credit_code, mobile, email, created_at, disabled_at FROM users ORDER BY role, name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                let role = Role::parse(&r.1)
                    .ok_or_else(|| StoreError::Corrupt { what: format!("role of user {}", r.0), detail: r.1 })?;
                Ok(Account {
                    name: r.0,
                    role,
                    credit_code: r.2,
                    mobile: r.3,
                    email: r.4,
                    created_at: r.5,
                    disabled_at: r.6,
                })
            })
            .collect()
    }

    /// Disables an account (`disabled = true`) or enables it again; a disabled account's sessions
    /// end at once. Audited.
    pub async fn set_disabled(&self, name: &str, disabled: bool, by: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        let at = disabled.then(|| ts(now));
        let done = sqlx::query("UPDATE users SET disabled_at = $2 WHERE name = $1")
            .bind(name)
            .bind(at)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound(format!("account {name}")));
        }
        if disabled {
            end_sessions_of(&mut tx, name, now).await?;
        }
        tx.audit(now, by, if disabled { "user-disable" } else { "user-enable" }, name, "").await?;
        tx.commit().await
    }

    /// Gives an account a new bearer token (the old one stops working) and ends its sessions.
    pub async fn rotate_token(&self, name: &str, token: &str, by: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET token_hash = $2 WHERE name = $1")
            .bind(name)
            .bind(token_hash(token))
            .execute(tx.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound(format!("account {name}")));
        }
        end_sessions_of(&mut tx, name, now).await?;
        tx.audit(now, by, "user-rotate-token", name, "").await?;
        tx.commit().await
    }

    /// Creates an enterprise account per credit code (named by it), or updates the contacts of
    /// one that exists, in one transaction; each `(code, mobile, email, unusable token)`. Returns
    /// (created, updated). Audited.
    pub async fn import_enterprise_accounts(
        &self,
        rows: &[(String, Option<String>, Option<String>, String)],
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(usize, usize)> {
        let mut tx = self.write().await?;
        let (mut created, mut updated) = (0, 0);
        for (code, mobile, email, token) in rows {
            let existing: Option<(String, Option<String>)> =
                sqlx::query_as("SELECT role, credit_code FROM users WHERE name = $1")
                    .bind(code)
                    .fetch_optional(tx.conn())
                    .await?;
            match existing {
                Some((role, c)) if role != "enterprise" || c.as_deref() != Some(code.as_str()) => {
                    return Err(StoreError::Conflict(format!("account {code} exists and is not that enterprise's")));
                }
                Some(_) => {
                    sqlx::query("UPDATE users SET mobile = $2, email = $3 WHERE name = $1")
                        .bind(code)
                        .bind(mobile)
                        .bind(email)
                        .execute(tx.conn())
                        .await?;
                    updated += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO users (name, role, credit_code, token_hash, created_at, mobile, email) \
                         VALUES ($1, 'enterprise', $1, $2, $3, $4, $5)",
                    )
                    .bind(code)
                    .bind(token_hash(token))
                    .bind(ts(now))
                    .bind(mobile)
                    .bind(email)
                    .execute(tx.conn())
                    .await?;
                    created += 1;
                }
            }
        }
        tx.audit(now, by, "user-import", "accounts", &format!("{created} created, {updated} updated")).await?;
        tx.commit().await?;
        Ok((created, updated))
    }

    /// Records a new sign-in code for `user` (replacing any earlier one), valid until `expires`;
    /// refused while the account is locked, when its last code is less than a minute old, or when
    /// it was sent [`CODES_PER_DAY`] codes today (UTC).
    pub async fn issue_code(
        &self,
        user: &str,
        code: &str,
        sent_to: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<std::result::Result<(), CodeRefusal>> {
        let mut tx = self.write().await?;
        type Last = (String, i64, Option<String>, Option<String>, i64);
        let last: Option<Last> = sqlx::query_as(
            "SELECT created_at, failures, locked_until, codes_day, codes_sent FROM sign_in_codes WHERE user_name = $1",
        )
        .bind(user)
        .fetch_optional(tx.conn())
        .await?;
        let today = now.date_naive().to_string();
        let (mut failures, mut sent_today) = (0, 0);
        if let Some((created, so_far, locked, day, sent)) = last {
            if let Some(s) = left(locked.as_deref(), now)? {
                return Ok(Err(CodeRefusal::Locked(s)));
            }
            let since = now - parse_ts(&created)?;
            if since < Duration::seconds(CODE_INTERVAL_S) {
                return Ok(Err(CodeRefusal::TooSoon(CODE_INTERVAL_S - since.num_seconds())));
            }
            sent_today = if day.as_deref() == Some(today.as_str()) { sent } else { 0 };
            if sent_today >= CODES_PER_DAY {
                let midnight = (now.date_naive() + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight").and_utc();
                return Ok(Err(CodeRefusal::TooSoon((midnight - now).num_seconds().max(1))));
            }
            // Wrong codes carry over to the new code, unless a lock has run out since.
            failures = if locked.is_some() { 0 } else { so_far };
        }
        sqlx::query(
            "INSERT INTO sign_in_codes (user_name, code_hash, sent_to, created_at, expires_at, failures, codes_day, \
             codes_sent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_name) DO UPDATE SET code_hash = $2, \
             sent_to = $3, created_at = $4, expires_at = $5, failures = $6, used_at = NULL, locked_until = NULL, \
             codes_day = $7, codes_sent = $8",
        )
        .bind(user)
        .bind(code_hash(user, code))
        .bind(sent_to)
        .bind(ts(now))
        .bind(ts(expires))
        .bind(failures)
        .bind(&today)
        .bind(sent_today + 1)
        .execute(tx.conn())
        .await?;
        tx.audit(now, user, "sign-in-code", user, sent_to).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Checks a code: accepted once (then used, and the wrong ones before it forgiven), wrong
    /// (counted), locked for [`LOCK_MINUTES`] at the [`MAX_CODE_FAILURES`]th wrong one, or no live
    /// code. Audited when accepted or locked.
    pub async fn check_code(&self, user: &str, code: &str, now: DateTime<Utc>) -> Result<CodeCheck> {
        let mut tx = self.write().await?;
        type Row = (String, String, i64, Option<String>, Option<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT code_hash, expires_at, failures, used_at, locked_until FROM sign_in_codes WHERE user_name = $1",
        )
        .bind(user)
        .fetch_optional(tx.conn())
        .await?;
        let Some((hash, expires, failures, used, locked)) = row else { return Ok(CodeCheck::NoCode) };
        if let Some(s) = left(locked.as_deref(), now)? {
            return Ok(CodeCheck::Locked(s));
        }
        if used.is_some() || parse_ts(&expires)? <= now {
            return Ok(CodeCheck::NoCode);
        }
        let outcome = if hash == code_hash(user, code) {
            sqlx::query("UPDATE sign_in_codes SET used_at = $2, failures = 0 WHERE user_name = $1")
                .bind(user)
                .bind(ts(now))
                .execute(tx.conn())
                .await?;
            tx.audit(now, user, "sign-in-code-accepted", user, "").await?;
            CodeCheck::Accepted
        } else if failures + 1 >= MAX_CODE_FAILURES {
            let until = now + Duration::minutes(LOCK_MINUTES);
            sqlx::query("UPDATE sign_in_codes SET failures = failures + 1, locked_until = $2 WHERE user_name = $1")
                .bind(user)
                .bind(ts(until))
                .execute(tx.conn())
                .await?;
            tx.audit(now, user, "sign-in-locked", user, &format!("until {}", ts(until))).await?;
            CodeCheck::Locked(LOCK_MINUTES * 60)
        } else {
            sqlx::query("UPDATE sign_in_codes SET failures = failures + 1 WHERE user_name = $1")
                .bind(user)
                .execute(tx.conn())
                .await?;
            CodeCheck::Wrong(MAX_CODE_FAILURES - failures - 1)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// The mobile and e-mail an enterprise account's codes go to, if it is enabled.
    pub async fn account_contacts(&self, name: &str) -> Result<Option<(Option<String>, Option<String>)>> {
        Ok(sqlx::query_as(
            "SELECT mobile, email FROM users WHERE name = $1 AND disabled_at IS NULL AND role = 'enterprise'",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?)
    }
}

async fn end_sessions_of(tx: &mut crate::WriteTx, name: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE sessions SET ended_at = $2 WHERE user_name = $1 AND ended_at IS NULL")
        .bind(name)
        .bind(ts(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}
