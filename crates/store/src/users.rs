//! Users and their bearer tokens. Only a SHA-256 of each token is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Result, Store, StoreError, ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Forecaster,
    Office,
    /// Bound to one enterprise by its credit code.
    Enterprise,
    Admin,
    /// The provincial office: every city read-only, and the regional advisories.
    Province,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Forecaster => "forecaster",
            Role::Office => "office",
            Role::Enterprise => "enterprise",
            Role::Admin => "admin",
            Role::Province => "province",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Forecaster, Role::Office, Role::Enterprise, Role::Admin, Role::Province]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub credit_code: Option<String>,
}

pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Adds a user with a token; an enterprise user needs its credit code. Audited.
    pub async fn add_user(&self, user: &User, token: &str, by: &str, now: DateTime<Utc>) -> Result<()> {
        if (user.role == Role::Enterprise) != user.credit_code.is_some() {
            return Err(StoreError::Conflict("an enterprise user, and only one, is bound to a credit code".into()));
        }
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "INSERT INTO users (name, role, credit_code, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&user.credit_code)
        .bind(token_hash(token))
        .bind(ts(now))
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict(format!("user {} (or that token) exists", user.name)));
        }
        let detail = format!(
            "role {}{}",
            user.role.as_str(),
            user.credit_code.as_deref().map_or(String::new(), |c| format!(", enterprise {c}"))
        );
        tx.audit(now, by, "user-add", &user.name, &detail).await?;
        tx.commit().await
    }

    /// The user a bearer token belongs to.
    pub async fn user_by_token(&self, token: &str) -> Result<Option<User>> {
        let row: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT name, role, credit_code FROM users WHERE token_hash = $1 AND disabled_at IS NULL")
                .bind(token_hash(token))
                .fetch_optional(self.pool())
                .await?;
        row.map(user_of).transpose()
    }
}

/// A user row `(name, role, credit_code)` as a [`User`]; a role hazewarn does not know is corrupt.
pub(crate) fn user_of((name, role, credit_code): (String, String, Option<String>)) -> Result<User> {
    let role =
        Role::parse(&role).ok_or_else(|| StoreError::Corrupt { what: format!("role of user {name}"), detail: role })?;
    Ok(User { name, role, credit_code })
}
