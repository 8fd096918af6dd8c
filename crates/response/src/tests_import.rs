//! How a reduction-list import refuses what it must not take for data: dates, booleans and
//! formula results in number columns, control characters, GBK files, empty files, and
//! baselines larger than the city's inventory.

use crate::*;

/// The sample list of `tests_list` as an XLSX sheet, numbers written as numbers, with `edit`
/// applied to the worksheet before it is saved.
fn workbook(edit: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("清单").unwrap();
    for (r, line) in crate::tests_list::sample_list().lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(v) if r > 0 && (10..=17).contains(&c) => ws.write_number(r as u32, c as u16, v).unwrap(),
                _ => ws.write_string(r as u32, c as u16, cell).unwrap(),
            };
        }
    }
    edit(ws);
    wb.save_to_buffer().unwrap()
}

fn issues(r: Result<ReductionList, ResponseError>) -> Vec<ListIssue> {
    match r {
        Err(ResponseError::ListImport(issues)) => issues,
        other => panic!("expected import issues, got {other:?}"),
    }
}

#[test]
fn a_date_in_a_number_column_is_an_error_not_its_serial_number() {
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let bytes = workbook(|ws| {
        let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 1).unwrap();
        ws.write_datetime_with_format(1, 13, &day, &date_format).unwrap(); // row 2, SO2
    });
    let found = issues(ReductionList::from_xlsx(&bytes, &GradeRuleTable::builtin()));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].sheet.as_deref(), found[0].row, found[0].column.as_str()), (Some("清单"), 2, "so2_kg_d"));
    assert!(found[0].message.contains("is a date (2024-03-01)"), "{}", found[0].message);
}

#[test]
fn a_boolean_or_a_formula_in_a_number_column_is_an_error() {
    let bytes = workbook(|ws| {
        ws.write_boolean(2, 14, true).unwrap(); // row 3, NOx
        ws.write_formula(3, 17, rust_xlsxwriter::Formula::new("=5*2").set_result("10")).unwrap(); // row 4, trucks
    });
    let found = issues(ReductionList::from_xlsx(&bytes, &GradeRuleTable::builtin()));
    let at: Vec<(usize, &str)> = found.iter().map(|i| (i.row, i.column.as_str())).collect();
    assert_eq!(at, [(3, "nox_kg_d"), (4, "trucks_per_day")], "{found:#?}");
    assert!(found[0].message.contains("boolean (TRUE)") && found[1].message.contains("formula"), "{found:#?}");
}

#[test]
fn a_control_character_in_any_cell_is_named_by_row_and_column() {
    let text = crate::tests_list::sample_list().replacen("甲水泥", "甲\u{b}水泥", 1);
    let found = issues(ReductionList::from_csv(text.as_bytes(), &GradeRuleTable::builtin()));
    assert_eq!((found.len(), found[0].row, found[0].column.as_str()), (1, 2, "name"), "{found:#?}");
    assert!(found[0].message.contains("U+000B"), "{}", found[0].message);
}

#[test]
fn a_gbk_file_or_an_empty_file_is_one_clear_error() {
    let gbk = [0xC6, 0xF3, 0xD2, 0xB5, 0xC3, 0xFB, 0xB3, 0xC6, b'\n'];
    let found = issues(ReductionList::from_csv(&gbk, &GradeRuleTable::builtin()));
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("looks like GBK"), "{}", found[0].message);
    for empty in [&b""[..], b"\xef\xbb\xbf", b"\n\n"] {
        let found = issues(ReductionList::from_csv(empty, &GradeRuleTable::builtin()));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].message, "the file is empty");
    }
}

#[test]
fn an_enterprise_emitting_more_than_the_whole_city_is_refused() {
    let list =
        ReductionList::from_csv(crate::tests_list::sample_list().as_bytes(), &GradeRuleTable::builtin()).unwrap();
    // 己热电 emits 400 kg/d of SO2 and 800 of NOx; 甲水泥 1000 of NOx (hand-read from the sample rows).
    let city = Inventory::from_csv(b"pollutant,total_kg_d\nSO2,399\nNOx,10000\nPM,2000\nVOCs,5000\n").unwrap();
    let ResponseError::ListImport(found) = list.check_inventory(&city).unwrap_err() else { panic!() };
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].column, "so2_kg_d");
    assert!(found[0].message.starts_with("己热电 ("), "{}", found[0].message);
    assert!(found[0].to_string().starts_with("column `so2_kg_d`: 己热电"), "{}", found[0]);
    let ample = Inventory::from_csv(b"pollutant,total_kg_d\nSO2,400\nNOx,1000\nPM,2000\nVOCs,5000\n").unwrap();
    assert!(list.check_inventory(&ample).is_ok(), "equal to the city's total is not more than it");
}

#[test]
fn a_new_version_is_described_by_the_enterprises_it_adds_removes_and_changes() {
    let rules = GradeRuleTable::builtin();
    let old_text = crate::tests_list::sample_list();
    let old = ReductionList::from_csv(old_text.as_bytes(), &rules).unwrap();
    let mut lines: Vec<String> = old_text.lines().map(str::to_owned).collect();
    lines.remove(2); // 乙水泥 goes
    lines[1] = lines[1].replace("甲水泥", "甲水泥（新名）"); // renamed
    lines[2] = lines[2].replace(",10,100,50,20,", ",10,100,50,25,"); // 丙铸造 熔炼: VOCs 20 → 25
    let new_row = old_text
        .lines()
        .nth(2)
        .unwrap()
        .replacen(&old.enterprises[1].credit_code.as_str().to_string(), "91350100M000100Y43", 1)
        .replace("乙水泥", "庚水泥");
    lines.push(new_row);
    let new = ReductionList::from_csv(lines.join("\n").as_bytes(), &rules).unwrap();
    let d = old.diff(&new);
    let names = |v: &[ListedEnterprise]| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&d.added), ["庚水泥"]);
    assert_eq!(names(&d.removed), ["乙水泥"]);
    let changed: Vec<(&str, Vec<&str>)> = d.changed.iter().map(|c| (c.name.as_str(), c.fields.clone())).collect();
    assert_eq!(changed, [("甲水泥（新名）", vec!["name"]), ("丙铸造", vec!["lines"])]);
    // 丁包装, 戊食品 and 己热电 are as they were.
    assert_eq!(d.unchanged, 3);
    assert!(old.diff(&old).is_empty());
}
