//! JSON-LD: lenient parsing of `<script type="application/ld+json">` blocks
//! and reading schema.org objects (flattening arrays and `@graph`, article
//! types ranked before WebPage & co., names and strings out of nested
//! values). Which field feeds which part of the record is `metadata.rs`'s call.

use serde_json::Value;

pub(super) fn parse_json_lenient(raw: &str) -> Option<Value> {
    let s = raw.trim();
    let s = s
        .strip_prefix("<!--")
        .unwrap_or(s)
        .trim_end()
        .strip_suffix("-->")
        .unwrap_or(s)
        .trim();
    let s = s.strip_prefix("//<![CDATA[").unwrap_or(s);
    let s = s.strip_suffix("//]]>").unwrap_or(s).trim();
    if let Ok(v) = serde_json::from_str::<Value>(s) {
        return Some(v);
    }
    // Raw control characters inside strings are a common fault.
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if let Ok(v) = serde_json::from_str::<Value>(&cleaned) {
        return Some(v);
    }
    // Trailing semicolon.
    serde_json::from_str::<Value>(cleaned.trim_end_matches(';')).ok()
}

/// schema.org types read as the page's article, best first (the rank is the
/// index); `build_metadata` counts the ranks before "webpage" (14) as articles.
const ARTICLE_TYPES: &[&str] = &[
    "article",
    "newsarticle",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "scholarlyarticle",
    "techarticle",
    "report",
    "liveblogposting",
    "posting",
    "socialmediaposting",
    "webpage",
    "advertisercontentarticle",
    "satiricalarticle",
    "medicalscholarlyarticle",
    "creativework",
    "discussionforumposting",
    "howto",
    "recipe",
    "review",
    "itempage",
    "videoobject",
];

pub(super) fn ld_type_rank(v: &Value) -> Option<usize> {
    let types: Vec<String> = match v.get("@type") {
        Some(Value::String(s)) => vec![s.to_ascii_lowercase()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        _ => return None,
    };
    types
        .iter()
        .filter_map(|t| {
            let t = t.rsplit('/').next().unwrap_or(t);
            ARTICLE_TYPES.iter().position(|a| *a == t)
        })
        .min()
}

/// Walks JSON-LD depth first (arrays flattened, `@graph` followed, and with `main_entity` an object's
/// `mainEntity` too), calling `visit` on every object until it returns true. At most 10,000 values
/// are looked at (hostile pages nest deeply).
fn ld_walk<'a>(ld: &'a [Value], main_entity: bool, mut visit: impl FnMut(&'a Value) -> bool) {
    let mut stack: Vec<&Value> = ld.iter().collect();
    let mut guard = 0;
    while let Some(v) = stack.pop() {
        guard += 1;
        if guard > 10_000 {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => {
                if let Some(g) = o.get("@graph") {
                    stack.push(g);
                }
                if visit(v) {
                    return;
                }
                if let Some(me) = o
                    .get("mainEntity")
                    .filter(|me| main_entity && me.is_object())
                {
                    stack.push(me);
                }
            }
            _ => {}
        }
    }
}

/// All JSON-LD objects (flattening arrays and `@graph`), article-like ones
/// first (by type rank).
pub(super) fn ld_articles(ld: &[Value]) -> Vec<&Value> {
    let mut flat: Vec<&Value> = Vec::new();
    ld_walk(ld, true, |v| {
        if v.get("@type").is_some() {
            flat.push(v);
        }
        false
    });
    let mut ranked: Vec<(usize, &Value)> = flat
        .into_iter()
        .filter_map(|v| ld_type_rank(v).map(|r| (r, v)))
        .collect();
    // Real article types before WebPage & co.
    ranked.sort_by_key(|(r, _)| *r);
    ranked.into_iter().map(|(_, v)| v).collect()
}

pub(super) fn ld_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(ld_str),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("@value"))
            .or_else(|| o.get("url"))
            .and_then(ld_str),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn ld_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.trim().to_string()),
        Value::Array(a) => {
            for x in a.iter().take(20) {
                ld_names(x, out);
            }
        }
        Value::Object(o) => {
            if let Some(n) = o.get("name").and_then(Value::as_str) {
                out.push(n.trim().to_string());
            }
        }
        _ => {}
    }
}

pub(super) fn ld_first<'a>(arts: &[&'a Value], key: &str) -> Option<&'a Value> {
    arts.iter()
        .find_map(|a| a.get(key).filter(|v| !v.is_null()))
}

pub(super) fn ld_all_of_type<'a>(ld: &'a [Value], ty: &str) -> Option<&'a Value> {
    let mut found = None;
    ld_walk(ld, false, |v| {
        let hit = v
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(ty));
        if hit {
            found = Some(v);
        }
        hit
    });
    found
}
