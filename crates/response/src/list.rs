//! The emergency reduction list (应急减排清单): enterprises, their production lines and
//! measures, imported from CSV or XLSX with every error located by sheet, row and column.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::level::WarningLevel;
use crate::measure::Measure;
use crate::rules::GradeRuleTable;
use hazewarn_text::{check_text, utf8_text};

/// Performance grade (绩效分级) of an enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    #[serde(rename = "B-")]
    BMinus,
    C,
    D,
    #[serde(rename = "引领性")]
    Leading,
    #[serde(rename = "非引领性")]
    NonLeading,
    #[serde(rename = "非重点")]
    NonKey,
}

impl Grade {
    pub const ALL: [Grade; 8] =
        [Grade::A, Grade::B, Grade::BMinus, Grade::C, Grade::D, Grade::Leading, Grade::NonLeading, Grade::NonKey];

    pub fn name(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::BMinus => "B-",
            Grade::C => "C",
            Grade::D => "D",
            Grade::Leading => "引领性",
            Grade::NonLeading => "非引领性",
            Grade::NonKey => "非重点",
        }
    }

    pub fn parse(s: &str) -> Option<Grade> {
        let s = s.trim().replace('－', "-");
        Grade::ALL.into_iter().find(|g| g.name().eq_ignore_ascii_case(&s))
    }

    /// A and 引领性 reduce on their own (domain.md §3.2).
    pub fn self_directed(self) -> bool {
        matches!(self, Grade::A | Grade::Leading)
    }
}

/// Unified social credit code (统一社会信用代码), checked per GB 32100-2015.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

impl CreditCode {
    pub fn parse(s: &str) -> Result<CreditCode, String> {
        let s = s.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(format!("`{s}` has {} characters; a credit code has 18", s.chars().count()));
        }
        let mut sum = 0;
        for (i, ch) in s.chars().enumerate() {
            let v = USCC_CHARS.find(ch).ok_or_else(|| format!("`{ch}` is not allowed in a credit code"))?;
            if i < 17 {
                sum += v * USCC_WEIGHTS[i];
            }
        }
        let check = USCC_CHARS.as_bytes()[(31 - sum % 31) % 31] as char;
        if !s.ends_with(check) {
            return Err(format!("`{s}`: the check character should be `{check}`"));
        }
        Ok(CreditCode(s))
    }

    /// Complete 17 characters with their check character (for generated or test data).
    pub fn with_check(body: &str) -> Result<CreditCode, String> {
        let sum: usize = body
            .chars()
            .zip(USCC_WEIGHTS)
            .map(|(c, w)| USCC_CHARS.find(c).map(|v| v * w).ok_or_else(|| format!("`{c}` is not allowed")))
            .sum::<Result<usize, String>>()?;
        if body.chars().count() != 17 {
            return Err("a credit code body has 17 characters".into());
        }
        CreditCode::parse(&format!("{body}{}", USCC_CHARS.as_bytes()[(31 - sum % 31) % 31] as char))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditCode {
    type Error = String;
    fn try_from(s: String) -> Result<CreditCode, String> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Daily emissions of the four pollutants the targets apply to, kg/day.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Emissions {
    pub so2: f64,
    pub nox: f64,
    pub pm: f64,
    pub vocs: f64,
}

impl Emissions {
    pub const NAMES: [&'static str; 4] = ["SO2", "NOx", "PM", "VOCs"];

    pub fn get(&self, i: usize) -> f64 {
        [self.so2, self.nox, self.pm, self.vocs][i]
    }

    pub fn scaled(&self, k: f64) -> Emissions {
        Emissions { so2: self.so2 * k, nox: self.nox * k, pm: self.pm * k, vocs: self.vocs * k }
    }

    pub fn add(&mut self, o: &Emissions) {
        self.so2 += o.so2;
        self.nox += o.nox;
        self.pm += o.pm;
        self.vocs += o.vocs;
    }
}

/// A production line or process with its baseline and per-level measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductionLine {
    pub name: String,
    pub capacity_eia: f64,
    pub capacity_permit: f64,
    pub output_last_year: f64,
    pub emissions: Emissions,
    pub trucks_per_day: u32,
    /// Measures for yellow, orange, red; `None` = blank, taken from the grade-rule table.
    pub measures: [Option<Measure>; 3],
}

impl ProductionLine {
    /// The capacity baseline: the minimum of the EIA, permit and last year's output (§3.3).
    pub fn baseline_capacity(&self) -> f64 {
        self.capacity_eia.min(self.capacity_permit).min(self.output_last_year)
    }

    pub fn measure(&self, level: WarningLevel) -> Option<Measure> {
        match level {
            WarningLevel::None => None,
            WarningLevel::Yellow => self.measures[0],
            WarningLevel::Orange => self.measures[1],
            WarningLevel::Red => self.measures[2],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    pub credit_code: CreditCode,
    pub name: String,
    pub county: String,
    pub industry: String,
    pub grade: Grade,
    /// 保障类, with its reason.
    pub guarantee: Option<String>,
    /// 白名单, with its reason.
    pub whitelist: Option<String>,
    pub contact: String,
    /// Where notices go: an https:// webhook, `file:DIR`, or empty for the office to deliver.
    pub endpoint: String,
    pub lines: Vec<ProductionLine>,
}

/// A reduction list as imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReductionList {
    pub enterprises: Vec<Enterprise>,
}

/// One problem in an import, located as a spreadsheet user would look for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListIssue {
    pub sheet: Option<String>,
    /// 1-based row as the spreadsheet shows it (the header is row 1); 0 for a problem of a
    /// whole enterprise, which the message names.
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for ListIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = &self.sheet {
            write!(f, "sheet `{s}`, ")?;
        }
        if self.row > 0 {
            write!(f, "row {}, ", self.row)?;
        }
        write!(f, "column `{}`: {}", self.column, self.message)
    }
}

/// The columns of the list, with the Chinese header also accepted. One row per production line;
/// the enterprise columns repeat on each of its rows.
pub const COLUMNS: [(&str, &str, bool); 21] = [
    ("credit_code", "统一社会信用代码", true),
    ("name", "企业名称", true),
    ("county", "县区", true),
    ("industry", "指南行业类别", true),
    ("grade", "绩效级别", true),
    ("guarantee_reason", "保障类原因", false),
    ("whitelist_reason", "白名单原因", false),
    ("contact", "联系人及电话", true),
    ("endpoint", "送达方式", false),
    ("line", "生产线或工序", true),
    ("capacity_eia", "环评批复产能", true),
    ("capacity_permit", "排污许可产能", true),
    ("output_last_year", "上年日均实际产量", true),
    ("so2_kg_d", "SO2基准排放(kg/d)", true),
    ("nox_kg_d", "NOx基准排放(kg/d)", true),
    ("pm_kg_d", "PM基准排放(kg/d)", true),
    ("vocs_kg_d", "VOCs基准排放(kg/d)", true),
    ("trucks_per_day", "日均重型货车(辆次)", true),
    ("measure_yellow", "黄色预警措施", false),
    ("measure_orange", "橙色预警措施", false),
    ("measure_red", "红色预警措施", false),
];

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

    /// Refuses an enterprise whose baseline of a pollutant (summed over its lines) exceeds the
    /// city's whole inventory of it: one enterprise cannot emit more than the city, so such a
    /// row holds a typing error (a wrong unit, a date taken for a number) that would make the
    /// plan's percentages meaningless.
    pub fn check_inventory(&self, inventory: &crate::Inventory) -> Result<(), ResponseError> {
        let mut issues = Vec::new();
        for e in &self.enterprises {
            let mut total = Emissions::default();
            e.lines.iter().for_each(|l| total.add(&l.emissions));
            for (k, name) in Emissions::NAMES.iter().enumerate() {
                let (mine, city) = (total.get(k), inventory.totals.get(k));
                if mine > city {
                    issues.push(issue(
                        None,
                        0,
                        COLUMNS[13 + k].0,
                        &format!(
                            "{} ({}): {name} baseline {mine} kg/d exceeds the city inventory {city} kg/d",
                            e.name, e.credit_code
                        ),
                    ));
                }
            }
        }
        if issues.is_empty() { Ok(()) } else { Err(ResponseError::ListImport(issues)) }
    }

    pub fn line_count(&self) -> usize {
        self.enterprises.iter().map(|e| e.lines.len()).sum()
    }

    /// A CSV template with the documented columns (Chinese headers) and one example row.
    pub fn template_csv() -> String {
        let header: Vec<&str> = COLUMNS.iter().map(|(_, zh, _)| *zh).collect();
        let example = [
            "91411100MA00000007",
            "示例水泥有限公司",
            "源汇区",
            "水泥熟料",
            "B",
            "",
            "",
            "张三 0395-0000000",
            "https://example.invalid/hook",
            "1#熟料生产线",
            "5000",
            "4800",
            "4500",
            "120",
            "900",
            "150",
            "20",
            "60",
            "",
            "",
            "",
        ];
        format!("\u{feff}{}\n{}\n", header.join(","), example.join(","))
    }
}

fn issue(sheet: Option<&str>, row: usize, column: &str, message: &str) -> ListIssue {
    ListIssue { sheet: sheet.map(str::to_owned), row, column: column.to_owned(), message: message.to_owned() }
}

fn parse_sheet(sheet: Sheet, rules: &GradeRuleTable) -> Result<ReductionList, ResponseError> {
    let sname = sheet.name.as_deref();
    if sheet.header.iter().all(String::is_empty) && sheet.rows.is_empty() {
        return Err(ResponseError::ListImport(vec![issue(sname, 1, "", "the file is empty")]));
    }
    let mut issues = Vec::new();
    let index: Vec<Option<usize>> =
        COLUMNS.iter().map(|(en, zh, _)| sheet.header.iter().position(|h| h == en || h == zh)).collect();
    for ((en, zh, required), i) in COLUMNS.iter().zip(&index) {
        if *required && i.is_none() {
            issues.push(issue(sname, 1, en, &format!("required column is missing (header `{en}` or `{zh}`)")));
        }
    }
    if !issues.is_empty() {
        return Err(ResponseError::ListImport(issues));
    }
    let mut by_code: BTreeMap<CreditCode, (usize, Enterprise)> = BTreeMap::new();
    let mut order = Vec::new();
    for (row, cells) in &sheet.rows {
        if cells.iter().all(|c| c.text.is_empty()) {
            continue; // a blank spreadsheet row carries nothing
        }
        let cell = |c: usize| index[c].and_then(|i| cells.get(i));
        let get = |c: usize| cell(c).map_or("", |x| x.text.as_str());
        let mut bad = |c: usize, m: String| issues.push(issue(sname, *row, COLUMNS[c].0, &m));
        for (c, (name, _, _)) in COLUMNS.iter().enumerate() {
            if let Err(e) = check_text(name, get(c), MAX_CELL_CHARS) {
                bad(c, e);
            }
        }
        let text = |c: usize, bad: &mut dyn FnMut(usize, String)| {
            let v = get(c);
            if v.is_empty() && COLUMNS[c].2 {
                bad(c, "is empty".into());
            }
            v.to_owned()
        };
        let number = |c: usize, bad: &mut dyn FnMut(usize, String)| -> f64 {
            if let Some(why) = cell(c).and_then(|x| x.not_a_number.clone()) {
                bad(c, why);
                return 0.0;
            }
            match get(c).parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => v,
                _ => {
                    bad(c, format!("`{}` is not a non-negative number", get(c)));
                    0.0
                }
            }
        };
        let code = match CreditCode::parse(get(0)) {
            Ok(c) => Some(c),
            Err(e) => {
                bad(0, e);
                None
            }
        };
        let name = text(1, &mut bad);
        let county = text(2, &mut bad);
        let industry = text(3, &mut bad);
        let grade = Grade::parse(get(4));
        if grade.is_none() {
            bad(4, format!("`{}` is not a grade (A, B, B-, C, D, 引领性, 非引领性, 非重点)", get(4)));
        }
        let opt = |c: usize| Some(get(c).to_owned()).filter(|s| !s.is_empty());
        let (guarantee, whitelist) = (opt(5), opt(6));
        let contact = text(7, &mut bad);
        let endpoint = get(8).to_owned();
        let line_name = text(9, &mut bad);
        let (eia, permit, output) = (number(10, &mut bad), number(11, &mut bad), number(12, &mut bad));
        let emissions = Emissions {
            so2: number(13, &mut bad),
            nox: number(14, &mut bad),
            pm: number(15, &mut bad),
            vocs: number(16, &mut bad),
        };
        let trucks = match get(17).parse::<u32>() {
            _ if cell(17).is_some_and(|x| x.not_a_number.is_some()) => {
                bad(17, cell(17).and_then(|x| x.not_a_number.clone()).unwrap_or_default());
                0
            }
            Ok(v) => v,
            Err(_) => {
                bad(17, format!("`{}` is not a whole number of trucks", get(17)));
                0
            }
        };
        let mut measures = [None; 3];
        for (k, level) in WarningLevel::COLOURED.into_iter().enumerate() {
            let c = 18 + k;
            if get(c).is_empty() {
                // Blank: the grade-rule table must cover it, unless the enterprise is exempt or self-directed.
                let covered = grade.is_none_or(|g| {
                    g.self_directed()
                        || guarantee.is_some()
                        || whitelist.is_some()
                        || rules.lookup(&industry, g, level).is_some()
                });
                if !covered {
                    bad(
                        c,
                        format!(
                            "blank, and the grade-rule table has no {} row for {industry} grade {}",
                            level,
                            grade.map_or("?", Grade::name)
                        ),
                    );
                }
            } else {
                match Measure::parse(get(c)) {
                    Ok(m) => measures[k] = Some(m),
                    Err(e) => bad(c, e),
                }
            }
        }
        let (Some(code), Some(grade)) = (code, grade) else { continue };
        let line = ProductionLine {
            name: line_name,
            capacity_eia: eia,
            capacity_permit: permit,
            output_last_year: output,
            emissions,
            trucks_per_day: trucks,
            measures,
        };
        match by_code.get_mut(&code) {
            Some((first_row, e)) => {
                let fields = [
                    (1, &e.name, &name),
                    (2, &e.county, &county),
                    (3, &e.industry, &industry),
                    (7, &e.contact, &contact),
                ];
                for (c, was, now) in fields {
                    if was != now {
                        bad(c, format!("`{now}` differs from `{was}` on row {first_row} of the same enterprise"));
                    }
                }
                if e.grade != grade || e.guarantee != guarantee || e.whitelist != whitelist {
                    bad(4, format!("grade or flags differ from row {first_row} of the same enterprise"));
                }
                if e.lines.iter().any(|l| l.name == line.name) {
                    bad(9, format!("line `{}` is listed twice for this enterprise", line.name));
                }
                e.lines.push(line);
            }
            None => {
                order.push(code.clone());
                let e = Enterprise {
                    credit_code: code.clone(),
                    name,
                    county,
                    industry,
                    grade,
                    guarantee,
                    whitelist,
                    contact,
                    endpoint,
                    lines: vec![line],
                };
                by_code.insert(code, (*row, e));
            }
        }
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
