//! What the benches' generated sites share: a small deterministic generator so every page reads
//! differently, common English words to draw sentences from, and the process's memory figures.
//! Included by each bench that needs it (`#[path = "common/synth.rs"] mod synth;`).

#![allow(dead_code)]

/// A small deterministic generator (an LCG) seeded by two numbers, e.g. an article and its generation.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(a: usize, b: u64) -> Lcg {
        Lcg((a as u64).wrapping_mul(6_364_136_223_846_793_005) ^ (b << 32) ^ 0x9E37_79B9)
    }

    /// A number in `0..n`.
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Common words of English news, from which generated sentences are drawn.
pub const WORDS: &[&str] = &[
    "government",
    "officials",
    "said",
    "on",
    "Tuesday",
    "that",
    "the",
    "new",
    "policy",
    "would",
    "take",
    "effect",
    "next",
    "month",
    "after",
    "a",
    "long",
    "debate",
    "in",
    "parliament",
    "over",
    "its",
    "cost",
    "critics",
    "argue",
    "measure",
    "does",
    "not",
    "go",
    "far",
    "enough",
    "while",
    "supporters",
    "say",
    "it",
    "strikes",
    "balance",
    "between",
    "security",
    "and",
    "growth",
    "ministry",
    "statement",
    "added",
    "regional",
    "trade",
    "talks",
    "resume",
    "week",
    "analysts",
    "expect",
    "little",
    "change",
    "markets",
    "reacted",
    "calmly",
    "news",
    "agency",
    "reported",
    "delegation",
    "visited",
    "capital",
    "for",
    "meetings",
    "with",
    "local",
    "leaders",
    "about",
    "energy",
    "prices",
    "infrastructure",
    "projects",
    "shipping",
    "routes",
    "across",
    "strait",
    "military",
    "exercises",
    "drew",
    "sharp",
    "response",
    "from",
    "neighbours",
];

/// A /proc/self/status value in MB (VmHWM: peak RSS since the last reset, VmRSS: current).
pub fn proc_status_mb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A figure in MB with one decimal, `-` when unknown.
pub fn fmt_mb(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// A number from the environment variable `name` (underscores allowed: `1_000_000`), or `default` when
/// it is unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}
