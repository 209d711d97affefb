//! The per-campaign chart: daily counts as an inline SVG bar chart (for html) or a Unicode sparkline (for
//! md). A few dozen bars do not need a charting crate; the SVG is plain, static and script-free.

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
    );
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
    if let (Some(first), Some(last)) = (history.first(), history.last()) {
        let _ = write!(
            s,
            "<text x=\"{LEFT}\" y=\"{ly}\" font-size=\"10\" fill=\"#555\">{}</text>\
             <text x=\"{rx}\" y=\"{ly}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            first.date,
            last.date,
            ly = H - 4.0,
            rx = W - 4.0
        );
    }
    s.push_str("</svg>");
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
}
