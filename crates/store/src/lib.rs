/*!
The persistent store: one SQL schema that runs on SQLite (the embedded default: one file, WAL, no
server) and on PostgreSQL (for deployments with more than one instance).

Principal types:
* [`Store`]: a pool over either backend, migrated on connect ([`migrate`]).
* [`WriteTx`]: a write transaction. It takes the write lock first (see `audit_head` in the
  schema), so writers queue instead of failing, and it appends to the audit chain
  ([`audit`]) in the same transaction as the change it records.
* The outbox ([`outbox`]): messages written in the same transaction as the warning step that
  caused them, then claimed under a lease and delivered at least once.
* Warnings, notices, plans and reduction lists ([`response`]); forecast runs, reviews and
  scores ([`forecasts`]); job slots ([`jobs`]); users and their hashed tokens ([`users`]).

Queries are built at run time (no sqlx macros) through sqlx's `Any` driver, with `$n`
placeholders that both backends accept. Times are stored as UTC text that sorts as it reads.
This crate reads no clock: every call that writes a time takes it as an argument.
*/

pub mod advisories;
pub mod audit;
pub mod compliance;
pub mod forecasts;
pub mod jobs;
pub mod links;
pub mod lists;
mod migrate;
pub mod monitoring;
pub mod outbox;
pub mod response;
pub mod sessions;
#[cfg(any(test, feature = "simulate"))]
pub mod simulate;
pub mod users;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor as _, Transaction};

pub use advisories::StoredAnswer;
pub use audit::{AuditEntry, AuditReport};
pub use links::{AckLink, LinkRefusal};
pub use outbox::{DeliveryOutcome, Lease, NewMessage, OutboxEntry, OutboxStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("migration {version} ({name}): {source}")]
    Migrate { version: i64, name: &'static str, source: sqlx::Error },
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("stored {what} is not valid: {detail}")]
    Corrupt { what: String, detail: String },
    #[error("{0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool over SQLite or PostgreSQL, chosen by the URL.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects and applies any pending migrations. `sqlite://PATH` (created if missing),
    /// `sqlite::memory:` or `postgres://…` (`?options=-c%20search_path%3DNAME` selects a schema).
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, 8).await
    }

    /// [`Store::connect`] with at most `max_connections` open at once (an in-memory SQLite
    /// database always has one): many stores against one server must stay under its limit.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Connect {
                url: url.to_owned(),
                source: sqlx::Error::Configuration("the URL must start with sqlite: or postgres:".into()),
            });
        };
        let url_owned = match backend {
            Backend::Sqlite if url != "sqlite::memory:" && !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        // An in-memory SQLite database lives in one connection.
        let max = if url == "sqlite::memory:" { 1 } else { max_connections.max(1) };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url_owned)
            .await
            .map_err(|source| StoreError::Connect { url: redact(url), source })?;
        let store = Store { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction and takes the write lock (the audit head row) first.
    pub async fn write(&self) -> Result<WriteTx> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *tx).await?;
        Ok(WriteTx { tx })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction holding the store's write lock; dropped without `commit`, it changes nothing.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// A statement assembled from this crate's own constant fragments (column lists, a status
/// column chosen from an enum); values always go through bind parameters.
pub(crate) fn sql(statement: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(statement)
}

/// The stored form of a time: UTC, millisecond precision, sortable as text.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt { what: format!("time {s:?}"), detail: e.to_string() })
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(a), Some(b)) if b > a => {
            let userinfo = &url[a + 3..b];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..a + 3], &userinfo[..c], &url[b..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_advisories;
#[cfg(test)]
mod tests_compliance;
#[cfg(test)]
mod tests_scaleout;

/// Scratch databases for tests: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// schema that is dropped afterwards.
pub mod scratch {
    use crate::{Result, Store, sql};
    use std::sync::atomic::{AtomicU32, Ordering};

    /// The PostgreSQL server every development and CI machine runs.
    pub const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    static NEXT: AtomicU32 = AtomicU32::new(0);

    /// A schema name unique to this process and call.
    pub fn schema_name(tag: &str) -> String {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        format!("hw_{tag}_{}_{n}_{nanos}", std::process::id())
    }

    /// The URL of a schema on the server at `base`.
    pub fn schema_url(base: &str, schema: &str) -> String {
        format!("{base}{}options=-c%20search_path%3D{schema}", if base.contains('?') { '&' } else { '?' })
    }

    /// Creates `schema` on the server and returns its URL.
    pub async fn create_schema(base: &str, schema: &str) -> Result<String> {
        crate::install_default_drivers();
        let pool = sqlx::AnyPool::connect(base)
            .await
            .map_err(|source| crate::StoreError::Connect { url: base.to_owned(), source })?;
        sqlx::query(sql(format!("CREATE SCHEMA {schema}"))).execute(&pool).await?;
        pool.close().await;
        Ok(schema_url(base, schema))
    }

    pub async fn drop_schema(base: &str, schema: &str) -> Result<()> {
        let pool = sqlx::AnyPool::connect(base).await?;
        sqlx::query(sql(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))).execute(&pool).await?;
        pool.close().await;
        Ok(())
    }

    /// A migrated store in a fresh PostgreSQL schema; drop it with [`drop_schema`].
    pub async fn postgres(tag: &str) -> Result<(Store, String)> {
        let schema = schema_name(tag);
        let url = create_schema(POSTGRES_URL, &schema).await?;
        Ok((Store::connect(&url).await?, schema))
    }
}
