//! View models: the search module's results in the shapes the pages need: facets (capped per facet)
//! and timelines (with each bucket's last day, and laid out as SVG bars for the search and campaigns
//! pages) from `search::overview` (or `search::facets` / `search::histogram`), and text split into
//! highlighted segments (a hit's snippet at its highlight ranges, an article at its campaign terms).
//! Exports are `search::export`'s, not shaped here. View models of one page only live in its file in
//! `pages/`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::index::Archive;
use crate::search::{self, Interval, SearchRequest};

/// One value of a facet and the number of matching articles with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacetCount {
    /// The value (campaign id, feed id, language, ...).
    pub value: String,
    /// Matching articles.
    pub count: u64,
}

/// Counts of every match by field (all matches, not only the page shown).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    /// By campaign id.
    pub campaign: Vec<FacetCount>,
    /// By feed id.
    pub feed: Vec<FacetCount>,
    /// By language.
    pub lang: Vec<FacetCount>,
    /// By script.
    pub script: Vec<FacetCount>,
    /// By affiliation.
    pub affiliation: Vec<FacetCount>,
    /// By country.
    pub country: Vec<FacetCount>,
}

impl Facets {
    /// The counts of a facet by its parameter name.
    pub fn get(&self, name: &str) -> &[FacetCount] {
        match name {
            "campaign" => &self.campaign,
            "feed" => &self.feed,
            "lang" => &self.lang,
            "script" => &self.script,
            "affiliation" => &self.affiliation,
            "country" => &self.country,
            _ => &[],
        }
    }
}

/// Values listed per facet at most.
const FACET_SIZE: usize = 50;

/// Facet counts over every match of `req`: `search::facets` (fast-field counts), at most
/// `FACET_SIZE` values per facet.
pub fn facets(archive: &Archive, req: &SearchRequest) -> anyhow::Result<Facets> {
    Ok(facets_view(search::facets(archive, req)?))
}

/// The search module's facet counts, at most `FACET_SIZE` values per facet.
pub fn facets_view(f: search::Facets) -> Facets {
    let take = |list: Vec<search::FacetCount>| -> Vec<FacetCount> {
        list.into_iter()
            .filter(|c| c.count > 0)
            .take(FACET_SIZE)
            .map(|c| FacetCount {
                value: c.value,
                count: c.count,
            })
            .collect()
    };
    Facets {
        campaign: take(f.campaign),
        feed: take(f.feed),
        lang: take(f.lang),
        script: take(f.script),
        affiliation: take(f.affiliation),
        country: take(f.country),
    }
}

/// Matches in one timeline bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// First day of the bucket.
    pub start: NaiveDate,
    /// Last day of the bucket.
    pub end: NaiveDate,
    /// Matching articles dated in it.
    pub count: u64,
    /// With `normalize=1`: `total` and `share` (absent otherwise).
    #[serde(flatten)]
    pub attention: Option<Attention>,
}

/// A bucket's attention share: the archived articles under the same source filters, and the share of
/// them that match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attention {
    /// Archived articles under the search's source filters dated in the bucket.
    pub total: u64,
    /// `count / total`; `null` when `total` is 0.
    pub share: Option<f64>,
}

/// Matches of `req` per bucket, every bucket from the first match to the last (empty ones included):
/// `search::histogram` (fast-field counts), with each bucket's last day added for the timeline.
pub fn histogram(
    archive: &Archive,
    req: &SearchRequest,
    interval: Interval,
) -> anyhow::Result<Vec<Bucket>> {
    Ok(timeline_view(
        search::histogram(archive, req, interval)?,
        interval,
    ))
}

/// The search module's buckets with each bucket's last day added.
pub fn timeline_view(buckets: Vec<search::Bucket>, interval: Interval) -> Vec<Bucket> {
    buckets
        .into_iter()
        .map(|b| Bucket {
            start: b.start,
            end: interval.bucket_end(b.start),
            count: b.count,
            attention: None,
        })
        .collect()
}

/// The search module's attention-share buckets with each bucket's last day added.
pub fn share_view(buckets: Vec<search::ShareBucket>, interval: Interval) -> Vec<Bucket> {
    buckets
        .into_iter()
        .map(|b| Bucket {
            start: b.start,
            end: interval.bucket_end(b.start),
            count: b.count,
            attention: Some(Attention {
                total: b.total,
                share: b.share,
            }),
        })
        .collect()
}

/// A share as a percentage for people (`3.52%`).
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 0.01 {
        format!("{p:.4}%")
    } else {
        format!("{p:.2}%")
    }
}

/// A bar of an SVG timeline (geometry computed here).
pub struct Bar {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
    /// Tooltip: range and count.
    pub label: String,
    /// The search restricted to this bucket.
    pub href: String,
}

/// An SVG timeline.
pub struct Timeline {
    /// Drawing width.
    pub width: u32,
    /// Drawing height.
    pub height: u32,
    /// Bars.
    pub bars: Vec<Bar>,
    /// "day", "week" or "month".
    pub interval: &'static str,
    /// First bucket's day.
    pub first: String,
    /// Last bucket's day.
    pub last: String,
    /// Largest bucket (a count, or a percentage when the bars are shares).
    pub max: String,
    /// Whether the bars are shares (`normalize=1`), not counts.
    pub shares: bool,
}

const TIMELINE_W: u32 = 720;
const TIMELINE_H: u32 = 80;

/// Lays out buckets as bars; `href` gives each bar's link.
pub fn timeline(
    buckets: &[Bucket],
    interval: Interval,
    href: impl Fn(&Bucket) -> String,
) -> Option<Timeline> {
    let (first, last) = (buckets.first()?, buckets.last()?);
    // Bars are shares when every bucket has its attention share, else counts.
    let shares = buckets.iter().all(|b| b.attention.is_some());
    let value = |b: &Bucket| -> f64 {
        if shares {
            b.attention.as_ref().and_then(|a| a.share).unwrap_or(0.0)
        } else {
            b.count as f64
        }
    };
    let top = buckets.iter().map(value).fold(0.0_f64, f64::max);
    let scale = if top > 0.0 { top } else { 1.0 };
    let n = buckets.len() as u32;
    let step = (TIMELINE_W / n).max(1);
    let w = step.saturating_sub(1).max(1);
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let v = value(b);
            let h = ((v / scale) * f64::from(TIMELINE_H - 2)).round() as u32;
            let h = if v > 0.0 { h.max(2) } else { 0 };
            let range = if b.start == b.end {
                b.start.to_string()
            } else {
                format!("{} to {}", b.start, b.end)
            };
            let label = match &b.attention {
                Some(a) if shares => format!(
                    "{range}: {} of {} articles ({})",
                    b.count,
                    a.total,
                    a.share.map_or_else(|| "none archived".to_string(), percent)
                ),
                _ => format!("{range}: {} articles", b.count),
            };
            Bar {
                x: i as u32 * step,
                y: TIMELINE_H - h,
                w,
                h,
                label,
                href: href(b),
            }
        })
        .collect();
    Some(Timeline {
        width: (step * n).max(1),
        height: TIMELINE_H,
        bars,
        interval: match interval {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        },
        first: first.start.to_string(),
        last: last.end.to_string(),
        max: if shares {
            percent(top)
        } else {
            format!("{}", top as u64)
        },
        shares,
    })
}

/// A piece of text, highlighted or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// The text (escaped when rendered, like everything archived).
    pub text: String,
    /// Whether it is a match.
    pub mark: bool,
}

/// Splits `text` at the byte ranges `marks` (any order, overlaps merged, ranges off char boundaries or
/// out of bounds dropped).
pub fn segments(text: &str, mut marks: Vec<std::ops::Range<usize>>) -> Vec<Segment> {
    marks.retain(|r| {
        r.start < r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
    });
    marks.sort_by_key(|r| (r.start, r.end));
    let mut out = Vec::new();
    let mut at = 0;
    for r in marks {
        let start = r.start.max(at);
        if start >= r.end {
            continue;
        }
        if start > at {
            out.push(Segment {
                text: text[at..start].to_string(),
                mark: false,
            });
        }
        out.push(Segment {
            text: text[start..r.end].to_string(),
            mark: true,
        });
        at = r.end;
    }
    if at < text.len() {
        out.push(Segment {
            text: text[at..].to_string(),
            mark: false,
        });
    }
    out
}

/// Ranges of every occurrence of `terms` in `text` (ASCII case-insensitive, leftmost-longest).
pub fn term_ranges(text: &str, terms: &[&str]) -> Vec<std::ops::Range<usize>> {
    let terms: Vec<&str> = terms
        .iter()
        .copied()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if terms.is_empty() {
        return Vec::new();
    }
    match aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&terms)
    {
        Ok(ac) => ac.find_iter(text).map(|m| m.range()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The snippet of a hit split at the highlight ranges `search::search` found (stemmed matches included).
pub fn snippet_segments(snippet: &str, highlights: &[[usize; 2]]) -> Vec<Segment> {
    segments(snippet, highlights.iter().map(|&[a, b]| a..b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_merge_overlaps_and_drop_bad_ranges() {
        let s = segments(
            "Taiwan reunification talks",
            vec![7..20, 0..6, 3..9, 20..99, 1..1],
        );
        let parts: Vec<(&str, bool)> = s.iter().map(|s| (s.text.as_str(), s.mark)).collect();
        assert_eq!(
            parts,
            [
                ("Taiwan", true),
                (" re", true),
                ("unification", true),
                (" talks", false)
            ]
        );
        let joined: String = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, "Taiwan reunification talks");
        // "é" is two bytes: a range ending inside it is dropped, not a panic.
        let s = segments("café", vec![0..4, 9..12]);
        assert_eq!(
            s,
            [Segment {
                text: "café".into(),
                mark: false
            }]
        );
    }

    #[test]
    fn snippet_segments_follow_the_highlight_ranges() {
        // Ranges as search::search gives them, in any order; one overlapping, one past the end.
        let s = snippet_segments(
            "Reunification is near, said the TAIWAN office",
            &[[32, 38], [0, 13], [2, 5], [40, 99]],
        );
        let marked: Vec<&str> = s
            .iter()
            .filter(|s| s.mark)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(marked, ["Reunification", "TAIWAN"]);
    }

    #[test]
    fn timeline_bars_scale_to_the_largest_bucket() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let buckets = [
            Bucket {
                start: day(1),
                end: day(1),
                count: 4,
                attention: None,
            },
            Bucket {
                start: day(2),
                end: day(2),
                count: 0,
                attention: None,
            },
            Bucket {
                start: day(3),
                end: day(9),
                count: 1,
                attention: None,
            },
        ];
        let t = timeline(&buckets, Interval::Day, |b| {
            format!("/search?since={}", b.start)
        })
        .unwrap();
        assert_eq!((t.width, t.height, t.max.as_str()), (720, TIMELINE_H, "4"));
        assert_eq!(
            (t.first.as_str(), t.last.as_str(), t.interval),
            ("2026-11-01", "2026-11-09", "day")
        );
        let bars: Vec<(u32, u32, u32)> = t.bars.iter().map(|b| (b.x, b.h, b.y)).collect();
        // The largest bucket fills the height less 2; an empty one has no bar; a small one at least 2.
        assert_eq!(bars, [(0, 78, 2), (240, 0, 80), (480, 20, 60)]);
        assert_eq!(t.bars[0].label, "2026-11-01: 4 articles");
        assert_eq!(t.bars[2].label, "2026-11-03 to 2026-11-09: 1 articles");
        assert_eq!(t.bars[1].href, "/search?since=2026-11-02");
        assert!(timeline(&[], Interval::Day, |_| String::new()).is_none());

        // As shares: the bars follow count / total, not the count.
        let mut shared = buckets.to_vec();
        for (b, total) in shared.iter_mut().zip([40, 0, 2]) {
            b.attention = Some(Attention {
                total,
                share: search::share(b.count, total),
            });
        }
        let t = timeline(&shared, Interval::Day, |_| String::new()).unwrap();
        assert!(t.shares);
        assert_eq!(t.max, "50.00%");
        let bars: Vec<u32> = t.bars.iter().map(|b| b.h).collect();
        assert_eq!(bars, [16, 0, 78]);
        assert_eq!(t.bars[0].label, "2026-11-01: 4 of 40 articles (10.00%)");
        assert_eq!(
            t.bars[1].label,
            "2026-11-02: 0 of 0 articles (none archived)"
        );
    }
}
