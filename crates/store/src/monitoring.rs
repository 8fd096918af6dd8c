//! Readings from online emission monitors (HJ 212), stored as received with their flags.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Result, Store, ts};

/// One value of one packet: a pollutant's (or parameter's) field at the packet's `DataTime`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    pub mn: String,
    /// The data command: 2011 real-time, 2051 minute, 2061 hourly, 2031 daily.
    pub cn: String,
    /// The packet's `DataTime` (RFC 3339, Beijing time).
    pub data_time: String,
    pub code: String,
    pub field: String,
    pub value: Option<f64>,
    pub text: Option<String>,
    /// The code's data flag (`N` normal, `F` stopped, `M` maintenance, `D` fault, …).
    pub flag: Option<String>,
    pub qn: Option<String>,
}

impl Store {
    /// Stores one packet's readings in one transaction, audited; returns how many were new (a
    /// packet sent again adds none).
    pub async fn save_readings(&self, readings: &[Reading], now: DateTime<Utc>) -> Result<usize> {
        Ok(self.save_packets(&[readings], now).await?.into_iter().sum())
    }

    /// Stores several packets' readings in one transaction with one audit entry for them all
    /// (how many, from which devices, and a digest of each packet's MN, QN and DataTime); returns
    /// how many of each packet's values were new.
    pub async fn save_packets(&self, packets: &[&[Reading]], now: DateTime<Utc>) -> Result<Vec<usize>> {
        use sha2::{Digest, Sha256};
        let mut tx = self.write().await?;
        let mut news = Vec::with_capacity(packets.len());
        let mut h = Sha256::new();
        let mut devices: Vec<&str> = Vec::new();
        for readings in packets {
            news.push(tx.save_packet(readings, now).await?);
            if let Some(first) = readings.first() {
                h.update(format!("{}\n{}\n{}\n", first.mn, first.qn.as_deref().unwrap_or(""), first.data_time));
                devices.push(&first.mn);
            }
        }
        devices.sort_unstable();
        devices.dedup();
        let values: usize = packets.iter().map(|p| p.len()).sum();
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let subject = if devices.len() == 1 { devices[0].to_owned() } else { format!("{} devices", devices.len()) };
        let detail = format!(
            "{} packet(s), {values} values, {} new; sha256(MN, QN, DataTime):{digest}",
            packets.len(),
            news.iter().sum::<usize>()
        );
        tx.audit(now, "hj212", "monitor-readings", &subject, &detail).await?;
        tx.commit().await?;
        Ok(news)
    }
}

/// Rows in one INSERT: 10 values each, well inside SQLite's and PostgreSQL's bind limits.
const ROWS_PER_STATEMENT: usize = 50;

impl crate::WriteTx {
    async fn save_packet(&mut self, readings: &[Reading], now: DateTime<Utc>) -> Result<usize> {
        let mut new = 0;
        // One statement per packet (its codes' fields are its rows): the receiver's cost is the
        // statements, not the rows.
        for chunk in readings.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|k| {
                    let p: Vec<String> = (1..=10).map(|c| format!("${}", k * 10 + c)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let statement = format!(
                "INSERT INTO monitor_readings (mn, cn, data_time, code, field, value, text_value, flag, qn, received_at) \
                 VALUES {} ON CONFLICT (mn, cn, data_time, code, field) DO NOTHING",
                rows.join(", ")
            );
            let mut q = sqlx::query(crate::sql(statement));
            for r in chunk {
                q = q
                    .bind(&r.mn)
                    .bind(&r.cn)
                    .bind(&r.data_time)
                    .bind(&r.code)
                    .bind(&r.field)
                    .bind(r.value)
                    .bind(&r.text)
                    .bind(&r.flag)
                    .bind(&r.qn)
                    .bind(ts(now));
            }
            new += q.execute(self.conn()).await?.rows_affected() as usize;
        }
        Ok(new)
    }
}

impl Store {
    /// The latest `DataTime` a device's readings carry.
    pub async fn last_reading(&self, mn: &str) -> Result<Option<String>> {
        let row: (Option<String>,) = sqlx::query_as("SELECT MAX(data_time) FROM monitor_readings WHERE mn = $1")
            .bind(mn)
            .fetch_one(self.pool())
            .await?;
        Ok(row.0)
    }

    /// A device's readings, oldest first.
    pub async fn readings_of(&self, mn: &str) -> Result<Vec<Reading>> {
        // Far enough on either side of any DataTime (RFC 3339 starts with the year's digits).
        self.readings_between(mn, "0000", "9999").await
    }

    /// A device's readings with `from <= DataTime < to` (both RFC 3339 in Beijing time, as
    /// stored), oldest first.
    pub async fn readings_between(&self, mn: &str, from: &str, to: &str) -> Result<Vec<Reading>> {
        type Row =
            (String, String, String, String, String, Option<f64>, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT mn, cn, data_time, code, field, value, text_value, flag, qn FROM monitor_readings WHERE mn = $1 \
             AND data_time >= $2 AND data_time < $3 ORDER BY data_time, cn, code, field",
        )
        .bind(mn)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Reading {
                mn: r.0,
                cn: r.1,
                data_time: r.2,
                code: r.3,
                field: r.4,
                value: r.5,
                text: r.6,
                flag: r.7,
                qn: r.8,
            })
            .collect())
    }
}
