//! The Alliance for Securing Democracy "State Media Matrix" (`State_Media_Matrix.csv`, ASD-at-GMF/state-media-profiles)
//! as a lookup table: which outlet a feed URL belongs to, its country, and its State Media Monitor typology.
//!
//! The CSV has one row per media asset (outlet) with its owning company, website URL and typology code:
//!
//! | code | State Media Monitor definition | [`affiliation_for`] |
//! |---|---|---|
//! | SC   | state-controlled: the state controls funding, governance/ownership and editorial | `state` |
//! | CaPu | captured public / state-managed media | `state` |
//! | CaPr | captured private media | `state` |
//! | ISFM | independent state-funded and state-managed | `independent` |
//! | ISF  | independent state-funded | `independent` |
//! | ISM  | independent state-managed | `independent` |
//! | IP   | independent public media | `independent` |
//!
//! The one-word affiliation is a filter, not a verdict: upstream stresses that independent public media and
//! state-controlled outlets differ in kind, so callers should keep the typology code next to it.
//!
//! Everything here is pure except [`load`], which reads the file. [`label_feed`] says which labels the matrix
//! fills in on a configured feed; writing them into `feeds.toml` is `config`'s job.
//!
//! Matching ([`match_feed`]) works on hosts: a feed's host equals an entry's host ([`MatchKind::ExactHost`]), or an
//! entry's host is a parent domain of the feed's host on a dot boundary ([`MatchKind::ParentDomain`], longest
//! parent wins). Hosts are compared lowercase without a leading `www.`. There is no public-suffix list, so a
//! parent-domain match is only as good as the table's URLs (which name outlets' own sites, never shared hosts).

use std::path::{Path, PathBuf};

use serde::Serialize;
use url::Url;

use crate::config::FeedLabels;
use crate::model::{Affiliation, FeedSpec};

/// Why the State Media Matrix could not be read. The parse errors name the CSV line.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The CSV file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file was read but its text is not a State Media Matrix.
    #[error("{}: {error}", path.display())]
    Invalid {
        /// The CSV file.
        path: PathBuf,
        /// What is wrong, and where.
        error: Box<MatrixError>,
    },
    /// The header row is not a CSV record.
    #[error("line 1: cannot read the header row: {0}")]
    Header(csv::Error),
    /// A column the parser needs is not in the header row.
    #[error("line 1: no {0:?} column in the header row")]
    MissingColumn(&'static str),
    /// A malformed CSV record.
    #[error("{}", csv_error(.0))]
    Record(csv::Error),
    /// A `URL` cell that is not an http(s) URL with a host.
    #[error("line {line}: URL {raw:?}: {reason}")]
    Url {
        /// The CSV line.
        line: u64,
        /// The cell as written.
        raw: String,
        /// What is wrong with it.
        reason: SiteUrlError,
    },
    /// A `Typology` cell outside [`TYPOLOGIES`].
    #[error("line {line}: typology {raw:?} is not one of {}", TYPOLOGIES.join(", "))]
    Typology {
        /// The CSV line.
        line: u64,
        /// The cell as written.
        raw: String,
    },
}

/// A csv error with its line first, as the other parse errors have it.
fn csv_error(e: &csv::Error) -> String {
    match e.position() {
        Some(p) => format!("line {}: {e}", p.line()),
        None => e.to_string(),
    }
}

/// One row (media asset) of the State Media Matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixEntry {
    /// The `Country` column as written, e.g. "DR Congo", "Hong Kong", "Europen Union" (sic).
    pub country_name: String,
    /// ISO 3166-1 alpha-2 code (upper case) for `country_name`, see [`country_code`]; `None` for names that are not a
    /// country or territory with a code (the table's "Europen Union").
    pub country: Option<String>,
    /// The `Media company` column: the owning company or organisation.
    pub company: String,
    /// The `Main assets` column: the outlet (channel, paper, agency, site).
    pub outlet: String,
    /// The `URL` column, parsed; a value without a scheme (`www.example.com`) is read as `http://`.
    pub url: Option<Url>,
    /// The URL's host, normalised by [`normalize_host`] (lowercase, no leading `www.`, no trailing dot).
    pub host: Option<String>,
    /// The `Typology` code in its canonical spelling (`SC`, `CaPu`, `CaPr`, `ISFM`, `ISF`, `ISM`, `IP`); a trailing
    /// `?` (the table's "uncertain" mark, as in `ISFM?`) is dropped.
    pub typology: Option<String>,
}

/// Which rule of [`match_feed`] matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// The feed's host is the entry's host (after normalisation).
    ExactHost,
    /// The entry's host is a parent domain of the feed's host, on a dot boundary
    /// (`rss.dw.com` is under `dw.com`; `feeds.bbci.co.uk` is not under `bbc.co.uk`).
    ParentDomain,
}

impl MatchKind {
    /// A short name for logs and output: `exact-host` or `parent-domain`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::ExactHost => "exact-host",
            MatchKind::ParentDomain => "parent-domain",
        }
    }
}

impl std::fmt::Display for MatchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typology codes of the State Media Monitor, in canonical spelling.
pub const TYPOLOGIES: [&str; 7] = ["SC", "CaPu", "CaPr", "ISFM", "ISF", "ISM", "IP"];

/// Columns the parser needs, by header name (compared trimmed and case-insensitively).
const COL_COUNTRY: &str = "Country";
const COL_COMPANY: &str = "Media company";
const COL_OUTLET: &str = "Main assets";
const COL_URL: &str = "URL";
const COL_TYPOLOGY: &str = "Typology";

/// Parses the State Media Matrix CSV (UTF-8, comma-separated, with its header row).
///
/// Columns are found by header name (`Country`, `Media company`, `Main assets`, `URL`, `Typology`; any order, other
/// columns ignored). Rows whose fields are all empty are skipped; an empty `URL` gives `url: None`, an empty
/// `Typology` gives `typology: None`. Errors name the line: a missing column, a malformed CSV record, a URL that is
/// not an http(s) URL with a host, or a typology code outside [`TYPOLOGIES`].
pub fn parse(csv_text: &str) -> Result<Vec<MatrixEntry>, MatrixError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers = reader.headers().map_err(MatrixError::Header)?.clone();
    let column = |name: &'static str| -> Result<usize, MatrixError> {
        headers
            .iter()
            .position(|h| {
                h.trim_start_matches('\u{feff}')
                    .trim()
                    .eq_ignore_ascii_case(name)
            })
            .ok_or(MatrixError::MissingColumn(name))
    };
    let (c_country, c_company, c_outlet, c_url, c_typology) = (
        column(COL_COUNTRY)?,
        column(COL_COMPANY)?,
        column(COL_OUTLET)?,
        column(COL_URL)?,
        column(COL_TYPOLOGY)?,
    );

    let mut entries = Vec::new();
    for record in reader.records() {
        let record = record.map_err(MatrixError::Record)?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();

        let country_name = field(c_country).to_string();
        let url = match field(c_url) {
            "" => None,
            raw => Some(parse_site_url(raw).map_err(|reason| MatrixError::Url {
                line,
                raw: raw.to_string(),
                reason,
            })?),
        };
        let host = url.as_ref().and_then(|u| u.host_str()).map(normalize_host);
        let typology = match field(c_typology) {
            "" => None,
            raw => Some(
                canonical_typology(raw)
                    .ok_or_else(|| MatrixError::Typology {
                        line,
                        raw: raw.to_string(),
                    })?
                    .to_string(),
            ),
        };
        entries.push(MatrixEntry {
            country: country_code(&country_name).map(str::to_string),
            country_name,
            company: field(c_company).to_string(),
            outlet: field(c_outlet).to_string(),
            url,
            host,
            typology,
        });
    }
    Ok(entries)
}

/// Reads and parses the State Media Matrix CSV at `path` (see [`parse`]).
pub fn load(path: &Path) -> Result<Vec<MatrixEntry>, MatrixError> {
    let text = std::fs::read_to_string(path).map_err(|error| MatrixError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text).map_err(|error| MatrixError::Invalid {
        path: path.to_path_buf(),
        error: Box::new(error),
    })
}

/// The affiliation (`"state"` or `"independent"`, the spellings of `model::Affiliation`) implied by a typology code;
/// `None` for an unknown code. A trailing `?` is ignored and the code is compared case-insensitively.
///
/// The line is drawn at editorial control, following the Matrix's own definitions:
/// - `SC` (state-controlled: the state controls funding, governance/ownership *and editorial line*),
///   `CaPu` (captured public / state-managed media) and `CaPr` (captured private media: privately owned, but
///   editorially captured by the state or its allies) -> `"state"`. "Captured" is the Monitor's term for media whose
///   editorial independence has been lost to the state, whoever owns them.
/// - `ISFM` (independent state-funded and state-managed), `ISF` (independent state-funded), `ISM` (independent
///   state-managed) and `IP` (independent public media) -> `"independent"`. Each is defined as *editorially
///   independent* despite state money or state-appointed management; upstream stresses that such outlets
///   (NPR-like public media) and state-controlled outlets differ in kind.
///
/// So `"independent"` here means "not under state editorial control", not "no state money": keep the typology code
/// alongside when the funding matters.
pub fn affiliation_for(typology: &str) -> Option<&'static str> {
    match canonical_typology(typology)? {
        "SC" | "CaPu" | "CaPr" => Some("state"),
        "ISFM" | "ISF" | "ISM" | "IP" => Some("independent"),
        _ => None,
    }
}

/// The best entry for a feed URL, and which rule matched.
///
/// 1. [`MatchKind::ExactHost`]: entries whose host equals the feed's host (both normalised by [`normalize_host`]).
/// 2. Otherwise [`MatchKind::ParentDomain`]: entries whose host is a parent domain of the feed's host on a dot
///    boundary (`rss.dw.com` ~ `dw.com`, but not `notdw.com` ~ `dw.com`); the longest such host wins. IP-address
///    hosts and single-label hosts never match as parents.
///
/// Several entries can share a host (one company's TV and radio on one site). Among them, the entry whose URL path is
/// the longest path prefix of the feed URL's path wins (`tdm.com.mo/radio/` for a feed under `/radio/`), and on a tie
/// the first in file order. Returns `None` for a feed URL without a host or with no match.
pub fn match_feed<'a>(
    feed_url: &Url,
    entries: &'a [MatrixEntry],
) -> Option<(&'a MatrixEntry, MatchKind)> {
    let feed_host = normalize_host(feed_url.host_str()?);
    if feed_host.is_empty() {
        return None;
    }
    let feed_path = feed_url.path();

    // (entry, host length, path score): larger is better on both; strict `>` keeps the first in file order.
    let mut exact: Option<(&MatrixEntry, usize)> = None;
    let mut parent: Option<(&MatrixEntry, usize, usize)> = None;
    for entry in entries {
        let Some(host) = entry.host.as_deref() else {
            continue;
        };
        let score = path_score(entry.url.as_ref(), feed_path);
        if host == feed_host {
            if exact.is_none_or(|(_, best)| score > best) {
                exact = Some((entry, score));
            }
        } else if exact.is_none() && is_parent_domain(host, &feed_host) {
            let better = match parent {
                None => true,
                Some((_, len, best)) => host.len() > len || (host.len() == len && score > best),
            };
            if better {
                parent = Some((entry, host.len(), score));
            }
        }
    }
    match (exact, parent) {
        (Some((entry, _)), _) => Some((entry, MatchKind::ExactHost)),
        (None, Some((entry, _, _))) => Some((entry, MatchKind::ParentDomain)),
        (None, None) => None,
    }
}

/// What the matrix says about one configured feed: [`label_feed`]'s result.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMatch<'a> {
    /// The matching entry.
    pub entry: &'a MatrixEntry,
    /// Which rule matched.
    pub kind: MatchKind,
    /// The labels the feed lacks that the entry gives: an affiliation only when the feed's is `unknown`, a
    /// typology and a country only when the feed has none. Empty when nothing is missing.
    pub fill: FeedLabels,
    /// The feed's configured affiliation and the one the entry's typology implies, when they differ (the
    /// configured one is kept).
    pub conflict: Option<(Affiliation, &'static str)>,
}

/// Matches a configured feed against the matrix ([`match_feed`]) and merges the entry's labels into the feed's:
/// labels the config has are never overwritten. `None` when no entry matches.
pub fn label_feed<'a>(feed: &FeedSpec, entries: &'a [MatrixEntry]) -> Option<FeedMatch<'a>> {
    let (entry, kind) = match_feed(&feed.url, entries)?;
    let affiliation = entry.typology.as_deref().and_then(affiliation_for);
    let mut fill = FeedLabels::default();
    if feed.affiliation == Affiliation::Unknown {
        fill.affiliation = affiliation.map(str::to_string);
    }
    if feed.typology.is_none() {
        fill.typology = entry.typology.clone();
    }
    if feed.country.is_none() {
        fill.country = entry.country.clone();
    }
    let conflict = match (affiliation, feed.affiliation) {
        (Some(a), configured) if configured != Affiliation::Unknown && configured.as_str() != a => {
            Some((configured, a))
        }
        _ => None,
    };
    Some(FeedMatch {
        entry,
        kind,
        fill,
        conflict,
    })
}

/// A host as compared by [`match_feed`]: lowercase, without a trailing dot and without one leading `www.`.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match host.strip_prefix("www.") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => host,
    }
}

/// The ISO 3166-1 alpha-2 code (upper case) for an English country or territory name.
///
/// Covers every `Country` value of the State Media Matrix (2024-02-07) except "Europen Union" (sic), which is not a
/// country (the EU has no ISO 3166-1 code; `EU` is only "exceptionally reserved"), plus common variants: official
/// long forms ("Russian Federation", "Islamic Republic of Iran"), short forms ("UK", "USA", "UAE", "DRC") and
/// spellings with or without accents and a leading "The" ("Cote d'Ivoire", "Gambia"). Comparison ignores case,
/// accents, spaces and punctuation. Ambiguous names ("Korea") give `None`.
pub fn country_code(name: &str) -> Option<&'static str> {
    let key = country_key(name);
    let code = match key.as_str() {
        "afghanistan" => "AF",
        "albania" => "AL",
        "algeria" => "DZ",
        "angola" => "AO",
        "argentina" => "AR",
        "armenia" => "AM",
        "australia" => "AU",
        "austria" => "AT",
        "azerbaijan" => "AZ",
        "bahrain" => "BH",
        "bangladesh" => "BD",
        "belarus" => "BY",
        "belgium" => "BE",
        "benin" => "BJ",
        "bhutan" => "BT",
        "bolivia" | "plurinationalstateofbolivia" => "BO",
        "bosniaandherzegovina" | "bosniaherzegovina" | "bosnia" => "BA",
        "botswana" => "BW",
        "brazil" => "BR",
        "brunei" | "bruneidarussalam" => "BN",
        "bulgaria" => "BG",
        "burkinafaso" => "BF",
        "burundi" => "BI",
        "cambodia" => "KH",
        "cameroon" => "CM",
        "canada" => "CA",
        "centralafricanrepublic" | "car" => "CF",
        "chad" => "TD",
        "chile" => "CL",
        "china" | "peoplesrepublicofchina" | "prc" => "CN",
        "colombia" => "CO",
        "congo" | "republicofthecongo" | "republicofcongo" | "congobrazzaville" => "CG",
        "costarica" => "CR",
        "croatia" => "HR",
        "cuba" => "CU",
        "cyprus" => "CY",
        "czechia" | "czechrepublic" => "CZ",
        "cotedivoire" | "ivorycoast" => "CI",
        "drcongo"
        | "drc"
        | "democraticrepublicofthecongo"
        | "democraticrepublicofcongo"
        | "congokinshasa" => "CD",
        "denmark" => "DK",
        "djibouti" => "DJ",
        "dominicanrepublic" => "DO",
        "ecuador" => "EC",
        "egypt" => "EG",
        "elsalvador" => "SV",
        "eritrea" => "ER",
        "estonia" => "EE",
        "ethiopia" => "ET",
        "finland" => "FI",
        "france" => "FR",
        "gabon" => "GA",
        "gambia" => "GM",
        "georgia" => "GE",
        "germany" => "DE",
        "ghana" => "GH",
        "greece" => "GR",
        "guatemala" => "GT",
        "haiti" => "HT",
        "honduras" => "HN",
        "hongkong" => "HK",
        "hungary" => "HU",
        "iceland" => "IS",
        "india" => "IN",
        "indonesia" => "ID",
        "iran" | "islamicrepublicofiran" => "IR",
        "iraq" => "IQ",
        "ireland" => "IE",
        "israel" => "IL",
        "italy" => "IT",
        "jamaica" => "JM",
        "japan" => "JP",
        "jordan" => "JO",
        "kazakhstan" => "KZ",
        "kenya" => "KE",
        "kosovo" => "XK",
        "kuwait" => "KW",
        "kyrgyzstan" => "KG",
        "laos" | "laopeoplesdemocraticrepublic" => "LA",
        "latvia" => "LV",
        "lebanon" => "LB",
        "lesotho" => "LS",
        "liberia" => "LR",
        "libya" => "LY",
        "liechtenstein" => "LI",
        "lithuania" => "LT",
        "macao" | "macau" => "MO",
        "madagascar" => "MG",
        "malawi" => "MW",
        "malaysia" => "MY",
        "malta" => "MT",
        "mauritania" => "MR",
        "mexico" => "MX",
        "moldova" | "republicofmoldova" => "MD",
        "mongolia" => "MN",
        "montenegro" => "ME",
        "morocco" => "MA",
        "mozambique" => "MZ",
        "myanmar" | "burma" => "MM",
        "namibia" => "NA",
        "nepal" => "NP",
        "netherlands" => "NL",
        "newzealand" => "NZ",
        "nicaragua" => "NI",
        "niger" => "NE",
        "nigeria" => "NG",
        "northkorea" | "democraticpeoplesrepublicofkorea" | "dprk" => "KP",
        "northmacedonia" | "macedonia" => "MK",
        "norway" => "NO",
        "oman" => "OM",
        "pakistan" => "PK",
        "palestine"
        | "stateofpalestine"
        | "palestineterritories"
        | "palestinianterritories"
        | "occupiedpalestinianterritories" => "PS",
        "panama" => "PA",
        "paraguay" => "PY",
        "peru" => "PE",
        "philippines" => "PH",
        "poland" => "PL",
        "portugal" => "PT",
        "qatar" => "QA",
        "romania" => "RO",
        "russia" | "russianfederation" => "RU",
        "rwanda" => "RW",
        "saudiarabia" => "SA",
        "senegal" => "SN",
        "serbia" => "RS",
        "singapore" => "SG",
        "slovakia" => "SK",
        "slovenia" => "SI",
        "somalia" => "SO",
        "southafrica" => "ZA",
        "southkorea" | "republicofkorea" => "KR",
        "southsudan" => "SS",
        "spain" => "ES",
        "srilanka" => "LK",
        "sudan" => "SD",
        "sweden" => "SE",
        "switzerland" => "CH",
        "syria" | "syrianarabrepublic" => "SY",
        "taiwan" => "TW",
        "tajikistan" => "TJ",
        "tanzania" | "unitedrepublicoftanzania" => "TZ",
        "thailand" => "TH",
        "togo" => "TG",
        "tunisia" => "TN",
        "turkey" | "turkiye" => "TR",
        "turkmenistan" => "TM",
        "uae" | "unitedarabemirates" => "AE",
        "uganda" => "UG",
        "ukraine" => "UA",
        "unitedkingdom" | "uk" | "greatbritain" | "britain" => "GB",
        "unitedstatesofamerica" | "unitedstates" | "usa" | "us" => "US",
        "uruguay" => "UY",
        "uzbekistan" => "UZ",
        "vaticancity" | "vatican" | "holysee" => "VA",
        "venezuela" | "bolivarianrepublicofvenezuela" => "VE",
        "vietnam" => "VN",
        "yemen" => "YE",
        "zambia" => "ZM",
        "zimbabwe" => "ZW",
        _ => return None,
    };
    Some(code)
}

/// The comparison key of a country name: accents folded, lowercase, only letters and digits, no leading "the".
fn country_key(name: &str) -> String {
    let folded: String = name
        .trim()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
                'a'
            }
            'ç' | 'Ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
            'ñ' | 'Ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
            _ => c,
        })
        .collect::<String>()
        .to_lowercase();
    let folded = folded.strip_prefix("the ").unwrap_or(&folded);
    folded.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The canonical spelling of a typology code (trimmed, trailing `?` dropped, case-insensitive), if it is one.
fn canonical_typology(code: &str) -> Option<&'static str> {
    let code = code.trim().trim_end_matches('?').trim_end();
    TYPOLOGIES
        .iter()
        .copied()
        .find(|t| t.eq_ignore_ascii_case(code))
}

/// Why a `URL` cell is not a site URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteUrlError {
    /// Not a URL, even with `http://` in front.
    #[error("{0}")]
    Parse(#[from] url::ParseError),
    /// A scheme other than http and https.
    #[error("scheme {0:?} is not http or https")]
    Scheme(String),
    /// No host.
    #[error("no host")]
    NoHost,
}

/// Parses a `URL` cell: an http(s) URL with a host; a value without a scheme is read as `http://value`.
///
/// Not `config::check_http_url`: the matrix writes many sites without a scheme (`www.example.com`), which a
/// feed URL in `feeds.toml` may not omit, and this error's wording is the CSV reader's own.
fn parse_site_url(raw: &str) -> Result<Url, SiteUrlError> {
    let url = match Url::parse(raw) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => Url::parse(&format!("http://{raw}"))?,
        Err(e) => return Err(e.into()),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SiteUrlError::Scheme(url.scheme().to_string()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SiteUrlError::NoHost);
    }
    Ok(url)
}

/// Whether `parent` is a parent domain of `host` on a dot boundary (both normalised, `parent != host`).
fn is_parent_domain(parent: &str, host: &str) -> bool {
    if !parent.contains('.')
        || parent.starts_with('[')
        || parent.parse::<std::net::IpAddr>().is_ok()
    {
        return false;
    }
    host.len() > parent.len() + 1
        && host.ends_with(parent)
        && host.as_bytes()[host.len() - parent.len() - 1] == b'.'
}

/// How well an entry's URL path fits a feed's path: the length of the entry's path (without its trailing `/`) when
/// it is a whole-segment prefix of `feed_path`, else 0.
fn path_score(entry_url: Option<&Url>, feed_path: &str) -> usize {
    let Some(url) = entry_url else {
        return 0;
    };
    let prefix = url.path().trim_end_matches('/');
    if prefix.is_empty() {
        return 0;
    }
    let fits = feed_path
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if fits {
        prefix.len()
    } else {
        0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
Region,Country,Media company,Main assets,URL,Typology,Status,Notes,Instagram Link
Asia,China,Xinhua (New China News Agency),News agency: Xinhua,http://www.xinhuanet.com/,SC,,,
Asia,China,\"People's Daily, Inc.\",\"Global Times, English edition\",http://www.globaltimes.cn/,SC,,\"note, with comma\",
,,,,,,,,

Asia,Macao,Teledifusão de Macau (TDM),TDM,http://tdm.com.mo/,SC,,,
Asia,Macao,Teledifusão de Macau (TDM),Radio Macau,http://tdm.com.mo/radio/,SC,,,
Europe,Germany,Deutsche Welle,DW,https://www.dw.com/,ISF,,,
Europe,Moldova,Teleradio-Moldova (TRM),TV Moldova,http://trm.md/,ISFM?,,,
Sub-Saharan Africa,Congo,Radiodiffusion Nationale Congolaise,Radio-Congo,,SC,,,
Sub-Saharan Africa,DR Congo,Agence congolaise de presse (ACP),ACP,https://acp.cd/,SC,,,
Asia,Cambodia,Bayon Television,Bayon TV,www.BayonTV.com.kh,CaPr,,,
Europe,Europen Union,Euronews,Euronews,https://www.euronews.com/,CaPr,,,
Europe,United Kingdom,BBC,BBC News,https://www.bbc.co.uk/,IP,,,
Europe,United Kingdom,BBC,BBC World Service,https://www.bbc.com/,IP,,,
";

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn parses_sample_rows() {
        let e = parse(SAMPLE).unwrap();
        assert_eq!(e.len(), 12, "the two blank rows are skipped");
        assert_eq!(e[0].host.as_deref(), Some("xinhuanet.com"));
        assert_eq!(e[0].country.as_deref(), Some("CN"));
        assert_eq!(e[1].company, "People's Daily, Inc.");
        assert_eq!(e[1].outlet, "Global Times, English edition");
        assert_eq!(e[1].typology.as_deref(), Some("SC"));
        assert_eq!(e[2].country.as_deref(), Some("MO"));
        assert_eq!(e[5].typology.as_deref(), Some("ISFM"), "trailing ? dropped");
        assert_eq!(e[6].url, None);
        assert_eq!(e[6].host, None);
        assert_eq!(e[6].country.as_deref(), Some("CG"));
        assert_eq!(e[7].country.as_deref(), Some("CD"));
        assert_eq!(
            e[8].url.as_ref().map(Url::as_str),
            Some("http://www.bayontv.com.kh/")
        );
        assert_eq!(e[8].host.as_deref(), Some("bayontv.com.kh"));
        assert_eq!(e[9].country_name, "Europen Union");
        assert_eq!(e[9].country, None);
    }

    #[test]
    fn columns_found_by_name_in_any_order() {
        let text = "Typology,URL,Main assets,Media company,Country\r\nSC,https://tass.ru/,TASS,TASS,Russia\r\n";
        let e = parse(text).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].outlet, "TASS");
        assert_eq!(e[0].country.as_deref(), Some("RU"));
        assert_eq!(e[0].host.as_deref(), Some("tass.ru"));
    }

    #[test]
    fn errors_name_the_line() {
        let missing = parse("Country,Media company,Main assets,URL\nChina,a,b,http://a.cn/\n")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("line 1") && missing.contains("Typology"),
            "{missing}"
        );

        let bad_typology = "Country,Media company,Main assets,URL,Typology\n\nChina,a,b,http://a.cn/,SC\nChina,c,d,,XYZ\n";
        let err = parse(bad_typology).unwrap_err().to_string();
        assert!(err.starts_with("line 4:") && err.contains("XYZ"), "{err}");

        let bad_url = "Country,Media company,Main assets,URL,Typology\nChina,a,b,ftp://a.cn/,SC\n";
        let err = parse(bad_url).unwrap_err().to_string();
        assert!(err.starts_with("line 2:") && err.contains("ftp"), "{err}");

        let quoted = "Country,Media company,Main assets,URL,Typology\n\"China\nPRC\",a,b,http://a.cn/,SC\nChina,c,d,http://,SC\n";
        let err = parse(quoted).unwrap_err().to_string();
        assert!(err.starts_with("line 4:"), "a quoted newline counts: {err}");
    }

    #[test]
    fn empty_input_and_header_only() {
        assert_eq!(
            parse("Country,Media company,Main assets,URL,Typology\n").unwrap(),
            vec![]
        );
        assert!(parse("").unwrap_err().to_string().contains("line 1"));
    }

    #[test]
    fn load_reads_a_file_and_reports_the_path() {
        let dir = std::env::temp_dir().join(format!("state-media-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.csv");
        std::fs::write(&path, SAMPLE).unwrap();
        assert_eq!(load(&path).unwrap().len(), 12);
        let err = load(&dir.join("missing.csv")).unwrap_err().to_string();
        assert!(err.contains("missing.csv"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn affiliation_by_typology() {
        for code in ["SC", "CaPu", "CaPr"] {
            assert_eq!(affiliation_for(code), Some("state"), "{code}");
        }
        for code in ["ISFM", "ISF", "ISM", "IP", "ISFM?", " isfm? "] {
            assert_eq!(affiliation_for(code), Some("independent"), "{code}");
        }
        assert_eq!(affiliation_for(""), None);
        assert_eq!(affiliation_for("XYZ"), None);
    }

    #[test]
    fn country_names_map_to_alpha2() {
        let cases = [
            ("China", Some("CN")),
            ("Russia", Some("RU")),
            ("Russian Federation", Some("RU")),
            ("Hong Kong", Some("HK")),
            ("Macao", Some("MO")),
            ("Taiwan", Some("TW")),
            ("Congo", Some("CG")),
            ("DR Congo", Some("CD")),
            ("Democratic Republic of the Congo", Some("CD")),
            ("Côte d'Ivoire", Some("CI")),
            ("Cote d’Ivoire", Some("CI")),
            ("The Gambia", Some("GM")),
            ("Gambia", Some("GM")),
            ("UAE", Some("AE")),
            ("United States of America", Some("US")),
            ("United Kingdom", Some("GB")),
            ("North Korea", Some("KP")),
            ("South Korea", Some("KR")),
            ("Korea", None),
            ("Palestine territories", Some("PS")),
            ("Vatican City", Some("VA")),
            ("Czechia", Some("CZ")),
            ("Turkey", Some("TR")),
            ("Türkiye", Some("TR")),
            ("  bosnia AND herzegovina ", Some("BA")),
            ("Niger", Some("NE")),
            ("Nigeria", Some("NG")),
            ("Europen Union", None),
            ("", None),
        ];
        for (name, code) in cases {
            assert_eq!(country_code(name), code, "{name}");
        }
    }

    #[test]
    fn matches_exact_host_then_parent_domain() {
        let e = parse(SAMPLE).unwrap();
        let (m, kind) = match_feed(
            &url("http://www.xinhuanet.com/english/rss/chinarss.xml"),
            &e,
        )
        .unwrap();
        assert_eq!(
            (m.outlet.as_str(), kind),
            ("News agency: Xinhua", MatchKind::ExactHost)
        );

        let (m, kind) = match_feed(&url("https://rss.dw.com/rdf/rss-ru-all"), &e).unwrap();
        assert_eq!((m.outlet.as_str(), kind), ("DW", MatchKind::ParentDomain));
        assert_eq!(kind.to_string(), "parent-domain");

        // Upper case and a trailing dot are normalised away.
        let (_, kind) = match_feed(&url("https://WWW.DW.COM./feed"), &e).unwrap();
        assert_eq!(kind, MatchKind::ExactHost);

        // A parent match is on a dot boundary only, and a different registrable domain never matches.
        assert!(match_feed(&url("https://notdw.com/rss"), &e).is_none());
        assert!(match_feed(&url("https://feeds.bbci.co.uk/news/rss.xml"), &e).is_none());
        assert!(match_feed(&url("https://example.org/rss"), &e).is_none());
        let (m, kind) = match_feed(&url("https://feeds.bbc.co.uk/news/rss.xml"), &e).unwrap();
        assert_eq!(
            (m.outlet.as_str(), kind),
            ("BBC News", MatchKind::ParentDomain)
        );
    }

    #[test]
    fn label_feed_fills_only_missing_labels_and_reports_conflicts() {
        let e = parse(SAMPLE).unwrap();
        let mut feed = FeedSpec {
            id: "xinhua".into(),
            url: url("http://www.xinhuanet.com/english/rss.xml"),
            name: "Xinhua".into(),
            affiliation: Affiliation::Unknown,
            country: None,
            language: None,
            typology: None,
            interval_secs: None,
            content_selector: None,
            remove_selectors: vec![],
            kind: crate::model::SourceKind::Rss,
        };
        let m = label_feed(&feed, &e).unwrap();
        assert_eq!(
            (m.entry.outlet.as_str(), m.kind),
            ("News agency: Xinhua", MatchKind::ExactHost)
        );
        let all = FeedLabels {
            affiliation: Some("state".into()),
            typology: Some("SC".into()),
            country: Some("CN".into()),
        };
        assert_eq!((&m.fill, m.conflict), (&all, None));
        // Configured labels are kept; a differing affiliation is reported, not overwritten.
        feed.affiliation = Affiliation::Independent;
        feed.typology = Some("ISF".into());
        feed.country = Some("HK".into());
        let m = label_feed(&feed, &e).unwrap();
        assert_eq!(m.fill, FeedLabels::default());
        assert_eq!(m.conflict, Some((Affiliation::Independent, "state")));
        feed.affiliation = Affiliation::State;
        assert_eq!(label_feed(&feed, &e).unwrap().conflict, None);
        feed.url = url("https://example.org/rss");
        assert!(label_feed(&feed, &e).is_none());
    }

    #[test]
    fn longest_parent_domain_wins() {
        let text = "Country,Media company,Main assets,URL,Typology\n\
                    China,CCTV,CCTV,https://cctv.com/,SC\n\
                    China,CCTV,CCTV TV,https://tv.cctv.com/,SC\n";
        let e = parse(text).unwrap();
        let (m, kind) = match_feed(&url("https://news.tv.cctv.com/rss"), &e).unwrap();
        assert_eq!(
            (m.outlet.as_str(), kind),
            ("CCTV TV", MatchKind::ParentDomain)
        );
        let (m, kind) = match_feed(&url("https://news.cctv.com/rss"), &e).unwrap();
        assert_eq!((m.outlet.as_str(), kind), ("CCTV", MatchKind::ParentDomain));
        // A more specific entry host does not claim its parent.
        let text = "Country,Media company,Main assets,URL,Typology\nChina,CCTV,CCTV TV,https://tv.cctv.com/,SC\n";
        assert!(match_feed(&url("https://cctv.com/rss"), &parse(text).unwrap()).is_none());
    }

    #[test]
    fn shared_host_prefers_the_entry_whose_path_fits() {
        let e = parse(SAMPLE).unwrap();
        let (m, _) = match_feed(&url("http://tdm.com.mo/radio/rss.xml"), &e).unwrap();
        assert_eq!(m.outlet, "Radio Macau");
        let (m, _) = match_feed(&url("http://tdm.com.mo/radiox/rss.xml"), &e).unwrap();
        assert_eq!(
            m.outlet, "TDM",
            "whole path segments only; else first in file order"
        );
        let (m, _) = match_feed(&url("http://tdm.com.mo/news.xml"), &e).unwrap();
        assert_eq!(m.outlet, "TDM");
    }

    #[test]
    fn entries_without_hosts_and_ip_hosts() {
        let text = "Country,Media company,Main assets,URL,Typology\n\
                    China,A,A,,SC\n\
                    China,B,B,http://10.0.0.1/,SC\n";
        let e = parse(text).unwrap();
        assert!(match_feed(&url("http://a.cn/rss"), &e).is_none());
        let (m, kind) = match_feed(&url("http://10.0.0.1/rss"), &e).unwrap();
        assert_eq!((m.outlet.as_str(), kind), ("B", MatchKind::ExactHost));
    }

    #[test]
    fn normalizes_hosts() {
        assert_eq!(normalize_host("WWW.Example.COM."), "example.com");
        assert_eq!(normalize_host("www2.example.com"), "www2.example.com");
        assert_eq!(normalize_host("www."), "www");
    }
}
