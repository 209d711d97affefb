//! The commands that run one stage alone on saved files or standard input, without an archive: `extract`,
//! `lang`, `tag`, `parse-feed`, `detect-charset` and the hidden `han-convert`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::output::{exit_status, write_json_line};
use super::{
    DetectCharsetArgs, Detector, ExtractArgs, ExtractFormat, LangArgs, LangFormat, ParseFeedArgs,
};
use crate::config;
use crate::pipeline;
use crate::snapshot::read_page;

pub(super) fn tag_cmd(config_path: &Path, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    let tagger = crate::tag::Tagger::new(&config.campaigns)?;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for path in files {
        let bytes = match read_page(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("mediawatch: {e:#}");
                failed = true;
                continue;
            }
        };
        let decoded = crate::charset::decode(&bytes, None).text;
        let is_html = path.extension().is_some_and(|e| e == "html" || e == "htm")
            || decoded.trim_start().starts_with('<');
        // The same code path as ingest: extraction for pages, then language, then tags.
        let file_url = url::Url::from_file_path(std::path::absolute(path)?)
            .unwrap_or_else(|()| url::Url::parse("file:///unknown").expect("static URL"));
        let (title, extracted) = if is_html {
            let e = crate::extract::extract(&decoded, None);
            (e.title.clone(), Some(e))
        } else {
            let (first, rest) = decoded.split_once('\n').unwrap_or((decoded.as_str(), ""));
            let e = crate::model::Extracted {
                title: Some(first.trim().to_string()),
                text: rest.trim().to_string(),
                ..Default::default()
            };
            (e.title.clone(), Some(e))
        };
        let feed = crate::model::FeedSpec::unlabelled(
            "file",
            file_url.clone(),
            crate::model::SourceKind::Rss,
        );
        let entry = crate::model::Entry {
            title,
            ..crate::model::Entry::new("file", file_url)
        };
        let article = pipeline::assemble(
            &feed,
            &entry,
            None,
            0,
            extracted,
            &tagger,
            chrono::Utc::now(),
        );
        let line = serde_json::json!({
            "path": path.display().to_string(),
            "title": article.title,
            "lang": article.lang.lang,
            "script": article.lang.script,
            "confidence": article.lang.confidence,
            "reliable": article.lang.reliable,
            "campaigns": article.campaigns,
        });
        write_json_line(&mut out, &line)?;
    }
    out.flush()?;
    Ok(exit_status(failed))
}

pub(super) fn extract_cmd(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = 0;
    let mut json_items = Vec::new();
    for path in &args.files {
        let bytes = match read_page(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("mediawatch: {e:#}");
                failed += 1;
                continue;
            }
        };
        let html = crate::charset::decode_text(&bytes, None);
        let opts = crate::extract::ExtractOptions::default();
        let budget = crate::extract::work_budget(html.len());
        let extracted =
            match crate::extract::extract_checked(&html, args.url.as_ref(), &opts, budget) {
                Ok((extracted, _work)) => extracted,
                Err(e) => {
                    eprintln!("mediawatch: {}: {e}", path.display());
                    failed += 1;
                    continue;
                }
            };
        let lang = (!args.no_lang).then(|| {
            let hints: Vec<&str> = extracted.language.as_deref().into_iter().collect();
            crate::lang::detect(
                &format!(
                    "{}\n\n{}",
                    extracted.title.as_deref().unwrap_or(""),
                    extracted.text
                ),
                &hints,
            )
        });
        match args.format {
            ExtractFormat::Text => {
                writeln!(
                    out,
                    "{}\n\n{}\n----",
                    extracted.title.as_deref().unwrap_or(""),
                    extracted.text
                )?;
            }
            ExtractFormat::Json | ExtractFormat::Jsonl => {
                let mut value = serde_json::to_value(&extracted)?;
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("path".into(), path.display().to_string().into());
                    if let Some(lang) = &lang {
                        obj.insert("lang".into(), lang.lang.clone().into());
                        obj.insert("script".into(), serde_json::to_value(&lang.script)?);
                    }
                    obj.insert(
                        "declared_language".into(),
                        serde_json::to_value(&extracted.language)?,
                    );
                }
                if args.format == ExtractFormat::Jsonl {
                    serde_json::to_writer(&mut out, &value)?;
                    writeln!(out)?;
                } else {
                    json_items.push(value);
                }
            }
        }
    }
    if args.format == ExtractFormat::Json {
        serde_json::to_writer_pretty(&mut out, &json_items)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn lang_cmd(args: LangArgs) -> anyhow::Result<ExitCode> {
    use std::io::BufRead;
    let input: Box<dyn BufRead> = match args.file.as_deref() {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
        )),
    };
    let hints: Vec<&str> = args.hint.as_deref().into_iter().collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    let mut lines = Lines::new(input);
    while let Some((number, line)) = lines.next_line()? {
        let Some(line) = line else {
            // One result per input line still: this one is `und`, with a message.
            eprintln!(
                "mediawatch: line {number} is not UTF-8: its result is \"und\" (convert the input to UTF-8, e.g. with iconv)"
            );
            failed = true;
            let info = crate::model::LangInfo::unknown();
            write_lang(&mut out, args.format, &info)?;
            continue;
        };
        let info = match args.detector {
            Detector::Mediawatch => crate::lang::detect(&line, &hints),
            Detector::Whatlang => match whatlang::detect(&line) {
                Some(i) => crate::model::LangInfo {
                    lang: crate::lang::iso639_1(i.lang()).to_string(),
                    script: None,
                    confidence: i.confidence(),
                    reliable: i.is_reliable(),
                },
                None => crate::model::LangInfo::unknown(),
            },
        };
        write_lang(&mut out, args.format, &info)?;
    }
    out.flush()?;
    Ok(exit_status(failed))
}

fn write_lang(
    out: &mut impl Write,
    format: LangFormat,
    info: &crate::model::LangInfo,
) -> anyhow::Result<()> {
    match format {
        LangFormat::Jsonl => write_json_line(out, info)?,
        LangFormat::Text => writeln!(
            out,
            "{}\t{}\t{:.2}\t{}",
            info.lang,
            info.script.as_deref().unwrap_or("-"),
            info.confidence,
            info.reliable
        )?,
    }
    Ok(())
}

/// The lines of an input (without `\n` or `\r\n`), numbered from 1; a line that is not UTF-8 is `None`
/// and the ones after it are still read (`BufRead::lines` stops there with an error).
struct Lines<R> {
    input: R,
    number: usize,
    buf: Vec<u8>,
}

impl<R: std::io::BufRead> Lines<R> {
    fn new(input: R) -> Self {
        Lines {
            input,
            number: 0,
            buf: Vec::new(),
        }
    }

    fn next_line(&mut self) -> anyhow::Result<Option<(usize, Option<String>)>> {
        self.buf.clear();
        let n = self
            .input
            .read_until(b'\n', &mut self.buf)
            .context("cannot read input")?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut line = self.buf.as_slice();
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        Ok(Some((
            self.number,
            std::str::from_utf8(line).ok().map(str::to_string),
        )))
    }
}

/// Runs `f` and turns a panic into an error message, quietly (diagnostic commands report panics
/// instead of dying, and print no panic text).
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    crate::catch::quietly(f)
}

pub(super) fn parse_feed_cmd(args: ParseFeedArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for path in &args.files {
        let mut line = serde_json::json!({"path": path.display().to_string()});
        match read_page(path) {
            Err(e) => {
                failed = true;
                line["ok"] = false.into();
                line["error"] = format!("{e:#}").into();
            }
            Ok(bytes) => {
                let decoded = crate::charset::decode(&bytes, None);
                line["encoding"] = decoded.encoding.name().into();
                line["charset_source"] = format!("{:?}", decoded.source).to_lowercase().into();
                match no_panic(|| read_source_file(&args, bytes)) {
                    Err(panic) => {
                        failed = true;
                        line["ok"] = false.into();
                        line["panicked"] = true.into();
                        line["error"] = panic.into();
                    }
                    Ok(Err(e)) => {
                        failed = true;
                        line["ok"] = false.into();
                        line["error"] = e.to_string().into();
                    }
                    Ok(Ok(parsed)) => {
                        line["ok"] = true.into();
                        line["title"] = serde_json::to_value(&parsed.title)?;
                        line["entries"] = parsed.entries.len().into();
                        line["skipped_without_link"] = parsed.skipped_without_link.into();
                        if !parsed.children.is_empty() {
                            line["children"] = parsed
                                .children
                                .iter()
                                .map(|c| c.url.to_string())
                                .collect::<Vec<_>>()
                                .into();
                        }
                        if let Some(older) = &parsed.older {
                            line["older"] = older.to_string().into();
                        }
                        if !parsed.notices.is_empty() {
                            line["notices"] = serde_json::to_value(&parsed.notices)?;
                        }
                        if args.entries {
                            line["items"] = serde_json::to_value(&parsed.entries)?;
                        }
                    }
                }
            }
        }
        write_json_line(&mut out, &line)?;
    }
    out.flush()?;
    Ok(exit_status(failed))
}

/// Reads one saved document as `--kind` says, with the reader the pipeline uses.
fn read_source_file(
    args: &ParseFeedArgs,
    body: Vec<u8>,
) -> Result<crate::source::Listing, crate::source::SourceError> {
    let kind = match args.kind.as_str() {
        "sitemap" => crate::model::SourceKind::Sitemap {
            max_age_days: crate::model::SourceKind::DEFAULT_MAX_AGE_DAYS,
        },
        "telegram" => crate::model::SourceKind::Telegram,
        "html" => crate::model::SourceKind::Html {
            link_selector: args
                .link_selector
                .clone()
                .unwrap_or_else(|| "a[href]".into()),
            include: Vec::new(),
            exclude: Vec::new(),
            same_site: false,
        },
        _ => crate::model::SourceKind::Rss,
    };
    let spec = crate::model::FeedSpec::unlabelled("file", args.url.clone(), kind);
    let page = crate::model::Page {
        url: args.url.clone(),
        final_url: args.url.clone(),
        status: 200,
        content_type: None,
        etag: None,
        last_modified: None,
        headers: vec![],
        body,
        fetched_at: chrono::Utc::now(),
    };
    crate::source::read(&spec, &page, usize::MAX)
}

pub(super) fn detect_charset_cmd(args: DetectCharsetArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for path in &args.files {
        let line = match read_page(path) {
            Err(e) => {
                failed = true;
                serde_json::json!({"path": path.display().to_string(), "error": format!("{e:#}")})
            }
            Ok(bytes) => {
                let d = crate::charset::decode(&bytes, args.content_type.as_deref());
                serde_json::json!({
                    "path": path.display().to_string(),
                    "encoding": d.encoding.name(),
                    "source": format!("{:?}", d.source).to_lowercase(),
                    "replacement_chars": d.text.matches('\u{FFFD}').count(),
                })
            }
        };
        write_json_line(&mut out, &line)?;
    }
    out.flush()?;
    Ok(exit_status(failed))
}

pub(super) fn han_convert_cmd(direction: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    let mut lines = Lines::new(std::io::stdin().lock());
    while let Some((number, line)) = lines.next_line()? {
        let Some(line) = line else {
            eprintln!("mediawatch: line {number} is not UTF-8: printed empty");
            failed = true;
            writeln!(out)?;
            continue;
        };
        let converted = if direction == "s2t" {
            hanconv::s2t(&line)
        } else {
            hanconv::t2s(&line)
        };
        writeln!(out, "{converted}")?;
    }
    out.flush()?;
    Ok(exit_status(failed))
}
