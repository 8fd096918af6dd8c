//! The measure language of the reduction list: `stop`, `cut:N`, `trucks:guo5`, `self`, `none`,
//! combined with `;` (e.g. `cut:20;trucks:guo5`).

use serde::{Deserialize, Serialize};

/// A parsed measure for one production line at one warning level.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    /// Stop the line (100 % of baseline production).
    pub stop: bool,
    /// Cut production by this percentage of the baseline.
    pub cut_percent: Option<f64>,
    /// Only 国五-and-above or new-energy heavy trucks may haul.
    pub trucks_guo5: bool,
    /// Self-directed reduction (A, 引领性, 白名单): not quantified.
    pub self_directed: bool,
}

impl Measure {
    /// Parse the measure language. Errors say what is wrong with which term.
    pub fn parse(text: &str) -> Result<Measure, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the measure is empty".into());
        }
        let mut m = Measure::default();
        let mut none = false;
        let mut seen: Vec<&str> = Vec::new();
        for term in text.split(';').map(str::trim) {
            let key = term.split(':').next().unwrap_or("");
            if seen.contains(&key) {
                return Err(format!("`{key}` appears twice"));
            }
            seen.push(key);
            match term {
                "stop" => m.stop = true,
                "self" => m.self_directed = true,
                "none" => none = true,
                "trucks:guo5" => m.trucks_guo5 = true,
                t if t.starts_with("cut:") => {
                    let n: f64 =
                        t[4..].trim_end_matches('%').parse().map_err(|_| format!("`{t}`: N must be a number"))?;
                    if !(n > 0.0 && n <= 100.0) {
                        return Err(format!("`{t}`: N must be in (0, 100]"));
                    }
                    m.cut_percent = Some(n);
                }
                t => return Err(format!("unknown term `{t}`; use stop, cut:N, trucks:guo5, self or none")),
            }
        }
        if none && seen.len() > 1 {
            return Err("`none` cannot be combined with other terms".into());
        }
        if m.stop && m.cut_percent.is_some() {
            return Err("`stop` and `cut:N` contradict each other".into());
        }
        if m.self_directed && (m.stop || m.cut_percent.is_some()) {
            return Err("`self` cannot be combined with `stop` or `cut:N`".into());
        }
        Ok(m)
    }

    /// Share of the line's baseline removed: 1 for `stop`, N/100 for `cut:N`, else 0.
    pub fn production_fraction(&self) -> f64 {
        if self.stop { 1.0 } else { self.cut_percent.map_or(0.0, |n| n / 100.0) }
    }

    pub fn is_none(&self) -> bool {
        *self == Measure::default()
    }

    /// The canonical text in the measure language.
    pub fn code(&self) -> String {
        let mut t = Vec::new();
        if self.stop {
            t.push("stop".to_owned());
        }
        if let Some(n) = self.cut_percent {
            t.push(format!("cut:{n}"));
        }
        if self.self_directed {
            t.push("self".to_owned());
        }
        if self.trucks_guo5 {
            t.push("trucks:guo5".to_owned());
        }
        if t.is_empty() { "none".to_owned() } else { t.join(";") }
    }

    /// Plain Chinese for a notice.
    pub fn zh(&self) -> String {
        let mut t = Vec::new();
        if self.stop {
            t.push("停产（该生产线全部停止生产）".to_owned());
        }
        if let Some(n) = self.cut_percent {
            t.push(format!("限产{n}%（以基准产能计）"));
        }
        if self.self_directed {
            t.push("自主采取减排措施".to_owned());
        }
        if self.trucks_guo5 {
            t.push("停止使用国四及以下排放标准重型载货车辆（含燃气）运输，国五及以上或新能源车辆除外".to_owned());
        }
        if t.is_empty() { "无强制减排措施".to_owned() } else { t.join("；") }
    }

    pub fn en(&self) -> String {
        let mut t = Vec::new();
        if self.stop {
            t.push("stop production on this line".to_owned());
        }
        if let Some(n) = self.cut_percent {
            t.push(format!("cut production by {n}% of the baseline"));
        }
        if self.self_directed {
            t.push("self-directed reductions".to_owned());
        }
        if self.trucks_guo5 {
            t.push("heavy trucks only of China V or better, or new-energy".to_owned());
        }
        if t.is_empty() { "no mandatory measure".to_owned() } else { t.join("; ") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_parses_and_round_trips() {
        let m = Measure::parse("cut:20; trucks:guo5").unwrap();
        assert_eq!((m.cut_percent, m.trucks_guo5, m.production_fraction()), (Some(20.0), true, 0.2));
        assert_eq!(m.code(), "cut:20;trucks:guo5");
        assert_eq!(Measure::parse("stop").unwrap().production_fraction(), 1.0);
        assert_eq!(Measure::parse("self").unwrap().production_fraction(), 0.0);
        assert!(Measure::parse("none").unwrap().is_none());
        for m in ["stop", "cut:12.5", "self;trucks:guo5", "none", "stop;trucks:guo5"] {
            assert_eq!(Measure::parse(&Measure::parse(m).unwrap().code()).unwrap(), Measure::parse(m).unwrap());
        }
    }

    #[test]
    fn nonsense_is_rejected_with_a_reason() {
        for bad in ["", "halt", "cut:0", "cut:120", "cut:x", "stop;cut:20", "none;stop", "stop;stop", "self;stop"] {
            assert!(Measure::parse(bad).is_err(), "{bad}");
        }
    }
}
