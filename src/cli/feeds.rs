//! The `feeds` subcommands: list, status, discover, add, import and export OPML, label from the State Media
//! Matrix.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::output::{rfc3339, write_feed_status_table};
use super::{FeedsCommand, StatusFormat};
use crate::config::{self, NewFeed};
use crate::source::discover::{self, Candidate};

pub(super) fn feeds_cmd(config_path: &Path, command: FeedsCommand) -> anyhow::Result<ExitCode> {
    match command {
        FeedsCommand::List => {
            let config = config::load(config_path)?;
            let mut out = std::io::stdout().lock();
            for f in &config.feeds {
                writeln!(
                    out,
                    "{:<28} {:<11} {:<2} {:<2} {:<40} {}",
                    f.id,
                    f.affiliation,
                    f.country.as_deref().unwrap_or("-"),
                    f.language.as_deref().unwrap_or("-"),
                    f.name,
                    f.url
                )?;
            }
        }
        FeedsCommand::Status { format } => feeds_status(config_path, format)?,
        FeedsCommand::ImportOpml { file, affiliation } => {
            import_opml(config_path, &file, affiliation)?
        }
        FeedsCommand::Label { matrix, dry_run } => label_feeds(config_path, &matrix, dry_run)?,
        FeedsCommand::ExportOpml => {
            let config = config::load(config_path)?;
            let mut out = std::io::stdout().lock();
            out.write_all(crate::opml::export(&config.feeds, "mediawatch feeds").as_bytes())?;
            out.flush()?;
        }
        FeedsCommand::Discover { url, format } => return discover_cmd(config_path, &url, format),
        FeedsCommand::Add {
            url,
            id,
            name,
            affiliation,
            country,
            language,
            kind,
            max_age_days,
            link_selector,
            include,
            exclude,
            same_site,
        } => {
            let config = config::append_feed(
                config_path,
                &NewFeed {
                    id: id.clone(),
                    url,
                    name,
                    affiliation,
                    country,
                    language,
                    kind,
                    max_age_days,
                    link_selector,
                    include,
                    exclude,
                    same_site,
                },
            )?;
            eprintln!(
                "mediawatch: added feed {id} to {} ({} feeds)",
                config_path.display(),
                config.feeds.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `feeds discover`: the candidates as a table or a JSON array on stdout, notes on stderr; exit 1 when
/// none works.
fn discover_cmd(
    config_path: &Path,
    url: &url::Url,
    format: StatusFormat,
) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    // Built like the pipeline's, with the URL given as the one trusted as written.
    let fetcher = crate::fetch::Fetcher::new(&config.fetch, std::slice::from_ref(url))?;
    let known_ids: Vec<String> = config.feeds.iter().map(|f| f.id.clone()).collect();
    let found = super::runtime()?.block_on(discover::discover(&fetcher, url, &known_ids))?;
    // The add commands name the config file unless it is the default one.
    let config_arg =
        (config_path != Path::new("feeds.toml")).then(|| config_path.display().to_string());
    let rows: Vec<DiscoverRow> = found
        .candidates
        .iter()
        .map(|c| DiscoverRow::new(c, config_arg.as_deref()))
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        StatusFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        StatusFormat::Table if rows.is_empty() => {}
        StatusFormat::Table => write_discover_table(&mut out, &rows)?,
    }
    out.flush()?;
    for note in &found.notes {
        eprintln!("mediawatch: {note}");
    }
    if found.candidates.iter().any(Candidate::ok) {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "mediawatch: no working source found for {url}; tried: {}",
        found.tried.join("; ")
    );
    Ok(ExitCode::FAILURE)
}

/// One candidate as `feeds discover` prints it (the JSON object, and the table's row).
#[derive(Debug, serde::Serialize)]
struct DiscoverRow {
    kind: &'static str,
    url: String,
    ok: bool,
    error: Option<String>,
    entries: Option<usize>,
    newest: Option<String>,
    title: Option<String>,
    news: bool,
    id: String,
    add_command: String,
}

impl DiscoverRow {
    fn new(c: &Candidate, config: Option<&str>) -> DiscoverRow {
        DiscoverRow {
            kind: c.label(),
            url: c.url.to_string(),
            ok: c.ok(),
            error: c.error.clone(),
            entries: c.entries,
            newest: rfc3339(c.newest),
            title: c.title.clone(),
            news: c.news,
            id: c.id.clone(),
            add_command: c.add_command(config),
        }
    }
}

/// The `feeds discover` table: kind, status (ok or error), entries, newest, URL, title, the add command, and
/// last the error of a candidate that does not work (left last: a network error's chain is long).
fn write_discover_table(out: &mut impl Write, rows: &[DiscoverRow]) -> anyhow::Result<()> {
    let title = |r: &DiscoverRow| {
        crate::search::truncate_chars(r.title.as_deref().unwrap_or("-"), 40)
            .replace(['\n', '\t'], " ")
    };
    let width = |header: &str, cells: &mut dyn Iterator<Item = usize>| {
        cells.fold(header.chars().count(), usize::max)
    };
    let url_w = width("url", &mut rows.iter().map(|r| r.url.chars().count()));
    let title_w = width("title", &mut rows.iter().map(|r| title(r).chars().count()));
    let add_w = width(
        "add",
        &mut rows.iter().map(|r| r.add_command.chars().count()),
    );
    let line = |cells: [&str; 8]| {
        let [kind, status, entries, newest, url, title, add, error] = cells;
        let line = format!(
            "{kind:<13} {status:<6} {entries:>7} {newest:<20} {url:<url_w$} {title:<title_w$} {add:<add_w$} {error}"
        );
        line.trim_end().to_string()
    };
    writeln!(
        out,
        "{}",
        line(["kind", "status", "entries", "newest", "url", "title", "add", "error"])
    )?;
    for r in rows {
        let entries = r.entries.map_or("-".to_string(), |n| n.to_string());
        writeln!(
            out,
            "{}",
            line([
                r.kind,
                if r.ok { "ok" } else { "error" },
                &entries,
                r.newest.as_deref().unwrap_or("-"),
                &r.url,
                &title(r),
                &r.add_command,
                r.error.as_deref().unwrap_or(""),
            ])
        )?;
    }
    Ok(())
}

fn feeds_status(config_path: &Path, format: StatusFormat) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let store = crate::store::Store::open_read_only(&config.index_path)?;
    let (states, pending) = match &store {
        Some(s) => {
            let (states, unreadable) = s.feed_states_checked()?;
            for id in unreadable {
                eprintln!(
                    "mediawatch: warning: {}: the state of feed {id} cannot be read (it shows as new); \
                     run `mediawatch check --repair`",
                    s.path().display()
                );
            }
            (states.into_iter().collect(), s.pending_counts()?)
        }
        None => Default::default(),
    };
    let mut rows = crate::status::feed_statuses(&config.feeds, &states, &pending);
    if let Some(s) = &store {
        let due = s.revisits_due_by_feed(chrono::Utc::now())?;
        for r in &mut rows {
            r.revisits_due = Some(due.get(&r.id).copied().unwrap_or(0));
        }
    }
    let mut out = std::io::stdout().lock();
    match format {
        StatusFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        StatusFormat::Table => {
            let revisited = config
                .feeds
                .iter()
                .filter(|f| config.revisit.covers(f))
                .map(|f| f.id.as_str())
                .collect();
            write_feed_status_table(&mut out, &rows, &revisited)?
        }
    }
    out.flush()?;
    Ok(())
}

fn label_feeds(config_path: &Path, csv: &Path, dry_run: bool) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let entries = crate::state_media::load(csv)?;
    let mut labels = std::collections::HashMap::new();
    let mut out = std::io::stdout().lock();
    let (mut matched, mut changed) = (0, 0);
    for f in &config.feeds {
        let Some(m) = crate::state_media::label_feed(f, &entries) else {
            writeln!(out, "{:<28} no match", f.id)?;
            continue;
        };
        matched += 1;
        let entry = m.entry;
        let conflict = match m.conflict {
            Some((configured, a)) => format!(
                "  (config says {configured}, the matrix's {} implies {a}: kept)",
                entry.typology.as_deref().unwrap_or("?")
            ),
            None => String::new(),
        };
        let fill = m.fill;
        let what: Vec<String> = [
            ("affiliation", &fill.affiliation),
            ("typology", &fill.typology),
            ("country", &fill.country),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        writeln!(
            out,
            "{:<28} {} {} ({}, {}): {}{conflict}",
            f.id,
            m.kind,
            entry.host.as_deref().unwrap_or("-"),
            entry.outlet,
            entry.typology.as_deref().unwrap_or("?"),
            if what.is_empty() {
                "nothing missing".to_string()
            } else {
                what.join(" ")
            }
        )?;
        if !what.is_empty() {
            changed += 1;
            labels.insert(f.id.clone(), fill);
        }
    }
    if !dry_run && !labels.is_empty() {
        config::fill_feed_labels(config_path, &labels)?;
    }
    writeln!(
        out,
        "{matched} of {} feeds matched; {changed} {} labels filled{}",
        config.feeds.len(),
        if dry_run { "would have" } else { "had" },
        if dry_run { " (dry run)" } else { "" }
    )?;
    Ok(())
}

fn import_opml(config_path: &Path, file: &Path, affiliation: Option<String>) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = crate::charset::decode(&text, None).text;
    let import =
        crate::opml::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let plan =
        crate::opml::plan_import(&import, &config.feeds, config_path, affiliation.as_deref());
    if !plan.feeds.is_empty() {
        config::append_feeds(config_path, &plan.feeds)?;
    }
    for s in &plan.skipped {
        eprintln!("mediawatch: skipped: {s}");
    }
    eprintln!(
        "mediawatch: imported {} feeds from {} into {} ({} skipped)",
        plan.feeds.len(),
        file.display(),
        config_path.display(),
        plan.skipped.len()
    );
    Ok(())
}
