//! Reading a reduction list from CSV or XLSX: each row becomes one production line of its
//! enterprise, and every problem is located by sheet, row and column. Nothing is returned
//! unless the whole file is right.

use std::collections::BTreeMap;

use hazewarn_text::{check_text, utf8_text};

use crate::ResponseError;
use crate::contact::{Contacts, parse_email, parse_mobile, robot_kind};
use crate::level::WarningLevel;
use crate::list::{COLUMNS, CreditCode, Emissions, Enterprise, Grade, ListIssue, ProductionLine, ReductionList};
use crate::measure::Measure;
use crate::rules::GradeRuleTable;

/// A grid of cells from either format, with where each row came from.
struct Sheet {
    name: Option<String>,
    header: Vec<String>,
    rows: Vec<(usize, Vec<Cell>)>,
}

/// A cell's text and what the spreadsheet holds there: a date typed into a number column shows
/// as a date but is stored as its serial number, which must not pass for a quantity.
#[derive(Debug, Clone, Default)]
struct Cell {
    text: String,
    not_a_number: Option<String>,
}

impl Cell {
    fn text(text: String) -> Cell {
        Cell { text, not_a_number: None }
    }
}

/// The most characters a list's text cell may hold.
const MAX_CELL_CHARS: usize = 500;

/// What an XLSX cell holds, with a reason when it is a date, a boolean, an error or the
/// result of a formula rather than a number typed in.
fn xlsx_cell(d: &calamine::Data, formula: bool) -> Cell {
    use calamine::Data;
    let text = match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    };
    let not_a_number = match d {
        _ if formula => Some(format!("`{text}` is the result of a formula; type the number itself")),
        Data::DateTime(dt) => Some(format!(
            "is a date ({}), not a number; type the number itself",
            dt.as_datetime().map_or(text.clone(), |t| t.format("%Y-%m-%d").to_string())
        )),
        Data::DateTimeIso(t) | Data::DurationIso(t) => Some(format!("is a date or duration ({t}), not a number")),
        Data::Bool(b) => Some(format!("is a boolean ({}), not a number", if *b { "TRUE" } else { "FALSE" })),
        Data::Error(e) => Some(format!("is a spreadsheet error ({e}), not a number")),
        _ => None,
    };
    Cell { text, not_a_number }
}

impl ReductionList {
    pub fn from_csv(bytes: &[u8], rules: &GradeRuleTable) -> Result<ReductionList, ResponseError> {
        let text = utf8_text(bytes).map_err(|m| ResponseError::ListImport(vec![issue(None, 1, "", &m)]))?;
        let text = text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| ResponseError::ListImport(vec![issue(None, 1, "", &e.to_string())]))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut rows = Vec::new();
        for (k, r) in reader.records().enumerate() {
            let r = r.map_err(|e| ResponseError::ListImport(vec![issue(None, k + 2, "", &e.to_string())]))?;
            rows.push((k + 2, r.iter().map(|c| Cell::text(c.trim().to_owned())).collect()));
        }
        parse_sheet(Sheet { name: None, header, rows }, rules)
    }

    /// The first worksheet of an XLSX workbook.
    pub fn from_xlsx(bytes: &[u8], rules: &GradeRuleTable) -> Result<ReductionList, ResponseError> {
        use calamine::{Reader, Xlsx};
        let fail = |m: String| ResponseError::ListImport(vec![issue(None, 0, "", &m)]);
        let mut wb: Xlsx<_> =
            Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| fail(format!("not an XLSX file: {e}")))?;
        let name = wb.sheet_names().first().cloned().ok_or_else(|| fail("the workbook has no sheet".into()))?;
        let range = wb.worksheet_range(&name).map_err(|e| fail(format!("sheet `{name}`: {e}")))?;
        let formulas = wb.worksheet_formula(&name).map_err(|e| fail(format!("sheet `{name}`: {e}")))?;
        let (top, left) = range.start().unwrap_or((0, 0));
        let has_formula = |row: usize, col: usize| {
            formulas.get_value((top + row as u32, left + col as u32)).is_some_and(|f| !f.is_empty())
        };
        let mut rows = range.rows().enumerate();
        let header = rows.next().map(|(_, r)| r.iter().map(|d| xlsx_cell(d, false).text).collect()).unwrap_or_default();
        let rows = rows
            .map(|(k, r)| {
                let cells = r.iter().enumerate().map(|(c, d)| xlsx_cell(d, has_formula(k, c))).collect();
                (top as usize + k + 1, cells)
            })
            .collect();
        parse_sheet(Sheet { name: Some(name), header, rows }, rules)
    }
}

pub(crate) fn issue(sheet: Option<&str>, row: usize, column: &str, message: &str) -> ListIssue {
    ListIssue { sheet: sheet.map(str::to_owned), row, column: column.to_owned(), message: message.to_owned() }
}

/// Where each of [`COLUMNS`] is in the header; every required column missing is a problem.
fn column_index(sheet: &Sheet) -> Result<Vec<Option<usize>>, ResponseError> {
    let sname = sheet.name.as_deref();
    if sheet.header.iter().all(String::is_empty) && sheet.rows.is_empty() {
        return Err(ResponseError::ListImport(vec![issue(sname, 1, "", "the file is empty")]));
    }
    let index: Vec<Option<usize>> =
        COLUMNS.iter().map(|(en, zh, _)| sheet.header.iter().position(|h| h == en || h == zh)).collect();
    let missing: Vec<ListIssue> = COLUMNS
        .iter()
        .zip(&index)
        .filter(|((_, _, required), i)| *required && i.is_none())
        .map(|((en, zh, _), _)| issue(sname, 1, en, &format!("required column is missing (header `{en}` or `{zh}`)")))
        .collect();
    if missing.is_empty() { Ok(index) } else { Err(ResponseError::ListImport(missing)) }
}

/// One row's cells by column, collecting its problems.
struct RowReader<'a> {
    sheet: Option<&'a str>,
    row: usize,
    index: &'a [Option<usize>],
    cells: &'a [Cell],
    issues: Vec<ListIssue>,
}

impl RowReader<'_> {
    fn cell(&self, c: usize) -> Option<&Cell> {
        self.index[c].and_then(|i| self.cells.get(i))
    }

    fn get(&self, c: usize) -> &str {
        self.cell(c).map_or("", |x| x.text.as_str())
    }

    fn bad(&mut self, c: usize, message: String) {
        self.issues.push(issue(self.sheet, self.row, COLUMNS[c].0, &message));
    }

    /// Text, required or not as the column says.
    fn text(&mut self, c: usize) -> String {
        let v = self.get(c).to_owned();
        if v.is_empty() && COLUMNS[c].2 {
            self.bad(c, "is empty".into());
        }
        v
    }

    fn optional(&self, c: usize) -> Option<String> {
        Some(self.get(c).to_owned()).filter(|s| !s.is_empty())
    }

    /// A typed-in number (not a date, boolean or formula result).
    fn typed(&mut self, c: usize) -> bool {
        match self.cell(c).and_then(|x| x.not_a_number.clone()) {
            Some(why) => {
                self.bad(c, why);
                false
            }
            None => true,
        }
    }

    fn number(&mut self, c: usize) -> f64 {
        if !self.typed(c) {
            return 0.0;
        }
        match self.get(c).parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            _ => {
                self.bad(c, format!("`{}` is not a non-negative number", self.get(c)));
                0.0
            }
        }
    }

    fn whole(&mut self, c: usize, what: &str) -> u32 {
        if !self.typed(c) {
            return 0;
        }
        self.get(c).parse::<u32>().unwrap_or_else(|_| {
            self.bad(c, format!("`{}` is not a whole number of {what}", self.get(c)));
            0
        })
    }

    /// The three levels' measures; a blank one must be covered by the grade-rule table unless
    /// the enterprise is exempt (保障类, 白名单) or self-directed.
    fn measures(
        &mut self,
        industry: &str,
        grade: Option<Grade>,
        exempt: bool,
        rules: &GradeRuleTable,
    ) -> [Option<Measure>; 3] {
        let mut measures = [None; 3];
        for (k, level) in WarningLevel::COLOURED.into_iter().enumerate() {
            let c = 18 + k;
            if !self.get(c).is_empty() {
                match Measure::parse(self.get(c)) {
                    Ok(m) => measures[k] = Some(m),
                    Err(err) => self.bad(c, err),
                }
                continue;
            }
            let covered =
                grade.is_none_or(|g| exempt || g.self_directed() || rules.lookup(industry, g, level).is_some());
            if !covered {
                let g = grade.map_or("?", Grade::name);
                self.bad(c, format!("blank, and the grade-rule table has no {level} row for {industry} grade {g}"));
            }
        }
        measures
    }

    /// The mobile, e-mail and robot columns, each checked; a blank one is none.
    fn contacts(&mut self) -> Contacts {
        let mut checked = |c: usize, parse: fn(&str) -> Result<String, String>| {
            let v = self.optional(c)?;
            parse(&v).map_err(|e| self.bad(c, e)).ok()
        };
        let mobile = checked(21, parse_mobile);
        let email = checked(22, parse_email);
        let robot = checked(23, |s| robot_kind(s).map(|_| s.to_owned()));
        Contacts { mobile, email, robot }
    }

    /// The row as an enterprise with its one line; `None` when its code or grade is unusable
    /// (the problems are recorded).
    fn read(&mut self, rules: &GradeRuleTable) -> Option<Enterprise> {
        for (c, (name, _, _)) in COLUMNS.iter().enumerate() {
            if let Err(e) = check_text(name, self.get(c), MAX_CELL_CHARS) {
                self.bad(c, e);
            }
        }
        let code = CreditCode::parse(self.get(0)).map_err(|e| self.bad(0, e)).ok();
        let (name, county, industry) = (self.text(1), self.text(2), self.text(3));
        let grade = Grade::parse(self.get(4));
        if grade.is_none() {
            self.bad(4, format!("`{}` is not a grade (A, B, B-, C, D, 引领性, 非引领性, 非重点)", self.get(4)));
        }
        let (guarantee, whitelist) = (self.optional(5), self.optional(6));
        let (contact, endpoint, line_name) = (self.text(7), self.get(8).to_owned(), self.text(9));
        let (eia, permit, output) = (self.number(10), self.number(11), self.number(12));
        let emissions =
            Emissions { so2: self.number(13), nox: self.number(14), pm: self.number(15), vocs: self.number(16) };
        let trucks = self.whole(17, "trucks");
        let exempt = guarantee.is_some() || whitelist.is_some();
        let measures = self.measures(&industry, grade, exempt, rules);
        let contacts = self.contacts();
        let line = ProductionLine {
            name: line_name,
            capacity_eia: eia,
            capacity_permit: permit,
            output_last_year: output,
            emissions,
            trucks_per_day: trucks,
            measures,
        };
        let (credit_code, grade) = (code?, grade?);
        let lines = vec![line];
        Some(Enterprise {
            credit_code,
            name,
            county,
            industry,
            grade,
            guarantee,
            whitelist,
            contact,
            endpoint,
            contacts,
            lines,
        })
    }

    /// A further line of an enterprise first seen on `first_row`: its enterprise columns must
    /// repeat the first row's, and its line must be new.
    fn merge(&mut self, first_row: usize, into: &mut Enterprise, row: Enterprise) {
        let fields = [(1, &into.name, &row.name), (2, &into.county, &row.county), (3, &into.industry, &row.industry)];
        let contact = [(7, &into.contact, &row.contact)];
        fn reach(c: &Contacts) -> [String; 3] {
            [&c.mobile, &c.email, &c.robot].map(|v| v.clone().unwrap_or_default())
        }
        let (was, now) = (reach(&into.contacts), reach(&row.contacts));
        let reach = [(21, &was[0], &now[0]), (22, &was[1], &now[1]), (23, &was[2], &now[2])];
        for (c, was, now) in fields.into_iter().chain(contact).chain(reach) {
            if was != now {
                self.bad(c, format!("`{now}` differs from `{was}` on row {first_row} of the same enterprise"));
            }
        }
        if into.grade != row.grade || into.guarantee != row.guarantee || into.whitelist != row.whitelist {
            self.bad(4, format!("grade or flags differ from row {first_row} of the same enterprise"));
        }
        for line in row.lines {
            if into.lines.iter().any(|l| l.name == line.name) {
                self.bad(9, format!("line `{}` is listed twice for this enterprise", line.name));
            }
            into.lines.push(line);
        }
    }
}

fn parse_sheet(sheet: Sheet, rules: &GradeRuleTable) -> Result<ReductionList, ResponseError> {
    let index = column_index(&sheet)?;
    let sname = sheet.name.as_deref();
    let mut issues = Vec::new();
    let mut by_code: BTreeMap<CreditCode, (usize, Enterprise)> = BTreeMap::new();
    let mut order = Vec::new();
    for (row, cells) in &sheet.rows {
        if cells.iter().all(|c| c.text.is_empty()) {
            continue; // a blank spreadsheet row carries nothing
        }
        let mut r = RowReader { sheet: sname, row: *row, index: &index, cells, issues: Vec::new() };
        if let Some(e) = r.read(rules) {
            match by_code.get_mut(&e.credit_code) {
                Some((first_row, into)) => r.merge(*first_row, into, e),
                None => {
                    order.push(e.credit_code.clone());
                    by_code.insert(e.credit_code.clone(), (*row, e));
                }
            }
        }
        issues.append(&mut r.issues);
    }
    if !issues.is_empty() {
        return Err(ResponseError::ListImport(issues));
    }
    if order.is_empty() {
        return Err(ResponseError::ListImport(vec![issue(sname, 2, "", "the list has no enterprises")]));
    }
    let enterprises = order.into_iter().map(|c| by_code.remove(&c).expect("inserted").1).collect();
    Ok(ReductionList { enterprises })
}
