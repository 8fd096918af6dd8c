//! Charts as inline SVG, drawn on the server: no scripts, fonts or files from elsewhere.

use crate::escape;

const W: f64 = 900.0;
const H: f64 = 300.0;
const PAD: f64 = 44.0;

fn scale(v: f64, lo: f64, hi: f64, a: f64, b: f64) -> f64 {
    if hi <= lo { a } else { a + (v - lo) / (hi - lo) * (b - a) }
}

/// Hourly PM2.5: the last observations (black), the p10–p90 band (shaded) and p50 (blue).
/// `x` is hours relative to the issue time.
pub fn hourly_chart(observed: &[(i64, f64)], forecast: &[(i64, f64, f64, f64)], title: &str) -> String {
    let xs = observed.iter().map(|o| o.0).chain(forecast.iter().map(|f| f.0));
    let (x0, x1) = xs.fold((i64::MAX, i64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    if x0 > x1 {
        return String::new();
    }
    let top =
        observed.iter().map(|o| o.1).chain(forecast.iter().map(|f| f.3)).filter(|v| v.is_finite()).fold(50.0, f64::max);
    let hi = (top / 50.0).ceil() * 50.0;
    let px = |x: i64| scale(x as f64, x0 as f64, x1 as f64, PAD, W - 10.0);
    let py = |v: f64| scale(v, 0.0, hi, H - 24.0, 10.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        escape(title)
    );
    for k in 0..=4 {
        let v = hi * f64::from(k) / 4.0;
        s += &format!(
            "<line x1=\"{PAD}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"4\" y=\"{:.1}\" font-size=\"11\">{v:.0}</text>",
            W - 10.0,
            py(v) + 4.0,
            y = py(v)
        );
    }
    let band: Vec<String> = forecast
        .iter()
        .map(|f| format!("{:.1},{:.1}", px(f.0), py(f.3)))
        .chain(forecast.iter().rev().map(|f| format!("{:.1},{:.1}", px(f.0), py(f.1))))
        .collect();
    if !band.is_empty() {
        s += &format!("<polygon points=\"{}\" fill=\"#9ecae1\" fill-opacity=\"0.5\"/>", band.join(" "));
    }
    let line = |pts: Vec<(i64, f64)>, colour: &str| {
        let p: Vec<String> =
            pts.iter().filter(|p| p.1.is_finite()).map(|p| format!("{:.1},{:.1}", px(p.0), py(p.1))).collect();
        format!("<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\"/>", p.join(" "))
    };
    s += &line(observed.to_vec(), "#222");
    s += &line(forecast.iter().map(|f| (f.0, f.2)).collect(), "#08519c");
    let zero = px(0);
    s += &format!(
        "<line x1=\"{zero:.1}\" x2=\"{zero:.1}\" y1=\"10\" y2=\"{}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>",
        H - 24.0
    );
    s += &format!("<text x=\"{PAD}\" y=\"{}\" font-size=\"11\">{x0} h</text>", H - 6.0);
    s += &format!("<text x=\"{}\" y=\"{}\" font-size=\"11\">+{x1} h</text>", W - 60.0, H - 6.0);
    s + "</svg>"
}

/// Daily AQI bars, each in its official level colour, labelled with date and value.
pub fn daily_bars(days: &[(String, u32, String, bool)], title: &str) -> String {
    let n = days.len().max(1) as f64;
    let hi = days.iter().map(|d| d.1).max().unwrap_or(100).max(100) as f64 * 1.15;
    let bw = (W - PAD - 10.0) / n;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        escape(title)
    );
    for (k, (label, aqi, rgb, trend)) in days.iter().enumerate() {
        let x = PAD + k as f64 * bw + 6.0;
        let y = scale(f64::from(*aqi), 0.0, hi, H - 30.0, 10.0);
        let opacity = if *trend { "0.45" } else { "1" };
        s += &format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" fill-opacity=\"{opacity}\" stroke=\"#555\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{aqi}</text>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            bw - 12.0,
            H - 30.0 - y,
            escape(rgb),
            x + (bw - 12.0) / 2.0,
            y - 4.0,
            x + (bw - 12.0) / 2.0,
            H - 12.0,
            escape(label)
        );
    }
    s + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_the_level_colours_and_the_band_spans_the_forecast() {
        let days =
            vec![("01-02".to_owned(), 264, "#FF0000".to_owned(), false), ("01-05".into(), 117, "#FF7E00".into(), true)];
        let svg = daily_bars(&days, "AQI");
        assert!(svg.contains("fill=\"#FF0000\"") && svg.contains("fill=\"#FF7E00\" fill-opacity=\"0.45\""));
        assert!(svg.contains(">264<") && svg.contains(">01-05<"));
        let h = hourly_chart(&[(-2, 80.0), (0, 90.0)], &[(1, 70.0, 95.0, 120.0), (2, 60.0, 100.0, 140.0)], "PM2.5");
        assert_eq!(h.matches("<polygon").count(), 1);
        assert_eq!(h.matches("<polyline").count(), 2);
        assert!(h.starts_with("<svg") && h.ends_with("</svg>"));
    }
}
