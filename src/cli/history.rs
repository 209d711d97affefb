//! `mediawatch history ID_OR_URL`: an archived article's versions as revisits found them, with a word diff
//! of the title and text between each version and the one before it, the campaign tags each had, returns to
//! earlier versions and the removal. Reads the index and the store read-only (beside a running writer).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::revisit::{word_diff, DiffOp, DiffSpan, RevisitState, StoredVersion};
use crate::search;
use crate::store::Store;

use super::output::rfc3339;
use super::{open_archive, HistoryFormat};

/// Words of unchanged text kept on each side of a change in the text output.
const CONTEXT_WORDS: usize = 8;

pub(super) fn history_cmd(
    config_path: &Path,
    id_or_url: &str,
    format: HistoryFormat,
) -> anyhow::Result<ExitCode> {
    let (config, archive) = open_archive(config_path)?;
    let Some(article) = search::find_article(&archive, id_or_url)? else {
        eprintln!("mediawatch: no archived article with id or URL {id_or_url:?}");
        return Ok(ExitCode::FAILURE);
    };
    let store = Store::open_read_only(&config.index_path)?;
    let (versions, state) = match &store {
        Some(s) => (s.versions(&article.id)?, s.revisit_state(&article.id)?),
        None => (Vec::new(), None),
    };
    let mut out = std::io::stdout().lock();
    match format {
        HistoryFormat::Json => {
            let value = history_json(&article, &versions, state.as_ref());
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        HistoryFormat::Text => write_text(&mut out, &article, &versions, state.as_ref())?,
    }
    Ok(ExitCode::SUCCESS)
}

fn tags(v: &StoredVersion) -> Vec<&str> {
    v.campaigns.iter().map(|c| c.id.as_str()).collect()
}

fn history_json(
    article: &crate::model::Article,
    versions: &[StoredVersion],
    state: Option<&RevisitState>,
) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let diff = i.checked_sub(1).map(|p| {
                let before = &versions[p].fields;
                serde_json::json!({
                    "title": word_diff(&before.title, &v.fields.title),
                    "text": word_diff(&before.text, &v.fields.text),
                })
            });
            serde_json::json!({
                "number": v.number,
                "fetched_at": v.fetched_at.to_rfc3339(),
                "recorded_at": v.recorded_at.to_rfc3339(),
                "http_status": v.http_status,
                "final_url": v.final_url,
                "title": v.fields.title,
                "published": rfc3339(v.fields.published),
                "byline": v.fields.byline,
                "fields_sha256": v.fields_sha256,
                "snapshot_sha256": v.snapshot_sha256,
                "campaigns": tags(v),
                "changed": v.changed,
                "diff_from_previous": diff,
            })
        })
        .collect();
    serde_json::json!({
        "id": article.id,
        "url": article.url,
        "feed": article.feed,
        "title": article.title,
        "revisited": state.is_some(),
        "versions": versions.len().max(1),
        "current": state.map_or(1, |s| s.current),
        "removed_at": state.and_then(|s| s.removed_at).map(|t| t.to_rfc3339()),
        "removed_why": state.and_then(|s| s.removed_why.clone()),
        "restored_at": state.and_then(|s| s.restored_at).map(|t| t.to_rfc3339()),
        "last_revisit": state.and_then(|s| s.revisited_at).map(|t| t.to_rfc3339()),
        "returns": state.map_or(Vec::new(), |s| s.returns.iter().map(|(at, v)| {
            serde_json::json!({"at": at.to_rfc3339(), "to_version": v})
        }).collect()),
        "history": rows,
    })
}

fn write_text(
    out: &mut impl Write,
    article: &crate::model::Article,
    versions: &[StoredVersion],
    state: Option<&RevisitState>,
) -> std::io::Result<()> {
    writeln!(out, "{}", article.title)?;
    writeln!(
        out,
        "{}  (feed {}, id {})",
        article.url, article.feed, article.id
    )?;
    let Some(state) = state else {
        writeln!(
            out,
            "not revisited: its source is not covered by [revisit], or it was archived before revisits"
        )?;
        return Ok(());
    };
    if let Some(at) = state.removed_at {
        writeln!(
            out,
            "REMOVED: first seen gone {} ({})",
            at.to_rfc3339(),
            state.removed_why.as_deref().unwrap_or("")
        )?;
    }
    if let Some(at) = state.restored_at {
        writeln!(out, "restored: seen again {}", at.to_rfc3339())?;
    }
    let last = state
        .revisited_at
        .map_or_else(|| "never".to_string(), |t| t.to_rfc3339());
    if versions.is_empty() {
        writeln!(out, "1 version: no change found (last revisit: {last})")?;
        return Ok(());
    }
    writeln!(
        out,
        "{} versions, the page shows version {} (last revisit: {last})",
        versions.len(),
        state.current
    )?;
    for (at, to) in &state.returns {
        writeln!(out, "  {}: back to version {to}", at.to_rfc3339())?;
    }
    for (i, v) in versions.iter().enumerate() {
        writeln!(out)?;
        let tags = tags(v);
        writeln!(
            out,
            "version {}  fetched {}  tags: {}{}",
            v.number,
            v.fetched_at.to_rfc3339(),
            if tags.is_empty() {
                "(none)".to_string()
            } else {
                tags.join(", ")
            },
            if v.changed.is_empty() {
                String::new()
            } else {
                format!("  changed: {}", v.changed.join(", "))
            }
        )?;
        let Some(before) = i.checked_sub(1).map(|p| &versions[p].fields) else {
            continue;
        };
        if before.title != v.fields.title {
            writeln!(
                out,
                "  title: {}",
                marked(&word_diff(&before.title, &v.fields.title), usize::MAX)
            )?;
        }
        if before.text != v.fields.text {
            writeln!(
                out,
                "  text:  {}",
                marked(&word_diff(&before.text, &v.fields.text), CONTEXT_WORDS)
            )?;
        }
        if before.published != v.fields.published {
            writeln!(
                out,
                "  published: {} -> {}",
                rfc3339(before.published).unwrap_or_default(),
                rfc3339(v.fields.published).unwrap_or_default()
            )?;
        }
        if before.byline != v.fields.byline {
            writeln!(
                out,
                "  byline: {:?} -> {:?}",
                before.byline, v.fields.byline
            )?;
        }
    }
    Ok(())
}

/// A diff as one line: removed words in `[-...-]`, added ones in `{+...+}`, unchanged runs cut to
/// `context` words on each side of a change (`…` where cut), line breaks shown as ` ¶ `.
fn marked(spans: &[DiffSpan], context: usize) -> String {
    let mut out = String::new();
    let n = spans.len();
    for (i, span) in spans.iter().enumerate() {
        let text = span.text.replace('\n', " ¶ ");
        match span.op {
            DiffOp::Removed => out.push_str(&format!(" [-{}-] ", text.trim())),
            DiffOp::Added => out.push_str(&format!(" {{+{}+}} ", text.trim())),
            DiffOp::Same => {
                let words: Vec<&str> = text.split_whitespace().collect();
                let lead = if i > 0 { context } else { 0 };
                let tail = if i + 1 < n { context } else { 0 };
                if words.len() <= lead.saturating_add(tail) {
                    out.push_str(&format!(" {} ", words.join(" ")));
                } else {
                    let head = &words[..lead];
                    let end = &words[words.len() - tail..];
                    out.push(' ');
                    if !head.is_empty() {
                        out.push_str(&head.join(" "));
                        out.push(' ');
                    }
                    out.push('…');
                    if !end.is_empty() {
                        out.push(' ');
                        out.push_str(&end.join(" "));
                    }
                    out.push(' ');
                }
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_diffs_cut_long_unchanged_runs() {
        let before = "one two three four five six seven eight nine ten eleven twelve";
        let after = "one two three four five six seven eight nine ten ELEVEN twelve";
        assert_eq!(
            marked(&word_diff(before, after), 3),
            "… eight nine ten [-eleven-] {+ELEVEN+} twelve"
        );
        assert_eq!(
            marked(
                &word_diff("Talks resume in Xiamen", "Talks in Xiamen end"),
                usize::MAX
            ),
            "Talks [-resume-] in Xiamen {+end+}"
        );
        assert_eq!(marked(&word_diff("a\nb", "a\nc"), 3), "a ¶ [-b-] {+c+}");
    }
}
