//! The emergency reduction list (应急减排清单): enterprises, their production lines and
//! measures. `list_import` reads it from CSV or XLSX with every error located by sheet, row and
//! column.

use serde::{Deserialize, Serialize};

use crate::ResponseError;
use crate::contact::Contacts;
use crate::level::WarningLevel;
use crate::list_import::issue;
use crate::measure::Measure;

/// Performance grade (绩效分级) of an enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Mobile, e-mail and group robot, each checked on import (lists stored before these
    /// columns read as none).
    #[serde(default, skip_serializing_if = "Contacts::is_empty")]
    pub contacts: Contacts,
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
pub const COLUMNS: [(&str, &str, bool); 24] = [
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
    ("mobile", "手机", false),
    ("email", "邮箱", false),
    ("robot", "工作群机器人", false),
];

impl ReductionList {
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
            "13900000000",
            "duty@example.com",
            "",
        ];
        format!("\u{feff}{}\n{}\n", header.join(","), example.join(","))
    }
}
