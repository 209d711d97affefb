//! The synthetic archive of the search benchmark: deterministic documents (English, Chinese, Russian), the
//! same on both sides, and the query sets drawn from them.
//!
//! Vocabularies are Zipf-distributed (s = 1). Their head is seeded from the langid-eval sentences in
//! `../shared/corpus` when that folder is there (read in place, nothing copied), ranked by frequency; the
//! tail (and everything, without the corpus) is made of generated words. Only words both tokenizers cut
//! the same way are kept: ASCII letters for English, а-я for Russian (ё folded to е), and Chinese folded
//! to Simplified (mediawatch folds Traditional, FTS5 does not).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use chrono::{TimeZone, Utc};
use mediawatch::model::{Article, CampaignHit, LangInfo};
use mediawatch::text::fold::simplify_char;
use mediawatch::text::script::is_cjk;

/// Words per language.
const VOCAB: usize = 20_000;
/// First day of the year the documents are spread over (2025-12-01 00:00 UTC).
pub const START_SECS: i64 = 1_764_547_200;
/// Days the documents are spread over.
pub const DAYS: i64 = 365;
/// Feeds.
pub const FEEDS: usize = 40;

/// Fallback Chinese characters (common ones) when the corpus is absent.
const ZH_CHARS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞";
const EN_SYLLABLES: &[&str] = &[
    "ar", "be", "con", "de", "el", "for", "gan", "hi", "in", "jo", "ka", "lo", "man", "ner", "or",
    "pro", "qui", "re", "sta", "tion", "un", "ver", "wa", "xi", "yo", "zen", "ment", "ing", "al",
    "ist",
];
const RU_SYLLABLES: &[&str] = &[
    "ва", "го", "да", "ен", "же", "за", "ин", "ко", "ла", "ми", "но", "ост", "пра", "ро", "ска",
    "тов", "ур", "фе", "хо", "це", "ча", "ше", "ще", "ый", "эк", "ю", "ян", "ние", "ство", "ция",
];

/// A small deterministic generator (splitmix64).
pub struct Rng(u64);

impl Rng {
    /// A generator for document or query `i` of stream `stream`.
    pub fn new(stream: u64, i: u64) -> Rng {
        let mut r = Rng(0x5EED_0F6A_u64 ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i);
        r.next();
        r
    }

    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A rank in `lo..hi` drawn uniformly on a log scale (varied selectivity).
    pub fn log_rank(&mut self, lo: usize, hi: usize) -> usize {
        let (l, h) = ((lo.max(1)) as f64, (hi.max(lo + 1)) as f64);
        let r = (l.ln() + self.unit() * (h.ln() - l.ln())).exp() as usize;
        r.clamp(lo, hi.saturating_sub(1).max(lo))
    }
}

/// The three languages, with their share of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
    Ru,
}

impl Lang {
    /// ISO 639-1.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Ru => "ru",
        }
    }
}

/// A Zipf-distributed vocabulary.
pub struct Vocab {
    /// Words, most frequent first.
    pub words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocab {
    fn new(mut words: Vec<String>) -> Vocab {
        words.truncate(VOCAB);
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect();
        Vocab { words, cumulative }
    }

    /// A word drawn by Zipf's law.
    pub fn sample(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let u = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c < u);
        &self.words[i.min(self.words.len() - 1)]
    }
}

/// One feed: id, language, affiliation, country.
pub struct Feed {
    pub id: String,
    pub lang: Lang,
    pub affiliation: mediawatch::model::Affiliation,
    pub country: &'static str,
}

/// Everything needed to generate documents and queries.
pub struct Corpus {
    pub en: Vocab,
    pub ru: Vocab,
    pub zh: Vocab,
    pub feeds: Vec<Feed>,
    pub campaigns: Vec<String>,
    /// Where the vocabulary heads came from.
    pub source: String,
}

/// One generated document.
pub struct Doc {
    pub i: usize,
    pub feed: usize,
    pub lang: Lang,
    pub title: String,
    pub text: String,
    pub published: i64,
    pub campaign: Option<usize>,
}

impl Doc {
    /// The URL (the archive's key).
    pub fn url(&self, corpus: &Corpus) -> String {
        format!(
            "https://{}.example/a/{}",
            corpus.feeds[self.feed].id, self.i
        )
    }
}

fn read_gz(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut s)
        .ok()?;
    Some(s)
}

fn ranked(counts: HashMap<String, usize>) -> Vec<String> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter().map(|(w, _)| w).collect()
}

fn alpha_words(text: &str, keep: impl Fn(char) -> bool) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for raw in text.split(|c: char| !c.is_alphabetic()) {
        let w: String = raw
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c == 'ё' { 'е' } else { c })
            .collect();
        if (2..=20).contains(&w.chars().count()) && w.chars().all(&keep) {
            *counts.entry(w).or_default() += 1;
        }
    }
    ranked(counts)
}

fn zh_words(text: &str) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for run in text.split(|c: char| !is_cjk(c)) {
        let chars: Vec<char> = run.chars().map(simplify_char).collect();
        let mut k = 0;
        let mut width = 2;
        while k + width <= chars.len() {
            let w: String = chars[k..k + width].iter().collect();
            *counts.entry(w).or_default() += 1;
            k += width;
            width = if width == 2 { 3 } else { 2 };
        }
    }
    ranked(counts)
}

fn fill(mut words: Vec<String>, mut make: impl FnMut(&mut Rng) -> String) -> Vec<String> {
    let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
    let mut rng = Rng::new(99, words.len() as u64);
    let mut attempts = 0;
    while words.len() < VOCAB && attempts < VOCAB * 50 {
        attempts += 1;
        let w = make(&mut rng);
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

fn syllable_word(rng: &mut Rng, syllables: &[&str]) -> String {
    let n = 2 + rng.below(3);
    (0..n)
        .map(|_| syllables[rng.below(syllables.len())])
        .collect()
}

impl Corpus {
    /// Builds the vocabularies (from `corpus_dir` when readable, else generated) and the feeds.
    pub fn new(corpus_dir: &Path, campaigns: Vec<String>) -> Corpus {
        let sentences = corpus_dir.join("langid-eval/lingua/sentences");
        let en_text = read_gz(&sentences.join("en.txt.gz"));
        let ru_text = read_gz(&sentences.join("ru.txt.gz"));
        let zh_text = read_gz(&sentences.join("zh.txt.gz"));
        let source = if en_text.is_some() && ru_text.is_some() && zh_text.is_some() {
            format!(
                "{} (vocabulary heads) + generated tail",
                sentences.display()
            )
        } else {
            "generated (corpus not found)".to_string()
        };
        let en = alpha_words(en_text.as_deref().unwrap_or(""), |c| c.is_ascii_lowercase());
        let ru = alpha_words(ru_text.as_deref().unwrap_or(""), |c| {
            ('а'..='я').contains(&c)
        });
        let zh = zh_words(zh_text.as_deref().unwrap_or(""));
        let zh_chars: Vec<char> = {
            let mut set: Vec<char> = zh.iter().flat_map(|w| w.chars()).collect();
            set.extend(ZH_CHARS.chars());
            set.sort_unstable();
            set.dedup();
            set
        };
        let en = fill(en, |r| syllable_word(r, EN_SYLLABLES));
        let ru = fill(ru, |r| syllable_word(r, RU_SYLLABLES));
        let zh = fill(zh, |r| {
            let n = 2 + r.below(2);
            (0..n).map(|_| zh_chars[r.below(zh_chars.len())]).collect()
        });
        use mediawatch::model::Affiliation;
        let countries = ["CN", "RU", "US", "GB", "TW", "HK", "DE", "FR", "UA", "SG"];
        let feeds = (0..FEEDS)
            .map(|k| {
                // 18 English, 12 Chinese, 10 Russian feeds: 45% / 30% / 25% of the documents.
                let lang = if k < 18 {
                    Lang::En
                } else if k < 30 {
                    Lang::Zh
                } else {
                    Lang::Ru
                };
                let affiliation = match k % 3 {
                    0 => Affiliation::State,
                    1 => Affiliation::Independent,
                    _ => Affiliation::Unknown,
                };
                Feed {
                    id: format!("feed-{k:02}"),
                    lang,
                    affiliation,
                    country: countries[k % countries.len()],
                }
            })
            .collect();
        Corpus {
            en: Vocab::new(en),
            ru: Vocab::new(ru),
            zh: Vocab::new(zh),
            feeds,
            campaigns,
            source,
        }
    }

    /// The vocabulary of a language.
    pub fn vocab(&self, lang: Lang) -> &Vocab {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
            Lang::Ru => &self.ru,
        }
    }

    /// Document `i`: always the same for the same `i`.
    pub fn doc(&self, i: usize) -> Doc {
        let mut rng = Rng::new(1, i as u64);
        let feed = rng.below(FEEDS);
        let lang = self.feeds[feed].lang;
        let vocab = self.vocab(lang);
        let title_words = 5 + rng.below(8);
        let title = sentence(vocab, lang, &mut rng, title_words, false);
        // Lengths: a few hundred to a few thousand characters (long tail).
        let mut words = 40 + rng.below(160);
        if rng.below(4) == 0 {
            words += rng.below(700);
        }
        let mut text = String::with_capacity(words * 8);
        let mut left = words;
        let mut in_paragraph = 0;
        while left > 0 {
            let n = (6 + rng.below(20)).min(left);
            left -= n;
            text.push_str(&sentence(vocab, lang, &mut rng, n, true));
            in_paragraph += 1;
            if left > 0 {
                if in_paragraph >= 3 && rng.below(2) == 0 {
                    text.push_str("\n\n");
                    in_paragraph = 0;
                } else if lang != Lang::Zh {
                    text.push(' ');
                }
            }
        }
        let published = START_SECS + (rng.next() % (DAYS as u64 * 86_400)) as i64;
        let campaign = if !self.campaigns.is_empty() && rng.below(100) < 8 {
            Some(rng.below(self.campaigns.len()))
        } else {
            None
        };
        Doc {
            i,
            feed,
            lang,
            title,
            text,
            published,
            campaign,
        }
    }
}

fn sentence(vocab: &Vocab, lang: Lang, rng: &mut Rng, n: usize, terminated: bool) -> String {
    let mut s = String::new();
    for k in 0..n {
        let w = vocab.sample(rng);
        match lang {
            Lang::Zh => {
                if k > 0 && k % 7 == 0 {
                    s.push('，');
                }
                s.push_str(w);
            }
            _ => {
                if k > 0 {
                    s.push(' ');
                }
                if k == 0 && terminated {
                    let mut c = w.chars();
                    if let Some(first) = c.next() {
                        s.extend(first.to_uppercase());
                        s.push_str(c.as_str());
                    }
                } else {
                    s.push_str(w);
                }
            }
        }
    }
    if terminated {
        s.push(if lang == Lang::Zh { '。' } else { '.' });
    }
    s
}

/// The query types, in table order.
pub const TYPES: &[&str] = &[
    "term",
    "phrase",
    "boolean",
    "chinese",
    "filtered",
    "facets",
    "histogram",
    "newest",
];

/// One benchmark query, in neutral form; each side renders it in its own syntax.
#[derive(Debug, Clone)]
pub enum Query {
    /// One word.
    Term(String),
    /// Two adjacent words.
    Phrase(String, String),
    /// `a AND (b OR c)`.
    Boolean(String, String, String),
    /// A run of Chinese characters (3).
    Chinese(String),
    /// A word, a language and a publication window `[since_day, until_day]` (day numbers from START).
    Filtered {
        word: String,
        lang: &'static str,
        since_day: i64,
        until_day: i64,
    },
    /// Facet counts over a broad match (one very common word).
    Facets(String),
    /// Daily histogram over a broad match.
    Histogram(String),
    /// Newest first over a broad match.
    Newest(String),
}

fn word_of(corpus: &Corpus, rng: &mut Rng, lo: usize, hi: usize) -> (String, Lang) {
    let lang = if rng.below(3) == 0 {
        Lang::Ru
    } else {
        Lang::En
    };
    let v = corpus.vocab(lang);
    let hi = hi.min(v.words.len());
    (v.words[rng.log_rank(lo, hi)].clone(), lang)
}

/// `per_type` queries of every type, drawn from the vocabularies and from documents `0..n`.
pub fn queries(corpus: &Corpus, n: usize, per_type: usize) -> Vec<(&'static str, Vec<Query>)> {
    let mut out = Vec::new();
    for (t, name) in TYPES.iter().enumerate() {
        let mut qs = Vec::with_capacity(per_type);
        let mut k = 0u64;
        while qs.len() < per_type && k < per_type as u64 * 50 {
            let mut rng = Rng::new(100 + t as u64, k);
            k += 1;
            let q = match *name {
                "term" => Some(Query::Term(word_of(corpus, &mut rng, 5, 5_000).0)),
                "phrase" => phrase_from_doc(corpus, &mut rng, n),
                "boolean" => {
                    let (a, lang) = word_of(corpus, &mut rng, 5, 500);
                    let v = corpus.vocab(lang);
                    let b = v.words[rng.log_rank(20, 5_000.min(v.words.len()))].clone();
                    let c = v.words[rng.log_rank(20, 5_000.min(v.words.len()))].clone();
                    Some(Query::Boolean(a, b, c))
                }
                "chinese" => chinese_from_doc(corpus, &mut rng, n),
                "filtered" => {
                    let (word, lang) = word_of(corpus, &mut rng, 5, 1_000);
                    let since_day = rng.below(DAYS as usize - 30) as i64;
                    Some(Query::Filtered {
                        word,
                        lang: lang.code(),
                        since_day,
                        until_day: since_day + 29,
                    })
                }
                "facets" => Some(Query::Facets(corpus.en.words[rng.below(10)].clone())),
                "histogram" => Some(Query::Histogram(corpus.en.words[rng.below(10)].clone())),
                _ => Some(Query::Newest(corpus.en.words[rng.log_rank(1, 200)].clone())),
            };
            qs.extend(q);
        }
        out.push((*name, qs));
    }
    out
}

fn phrase_from_doc(corpus: &Corpus, rng: &mut Rng, n: usize) -> Option<Query> {
    let doc = corpus.doc(rng.below(n));
    if doc.lang == Lang::Zh {
        return None;
    }
    let words: Vec<String> = doc
        .text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() < 2 {
        return None;
    }
    let k = rng.below(words.len() - 1);
    Some(Query::Phrase(words[k].clone(), words[k + 1].clone()))
}

fn chinese_from_doc(corpus: &Corpus, rng: &mut Rng, n: usize) -> Option<Query> {
    let doc = corpus.doc(rng.below(n));
    if doc.lang != Lang::Zh {
        return None;
    }
    let runs: Vec<Vec<char>> = doc
        .text
        .split(|c: char| !is_cjk(c))
        .map(|r| r.chars().collect::<Vec<char>>())
        .filter(|r| r.len() >= 3)
        .collect();
    if runs.is_empty() {
        return None;
    }
    let run = &runs[rng.below(runs.len())];
    let k = rng.below(run.len() - 2);
    Some(Query::Chinese(run[k..k + 3].iter().collect()))
}

/// Document `doc` as an archived article (the search benchmark's; the other benchmarks that index this
/// corpus adjust what they need).
pub fn article(corpus: &Corpus, doc: Doc) -> Article {
    let feed = &corpus.feeds[doc.feed];
    let url = doc.url(corpus);
    let published = Utc.timestamp_opt(doc.published, 0).single();
    Article {
        id: format!("{:016x}", doc.i),
        url: url.clone(),
        final_url: url,
        feed: feed.id.clone(),
        source_name: format!("Outlet {}", feed.id),
        affiliation: feed.affiliation,
        country: Some(feed.country.to_string()),
        lang: LangInfo {
            lang: doc.lang.code().to_string(),
            script: Some(
                match doc.lang.code() {
                    "zh" => "Hans",
                    "ru" => "Cyrl",
                    _ => "Latn",
                }
                .to_string(),
            ),
            confidence: 0.99,
            reliable: true,
        },
        title: doc.title,
        text: doc.text,
        description: None,
        authors: vec![],
        published,
        modified: None,
        fetched_at: published.unwrap_or_default() + chrono::Duration::minutes(30),
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: doc
            .campaign
            .map(|c| CampaignHit {
                id: corpus.campaigns[c].clone(),
                score: 1.0 + (doc.i % 5) as f64,
                terms: vec![],
            })
            .into_iter()
            .collect(),
        http_status: 200,
        text_source: "page".to_string(),
        cluster: None,
        post: None,
        revision: None,
    }
}
