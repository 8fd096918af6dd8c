//! The calendar proxy for emissions, used when no emissions-history table is given.
//!
//! Index 1 is an ordinary non-heating working day. The heating season of northern China
//! (15 November – 15 March) raises it to 1.5; the week around the Spring Festival lowers it to
//! 0.6 (factories and traffic stop); weekends are 0.9. These are documented round numbers, not
//! an inventory: the model learns how much each matters from the data.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};

/// Lunar new year's day, 2010–2030 (the Spring Festival; emissions dip around it).
const SPRING_FESTIVAL: [(i32, u32, u32); 21] = [
    (2010, 2, 14),
    (2011, 2, 3),
    (2012, 1, 23),
    (2013, 2, 10),
    (2014, 1, 31),
    (2015, 2, 19),
    (2016, 2, 8),
    (2017, 1, 28),
    (2018, 2, 16),
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
];

pub fn heating_season(d: NaiveDate) -> bool {
    let md = (d.month(), d.day());
    md >= (11, 15) || md <= (3, 15)
}

/// Days from the nearest Spring Festival, when one is within a week.
pub fn spring_festival_offset(d: NaiveDate) -> Option<i64> {
    SPRING_FESTIVAL
        .iter()
        .filter_map(|(y, m, dd)| NaiveDate::from_ymd_opt(*y, *m, *dd))
        .map(|f| (d - f).num_days())
        .find(|k| k.abs() <= 7)
}

/// The calendar emission index at a local time.
pub fn emission_index(t: NaiveDateTime) -> f64 {
    let d = t.date();
    let mut e = if heating_season(d) { 1.5 } else { 1.0 };
    if spring_festival_offset(d).is_some_and(|k| (-2..=6).contains(&k)) {
        e *= 0.6;
    }
    if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        e *= 0.9;
    }
    e
}

/// Parses an emissions-history table: `time,sector,index` (local time, a non-negative index).
/// Errors name the file, line and column.
pub fn parse_emissions_csv(
    file: &str,
    bytes: &[u8],
) -> Result<Vec<(chrono::NaiveDateTime, String, f64)>, crate::ForecastError> {
    let t = crate::csv_table::CsvTable::parse(file, bytes)?;
    let (tc, sc, ic) = (t.required("time")?, t.required("sector")?, t.required("index")?);
    let mut out = Vec::new();
    for (line, cells) in &t.rows {
        let time = t.time(*line, cells, tc, "time")?;
        let index = t
            .number(*line, cells, ic, "index")?
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| t.error(format!("line {line}, column `index`: not a non-negative number")))?;
        out.push((time, cells.get(sc).copied().unwrap_or("").to_owned(), index));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_follows_the_calendar() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(emission_index(t("2014-07-02 12:00")), 1.0); // a summer Wednesday
        assert_eq!(emission_index(t("2014-12-03 12:00")), 1.5); // heating season
        assert!((emission_index(t("2014-02-01 12:00")) - 1.5 * 0.6 * 0.9).abs() < 1e-12); // festival Saturday
        assert_eq!(emission_index(t("2014-03-16 12:00")), 0.9); // heating over, a Sunday
    }
}
