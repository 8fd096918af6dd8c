//! Quality control: hourly reindex, duplicate resolution and per-cell flags.
//! Nothing is deleted: every problem becomes a flag and a count in the report.

use std::fmt::Write as _;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use crate::read::{Layout, NVAR, RawFile, RawRow, SourceColumnStats};
use crate::table::{Column, Observations, QcFlags, StationSeries, Variable};

/// Thresholds for the checks, per variable in [`Variable::ALL`] order.
#[derive(Debug, Clone)]
pub struct QcConfig {
    /// Physically possible range (inclusive); outside it a value is flagged out of range.
    pub range: [(f64, f64); NVAR],
    /// A run of at least this many identical values is flagged as a flat line; `None` skips the check.
    pub flat_hours: [Option<usize>; NVAR],
    /// Runs at or below this value are not flat lines: near the detection limit a constant
    /// reading is expected.
    pub flat_floor: [f64; NVAR],
    /// Hours on each side of a value that form its local distribution.
    pub spike_half_window: usize,
    /// A value is a spike when it lies more than this many robust deviations from the local median…
    pub spike_k: f64,
    /// …where the deviation is at least this floor (in the variable's unit); `None` skips the check.
    pub spike_floor: [Option<f64>; NVAR],
}

impl Default for QcConfig {
    fn default() -> QcConfig {
        // Order: pm25 pm10 so2 no2 co o3 temp dewp rh pres wspd wdir precip.
        QcConfig {
            range: [
                (0.0, 2000.0),
                (0.0, 3000.0),
                (0.0, 5000.0),
                (0.0, 3000.0),
                (0.0, 150.0),
                (0.0, 2000.0),
                (-60.0, 60.0),
                (-70.0, 40.0),
                (0.0, 100.0),
                (500.0, 1100.0),
                (0.0, 75.0),
                (0.0, 360.0),
                (0.0, 300.0),
            ],
            // Met values are often whole degrees, so they can sit still for a night.
            flat_hours: [
                Some(12),
                Some(12),
                Some(12),
                Some(12),
                Some(12),
                Some(12),
                Some(24),
                Some(24),
                Some(24),
                Some(36),
                Some(24),
                None,
                None,
            ],
            flat_floor: [5.0, 10.0, 5.0, 5.0, 0.3, 10.0, f64::MIN, f64::MIN, 0.0, f64::MIN, 0.0, 0.0, 0.0],
            spike_half_window: 6,
            spike_k: 6.0,
            spike_floor: [
                Some(25.0),
                Some(40.0),
                Some(20.0),
                Some(20.0),
                Some(0.5),
                Some(40.0),
                Some(6.0),
                Some(6.0),
                Some(25.0),
                Some(6.0),
                Some(6.0),
                None,
                None,
            ],
        }
    }
}

/// Counts of each flag for one column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FlagCounts {
    pub column: String,
    pub missing: usize,
    pub gap: usize,
    pub duplicate: usize,
    pub out_of_range: usize,
    pub spike: usize,
    pub flatline: usize,
}

/// An hour that appeared more than once for a station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateRecord {
    pub time: NaiveDateTime,
    /// `file:line` of the row kept (the first one read).
    pub kept: String,
    /// `file:line` of the rows set aside.
    pub dropped: Vec<String>,
    /// Columns whose values disagreed; empty when the rows were identical.
    pub conflicting: Vec<String>,
}

/// A run of hours absent from the source and inserted by the reindex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapRecord {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub hours: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    pub file: String,
    pub layout: Layout,
    pub rows: usize,
    /// Missing markers per source column, before conversion.
    pub source_columns: Vec<SourceColumnStats>,
    /// Rows of stations outside the selection (another city, or a code not asked for), not read.
    pub outside_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationReport {
    pub station: String,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub hours: usize,
    pub source_rows: usize,
    pub columns: Vec<FlagCounts>,
    pub duplicates: Vec<DuplicateRecord>,
    pub gaps: Vec<GapRecord>,
}

/// What QC found, per file and per station.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QcReport {
    pub files: Vec<FileReport>,
    pub stations: Vec<StationReport>,
}

impl QcReport {
    /// A plain-text summary for people.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if self.files.len() > MAX_FILES_LISTED {
            self.files_in_total(&mut s);
        } else {
            for f in &self.files {
                let _ = write!(s, "file {} ({}, {} rows", f.file, f.layout.name(), f.rows);
                if f.outside_rows > 0 {
                    let _ = write!(s, "; {} rows of other stations not read", f.outside_rows);
                }
                let _ = writeln!(s, ")");
                for c in f.source_columns.iter().filter(|c| c.missing + c.sentinel > 0) {
                    let _ = writeln!(
                        s,
                        "  source column {:<16} missing {:>6}  sentinel {:>4}",
                        c.column, c.missing, c.sentinel
                    );
                }
            }
        }
        for st in &self.stations {
            let _ = writeln!(
                s,
                "station {}: {} .. {}, {} hours ({} source rows, {} duplicate hours, {} gaps)",
                st.station,
                st.start,
                st.end,
                st.hours,
                st.source_rows,
                st.duplicates.len(),
                st.gaps.len()
            );
            let _ = writeln!(
                s,
                "  {:<8} {:>8} {:>8} {:>9} {:>12} {:>7} {:>9}",
                "column", "missing", "gap", "duplicate", "out_of_range", "spike", "flatline"
            );
            for c in &st.columns {
                let _ = writeln!(
                    s,
                    "  {:<8} {:>8} {:>8} {:>9} {:>12} {:>7} {:>9}",
                    c.column, c.missing, c.gap, c.duplicate, c.out_of_range, c.spike, c.flatline
                );
            }
            for d in st.duplicates.iter().filter(|d| !d.conflicting.is_empty()).take(10) {
                let _ = writeln!(
                    s,
                    "  duplicate {}: kept {}, set aside {}; differing {}",
                    d.time,
                    d.kept,
                    d.dropped.join(", "),
                    d.conflicting.join(", ")
                );
            }
        }
        s
    }
}

/// Above this many files (hourly national releases, say) the summary gives their totals.
const MAX_FILES_LISTED: usize = 5;

impl QcReport {
    /// Many files as one line of totals, with the missing markers summed per source column.
    fn files_in_total(&self, s: &mut String) {
        let rows: usize = self.files.iter().map(|f| f.rows).sum();
        let outside: usize = self.files.iter().map(|f| f.outside_rows).sum();
        let mut layouts: Vec<&str> = self.files.iter().map(|f| f.layout.name()).collect();
        layouts.dedup();
        let (first, last) = (&self.files[0].file, &self.files[self.files.len() - 1].file);
        let _ = write!(s, "{} files ({}, {rows} rows; {first} … {last}", self.files.len(), layouts.join(", "));
        if outside > 0 {
            let _ = write!(s, "; {outside} rows of other stations not read");
        }
        let _ = writeln!(s, ")");
        let mut totals: Vec<(String, usize, usize)> = Vec::new();
        for c in self.files.iter().flat_map(|f| &f.source_columns) {
            match totals.iter_mut().find(|t| t.0 == c.column) {
                Some(t) => {
                    t.1 += c.missing;
                    t.2 += c.sentinel;
                }
                None => totals.push((c.column.clone(), c.missing, c.sentinel)),
            }
        }
        for (column, missing, sentinel) in totals.iter().filter(|t| t.1 + t.2 > 0) {
            let _ = writeln!(s, "  source column {column:<16} missing {missing:>6}  sentinel {sentinel:>4}");
        }
    }
}

/// One station's rows from every file, with the variables any of them carried.
struct StationGroup {
    station: String,
    present: [bool; NVAR],
    /// (file index, row)
    rows: Vec<(usize, RawRow)>,
}

/// Reindex each station to a complete hourly grid and flag every cell.
pub(crate) fn build(files: Vec<(String, RawFile)>, cfg: &QcConfig) -> (Observations, QcReport) {
    let mut reports = Vec::new();
    // Group rows by station name across files, keeping the order they were read in.
    let mut groups: Vec<StationGroup> = Vec::new();
    for (fi, (name, file)) in files.iter().enumerate() {
        reports.push(FileReport {
            file: name.clone(),
            layout: file.layout,
            rows: file.rows.len(),
            source_columns: file.source_columns.clone(),
            outside_rows: file.outside_rows,
        });
        for row in &file.rows {
            let station = &file.stations[row.station];
            let gi = match groups.iter().position(|g| &g.station == station) {
                Some(i) => i,
                None => {
                    groups.push(StationGroup { station: station.clone(), present: [false; NVAR], rows: Vec::new() });
                    groups.len() - 1
                }
            };
            for (p, q) in groups[gi].present.iter_mut().zip(file.present) {
                *p |= q;
            }
            groups[gi].rows.push((fi, row.clone()));
        }
    }
    let mut series = Vec::new();
    let mut stations = Vec::new();
    for g in groups {
        let (s, r) = station_series(g.station, g.present, g.rows, &files, cfg);
        series.push(s);
        stations.push(r);
    }
    (Observations { series }, QcReport { files: reports, stations })
}

fn station_series(
    station: String,
    present: [bool; NVAR],
    mut rows: Vec<(usize, RawRow)>,
    files: &[(String, RawFile)],
    cfg: &QcConfig,
) -> (StationSeries, StationReport) {
    rows.sort_by_key(|(_, r)| r.time); // stable: the first row read wins a tie
    let source_rows = rows.len();
    let (start, end) = (rows[0].1.time, rows[rows.len() - 1].1.time);
    let hours = ((end - start).num_hours() + 1) as usize;
    let times: Vec<NaiveDateTime> = (0..hours).map(|i| start + Duration::hours(i as i64)).collect();
    let vars: Vec<Variable> = Variable::ALL.into_iter().filter(|v| present[v.index()]).collect();
    let mut values = vec![vec![f64::NAN; hours]; vars.len()];
    let mut flags = vec![vec![QcFlags::GAP; hours]; vars.len()];
    let mut duplicates = Vec::new();
    let loc = |(fi, r): &(usize, RawRow)| format!("{}:{}", files[*fi].0, r.line);
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j].1.time == rows[i].1.time {
            j += 1;
        }
        let kept = &rows[i].1;
        let slot = (kept.time - start).num_hours() as usize;
        let mut conflicting = Vec::new();
        for (k, var) in vars.iter().enumerate() {
            let v = kept.values[var.index()];
            values[k][slot] = v;
            let calm = *var == Variable::Wdir && kept.calm;
            flags[k][slot] = if v.is_nan() && !calm { QcFlags::MISSING } else { QcFlags::default() };
            let differs = rows[i + 1..j].iter().any(|(_, r)| {
                let w = r.values[var.index()];
                !(w == v || (w.is_nan() && v.is_nan()))
            });
            if differs {
                flags[k][slot].insert(QcFlags::DUPLICATE);
                conflicting.push(var.name().to_owned());
            }
        }
        if j > i + 1 {
            duplicates.push(DuplicateRecord {
                time: kept.time,
                kept: loc(&rows[i]),
                dropped: rows[i + 1..j].iter().map(loc).collect(),
                conflicting,
            });
        }
        i = j;
    }
    let mut columns = Vec::new();
    for (k, var) in vars.iter().enumerate() {
        let mut col =
            Column { variable: *var, values: std::mem::take(&mut values[k]), flags: std::mem::take(&mut flags[k]) };
        flag_range(&mut col, cfg.range[var.index()]);
        if let Some(floor) = cfg.spike_floor[var.index()] {
            flag_spikes(&mut col, cfg.spike_half_window, cfg.spike_k, floor);
        }
        if let Some(n) = cfg.flat_hours[var.index()] {
            flag_flatlines(&mut col, n, cfg.flat_floor[var.index()]);
        }
        columns.push(col);
    }
    let gaps = gap_records(&times, &columns[0].flags);
    let counts = columns.iter().map(count_flags).collect();
    let report =
        StationReport { station: station.clone(), start, end, hours, source_rows, columns: counts, duplicates, gaps };
    (StationSeries { station, times, columns }, report)
}

fn flag_range(col: &mut Column, (lo, hi): (f64, f64)) {
    for (v, f) in col.values.iter().zip(col.flags.iter_mut()) {
        if !v.is_nan() && (*v < lo || *v > hi) {
            f.insert(QcFlags::OUT_OF_RANGE);
        }
    }
}

/// A Hampel filter: compare each value with the median and the median absolute deviation
/// of its neighbours within `half` hours (itself excluded).
fn flag_spikes(col: &mut Column, half: usize, k: f64, floor: f64) {
    let n = col.values.len();
    let usable: Vec<f64> =
        col.values.iter().zip(&col.flags).map(|(v, f)| if f.is_unusable() { f64::NAN } else { *v }).collect();
    let mut window = Vec::with_capacity(2 * half);
    let mut dev = Vec::with_capacity(2 * half);
    for i in 0..n {
        let x = usable[i];
        if x.is_nan() {
            continue;
        }
        window.clear();
        let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
        window.extend(usable[a..b].iter().enumerate().filter(|(j, v)| a + j != i && !v.is_nan()).map(|(_, v)| *v));
        if window.len() < half {
            continue;
        }
        let med = median(&mut window);
        dev.clear();
        dev.extend(window.iter().map(|v| (v - med).abs()));
        let scale = (1.4826 * median(&mut dev)).max(floor);
        if (x - med).abs() > k * scale {
            col.flags[i].insert(QcFlags::SPIKE);
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    let m = v.len() / 2;
    let (_, mid, _) = v.select_nth_unstable_by(m, |a, b| a.total_cmp(b));
    *mid
}

fn flag_flatlines(col: &mut Column, min_run: usize, floor: f64) {
    let n = col.values.len();
    let mut i = 0;
    while i < n {
        let v = col.values[i];
        let mut j = i + 1;
        if !v.is_nan() {
            while j < n && col.values[j] == v {
                j += 1;
            }
            if j - i >= min_run && v > floor {
                for f in &mut col.flags[i..j] {
                    f.insert(QcFlags::FLATLINE);
                }
            }
        }
        i = j;
    }
}

fn gap_records(times: &[NaiveDateTime], flags: &[QcFlags]) -> Vec<GapRecord> {
    let mut gaps = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if flags[i].contains(QcFlags::GAP) {
            let mut j = i;
            while j + 1 < flags.len() && flags[j + 1].contains(QcFlags::GAP) {
                j += 1;
            }
            gaps.push(GapRecord { start: times[i], end: times[j], hours: j - i + 1 });
            i = j + 1;
        } else {
            i += 1;
        }
    }
    gaps
}

fn count_flags(col: &Column) -> FlagCounts {
    let mut c = FlagCounts { column: col.variable.name().to_owned(), ..Default::default() };
    for f in &col.flags {
        c.missing += usize::from(f.contains(QcFlags::MISSING));
        c.gap += usize::from(f.contains(QcFlags::GAP));
        c.duplicate += usize::from(f.contains(QcFlags::DUPLICATE));
        c.out_of_range += usize::from(f.contains(QcFlags::OUT_OF_RANGE));
        c.spike += usize::from(f.contains(QcFlags::SPIKE));
        c.flatline += usize::from(f.contains(QcFlags::FLATLINE));
    }
    c
}
