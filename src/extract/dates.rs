//! Dates: parsing the date strings of metadata in the common formats (future
//! dates and dates before 1990 rejected) and finding a date written in a short
//! visible text. Which candidate is tried first is `metadata.rs`'s call.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};

/// The first "2024-03-05 10:20(:30)", "2024/3/5", "2024年3月5日 10:20"
/// style date in a short visible text (read as UTC).
pub(super) fn date_in_text(t: &str) -> Option<DateTime<Utc>> {
    // ASCII digits only: `\d` is every Unicode digit, which `parse` rejects anyway, and its
    // character class made compiling this regex about 0.5% of the instructions of an `extract`
    // run (callgrind, 40 Zyte pages). A full-width date is skipped for a later ASCII one.
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"((?:19|20)[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?(?:[\sT]*([0-9]{1,2})[:：]([0-9]{2})(?:[:：]([0-9]{2}))?)?",
            )
            .ok()
        })
        .as_ref()?;
    let c = re.captures(t)?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(num(1)? as i32, num(2)?, num(3)?)?;
    let dt = date.and_hms_opt(
        num(4).unwrap_or(0),
        num(5).unwrap_or(0),
        num(6).unwrap_or(0),
    )?;
    Some(dt.and_utc())
}

/// How far in the future a date may be before it is rejected: a little
/// clock skew for dates with a zone; for naive local times (read as UTC)
/// also the largest zone offset (UTC+14).
pub(super) fn future_tolerance(zoned: bool) -> Duration {
    if zoned {
        Duration::hours(1)
    } else {
        Duration::hours(15)
    }
}

/// Parses a date in the common formats; rejects dates in the future
/// (relative to `now`) and before 1990.
pub(super) fn parse_date(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (dt, zoned) = parse_date_any(s)?;
    if dt > now + future_tolerance(zoned) {
        return None;
    }
    if dt.timestamp() < 631_152_000 {
        return None;
    }
    Some(dt)
}

fn parse_date_any(s: &str) -> Option<(DateTime<Utc>, bool)> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some((d.with_timezone(&Utc), true));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some((d.with_timezone(&Utc), true));
    }
    // Normalise: trailing Z, " UTC"/" GMT", lower-case t.
    let mut n = s.replace('t', "T");
    for z in [" UTC", " GMT", "UTC", "GMT", "Z"] {
        if let Some(x) = n.strip_suffix(z) {
            n = format!("{}+0000", x.trim_end());
            break;
        }
    }
    const TZ_FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M%z",
        "%Y-%m-%d %H:%M %z",
        "%Y/%m/%d %H:%M:%S%z",
        "%Y/%m/%d %H:%M:%S %z",
        "%Y%m%dT%H%M%S%z",
        "%a, %d %b %Y %H:%M:%S %z",
        "%a %b %d %Y %H:%M:%S %z",
        "%d %b %Y %H:%M:%S %z",
    ];
    for f in TZ_FORMATS {
        if let Ok(d) = DateTime::<FixedOffset>::parse_from_str(&n, f) {
            return Some((d.with_timezone(&Utc), true));
        }
    }
    const NAIVE_FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y.%m.%d %H:%M:%S",
        "%Y.%m.%d %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
        "%Y%m%dT%H%M%S",
        "%Y年%m月%d日 %H:%M:%S",
        "%Y年%m月%d日 %H:%M",
        "%Y年%m月%d日%H:%M",
        "%a, %d %b %Y %H:%M:%S",
        "%d %b %Y %H:%M:%S",
        "%B %d, %Y %H:%M:%S",
    ];
    for f in NAIVE_FORMATS {
        if let Ok(d) = NaiveDateTime::parse_from_str(&n, f) {
            return Some((d.and_utc(), false));
        }
    }
    const DATE_FORMATS: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y.%m.%d",
        "%d.%m.%Y",
        "%Y%m%d",
        "%Y年%m月%d日",
        "%B %d, %Y",
        "%b %d, %Y",
        "%d %B %Y",
        "%d %b %Y",
    ];
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(&n, f) {
            return d.and_hms_opt(0, 0, 0).map(|x| (x.and_utc(), false));
        }
    }
    // Leading date of a longer string, e.g. "2024-03-05T10:00:00.000+01:00[Europe/Paris]".
    if n.len() >= 10 && n.is_char_boundary(10) {
        let head = &n[..10];
        if head != n {
            if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
                return d.and_hms_opt(0, 0, 0).map(|x| (x.and_utc(), false));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats() {
        let now = Utc::now();
        let cases = [
            ("2024-03-05T10:20:30Z", "2024-03-05T10:20:30+00:00"),
            (
                "2024-03-05T10:20:30.123+02:00",
                "2024-03-05T08:20:30.123+00:00",
            ),
            ("2024-03-05T10:20:30+0200", "2024-03-05T08:20:30+00:00"),
            ("2024-03-05 10:20:30", "2024-03-05T10:20:30+00:00"),
            ("2024-03-05 10:20", "2024-03-05T10:20:00+00:00"),
            ("2024/03/05 10:20", "2024-03-05T10:20:00+00:00"),
            ("2024-03-05", "2024-03-05T00:00:00+00:00"),
            ("Tue, 05 Mar 2024 10:20:30 GMT", "2024-03-05T10:20:30+00:00"),
            (
                "Tue, 05 Mar 2024 10:20:30 +0100",
                "2024-03-05T09:20:30+00:00",
            ),
            ("2024年3月5日 10:20", "2024-03-05T10:20:00+00:00"),
            ("20240305", "2024-03-05T00:00:00+00:00"),
        ];
        for (input, want) in cases {
            let got = parse_date(input, now).map(|d| d.to_rfc3339());
            assert_eq!(got.as_deref(), Some(want), "parsing {input:?}");
        }
        assert_eq!(parse_date("not a date", now), None);
        assert_eq!(parse_date("", now), None);
        assert_eq!(parse_date("1800-01-01", now), None);
    }

    #[test]
    fn future_tolerance_wider_for_naive_times() {
        // Three hours ahead: too far for a zoned time, fine for a naive
        // local time (it may be UTC+8 wall-clock time read as UTC).
        let now = Utc::now();
        let ahead = now + Duration::hours(3);
        assert_eq!(parse_date(&ahead.to_rfc3339(), now), None);
        let naive = ahead.format("%Y-%m-%d %H:%M:%S").to_string();
        assert!(parse_date(&naive, now).is_some());
    }

    #[test]
    fn visible_dates_in_text() {
        assert_eq!(
            date_in_text("发布时间：2019年09月09日 18:13:22").map(|d| d.to_rfc3339()),
            Some("2019-09-09T18:13:22+00:00".to_string())
        );
        assert_eq!(
            date_in_text("2020-1-5").map(|d| d.to_rfc3339()),
            Some("2020-01-05T00:00:00+00:00".to_string())
        );
        assert_eq!(date_in_text("no date here"), None);
        assert_eq!(date_in_text("２０１９年９月９日"), None);
        assert_eq!(
            date_in_text("２０１９年９月９日 / 2020-1-5").map(|d| d.to_rfc3339()),
            Some("2020-01-05T00:00:00+00:00".to_string())
        );
    }
}
