//! Schema migrations, embedded in the binary and applied in order, each in one transaction.
//! On PostgreSQL an advisory lock keeps two instances from migrating at once.

use sqlx::Executor as _;

use crate::{Backend, Result, Store, StoreError};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "acknowledgement_kind", include_str!("../migrations/0002_acknowledgement_kind.sql")),
    (3, "outbox_fencing", include_str!("../migrations/0003_outbox_fencing.sql")),
    (4, "audit_rows", include_str!("../migrations/0004_audit_rows.sql")),
    (5, "demo_clock", include_str!("../migrations/0005_demo_clock.sql")),
    (6, "routes_and_links", include_str!("../migrations/0006_routes_and_links.sql")),
    (7, "sessions_and_codes", include_str!("../migrations/0007_sessions_and_codes.sql")),
    (8, "monitor_readings", include_str!("../migrations/0008_monitor_readings.sql")),
    (9, "compliance", include_str!("../migrations/0009_compliance.sql")),
    (10, "receiver_counts", include_str!("../migrations/0010_receiver_counts.sql")),
    (11, "forecast_product", include_str!("../migrations/0011_forecast_product.sql")),
    (12, "job_fencing", include_str!("../migrations/0012_job_fencing.sql")),
    (13, "advisories", include_str!("../migrations/0013_advisories.sql")),
];
const LOCK_KEY: i64 = 0x6861_7a65; // "haze"

/// The statements of a migration: full-line `--` comments removed, split at `;`.
fn statements(sql: &str) -> Vec<String> {
    let text: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).map(|l| format!("{l}\n")).collect();
    text.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

pub(crate) async fn run(store: &Store) -> Result<()> {
    let mut conn = store.pool.acquire().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK_KEY).execute(&mut *conn).await?;
    }
    let result = apply(&mut conn).await;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut *conn).await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection) -> Result<()> {
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        .await?;
    let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM schema_migrations").fetch_all(&mut *conn).await?;
    for &(version, name, sql) in MIGRATIONS {
        if applied.iter().any(|a| a.0 == version) {
            continue;
        }
        let err = |source| StoreError::Migrate { version, name, source };
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(err)?;
        for s in statements(sql) {
            sqlx::query(sqlx::AssertSqlSafe(s)).execute(&mut *tx).await.map_err(err)?;
        }
        if version == 4 {
            crate::audit::baseline(&mut tx).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
    }
    Ok(())
}
