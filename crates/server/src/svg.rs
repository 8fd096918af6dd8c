//! Charts as inline SVG, drawn on the server: no scripts, fonts or files from elsewhere.

use crate::escape;

const W: f64 = 900.0;
const H: f64 = 300.0;
const PAD: f64 = 44.0;

fn scale(v: f64, lo: f64, hi: f64, a: f64, b: f64) -> f64 {
    if hi <= lo { a } else { a + (v - lo) / (hi - lo) * (b - a) }
}

/// An open chart: the `<svg>` element and five horizontal grid lines from 0 to `hi`, labelled,
/// spanning from the left margin to `right`.
fn frame(title: &str, hi: f64, right: f64) -> String {
    let py = |v: f64| scale(v, 0.0, hi, H - 24.0, 10.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
        escape(title)
    );
    for k in 0..=4 {
        let v = hi * f64::from(k) / 4.0;
        s += &format!(
            "<line x1=\"{PAD}\" x2=\"{right}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"4\" y=\"{:.1}\" font-size=\"11\">{v:.0}</text>",
            py(v) + 4.0,
            y = py(v)
        );
    }
    s
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
    let mut s = frame(title, hi, W - 10.0);
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

/// WCAG 2 relative luminance of `#RGB` or `#RRGGBB`; `None` for anything else.
fn luminance(colour: &str) -> Option<f64> {
    let hex = colour.strip_prefix('#')?;
    let digits: Vec<u32> = hex.chars().map(|c| c.to_digit(16)).collect::<Option<_>>()?;
    let rgb: Vec<u32> = match digits.len() {
        3 => digits.iter().map(|d| d * 17).collect(),
        6 => digits.chunks(2).map(|p| p[0] * 16 + p[1]).collect(),
        _ => return None,
    };
    let lin = |c: u32| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    Some(0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]))
}

/// The WCAG 2 contrast ratio of two colours.
pub fn contrast(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (luminance(a)?, luminance(b)?);
    Some((la.max(lb) + 0.05) / (la.min(lb) + 0.05))
}

/// Black or white, whichever reads better on `background` (the AQI and warning colours).
pub fn text_on(background: &str) -> &'static str {
    match (contrast(background, "#000"), contrast(background, "#fff")) {
        (Some(black), Some(white)) if white > black => "#fff",
        _ => "#000",
    }
}

/// Distinct line colours for the stations (the city mean is drawn thicker, in black).
const PALETTE: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

/// Several PM2.5 series over the same hours (relative to the issue), the first one (the city
/// mean) in black, with a legend.
pub fn station_lines(lines: &[(String, Vec<(i64, f64)>)], title: &str) -> String {
    let xs = lines.iter().flat_map(|(_, pts)| pts.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((i64::MAX, i64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    if x0 > x1 {
        return String::new();
    }
    let top = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).filter(|v| v.is_finite()).fold(50.0, f64::max);
    let hi = (top / 50.0).ceil() * 50.0;
    let px = |x: i64| scale(x as f64, x0 as f64, x1 as f64, PAD, W - 130.0);
    let py = |v: f64| scale(v, 0.0, hi, H - 24.0, 10.0);
    let mut s = frame(title, hi, W - 130.0);
    for (k, (name, pts)) in lines.iter().enumerate() {
        let (colour, width) = if k == 0 { ("#000", 2.6) } else { (PALETTE[(k - 1) % PALETTE.len()], 1.2) };
        // A missing hour breaks the line rather than bridging it.
        for run in pts.split(|p| !p.1.is_finite()).filter(|r| !r.is_empty()) {
            let p: Vec<String> = run.iter().map(|p| format!("{:.1},{:.1}", px(p.0), py(p.1))).collect();
            s += &format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\"/>",
                p.join(" ")
            );
        }
        let y = 20.0 + 16.0 * k as f64;
        s += &format!(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"{width}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
            W - 120.0,
            W - 100.0,
            W - 95.0,
            y + 4.0,
            escape(name)
        );
    }
    s += &format!("<text x=\"{PAD}\" y=\"{}\" font-size=\"11\">{x0} h</text>", H - 6.0);
    s += &format!("<text x=\"{}\" y=\"{}\" font-size=\"11\">{x1} h</text>", W - 160.0, H - 6.0);
    s + "</svg>"
}

/// A station placed on the map.
pub struct MapPoint {
    pub label: String,
    pub longitude: f64,
    pub latitude: f64,
    /// Fill colour, `#RRGGBB`.
    pub colour: String,
    /// Drawn as a ring (a reference point).
    pub hollow: bool,
}

/// A station marker's radius and a label's font size, in map units.
const MARKER: f64 = 9.0;
const LABEL_SIZE: f64 = 12.0;

/// A label's box (left, top, right, bottom) with its text's baseline at (x, y). Wide characters
/// (Chinese) take a whole em, others (digits, Latin) about two thirds of one, erring wide.
fn label_box(text: &str, (x, y): (f64, f64)) -> [f64; 4] {
    let width: f64 = text.chars().map(|c| if c.is_ascii() { 0.65 } else { 1.0 }).sum::<f64>() * LABEL_SIZE;
    [x, y - LABEL_SIZE, x + width, y + 3.0]
}

fn overlaps(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// Where each label's baseline starts: the first of right, left, above and below its marker (then
/// further out) whose box stays on the map and clear of every marker and every label placed
/// before it. Stations a few hundred metres apart would otherwise print their codes over each other.
fn place_labels(points: &[MapPoint], centres: &[(f64, f64)], (w, h): (f64, f64)) -> Vec<(f64, f64)> {
    let markers: Vec<[f64; 4]> =
        centres.iter().map(|(x, y)| [x - MARKER - 2.0, y - MARKER - 2.0, x + MARKER + 2.0, y + MARKER + 2.0]).collect();
    let mut placed: Vec<[f64; 4]> = Vec::new();
    let mut out = Vec::new();
    for (p, &(x, y)) in points.iter().zip(centres) {
        let width = label_box(&p.label, (0.0, 0.0))[2];
        let gap = MARKER + 5.0;
        let candidates = (1..=4).flat_map(|ring| {
            let d = f64::from(ring - 1) * (LABEL_SIZE + 4.0);
            [
                (x + gap + d, y + 4.0),
                (x - gap - width - d, y + 4.0),
                (x - width / 2.0, y - gap - d),
                (x - width / 2.0, y + gap + LABEL_SIZE + d),
            ]
        });
        let clear = |at: &(f64, f64)| {
            let b = label_box(&p.label, *at);
            b[0] >= 0.0
                && b[1] >= 0.0
                && b[2] <= w
                && b[3] <= h
                && !markers.iter().chain(&placed).any(|m| overlaps(&b, m))
        };
        let at = candidates.clone().find(clear).unwrap_or_else(|| candidates.into_iter().next().expect("a candidate"));
        placed.push(label_box(&p.label, at));
        out.push(at);
    }
    out
}

/// The stations by longitude and latitude (equirectangular, east–west scaled by the cosine of
/// the mean latitude so distances look right), each a circle in its colour with its code.
pub fn station_map(points: &[MapPoint], title: &str) -> String {
    if points.is_empty() {
        return String::new();
    }
    let (w, h, pad) = (600.0, 360.0, 40.0);
    let lat0 = points.iter().map(|p| p.latitude).sum::<f64>() / points.len() as f64;
    let k = lat0.to_radians().cos();
    let xs: Vec<f64> = points.iter().map(|p| p.longitude * k).collect();
    let (x0, x1) = xs.iter().fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    let (y0, y1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.latitude), b.max(p.latitude)));
    // One scale for both axes, so the map is not stretched.
    let span = (x1 - x0).max(y1 - y0).max(0.01);
    let unit = ((w - 2.0 * pad) / span).min((h - 2.0 * pad) / span);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" class=\"chart map\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#f7f7f2\" stroke=\"#ccc\"/>",
        escape(title)
    );
    let centres: Vec<(f64, f64)> =
        points.iter().zip(&xs).map(|(p, x)| (w / 2.0 + (x - cx) * unit, h / 2.0 - (p.latitude - cy) * unit)).collect();
    let labels = place_labels(points, &centres, (w, h));
    for ((p, (px, py)), (lx, ly)) in points.iter().zip(&centres).zip(labels) {
        let (fill, stroke) = if p.hollow { ("#ffffff", p.colour.as_str()) } else { (p.colour.as_str(), "#333") };
        s += &format!(
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"{MARKER}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"3\"><title>{} ({:.4}, {:.4})</title></circle>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\" font-size=\"{LABEL_SIZE}\">{}</text>",
            escape(fill),
            escape(stroke),
            escape(&p.label),
            p.longitude,
            p.latitude,
            escape(&p.label)
        );
    }
    s += &format!("<text x=\"8\" y=\"{}\" font-size=\"11\">N ↑</text>", 16.0);
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

    #[test]
    fn text_on_every_aqi_and_warning_colour_meets_wcag_aa() {
        // Published WCAG ratios: black on white 21:1, pure red on white 4.00:1 (fails AA).
        assert!((contrast("#000000", "#FFFFFF").unwrap() - 21.0).abs() < 1e-9);
        assert!((contrast("#FF0000", "#fff").unwrap() - 4.0).abs() < 0.01);
        // HJ 633's six level colours and the warning colours of the pages.
        for bg in
            ["#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023", "#999", "#d4a800", "#ff7e00", "#e00"]
        {
            let text = text_on(bg);
            assert!(contrast(bg, text).unwrap() >= 4.5, "{text} on {bg}");
        }
        assert_eq!(text_on("#FF0000"), "#000", "white on red is only 4:1");
        assert_eq!(text_on("#7E0023"), "#fff");
    }

    #[test]
    fn the_map_keeps_north_up_and_east_right() {
        let p = |label: &str, longitude, latitude| MapPoint {
            label: label.into(),
            longitude,
            latitude,
            colour: "#FF0000".into(),
            hollow: label == "R",
        };
        let svg =
            station_map(&[p("W", 113.9, 33.6), p("E", 114.1, 33.6), p("N", 114.0, 33.7), p("R", 114.0, 33.5)], "m");
        let centre = |label: &str| -> (f64, f64) {
            let at = svg.find(&format!("<title>{label} (")).unwrap();
            let circle = &svg[svg[..at].rfind("<circle").unwrap()..at];
            let num = |key: &str| {
                let i = circle.find(key).unwrap() + key.len();
                circle[i..].split('"').next().unwrap().parse::<f64>().unwrap()
            };
            (num("cx=\""), num("cy=\""))
        };
        let (w, e, n, r) = (centre("W"), centre("E"), centre("N"), centre("R"));
        assert!(w.0 < e.0 && (w.1 - e.1).abs() < 1e-9, "east is to the right");
        assert!(n.1 < r.1, "north is up");
        // 0.2° of longitude at 33.6° N is shorter on the ground than 0.2° of latitude.
        assert!((e.0 - w.0) < (r.1 - n.1));
        assert!(svg.contains("fill=\"#ffffff\" stroke=\"#FF0000\""), "the reference point is a ring");
        let lines = station_lines(&[("city".into(), vec![(-2, 10.0), (-1, f64::NAN), (0, 12.0)])], "t");
        assert_eq!(lines.matches("<polyline").count(), 2, "a missing hour breaks the line");
    }

    #[test]
    fn station_labels_do_not_overlap_each_other_or_a_marker() {
        // Five stations within a few hundred metres of one another, and one far off that sets
        // the scale: their codes would all print to the right of their markers, on top of each
        // other.
        let p = |label: &str, longitude, latitude| MapPoint {
            label: label.into(),
            longitude,
            latitude,
            colour: "#00E400".into(),
            hollow: false,
        };
        let points = [
            p("4101001", 114.000, 33.500),
            p("4101002", 114.001, 33.500),
            p("4101003", 114.000, 33.501),
            p("4101004", 114.001, 33.501),
            p("市监测站", 114.0005, 33.5005),
            p("far", 114.2, 33.7),
        ];
        let svg = station_map(&points, "m");
        let attr = |tag: &str, key: &str| -> f64 {
            let i = tag.find(key).unwrap() + key.len();
            tag[i..].split('"').next().unwrap().parse().unwrap()
        };
        let texts: Vec<(String, [f64; 4])> = svg
            .split("<text ")
            .skip(1)
            .filter(|t| !t.contains(">N ↑<"))
            .map(|t| {
                let label = t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].to_owned();
                let b = label_box(&label, (attr(t, "x=\""), attr(t, "y=\"")));
                (label, b)
            })
            .collect();
        let circles: Vec<[f64; 4]> = svg
            .split("<circle ")
            .skip(1)
            .map(|c| {
                let (x, y) = (attr(c, "cx=\""), attr(c, "cy=\""));
                [x - MARKER, y - MARKER, x + MARKER, y + MARKER]
            })
            .collect();
        assert_eq!((texts.len(), circles.len()), (6, 6));
        for (i, (a, ba)) in texts.iter().enumerate() {
            for (b, bb) in &texts[i + 1..] {
                assert!(!overlaps(ba, bb), "{a} and {b} overlap: {ba:?} {bb:?}");
            }
            for c in &circles {
                assert!(!overlaps(ba, c), "{a} covers a marker");
            }
            assert!(ba[0] >= 0.0 && ba[2] <= 600.0 && ba[1] >= 0.0 && ba[3] <= 360.0, "{a} leaves the map");
        }
    }
}
