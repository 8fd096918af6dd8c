//! The office's view of the online monitors: each listed device with its enterprise, line and
//! outlet, what the HJ 212 receiver has seen from it (kept in the store across restarts), and its latest
//! reading, so a monitor that went quiet or sends bad frames is seen before a warning needs it.

use crate::pages::Lang;
use crate::{ApiError, AppState, escape};

pub async fn section(s: &AppState, l: &Lang) -> Result<String, ApiError> {
    let devices = &s.city.config.devices;
    if devices.is_empty() {
        return Ok(String::new());
    }
    let (_, list) = s.city.list().await?;
    let counts = s.city.monitor_counts.snapshot();
    let mut b = format!(
        "<h2>{}</h2><table id=\"devices\"><tr><th>MN</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        l.m("devices.online-monitors"),
        l.m("compliance.enterprise"),
        l.m("devices.line-outlet"),
        l.m("devices.packets"),
        l.m("devices.values-stored"),
        l.m("devices.bad-frames"),
        l.m("devices.refused"),
        l.m("devices.latest-reading"),
    );
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
        b += &format!(
            "<tr><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.mn),
            escape(name),
            escape(&d.line),
            escape(if d.outlet.is_empty() { "-" } else { &d.outlet }),
            c.packets,
            c.stored,
            c.bad_frames,
            c.refused,
            escape(last.as_deref().unwrap_or(l.m("devices.none-yet"))),
        );
    }
    Ok(b + "</table>")
}
