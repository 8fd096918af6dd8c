//! The configuration of compliance monitoring: the HJ 212 receiver, online monitors, power
//! meters and the tolerances, each checked on load with its index and field.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Where `serve` and `run` listen for HJ 212, e.g. `0.0.0.0:9212`.
    pub listen: String,
}

/// An online monitor: what its packets are about.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// 设备唯一标识 as the packets carry it.
    pub mn: String,
    /// The `PW` it sends.
    pub password: String,
    /// The enterprise on the reduction list.
    pub credit_code: String,
    /// The production line (as the list names it).
    pub line: String,
    /// The outlet (排放口), e.g. `DA001`.
    #[serde(default)]
    pub outlet: String,
    /// The codes it reports: `a34013` particulates, `a21026` SO2, `a21002` NOx, `a24088` NMHC,
    /// `a00000` flue-gas flow, …
    pub codes: Vec<String>,
}

/// What a power meter measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeterRole {
    /// Production equipment (生产设施).
    Production,
    /// Abatement equipment (治污设施), which must run while production runs.
    Abatement,
}

/// An electricity-use meter (分表计电) on one line of an enterprise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterConfig {
    /// The meter as power feeds name it.
    pub id: String,
    pub credit_code: String,
    pub line: String,
    pub role: MeterRole,
    /// A meter that speaks HJ 212: its device's MN (listed in `[[devices]]`) and the code its
    /// power (kW) travels under. Without, its readings come from power feeds.
    pub mn: Option<String>,
    pub code: Option<String>,
}

/// `[compliance]`: the tolerance table (a city's own, else the illustrative one shipped).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceConfig {
    pub tolerances: Option<PathBuf>,
}

fn code_ok(c: &str) -> bool {
    c.len() == 6 && c.as_bytes()[0].is_ascii_lowercase() && c[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Each device has a unique MN, a valid credit code and codes of the standard's form.
pub(crate) fn check_devices(devices: &[DeviceConfig]) -> Result<(), String> {
    for (k, d) in devices.iter().enumerate() {
        if d.mn.is_empty() || d.mn.len() > 24 || !d.mn.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("devices[{k}].mn: `{}` is not 1 to 24 letters and digits", d.mn));
        }
        if devices[..k].iter().any(|e| e.mn == d.mn) {
            return Err(format!("devices[{k}].mn: `{}` is listed twice", d.mn));
        }
        hazewarn_response::CreditCode::parse(&d.credit_code).map_err(|e| format!("devices[{k}].credit_code: {e}"))?;
        if d.codes.is_empty() {
            return Err(format!("devices[{k}].codes: a device reports at least one code"));
        }
        if let Some(c) = d.codes.iter().find(|c| !code_ok(c)) {
            return Err(format!("devices[{k}].codes: `{c}` is not a code such as a34013"));
        }
    }
    Ok(())
}

/// Each meter has a unique id and a valid credit code; one that speaks HJ 212 names a listed
/// device and a code that device reports.
pub(crate) fn check_meters(meters: &[MeterConfig], devices: &[DeviceConfig]) -> Result<(), String> {
    for (k, m) in meters.iter().enumerate() {
        let id_ok = !m.id.is_empty()
            && m.id.len() <= 64
            && m.id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.#".contains(c));
        if !id_ok {
            return Err(format!("meters[{k}].id: `{}` is not 1 to 64 letters, digits or -_.#", m.id));
        }
        if meters[..k].iter().any(|e| e.id == m.id) {
            return Err(format!("meters[{k}].id: `{}` is listed twice", m.id));
        }
        hazewarn_response::CreditCode::parse(&m.credit_code).map_err(|e| format!("meters[{k}].credit_code: {e}"))?;
        match (&m.mn, &m.code) {
            (None, None) => {}
            (Some(mn), Some(code)) => {
                let Some(d) = devices.iter().find(|d| &d.mn == mn) else {
                    return Err(format!("meters[{k}].mn: `{mn}` is not in [[devices]]"));
                };
                if !d.codes.contains(code) {
                    return Err(format!("meters[{k}].code: device {mn} does not report `{code}`"));
                }
            }
            _ => return Err(format!("meters[{k}]: a meter on HJ 212 needs both mn and code")),
        }
    }
    Ok(())
}
