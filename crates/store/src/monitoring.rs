//! Readings from online emission monitors (HJ 212), stored as received with their flags.

use std::collections::BTreeMap;

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

/// What the receiver saw from one sender (a listed device's MN, or before a frame names one, a
/// peer's address).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeviceCounts {
    pub packets: u64,
    pub stored: u64,
    pub bad_frames: u64,
    pub refused: u64,
}

impl DeviceCounts {
    pub fn add(&mut self, other: &DeviceCounts) {
        self.packets += other.packets;
        self.stored += other.stored;
        self.bad_frames += other.bad_frames;
        self.refused += other.refused;
    }
}

impl Store {
    /// Stores one packet's readings in one transaction, audited; returns how many were new (a
    /// packet sent again adds none).
    pub async fn save_readings(&self, readings: &[Reading], now: DateTime<Utc>) -> Result<usize> {
        let who = readings.first().map(|r| r.mn.clone()).unwrap_or_default();
        Ok(self.save_packets(&[(&who, readings)], &[], now).await?.into_iter().sum())
    }

    /// One commit of the receiver: several packets' readings, each with the sender it is counted
    /// for, and what else was counted since the last commit (packets, bad frames, refusals).
    /// One transaction, one audit entry for it all (how many, from which devices, and a digest of
    /// each packet's MN, QN and DataTime); the counts kept include each packet's new values.
    /// Returns how many of each packet's values were new. A value that two packets of the batch
    /// both carry is new for the first of them only, as if they had been stored one by one.
    pub async fn save_packets(
        &self,
        packets: &[(&str, &[Reading])],
        counted: &[(String, DeviceCounts)],
        now: DateTime<Utc>,
    ) -> Result<Vec<usize>> {
        use sha2::{Digest, Sha256};
        let mut tx = self.write().await?;
        let readings: Vec<&[Reading]> = packets.iter().map(|(_, r)| *r).collect();
        let news = tx.insert_readings(&readings, now).await?;
        let mut counts: BTreeMap<&str, DeviceCounts> = BTreeMap::new();
        for (who, c) in counted {
            counts.entry(who).or_default().add(c);
        }
        for ((who, _), new) in packets.iter().zip(&news) {
            counts.entry(who).or_default().stored += *new as u64;
        }
        tx.add_receiver_counts(&counts).await?;
        let mut h = Sha256::new();
        let mut devices: Vec<&str> = Vec::new();
        for first in readings.iter().filter_map(|p| p.first()) {
            h.update(format!("{}\n{}\n{}\n", first.mn, first.qn.as_deref().unwrap_or(""), first.data_time));
            devices.push(&first.mn);
        }
        devices.sort_unstable();
        devices.dedup();
        let values: usize = readings.iter().map(|p| p.len()).sum();
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let subject = if devices.len() == 1 { devices[0].to_owned() } else { format!("{} devices", devices.len()) };
        let detail = format!(
            "{} packet(s), {values} values, {} new; counts of {} sender(s); sha256(MN, QN, DataTime):{digest}",
            packets.len(),
            news.iter().sum::<usize>(),
            counts.len()
        );
        tx.audit(now, "hj212", "monitor-readings", &subject, &detail).await?;
        tx.commit().await?;
        Ok(news)
    }

    /// What the receiver has counted for each sender, across restarts.
    pub async fn receiver_counts(&self) -> Result<BTreeMap<String, DeviceCounts>> {
        let rows: Vec<(String, i64, i64, i64, i64)> =
            sqlx::query_as("SELECT who, packets, stored, bad_frames, refused FROM monitor_receiver_counts")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(who, p, s, b, r)| {
                let n = |v: i64| v.max(0) as u64;
                (who, DeviceCounts { packets: n(p), stored: n(s), bad_frames: n(b), refused: n(r) })
            })
            .collect())
    }
}

/// Rows in one INSERT at most. SQLite looks each `$N` up by name, so a statement's cost grows
/// with the square of its parameters: many small statements beat one huge one. Statements carry
/// a power of two of rows, so the few shapes there are stay in the prepared-statement cache.
const ROWS_PER_STATEMENT: usize = 32;

/// `n` rows cut into statements of powers of two, largest first, none above `max`.
fn chunk_sizes(mut n: usize, max: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while n > 0 {
        let size = if n >= max { max } else { 1 << (usize::BITS - 1 - n.leading_zeros()) };
        sizes.push(size);
        n -= size;
    }
    sizes
}

/// `($1, …, $k), ($k+1, …)`: `rows` rows of `k` parameters.
fn placeholders(rows: usize, k: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|r| {
            let p: Vec<String> = (1..=k).map(|c| format!("${}", r * k + c)).collect();
            format!("({})", p.join(", "))
        })
        .collect();
    rows.join(", ")
}

/// A stored value's key, as the unique index names it.
type Key = (String, String, String, String, String);

impl crate::WriteTx {
    /// Inserts the packets' values; returns how many of each packet's values were new.
    async fn insert_readings(&mut self, packets: &[&[Reading]], now: DateTime<Utc>) -> Result<Vec<usize>> {
        // Which values are new is decided before inserting, under the transaction's write lock:
        // what the store already holds (usually nothing: one read that returns no rows), then
        // each value for the first packet of the batch that carries it. Reading the inserts'
        // own RETURNING rows instead costs a message per row from SQLite's worker thread.
        let held = self.held_readings(packets).await?;
        let mut seen: std::collections::HashSet<Key> = std::collections::HashSet::new();
        let mut news = vec![0; packets.len()];
        for (k, p) in packets.iter().enumerate() {
            for r in p.iter() {
                let key = key(r);
                if !held.contains(&key) && seen.insert(key) {
                    news[k] += 1;
                }
            }
        }
        let rows: Vec<&Reading> = packets.iter().flat_map(|p| p.iter()).collect();
        let mut rest = rows.as_slice();
        let mut inserted = 0;
        for size in chunk_sizes(rows.len(), ROWS_PER_STATEMENT) {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            let statement = format!(
                "INSERT INTO monitor_readings (mn, cn, data_time, code, field, value, text_value, flag, qn, received_at) \
                 VALUES {} ON CONFLICT (mn, cn, data_time, code, field) DO NOTHING",
                placeholders(size, 10)
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
            inserted += q.execute(self.conn()).await?.rows_affected() as usize;
        }
        // The count decided beforehand is the count the inserts made, or the batch is refused.
        let expected: usize = news.iter().sum();
        if inserted != expected {
            return Err(crate::StoreError::Conflict(format!(
                "HJ 212 readings: {inserted} inserted where {expected} were new; nothing was stored"
            )));
        }
        Ok(news)
    }

    /// The stored values of the packets' (MN, CN, DataTime), in statements of at most
    /// `ROWS_PER_STATEMENT` packets.
    async fn held_readings(&mut self, packets: &[&[Reading]]) -> Result<std::collections::HashSet<Key>> {
        use sqlx::Row;
        let mut ids: Vec<(&str, &str, &str)> = packets
            .iter()
            .filter_map(|p| p.first())
            .map(|r| (r.mn.as_str(), r.cn.as_str(), r.data_time.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut held = std::collections::HashSet::new();
        let mut rest = ids.as_slice();
        for size in chunk_sizes(ids.len(), ROWS_PER_STATEMENT) {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            let statement = format!(
                "SELECT mn, cn, data_time, code, field FROM monitor_readings WHERE (mn, cn, data_time) IN (VALUES {})",
                placeholders(size, 3)
            );
            let mut q = sqlx::query(crate::sql(statement));
            for (mn, cn, t) in chunk {
                q = q.bind(*mn).bind(*cn).bind(*t);
            }
            for row in q.fetch_all(self.conn()).await? {
                held.insert((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?));
            }
        }
        Ok(held)
    }
}

impl crate::WriteTx {
    async fn add_receiver_counts(&mut self, counts: &BTreeMap<&str, DeviceCounts>) -> Result<()> {
        let counts: Vec<(&str, &DeviceCounts)> =
            counts.iter().filter(|(_, c)| **c != DeviceCounts::default()).map(|(w, c)| (*w, c)).collect();
        let mut rest = counts.as_slice();
        for size in chunk_sizes(counts.len(), ROWS_PER_STATEMENT) {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            // Each sender once per statement (the map's keys), as PostgreSQL's upsert requires.
            let statement = format!(
                "INSERT INTO monitor_receiver_counts (who, packets, stored, bad_frames, refused) VALUES {} \
                 ON CONFLICT (who) DO UPDATE SET packets = monitor_receiver_counts.packets + excluded.packets, \
                 stored = monitor_receiver_counts.stored + excluded.stored, \
                 bad_frames = monitor_receiver_counts.bad_frames + excluded.bad_frames, \
                 refused = monitor_receiver_counts.refused + excluded.refused",
                placeholders(size, 5)
            );
            let mut q = sqlx::query(crate::sql(statement));
            for (who, c) in chunk {
                q = q
                    .bind(*who)
                    .bind(c.packets as i64)
                    .bind(c.stored as i64)
                    .bind(c.bad_frames as i64)
                    .bind(c.refused as i64);
            }
            q.execute(self.conn()).await?;
        }
        Ok(())
    }
}

fn key(r: &Reading) -> Key {
    (r.mn.clone(), r.cn.clone(), r.data_time.clone(), r.code.clone(), r.field.clone())
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

#[cfg(test)]
mod shapes {
    #[test]
    fn rows_go_in_powers_of_two_up_to_the_most_a_statement_carries() {
        assert_eq!(super::chunk_sizes(0, 32), Vec::<usize>::new());
        assert_eq!(super::chunk_sizes(12, 32), [8, 4]);
        assert_eq!(super::chunk_sizes(75, 32), [32, 32, 8, 2, 1]);
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
