//! The office's view of the online monitors: each listed device with its enterprise, line and
//! outlet, what the HJ 212 receiver has seen from it (kept in the store across restarts), and its latest
//! reading, so a monitor that went quiet or sends bad frames is seen before a warning needs it.

use askama::Template;

use crate::pages::Lang;
use crate::{ApiError, AppState};

/// The monitors section of the office page.
#[derive(Template)]
#[template(path = "devices/section.html")]
struct DevicesSection<'a> {
    l: &'a Lang,
    devices: Vec<DeviceRow>,
}

/// A monitor's row: who it measures and what the receiver counted from it.
struct DeviceRow {
    mn: String,
    enterprise: String,
    line: String,
    outlet: String,
    packets: u64,
    stored: u64,
    bad_frames: u64,
    refused: u64,
    /// The latest reading's time in Beijing time, or that there is none yet.
    last: String,
}

/// The section, or nothing when the city configures no devices.
pub async fn section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let devices = &s.city.config.devices;
    if devices.is_empty() {
        return Ok(String::new());
    }
    let (_, list) = s.city.list().await?;
    let counts = s.city.monitor_counts.snapshot();
    let mut rows = Vec::with_capacity(devices.len());
    for d in devices {
        let name = list
            .enterprises
            .iter()
            .find(|e| e.credit_code.as_str() == d.credit_code)
            .map_or(d.credit_code.as_str(), |e| e.name.as_str());
        let c = counts.get(&d.mn).copied().unwrap_or_default();
        // Stored as the device's DataTime (RFC 3339, Beijing); shown as the page shows times.
        let last = s
            .city
            .store
            .last_reading(&d.mn)
            .await?
            .map(|t| chrono::DateTime::parse_from_rfc3339(&t).map_or(t, crate::pages::beijing_time));
        rows.push(DeviceRow {
            mn: d.mn.clone(),
            enterprise: name.to_owned(),
            line: d.line.clone(),
            outlet: if d.outlet.is_empty() { "-".to_owned() } else { d.outlet.clone() },
            packets: c.packets,
            stored: c.stored,
            bad_frames: c.bad_frames,
            refused: c.refused,
            last: last.unwrap_or_else(|| l.m("devices.none-yet").to_owned()),
        });
    }
    crate::templates::fragment(&DevicesSection { l, devices: rows })
}
