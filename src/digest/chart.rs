//! The SVG charts: the digest's per-campaign chart (daily counts as bars, for html; a Unicode sparkline
//! for md) and the line chart of several series (`/compare`), on one frame (axis, scale labels, first
//! and last period). A few dozen bars or lines do not need a charting crate; the SVG is plain, static and
//! script-free, every text in it escaped.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::DayCount;
use crate::escape;

const W: f64 = 600.0;
const H: f64 = 140.0;
const LEFT: f64 = 34.0;
const BOTTOM: f64 = 18.0;
const TOP: f64 = 8.0;

/// An SVG bar chart of `history`: days from `period_start` on are highlighted (red when `spike`), the
/// dashed line is the 28-day daily mean. `label` names the chart for screen readers.
pub fn svg(
    history: &[DayCount],
    period_start: NaiveDate,
    baseline: f64,
    spike: bool,
    label: &str,
) -> String {
    let max = history
        .iter()
        .map(|d| d.count as f64)
        .fold(baseline, f64::max)
        .max(1.0)
        .ceil();
    let n = history.len().max(1) as f64;
    let plot_w = W - LEFT - 4.0;
    let plot_h = H - TOP - BOTTOM;
    let step = plot_w / n;
    let bar = (step * 0.8).max(1.0);
    let y = |v: f64| TOP + plot_h * (1.0 - v / max);
    let mut s = String::new();
    open(&mut s, label, &max.to_string());
    for (i, d) in history.iter().enumerate() {
        let x = LEFT + step * i as f64 + (step - bar) / 2.0;
        let top = y(d.count as f64);
        let fill = match (d.date >= period_start, spike) {
            (true, true) => "#c0392b",
            (true, false) => "#2c6fbb",
            _ => "#9bb3cc",
        };
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{fill}\">\
             <title>{date}: {count}</title></rect>",
            h = (TOP + plot_h - top).max(0.0),
            date = d.date,
            count = d.count
        );
    }
    let by = y(baseline);
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{by:.1}\" x2=\"{right}\" y2=\"{by:.1}\" stroke=\"#e67e22\" \
         stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>",
        right = W - 4.0
    );
    close(
        &mut s,
        history.first().map(|d| d.date.to_string()).as_deref(),
        history.last().map(|d| d.date.to_string()).as_deref(),
    );
    s
}

/// The frame's start: the `<svg>` element named `label`, the base line, the scale's top (`max`) and 0.
fn open(s: &mut String, label: &str, max: &str) {
    let plot_h = H - TOP - BOTTOM;
    let _ = write!(
        s,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
         aria-label=\"{label}\"><title>{label}</title>",
        label = escape::html(label)
    );
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#999\" stroke-width=\"1\"/>\
         <text x=\"{tx}\" y=\"{ty}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">{max}</text>\
         <text x=\"{tx}\" y=\"{base}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">0</text>",
        base = TOP + plot_h,
        right = W - 4.0,
        tx = LEFT - 4.0,
        ty = TOP + 8.0,
        max = escape::html(max),
    );
}

/// The frame's end: the first and last period under the axis, and `</svg>`.
fn close(s: &mut String, first: Option<&str>, last: Option<&str>) {
    if let (Some(first), Some(last)) = (first, last) {
        let _ = write!(
            s,
            "<text x=\"{LEFT}\" y=\"{ly}\" font-size=\"10\" fill=\"#555\">{}</text>\
             <text x=\"{rx}\" y=\"{ly}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            escape::html(first),
            escape::html(last),
            ly = H - 4.0,
            rx = W - 4.0
        );
    }
    s.push_str("</svg>");
}

/// Colours of the lines, in series order (then again from the first).
pub const PALETTE: [&str; 10] = [
    "#2c6fbb", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d", "#d35400",
    "#2c3e50", "#b7950b",
];

/// The colour of the `i`-th series.
pub fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// One series of a [`lines`] chart: its name (tooltips) and one value per period.
pub struct Line<'a> {
    /// Shown in the tooltips.
    pub name: &'a str,
    /// One value per period (counts or shares).
    pub values: Vec<f64>,
}

/// An SVG line chart of several series over the same `periods` (one `<path>` per series, in the colours
/// of [`color`], a dot with a tooltip per point when there are few). `format` writes a value for people
/// (the scale's top and the tooltips); `label` names the chart for screen readers.
pub fn lines(
    series: &[Line<'_>],
    periods: &[String],
    format: impl Fn(f64) -> String,
    label: &str,
) -> String {
    let top = series
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let max = if top > 0.0 { top } else { 1.0 };
    let n = periods.len().max(1);
    let plot_w = W - LEFT - 4.0;
    let plot_h = H - TOP - BOTTOM;
    let step = if n > 1 { plot_w / (n - 1) as f64 } else { 0.0 };
    let x = |i: usize| {
        if n > 1 {
            LEFT + step * i as f64
        } else {
            LEFT + plot_w / 2.0
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, max) / max);
    let mut s = String::new();
    open(&mut s, label, &format(top));
    for (k, line) in series.iter().enumerate() {
        let mut d = String::new();
        for (i, v) in line.values.iter().enumerate() {
            let v = if v.is_finite() { *v } else { 0.0 };
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if i == 0 { "M" } else { " L" },
                x(i),
                y(v)
            );
        }
        let _ = write!(
            s,
            "<path class=\"series\" d=\"{d}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.5\">\
             <title>{name}</title></path>",
            c = color(k),
            name = escape::html(line.name)
        );
        if periods.len() <= 60 {
            for (i, v) in line.values.iter().enumerate() {
                let v = if v.is_finite() { *v } else { 0.0 };
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"{c}\"><title>{name}, {p}: {val}</title></circle>",
                    x(i),
                    y(v),
                    c = color(k),
                    name = escape::html(line.name),
                    p = escape::html(periods.get(i).map_or("", String::as_str)),
                    val = escape::html(&format(v)),
                );
            }
        }
    }
    close(
        &mut s,
        periods.first().map(String::as_str),
        periods.last().map(String::as_str),
    );
    s
}

/// A Unicode sparkline of the counts (one block per day).
pub fn sparkline(history: &[DayCount]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = history.iter().map(|d| d.count).max().unwrap_or(0);
    history
        .iter()
        .map(|d| {
            let level = (d.count * 7 + max / 2).checked_div(max).unwrap_or(0);
            BLOCKS[level.min(7) as usize]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_static_and_escaped() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let history: Vec<DayCount> = (0..5)
            .map(|i| DayCount {
                date: day + chrono::Duration::days(i),
                count: i as u64,
            })
            .collect();
        let s = svg(&history, day, 1.5, true, "<b>x</b>");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<rect").count(), 5);
        assert!(s.contains("&lt;b&gt;x"));
        assert!(!s.contains("<script") && !s.contains("href"));
        assert_eq!(sparkline(&history), "▁▃▅▆█");
    }

    #[test]
    fn lines_draw_one_path_per_series_on_one_scale() {
        let periods: Vec<String> = ["2026-11-02", "2026-11-09", "2026-11-16"]
            .map(String::from)
            .to_vec();
        let series = [
            Line {
                name: "taiwan",
                values: vec![0.0, 2.0, 4.0],
            },
            Line {
                name: "<script>x</script>",
                values: vec![1.0, f64::NAN, 0.0],
            },
        ];
        let s = lines(&series, &periods, |v| format!("{v}"), "two queries");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert_eq!(s.matches("<path").count(), 2);
        assert_eq!(s.matches("<circle").count(), 6);
        // The largest value is the top of the scale: 4 at the top edge, 0 on the base line.
        assert!(s.contains(">4</text>"), "{s}");
        assert!(s.contains(&format!("L{:.1} {:.1}", W - 4.0, TOP)), "{s}");
        assert!(s.contains(&format!("M{LEFT:.1} {:.1}", H - BOTTOM)), "{s}");
        assert!(!s.contains("<script") && s.contains("&lt;script&gt;"));
        assert!(!s.contains("NaN"));
    }
}
