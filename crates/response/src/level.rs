//! Warning levels and response levels.

use serde::{Deserialize, Serialize};

/// The colour of a heavy-pollution warning. Ordered: `None < Yellow < Orange < Red`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WarningLevel {
    #[default]
    None,
    Yellow,
    Orange,
    Red,
}

impl WarningLevel {
    pub const COLOURED: [WarningLevel; 3] = [WarningLevel::Yellow, WarningLevel::Orange, WarningLevel::Red];

    pub fn name(self) -> &'static str {
        match self {
            WarningLevel::None => "none",
            WarningLevel::Yellow => "yellow",
            WarningLevel::Orange => "orange",
            WarningLevel::Red => "red",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            WarningLevel::None => "无预警",
            WarningLevel::Yellow => "黄色",
            WarningLevel::Orange => "橙色",
            WarningLevel::Red => "红色",
        }
    }

    /// Yellow = Ⅲ级, orange = Ⅱ级, red = Ⅰ级 (domain.md §0 fact 4).
    pub fn response_level(self) -> Option<ResponseLevel> {
        match self {
            WarningLevel::None => None,
            WarningLevel::Yellow => Some(ResponseLevel::III),
            WarningLevel::Orange => Some(ResponseLevel::II),
            WarningLevel::Red => Some(ResponseLevel::I),
        }
    }
}

impl std::str::FromStr for WarningLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<WarningLevel, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(WarningLevel::None),
            "yellow" | "黄色" => Ok(WarningLevel::Yellow),
            "orange" | "橙色" => Ok(WarningLevel::Orange),
            "red" | "红色" => Ok(WarningLevel::Red),
            other => Err(format!("`{other}` is not a warning level (none, yellow, orange, red)")),
        }
    }
}

impl std::fmt::Display for WarningLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The emergency response level that goes with a warning colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResponseLevel {
    #[serde(rename = "Ⅰ")]
    I,
    #[serde(rename = "Ⅱ")]
    II,
    #[serde(rename = "Ⅲ")]
    III,
}

impl ResponseLevel {
    pub fn zh(self) -> &'static str {
        match self {
            ResponseLevel::I => "Ⅰ级",
            ResponseLevel::II => "Ⅱ级",
            ResponseLevel::III => "Ⅲ级",
        }
    }
}
