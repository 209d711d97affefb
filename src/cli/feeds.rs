//! The `feeds` subcommands: list, status, add, import and export OPML, label from the State Media Matrix.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::output::write_feed_status_table;
use super::{FeedsCommand, StatusFormat};
use crate::config::{self, NewFeed};

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
        FeedsCommand::Add {
            url,
            id,
            name,
            affiliation,
            country,
            language,
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

fn feeds_status(config_path: &Path, format: StatusFormat) -> anyhow::Result<()> {
    let config = config::load(config_path)?;
    let store = crate::store::Store::open_read_only(&config.index_path)?;
    let states = match &store {
        Some(s) => s.feed_states()?.into_iter().collect(),
        None => Default::default(),
    };
    let rows = crate::status::feed_statuses(&config.feeds, &states);
    let mut out = std::io::stdout().lock();
    match format {
        StatusFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        StatusFormat::Table => write_feed_status_table(&mut out, &rows)?,
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
