//! Soak benchmark (issue #24): the daemon for a long run against feeds that change every few seconds.
//!
//! `cargo bench --bench soak` (or `make bench`). A small HTTP/1.1 server on 127.0.0.1 (own thread, like
//! `benches/poll_feeds.rs`) serves [`FEEDS`] RSS feeds at `/feed/{i}.xml`. Feed `i` gets a new item every
//! [`CHANGE_SECS`] seconds (its clock offset by `i`, so the changes are spread out); it lists its newest
//! [`ITEMS_PER_FEED`] items, each linking to a generated ~3 KB article page in English, German, French or
//! Russian (feed `i % 4`) made of real sentences of that language. A temporary `feeds.toml` sets the
//! daemon's adaptive interval to `min_interval_secs = 5`, `max_interval_secs = 20` (the adaptive minimum
//! allowed is 1 s; a fixed per-feed `interval_secs` must be at least 60, so the adaptive bounds are used):
//! every feed has a new item at each poll, so its interval stays at 5 s and every pass archives articles.
//!
//! The release binary (`MW_SOAK_BIN`, default `target/release/mediawatch`) runs `mediawatch run` and
//! `mediawatch serve` on the same index for `MW_SOAK_MINUTES` (default 30). Every `MW_SOAK_SAMPLE_SECS`
//! (default 30) it samples: the daemon's and serve's RSS (`/proc/PID/status` VmRSS), the number of
//! segments and of archived articles (`index/tantivy/meta.json`), the files under `index/`, the daemon's
//! passes (its log), both processes' RssAnon (the heap part of the RSS, without mapped index files), and
//! the median of [`SEARCHES`] searches over serve's `/api/search` (a few different queries in turn).
//! Then it stops the daemon (SIGTERM), merges the index into one segment and measures the same searches
//! again: the search median of a freshly merged index of the same size.
//!
//! It prints the curve as a table and a PASS/MISS line per series (benchmarks report, they do not gate):
//! flat = the value at the end within a stated tolerance of the value after the warm-up (the first 5
//! minutes; half the run when shorter than 10 minutes), and the segments bounded. The search median may
//! grow with the number of articles; the merged comparison says how much of it is the segments.
//!
//! Run without `--bench` (as `cargo test --all-targets` does), it is a smoke run of the site and the
//! samplers only (no daemon): the feeds change with the clock and link to pages that answer.

#[path = "common/http_site.rs"]
mod http_site;
#[path = "common/synth.rs"]
mod synth;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use synth::Lcg;

/// Feeds served.
const FEEDS: usize = 20;
/// Seconds between two new items of one feed.
const CHANGE_SECS: u64 = 3;
/// Items a feed lists (newest first): at a poll every 5 s no item is missed.
const ITEMS_PER_FEED: u64 = 5;
/// Searches per sample; the median is reported.
const SEARCHES: usize = 21;
/// Default length of the run.
const DEFAULT_MINUTES: u64 = 30;
/// Default seconds between samples.
const DEFAULT_SAMPLE_SECS: u64 = 30;
/// Warm-up: the first minutes (at most half the run).
const WARMUP_MINUTES: f64 = 5.0;
/// Flat RSS: the end within this fraction, plus [`RSS_SLACK_MB`], of the value after the warm-up.
const RSS_TOLERANCE: f64 = 0.20;
/// Absolute slack of the RSS tolerance (allocator and page-cache noise on a small process).
const RSS_SLACK_MB: f64 = 8.0;
/// Segments bounded: never more than this after the warm-up (tantivy's merge policy keeps at most 8
/// per size level; before the long-lived writer 10 minutes of passes reached 237).
const SEGMENTS_BOUND: u64 = 40;
/// Flat segments / files: the end within this factor (or the slack below) of the value after warm-up.
const COUNT_FACTOR: f64 = 1.5;
const SEGMENTS_SLACK: u64 = 8;
const FILES_SLACK: u64 = 60;
/// Search median after the soak within this factor (plus 2 ms) of the same index merged to one segment.
const SEARCH_MERGED_FACTOR: f64 = 1.5;
/// Queries of the searches, in turn (serve's JSON API; URL-encoded).
const QUERIES: &[&str] = &[
    "q=government",
    "q=%22trade+talks%22",
    "q=Regierung",
    "q=gouvernement&lang=fr",
    "q=%D0%BF%D1%80%D0%B0%D0%B2%D0%B8%D1%82%D0%B5%D0%BB%D1%8C%D1%81%D1%82%D0%B2%D0%BE",
    "q=reunification&lang=en",
    "q=energy+AND+(prices+OR+markets)",
];

// ---------------------------------------------------------------------------------------------------
// The site

/// The feeds' clock and what the server counts.
struct Site {
    start: Instant,
    port: AtomicU32,
    feed_requests: AtomicU64,
    article_requests: AtomicU64,
    other: AtomicU64,
}

impl Site {
    fn new() -> Site {
        Site {
            start: Instant::now(),
            port: AtomicU32::new(0),
            feed_requests: AtomicU64::new(0),
            article_requests: AtomicU64::new(0),
            other: AtomicU64::new(0),
        }
    }

    /// The newest item of feed `i` now: one more every [`CHANGE_SECS`], offset by `i` tenths of it.
    fn generation(&self, i: usize) -> u64 {
        let ms = self.start.elapsed().as_millis() as u64 + (i as u64 * CHANGE_SECS * 100);
        ms / (CHANGE_SECS * 1000)
    }

    fn respond(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>) {
        if path == "/robots.txt" {
            return (
                "200 OK",
                vec!["Content-Type: text/plain; charset=utf-8".into()],
                b"User-agent: *\nAllow: /\n".to_vec(),
            );
        }
        let port = self.port.load(Ordering::Relaxed);
        if let Some(i) = path
            .strip_prefix("/feed/")
            .and_then(|s| s.strip_suffix(".xml"))
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|i| *i < FEEDS)
        {
            self.feed_requests.fetch_add(1, Ordering::Relaxed);
            let generation = self.generation(i);
            let etag = format!("\"f{i}-g{generation}\"");
            if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
                return (
                    "304 Not Modified",
                    vec![format!("ETag: {etag}")],
                    Vec::new(),
                );
            }
            return (
                "200 OK",
                vec![
                    "Content-Type: application/rss+xml; charset=utf-8".into(),
                    format!("ETag: {etag}"),
                ],
                rss(self.start, port, i, generation).into_bytes(),
            );
        }
        if let Some((i, n)) = path
            .strip_prefix("/article/")
            .and_then(|s| s.strip_suffix(".html"))
            .and_then(|s| s.split_once('/'))
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<u64>().ok()?)))
            .filter(|(i, _)| *i < FEEDS)
        {
            self.article_requests.fetch_add(1, Ordering::Relaxed);
            return (
                "200 OK",
                vec!["Content-Type: text/html; charset=utf-8".into()],
                article_html(port, i, n).into_bytes(),
            );
        }
        self.other.fetch_add(1, Ordering::Relaxed);
        (
            "404 Not Found",
            vec!["Content-Type: text/plain".into()],
            b"not found\n".to_vec(),
        )
    }
}

/// A language: its code, real sentences (`{n}` is replaced by a number, `{w}` by a place) and common
/// words from which the other sentences of a page are drawn, so that two pages share few 4-word runs (the
/// near-duplicate clustering must not see copies where there are none).
struct Lang {
    code: &'static str,
    sentences: &'static [&'static str],
    words: &'static str,
}

const LANGS: &[Lang] = &[
    Lang {
        code: "en",
        sentences: &[
            "The government said on Tuesday that the new policy would take effect next month.",
            "Critics argue that the measure does not go far enough, while supporters say it strikes a balance.",
            "Trade talks with {w} are expected to resume next week after a pause of {n} days.",
            "Energy prices rose by {n} percent, and markets reacted calmly to the news.",
            "A delegation visited {w} for meetings with local leaders about infrastructure projects.",
            "Military exercises near the strait drew a sharp response from the neighbours.",
            "Officials in {w} confirmed that {n} people attended the rally over the weekend.",
            "Analysts expect little change in interest rates before the end of the year.",
            "Beijing again called for peaceful reunification and warned against separatist forces.",
            "The opposition leader accused the government of hiding the true cost of the programme.",
        ],
        words: "government officials said on Tuesday that the new policy would take effect next month after \
                a long debate in parliament over its cost critics argue measure does not go far enough while \
                supporters say it strikes balance between security and growth ministry statement added \
                regional trade talks resume week analysts expect little change markets reacted calmly news \
                agency reported delegation visited capital for meetings with local leaders about energy \
                prices infrastructure projects shipping routes across strait military exercises drew sharp \
                response from neighbours election campaign voters budget schools hospitals border police",
    },
    Lang {
        code: "de",
        sentences: &[
            "Die Regierung hat am Dienstag angekündigt, dass die neue Regelung im nächsten Monat in Kraft tritt.",
            "Kritiker bemängeln, dass die Maßnahme nicht weit genug geht, während Befürworter sie begrüßen.",
            "Die Handelsgespräche mit {w} sollen nach einer Pause von {n} Tagen fortgesetzt werden.",
            "Die Energiepreise stiegen um {n} Prozent, die Märkte reagierten gelassen auf die Nachricht.",
            "Eine Delegation besuchte {w}, um mit den örtlichen Vertretern über Bauprojekte zu sprechen.",
            "Nach Angaben der Polizei nahmen in {w} etwa {n} Menschen an der Kundgebung teil.",
            "Die Opposition wirft der Regierung vor, die wahren Kosten des Programms zu verschweigen.",
            "Experten erwarten bis zum Jahresende keine größeren Änderungen bei den Zinsen.",
        ],
        words: "die der das und nicht mit von für auf dem den ist sich auch nach wie bei eine einer Regierung \
                Ministerium Erklärung Woche Monat Jahr Haushalt Bundestag Opposition Kritiker Befürworter \
                Maßnahme Gesetz Entwurf Verhandlungen Handel Energie Preise Märkte Unternehmen Grenze Polizei \
                Wahl Wähler Kampagne Schulen Krankenhäuser Sicherheit Wachstum Delegation Hauptstadt sagte \
                erklärte kündigte forderte berichtete erwartet beraten beschlossen abgelehnt geplant neue \
                alte große kleine wichtige schnelle zusätzliche regionalen europäischen weiterhin",
    },
    Lang {
        code: "fr",
        sentences: &[
            "Le gouvernement a annoncé mardi que la nouvelle politique entrerait en vigueur le mois prochain.",
            "Les critiques estiment que la mesure ne va pas assez loin, tandis que ses partisans la saluent.",
            "Les négociations commerciales avec {w} doivent reprendre après une pause de {n} jours.",
            "Les prix de l'énergie ont augmenté de {n} pour cent et les marchés ont réagi avec calme.",
            "Une délégation s'est rendue à {w} pour rencontrer les élus locaux au sujet des infrastructures.",
            "Selon la police, environ {n} personnes ont participé au rassemblement à {w} ce week-end.",
            "L'opposition accuse le gouvernement de cacher le coût réel du programme.",
            "Les analystes ne prévoient pas de changement des taux avant la fin de l'année.",
        ],
        words: "le la les de des du et en un une que qui dans pour sur avec par pas plus ne se il elle ils \
                gouvernement ministère communiqué semaine mois année budget Assemblée opposition critiques \
                partisans mesure projet loi négociations commerce énergie prix marchés entreprises frontière \
                police élection électeurs campagne écoles hôpitaux sécurité croissance délégation capitale a \
                déclaré annoncé demandé rapporté prévu examiné adopté rejeté nouvelle nouveau grande petite \
                importante rapide supplémentaires régionales européennes toujours encore aussi",
    },
    Lang {
        code: "ru",
        sentences: &[
            "Правительство во вторник заявило, что новая политика вступит в силу в следующем месяце.",
            "Критики считают, что эта мера недостаточна, тогда как её сторонники говорят о разумном балансе.",
            "Торговые переговоры с {w} возобновятся после перерыва в {n} дней.",
            "Цены на энергоносители выросли на {n} процентов, рынки отреагировали спокойно.",
            "Делегация посетила {w} для встреч с местными руководителями по вопросам инфраструктуры.",
            "По данным полиции, в митинге в {w} приняли участие около {n} человек.",
            "Оппозиция обвиняет правительство в сокрытии реальной стоимости программы.",
            "Аналитики не ожидают изменения ставок до конца года.",
        ],
        words: "и в не на с что по как из за от для это о к но его её они также уже ещё правительство \
                министерство заявление неделя месяц год бюджет дума оппозиция критики сторонники мера закон \
                проект переговоры торговля энергия цены рынки компании граница полиция выборы избиратели \
                кампания школы больницы безопасность рост делегация столица заявил сообщил объявил потребовал \
                ожидается рассмотрит принял отклонил планирует новый новая большой малый важный быстрый \
                дополнительные региональные европейские по-прежнему",
    },
];

const PLACES: &[&str] = &[
    "Vilnius",
    "Riga",
    "Tallinn",
    "Warsaw",
    "Kyiv",
    "Chisinau",
    "Tbilisi",
    "Yerevan",
    "Baku",
    "Minsk",
    "Belgrade",
    "Budapest",
    "Prague",
    "Bratislava",
    "Sofia",
    "Bucharest",
    "Helsinki",
    "Oslo",
];

fn lang_of(i: usize) -> &'static Lang {
    &LANGS[i % LANGS.len()]
}

/// One of the language's real sentences.
fn real_sentence(rng: &mut Lcg, lang: &Lang) -> String {
    lang.sentences[rng.next(lang.sentences.len())]
        .replace("{n}", &(2 + rng.next(998)).to_string())
        .replace("{w}", PLACES[rng.next(PLACES.len())])
}

/// A sentence of 8 to 17 of the language's words.
fn word_sentence(rng: &mut Lcg, lang: &Lang) -> String {
    let words: Vec<&str> = lang.words.split_whitespace().collect();
    let count = 8 + rng.next(10);
    let mut s = String::new();
    for k in 0..count {
        let w = words[rng.next(words.len())];
        if k == 0 {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

fn title(i: usize, n: u64) -> String {
    let mut rng = Lcg::new(i, n);
    let mut t = real_sentence(&mut rng, lang_of(i));
    t.pop();
    format!("{t} ({i}/{n})")
}

/// Publication time of item `n`: when it appeared on the site.
fn published(start: Instant, n: u64, i: usize) -> chrono::DateTime<chrono::Utc> {
    let appeared_ms = (n * CHANGE_SECS * 1000).saturating_sub(i as u64 * CHANGE_SECS * 100);
    let ago = start.elapsed().as_millis() as i64 - appeared_ms as i64;
    chrono::Utc::now() - chrono::Duration::milliseconds(ago.max(0))
}

/// A feed with its newest item `generation` and the [`ITEMS_PER_FEED`] - 1 before it.
fn rss(start: Instant, port: u32, i: usize, generation: u64) -> String {
    let base = format!("http://127.0.0.1:{port}");
    let lang = lang_of(i);
    let mut items = String::new();
    for n in (generation.saturating_sub(ITEMS_PER_FEED - 1)..=generation).rev() {
        let mut rng = Lcg::new(i, n + 1_000_000);
        let summary = word_sentence(&mut rng, lang);
        items.push_str(&format!(
            "<item><title>{title}</title><link>{base}/article/{i}/{n}.html</link>\
             <guid isPermaLink=\"true\">{base}/article/{i}/{n}.html</guid><pubDate>{date}</pubDate>\
             <description>{summary}</description></item>\n",
            title = title(i, n),
            date = published(start, n, i).to_rfc2822(),
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Soak outlet {i}</title><link>{base}/</link><description>Feed {i} of the soak \
         benchmark</description><language>{code}</language>\n{items}</channel></rss>\n",
        code = lang.code
    )
}

/// A ~3 KB news page in the feed's language: five paragraphs, each one real sentence and 2 to 4 drawn
/// from the language's words.
fn article_html(port: u32, i: usize, n: u64) -> String {
    let lang = lang_of(i);
    let mut rng = Lcg::new(i, n);
    let t = title(i, n);
    let mut body = String::new();
    for _ in 0..5 {
        let mut para = vec![real_sentence(&mut rng, lang)];
        for _ in 0..2 + rng.next(3) {
            para.push(word_sentence(&mut rng, lang));
        }
        body.push_str(&format!("      <p>{}</p>\n", para.join(" ")));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="{code}">
<head>
  <meta charset="utf-8">
  <title>{t} | Soak Outlet {i}</title>
  <meta property="og:title" content="{t}">
  <meta property="og:site_name" content="Soak Outlet {i}">
  <link rel="canonical" href="http://127.0.0.1:{port}/article/{i}/{n}.html">
</head>
<body>
  <header class="site-header"><a href="/">Soak Outlet {i}</a>
    <nav><ul><li><a href="/world">World</a></li><li><a href="/politics">Politics</a></li></ul></nav>
  </header>
  <main>
    <article>
      <h1>{t}</h1>
      <p class="byline">By <span class="author">Staff Reporter</span></p>
{body}    </article>
  </main>
  <footer><p>© 2026 Soak Outlet {i}.</p><a href="/privacy">Privacy</a></footer>
</body>
</html>
"#,
        code = lang.code
    )
}

impl http_site::Site for Site {
    fn respond(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>) {
        Site::respond(self, path, if_none_match)
    }
}

/// Starts the site's server ([`http_site::start`]) and tells the site its port.
fn start_server(site: Arc<Site>) -> anyhow::Result<SocketAddr> {
    let addr = http_site::start(Arc::clone(&site), "soak-site")?;
    site.port.store(u32::from(addr.port()), Ordering::Relaxed);
    Ok(addr)
}

fn write_config(dir: &Path, addr: SocketAddr) -> anyhow::Result<PathBuf> {
    let path = dir.join("feeds.toml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(
        f,
        "[index]\npath = \"index\"\n\n[digest]\nout_dir = \"digests\"\n\n[fetch]\n\
         user_agent = \"mediawatch-soak/0.1 (+soak benchmark)\"\nallow_private_networks = true\n\
         host_delay_ms = 0\nmin_interval_secs = 5\nmax_interval_secs = 20\n"
    )?;
    for i in 0..FEEDS {
        writeln!(
            f,
            "[[feeds]]\nid = \"soak-{i}\"\nurl = \"http://{addr}/feed/{i}.xml\"\nname = \"Soak outlet {i}\"\n\
             affiliation = \"{}\"\nlanguage = \"{}\"\n",
            if i % 3 == 0 { "state" } else { "independent" },
            lang_of(i).code
        )?;
    }
    writeln!(
        f,
        "[[campaigns]]\nid = \"soak-reunification\"\nname = \"Reunification narrative\"\n\
         [campaigns.terms]\nen = [\"reunification\", \"separatis*\"]\n"
    )?;
    f.flush()?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------------
// Samplers

/// VmRSS of a process in MB.
fn rss_mb(pid: u32) -> Option<f64> {
    proc_status_mb(pid, "VmRSS:")
}

/// A `/proc/PID/status` value in MB (VmRSS: resident; RssAnon: its heap part, without mapped files).
fn proc_status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Segments and live documents of the index, from `tantivy/meta.json` (None before the first commit).
fn index_meta(index_dir: &Path) -> anyhow::Result<Option<(u64, u64)>> {
    let path = index_dir.join("tantivy").join("meta.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
    };
    meta_counts(&text)
        .with_context(|| format!("{} is not a tantivy meta.json", path.display()))
        .map(Some)
}

/// (segments, live documents) of a tantivy `meta.json`.
fn meta_counts(text: &str) -> anyhow::Result<(u64, u64)> {
    let meta: serde_json::Value = serde_json::from_str(text)?;
    let segments = meta["segments"]
        .as_array()
        .context("no \"segments\" array")?;
    let mut docs = 0;
    for s in segments {
        let max_doc = s["max_doc"].as_u64().context("a segment without max_doc")?;
        let deleted = s["deletes"]["num_deleted_docs"].as_u64().unwrap_or(0);
        docs += max_doc.saturating_sub(deleted);
    }
    Ok((segments.len() as u64, docs))
}

/// Files under `dir`, recursively.
fn count_files(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_files(&e.path()),
            Ok(_) => 1,
            Err(_) => 0,
        })
        .sum()
}

/// One GET on a fresh connection; returns the status code and body.
fn http_get(addr: SocketAddr, target: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connect to serve at {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("read the answer to {target}"))?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .with_context(|| format!("no status line in the answer to {target}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}

/// Median milliseconds of [`SEARCHES`] searches (queries in turn), and the number that did not answer 200.
fn search_median(addr: SocketAddr) -> (Option<f64>, usize) {
    let mut times = Vec::with_capacity(SEARCHES);
    let mut errors = 0;
    for k in 0..SEARCHES {
        let target = format!("/api/search?{}", QUERIES[k % QUERIES.len()]);
        let t = Instant::now();
        match http_get(addr, &target) {
            Ok((200, _)) => times.push(t.elapsed().as_secs_f64() * 1000.0),
            _ => errors += 1,
        }
    }
    (median(&mut times), errors)
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

#[derive(Debug, Clone)]
struct Sample {
    minute: f64,
    articles: u64,
    segments: u64,
    files: u64,
    passes: usize,
    daemon_mb: Option<f64>,
    serve_mb: Option<f64>,
    daemon_anon_mb: Option<f64>,
    serve_anon_mb: Option<f64>,
    search_ms: Option<f64>,
    search_errors: usize,
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

fn print_header() {
    println!(
        "soak {:>6} {:>8} {:>8} {:>6} {:>6} {:>10} {:>9} {:>10} {:>12} {:>11}",
        "minute",
        "articles",
        "segments",
        "files",
        "passes",
        "daemon_MB",
        "serve_MB",
        "search_ms",
        "daemon_anon",
        "serve_anon"
    );
}

fn print_row(s: &Sample) {
    println!(
        "soak {:>6.1} {:>8} {:>8} {:>6} {:>6} {:>10} {:>9} {:>10} {:>12} {:>11}{}",
        s.minute,
        s.articles,
        s.segments,
        s.files,
        s.passes,
        fmt_opt(s.daemon_mb),
        fmt_opt(s.serve_mb),
        fmt_opt(s.search_ms),
        fmt_opt(s.daemon_anon_mb),
        fmt_opt(s.serve_anon_mb),
        if s.search_errors > 0 {
            format!(" ({} searches failed)", s.search_errors)
        } else {
            String::new()
        }
    );
}

/// Lines of the daemon's log that say a pass finished, and that one failed.
fn passes_in_log(log: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    (
        text.lines().filter(|l| l.contains("pass done")).count(),
        text.lines().filter(|l| l.contains("pass failed")).count(),
    )
}

// ---------------------------------------------------------------------------------------------------
// The run

/// Children killed on drop, so an error never leaves a daemon running.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn env_u64(name: &str, default: u64, max: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .with_context(|| format!("{name}={v:?} is not a number between 1 and {max}")),
        Err(_) => Ok(default),
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l =
        std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1 for serve's port")?;
    Ok(l.local_addr()?.port())
}

fn main() -> anyhow::Result<()> {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    if !bench_mode {
        return smoke();
    }
    let minutes = env_u64("MW_SOAK_MINUTES", DEFAULT_MINUTES, 24 * 60)?;
    let sample_secs = env_u64("MW_SOAK_SAMPLE_SECS", DEFAULT_SAMPLE_SECS, 3600)?;
    let bin = std::env::var_os("MW_SOAK_BIN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mediawatch"),
        PathBuf::from,
    );
    let bin = std::fs::canonicalize(&bin).with_context(|| {
        format!(
            "the release binary {} is missing: run `cargo build --release` (or set MW_SOAK_BIN)",
            bin.display()
        )
    })?;

    let site = Arc::new(Site::new());
    let site_addr = start_server(Arc::clone(&site))?;
    let dir = tempfile::Builder::new().prefix("mw-soak").tempdir()?;
    let config = write_config(dir.path(), site_addr)?;
    let index_dir = dir.path().join("index");
    let serve_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    println!(
        "soak: {} on 127.0.0.1: {FEEDS} feeds (en, de, fr, ru), a new item per feed every {CHANGE_SECS} s; \
         daemon interval 5..20 s (adaptive); {minutes} min, a sample every {sample_secs} s, {SEARCHES} \
         searches per sample over serve's /api/search; binary {}",
        site_addr,
        bin.display()
    );

    let daemon_log = dir.path().join("daemon.log");
    let daemon = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&daemon_log)?)
        .spawn()
        .with_context(|| format!("start {} run", bin.display()))?;
    let mut procs = Procs(vec![daemon]);
    let daemon_pid = procs.0[0].id();
    // serve needs the index: wait for the daemon's first commit.
    let t0 = Instant::now();
    while index_meta(&index_dir)?.is_none_or(|(_, docs)| docs == 0) {
        if let Some(status) = procs.0[0].try_wait()? {
            bail!(
                "the daemon exited ({status}) before its first commit; its log: {}",
                daemon_log.display()
            );
        }
        if t0.elapsed() > Duration::from_secs(120) {
            bail!(
                "no commit from the daemon in 120 s; its log: {}",
                daemon_log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let serve_log = dir.path().join("serve.log");
    let serve = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .arg("--addr")
        .arg(serve_addr.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&serve_log)?)
        .spawn()
        .with_context(|| format!("start {} serve", bin.display()))?;
    procs.0.push(serve);
    let serve_pid = procs.0[1].id();
    let t1 = Instant::now();
    while !matches!(
        http_get(serve_addr, "/api/search?q=government"),
        Ok((200, _))
    ) {
        if let Some(status) = procs.0[1].try_wait()? {
            bail!("serve exited ({status}); its log: {}", serve_log.display());
        }
        if t1.elapsed() > Duration::from_secs(60) {
            bail!(
                "serve did not answer in 60 s; its log: {}",
                serve_log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let start = Instant::now();
    let total = Duration::from_secs(minutes * 60);
    let mut samples = Vec::new();
    print_header();
    let mut k = 0u64;
    loop {
        for (name, c) in [("daemon", 0), ("serve", 1)] {
            if let Some(status) = procs.0[c].try_wait()? {
                bail!(
                    "{name} exited during the soak ({status}); logs in {}",
                    dir.path().display()
                );
            }
        }
        let (segments, articles) = index_meta(&index_dir)?.unwrap_or((0, 0));
        let (search_ms, search_errors) = search_median(serve_addr);
        let s = Sample {
            minute: start.elapsed().as_secs_f64() / 60.0,
            articles,
            segments,
            files: count_files(&index_dir),
            passes: passes_in_log(&daemon_log).0,
            daemon_mb: rss_mb(daemon_pid),
            serve_mb: rss_mb(serve_pid),
            daemon_anon_mb: proc_status_mb(daemon_pid, "RssAnon:"),
            serve_anon_mb: proc_status_mb(serve_pid, "RssAnon:"),
            search_ms,
            search_errors,
        };
        print_row(&s);
        samples.push(s);
        if start.elapsed() >= total {
            break;
        }
        k += 1;
        let next = Duration::from_secs(k * sample_secs).min(total);
        std::thread::sleep(next.saturating_sub(start.elapsed()));
    }

    // Stop the daemon cleanly (SIGTERM: it finishes or drops its pass and exits), then merge what it left.
    let stop = Instant::now();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(daemon_pid.to_string())
        .status();
    let exited = loop {
        if let Some(status) = procs.0[0].try_wait()? {
            break Some(status);
        }
        if stop.elapsed() > Duration::from_secs(120) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (passes, failed) = passes_in_log(&daemon_log);
    println!(
        "soak daemon: {passes} passes, {failed} failed; stopped by SIGTERM in {:.1} s ({}); site served {} feed \
         requests, {} article pages, {} other",
        stop.elapsed().as_secs_f64(),
        exited.map_or_else(|| "did not exit in 120 s".into(), |s| s.to_string()),
        site.feed_requests.load(Ordering::Relaxed),
        site.article_requests.load(Ordering::Relaxed),
        site.other.load(Ordering::Relaxed),
    );
    let merged = if exited.is_some() {
        let after_stop = index_meta(&index_dir)?.unwrap_or((0, 0));
        let files_stop = count_files(&index_dir);
        let merge_start = Instant::now();
        let merged = merge_index(&index_dir);
        match merged {
            Ok(()) => {
                std::thread::sleep(Duration::from_millis(1200)); // serve reloads at most every 500 ms
                let _ = http_get(serve_addr, "/api/search?q=government");
                let (ms, errors) = search_median(serve_addr);
                let (segments, articles) = index_meta(&index_dir)?.unwrap_or((0, 0));
                println!(
                    "soak merged: after the stop {} segments, {} files; merged to {segments} segment(s) of {articles} \
                     articles in {:.1} s, {} files; search median {} ms{}",
                    after_stop.0,
                    files_stop,
                    merge_start.elapsed().as_secs_f64(),
                    count_files(&index_dir),
                    fmt_opt(ms),
                    if errors > 0 { format!(" ({errors} failed)") } else { String::new() }
                );
                ms
            }
            Err(e) => {
                println!("soak merged: not measured: {e:#}");
                None
            }
        }
    } else {
        None
    };
    drop(procs);

    println!("soak curve ({} samples):", samples.len());
    print_header();
    for s in &samples {
        print_row(s);
    }
    verdicts(&samples, minutes, merged);
    dir.close()?;
    Ok(())
}

/// Merges every segment of the index into one (the daemon is stopped; nothing else writes).
fn merge_index(index_dir: &Path) -> anyhow::Result<()> {
    let archive = mediawatch::index::Archive::open(index_dir)?;
    let index = archive.index();
    let ids = index.searchable_segment_ids()?;
    let mut writer: tantivy::IndexWriter<tantivy::TantivyDocument> = index.writer(100_000_000)?;
    if ids.len() > 1 {
        writer.merge(&ids).wait().context("merge the segments")?;
    }
    writer
        .wait_merging_threads()
        .context("wait for the merge")?;
    Ok(())
}

/// PASS/MISS per series: the end against the first sample after the warm-up.
fn verdicts(samples: &[Sample], minutes: u64, merged_ms: Option<f64>) {
    let warm_min = WARMUP_MINUTES.min(minutes as f64 / 2.0);
    let (Some(warm), Some(end)) = (
        samples.iter().find(|s| s.minute >= warm_min - 0.01),
        samples.last(),
    ) else {
        println!("soak MISS no samples");
        return;
    };
    let after: Vec<&Sample> = samples.iter().filter(|s| s.minute >= warm.minute).collect();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!(
        "soak warm-up: the first {warm_min:.1} min; compared: minute {:.1} ({} articles) against minute {:.1} ({} articles)",
        warm.minute, warm.articles, end.minute, end.articles
    );
    for (name, w, e, max) in [
        (
            "daemon_rss_mb",
            warm.daemon_mb,
            end.daemon_mb,
            after.iter().filter_map(|s| s.daemon_mb).fold(0.0, f64::max),
        ),
        (
            "serve_rss_mb",
            warm.serve_mb,
            end.serve_mb,
            after.iter().filter_map(|s| s.serve_mb).fold(0.0, f64::max),
        ),
    ] {
        let limit = w.map(|w| w * (1.0 + RSS_TOLERANCE) + RSS_SLACK_MB);
        println!(
            "soak {} {name} flat: {} -> {} (max {max:.1}) limit {} (+{:.0}% +{RSS_SLACK_MB:.0} MB)",
            verdict(matches!((e, limit), (Some(e), Some(l)) if e <= l)),
            fmt_opt(w),
            fmt_opt(e),
            fmt_opt(limit),
            RSS_TOLERANCE * 100.0
        );
    }
    let seg_max = after.iter().map(|s| s.segments).max().unwrap_or(0);
    let seg_limit =
        ((warm.segments as f64 * COUNT_FACTOR) as u64).max(warm.segments + SEGMENTS_SLACK);
    println!(
        "soak {} segments flat and bounded: {} -> {} limit {seg_limit} (x{COUNT_FACTOR} or +{SEGMENTS_SLACK}); max \
         after warm-up {seg_max}, bound {SEGMENTS_BOUND}",
        verdict(end.segments <= seg_limit && seg_max <= SEGMENTS_BOUND),
        warm.segments,
        end.segments
    );
    let files_limit = ((warm.files as f64 * COUNT_FACTOR) as u64).max(warm.files + FILES_SLACK);
    println!(
        "soak {} files flat: {} -> {} limit {files_limit} (x{COUNT_FACTOR} or +{FILES_SLACK}); max after warm-up {}",
        verdict(end.files <= files_limit),
        warm.files,
        end.files,
        after.iter().map(|s| s.files).max().unwrap_or(0)
    );
    // One sample's median can catch a merge or another process on the machine: the end is the median of
    // the last 3 samples' medians.
    let mut last: Vec<f64> = samples
        .iter()
        .rev()
        .take(3)
        .filter_map(|s| s.search_ms)
        .collect();
    let end_ms = median(&mut last);
    let limit = merged_ms.map(|m| m * SEARCH_MERGED_FACTOR + 2.0);
    println!(
        "soak {} search median: {} ms at {} articles -> {} ms at {} articles (median of the last 3 samples); the \
         same index merged to one segment {} ms, limit {} (x{SEARCH_MERGED_FACTOR} + 2 ms)",
        verdict(matches!((end_ms, limit), (Some(e), Some(l)) if e <= l)),
        fmt_opt(warm.search_ms),
        warm.articles,
        fmt_opt(end_ms),
        end.articles,
        fmt_opt(merged_ms),
        fmt_opt(limit)
    );
    let errors: usize = samples.iter().map(|s| s.search_errors).sum();
    if errors > 0 {
        println!("soak MISS {errors} searches did not answer 200");
    }
}

/// Without `--bench`: the site and the samplers, no daemon.
fn smoke() -> anyhow::Result<()> {
    println!("soak: smoke run (no --bench): the site and the samplers only; `cargo bench --bench soak` runs the soak");
    let site = Arc::new(Site::new());
    let addr = start_server(Arc::clone(&site))?;
    let (status, first) = http_get(addr, "/feed/1.xml")?;
    if status != 200 || first.matches("<item>").count() != 1 {
        bail!("feed 1 at start: status {status}, expected 200 with one item:\n{first}");
    }
    let link = first
        .split("<link>")
        .nth(2)
        .and_then(|s| s.split_once("</link>"))
        .map(|(l, _)| l.to_string())
        .context("no item link in feed 1")?;
    let path = link
        .strip_prefix(&format!("http://{addr}"))
        .context("item link not on the site")?;
    let (status, page) = http_get(addr, path)?;
    if status != 200 || !page.contains("lang=\"de\"") || page.len() < 1500 {
        bail!(
            "article {path}: status {status}, {} bytes, expected a German page",
            page.len()
        );
    }
    // Two pages of one feed share few 4-word runs (the pipeline's near-duplicate clustering must not
    // see copies where there are none).
    let shingles = |page: &str| -> std::collections::HashSet<String> {
        let text: String = page
            .split("<p>")
            .skip(2)
            .filter_map(|p| p.split_once("</p>"))
            .map(|(t, _)| t)
            .collect::<Vec<_>>()
            .join(" ");
        let words: Vec<&str> = text.split_whitespace().collect();
        words.windows(4).map(|w| w.join(" ")).collect()
    };
    let (a, b) = (
        shingles(&article_html(1, 5, 1)),
        shingles(&article_html(1, 5, 2)),
    );
    let jaccard = a.intersection(&b).count() as f64 / a.union(&b).count().max(1) as f64;
    if a.len() < 100 || jaccard > 0.2 {
        bail!("two pages of feed 5: {} and {} 4-word runs, Jaccard {jaccard:.2}: expected >= 100 and <= 0.2", a.len(), b.len());
    }
    std::thread::sleep(Duration::from_millis(CHANGE_SECS * 1000 + 100));
    let (_, later) = http_get(addr, "/feed/1.xml")?;
    if later.matches("<item>").count() != 2 || !later.contains(&link) {
        bail!("feed 1 after {CHANGE_SECS} s: expected a new item above the old one:\n{later}");
    }
    let (status, _) = http_get(addr, "/nothing")?;
    if status != 404 {
        bail!("/nothing answered {status}, expected 404");
    }
    let meta = r#"{"segments":[{"segment_id":"a","max_doc":10,"deletes":{"num_deleted_docs":3,"opstamp":5}},
                   {"segment_id":"b","max_doc":4,"deletes":null}],"opstamp":9}"#;
    if meta_counts(meta)? != (2, 11) {
        bail!("meta_counts: {:?}, expected (2, 11)", meta_counts(meta)?);
    }
    if rss_mb(std::process::id()).is_none_or(|mb| mb <= 0.0) {
        bail!("no VmRSS for this process");
    }
    println!("soak smoke run: ok (two pages of one feed: Jaccard {jaccard:.3} over 4-word runs)");
    Ok(())
}
