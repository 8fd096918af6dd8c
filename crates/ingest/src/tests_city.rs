//! The city series against hand-computed cases, and the property that a station left out (a
//! reference point) never changes it.

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

use crate::city::{CityMeanOptions, city_mean};
use crate::table::{Column, Observations, QcFlags, StationSeries, Variable};

fn t0() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
}

fn station(name: &str, start_hour: i64, columns: &[(Variable, &[f64])]) -> StationSeries {
    let n = columns[0].1.len();
    let times = (0..n as i64).map(|k| t0() + chrono::Duration::hours(start_hour + k)).collect();
    let columns = columns
        .iter()
        .map(|(v, values)| Column {
            variable: *v,
            values: values.to_vec(),
            flags: values.iter().map(|x| if x.is_nan() { QcFlags::MISSING } else { QcFlags::default() }).collect(),
        })
        .collect();
    StationSeries { station: name.into(), times, columns }
}

#[test]
fn each_hour_is_the_mean_of_the_valid_station_values() {
    let nan = f64::NAN;
    let a = station("A", 0, &[(Variable::Pm25, &[10.0, 20.0, 30.0, nan])]);
    let mut b = station("B", 1, &[(Variable::Pm25, &[40.0, 3000.0, 50.0, 60.0])]);
    b.columns[0].flags[1] = QcFlags::OUT_OF_RANGE; // 3000 µg/m³ is marked unusable by QC
    let c = station("C", 0, &[(Variable::Pm25, &[nan, nan, nan, nan])]);
    let obs = Observations { series: vec![a, b, c] };
    let city = city_mean(&obs, &CityMeanOptions::default()).unwrap();
    // Hours 0..4: A alone; A 20 and B 40; A 30 alone (B's 3000 unusable); B 50; B 60.
    let pm = &city.series.columns[0].values;
    assert_eq!(pm, &[10.0, 30.0, 30.0, 50.0, 60.0]);
    assert_eq!(city.contributing, [1, 2, 1, 1, 1]);
    // Three stations, half of them is 1.5: every hour with one station is thin.
    assert_eq!(city.thin_hours, 4);
    let thin: Vec<bool> = city.series.columns[0].flags.iter().map(|f| f.contains(QcFlags::THIN)).collect();
    assert_eq!(thin, [true, false, true, true, true], "the thin hours are flagged in QC");
    assert_eq!(city.series.times.len(), 5);
}

#[test]
fn wind_is_averaged_as_vectors() {
    // 2 m/s from the north and 2 m/s from the east: √2 m/s from the north-east.
    let a = station("A", 0, &[(Variable::Pm25, &[1.0]), (Variable::Wspd, &[2.0]), (Variable::Wdir, &[0.0])]);
    let b = station("B", 0, &[(Variable::Pm25, &[1.0]), (Variable::Wspd, &[2.0]), (Variable::Wdir, &[90.0])]);
    let city = city_mean(&Observations { series: vec![a, b] }, &CityMeanOptions::default()).unwrap();
    let speed = city.series.column(Variable::Wspd).unwrap().values[0];
    let dir = city.series.column(Variable::Wdir).unwrap().values[0];
    assert!((speed - 2f64.sqrt()).abs() < 1e-12, "{speed}");
    assert!((dir - 45.0).abs() < 1e-9, "{dir}");
}

#[test]
fn an_assessment_station_missing_from_the_data_is_an_error_naming_those_there() {
    let a = station("A", 0, &[(Variable::Pm25, &[1.0])]);
    let options = CityMeanOptions { stations: Some(vec!["A".into(), "Z".into()]), ..CityMeanOptions::default() };
    let e = city_mean(&Observations { series: vec![a] }, &options).unwrap_err().to_string();
    assert!(e.contains("no station `Z`") && e.contains('A'), "{e}");
}

proptest! {
    /// A reference point (对照点), left out of the assessment stations, never changes the city
    /// mean, whatever it reads.
    #[test]
    fn a_reference_point_never_changes_the_city_mean(
        a in proptest::collection::vec(proptest::option::of(0.0f64..800.0), 24),
        b in proptest::collection::vec(proptest::option::of(0.0f64..800.0), 24),
        reference in proptest::collection::vec(proptest::option::of(0.0f64..2000.0), 1..60),
        reference_start in -30i64..30,
    ) {
        let values = |v: &[Option<f64>]| v.iter().map(|x| x.unwrap_or(f64::NAN)).collect::<Vec<_>>();
        let (a, b, r) = (values(&a), values(&b), values(&reference));
        let stations = Some(vec!["A".to_owned(), "B".to_owned()]);
        let options = CityMeanOptions { stations, ..CityMeanOptions::default() };
        let two = Observations { series: vec![station("A", 0, &[(Variable::Pm25, &a)]), station("B", 0, &[(Variable::Pm25, &b)])] };
        let mut three = two.clone();
        // Its own hours, before, across or after the assessment stations'.
        three.series.push(station("R", reference_start, &[(Variable::Pm25, &r)]));
        let without = city_mean(&two, &options).unwrap();
        let with = city_mean(&three, &options).unwrap();
        let same = without.series.columns[0].values.iter().zip(&with.series.columns[0].values)
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()));
        prop_assert!(same);
        prop_assert_eq!(&without.contributing, &with.contributing);
        prop_assert_eq!(with.ignored, vec!["R".to_owned()]);
    }
}
