//! Near-duplicate detection: which archived articles are copies of one another.
//!
//! A state story laundered through other outlets shows up as near-identical text under different
//! mastheads. At ingest each article gets a [`Signature`] of its body ([`signature`]), and a
//! [`ClusterIndex`] gives it a cluster id: the id of the earliest-inserted article it is a near
//! duplicate of, or its own id.
//!
//! How:
//!
//! - **Tokens.** The text is folded Traditional -> Simplified (hanconv `t2s`, only when it holds Han
//!   characters), fullwidth ASCII is folded to ASCII, letters are lowercased and ё is folded to е.
//!   Runs of letters and digits (Latin, Cyrillic, ...) are word tokens; runs of CJK characters become
//!   overlapping character bigrams, as in [`crate::analysis`]. Punctuation and spacing are ignored.
//!   When the body starts with the headline, that prefix is skipped.
//! - **Shingles.** Every window of [`SHINGLE`] = 4 consecutive tokens is hashed: 4 words, or 5 Han
//!   characters. Short windows make different articles on one topic share few shingles (names and
//!   stock phrases alone rarely fill 4 tokens in the same order) while a sentence edited in one place
//!   only changes the ~4 shingles around the edit.
//! - **MinHash.** [`HASHES`] = 36 independent minimums over the shingle set estimate the Jaccard
//!   similarity of two texts' shingle sets; each is kept as 16 bits (b-bit MinHash), so a signature
//!   is 72 bytes.
//! - **LSH banding.** The 36 values form [`BANDS`] = 12 bands of [`ROWS`] = 3. Two texts share at
//!   least one band with probability `1 - (1 - J^3)^12`: 0.28 at Jaccard 0.3, 0.80 at 0.5, 0.95 at
//!   0.6, 0.994 at 0.7. A shared band makes a candidate, and a candidate joins only when the
//!   estimated Jaccard over all 36 values is at least [`THRESHOLD`] = 0.5. Overall, a pair clusters
//!   with probability ~0.99 at Jaccard 0.7, ~0.84 at 0.6, ~0.4 at 0.5, ~0.06 at 0.4 and < 0.01
//!   at 0.3. The same body under another header, footer and headline, or with a sentence added and
//!   one removed, has Jaccard 0.6-0.9; different articles on the same topic stay below ~0.1.
//! - **Index.** Each band value is a 32-bit key in one hash table mapping to the first article that
//!   had it. An insert looks up 12 keys and verifies at most 12 candidates, whatever the index size.
//!
//! Deliberately not done:
//!
//! - **Short texts never cluster.** Below [`MIN_UNITS`] (30 words, or 60 CJK characters, counting a
//!   CJK character as half a word) the signature is [`Signature::EMPTY`]: a feed summary or a
//!   one-paragraph brief is too short to tell a copy from a stock phrase, and an extraction failure
//!   page ("enable JavaScript") must not bind unrelated articles.
//! - **The headline is not part of the signature** (only used to skip its repetition at the start of
//!   the body): republishers rewrite headlines, and equal headlines over different bodies are not
//!   copies.
//! - **Clusters are never merged or re-rooted.** An article joins the earliest cluster among its
//!   verified candidates; ids once given stay valid. A copy of a copy that has drifted below the
//!   threshold from the first article may start its own cluster. Insert in publication order (also
//!   when rebuilding the index from the store) so that the earliest member is the first publisher.
//! - **No translation detection**: a Russian rewrite of an English story is a different text.
//! - No I/O, no persistence: the index is rebuilt by re-inserting stored `(id, signature)` pairs.

use crate::text::fold::simplify;
use crate::text::script::is_cjk;
use std::collections::HashMap;

/// Tokens per shingle (4 words, or 4 CJK bigrams = 5 characters).
pub const SHINGLE: usize = 4;
/// Number of MinHash values in a signature.
pub const HASHES: usize = BANDS * ROWS;
/// LSH bands.
pub const BANDS: usize = 12;
/// MinHash values per band.
pub const ROWS: usize = 3;
/// Estimated Jaccard similarity at or above which a candidate is a near duplicate.
pub const THRESHOLD: f64 = 0.5;
/// Minimum text length to get a signature, in half-words: a word counts 2, a CJK character 1
/// (so 30 words, or 60 CJK characters).
pub const MIN_UNITS: usize = 60;
/// Longest word token kept, in characters (longer runs are junk such as base64).
const MAX_WORD_CHARS: usize = 64;
/// Most tokens read from one text (~250 KB of English): bounds the cost of huge inputs.
const MAX_TOKENS: usize = 40_000;
/// Most bytes of a text looked at (before Traditional -> Simplified folding).
const MAX_BYTES: usize = 512 * 1024;

/// A near-duplicate signature: 36 MinHash values of 16 bits each.
///
/// Storage form: 72 bytes, [`Signature::to_bytes`] / [`Signature::from_bytes`] (little-endian
/// `u16`s), e.g. a tantivy bytes fast field or a value in the state store. [`Signature::EMPTY`]
/// (all zero) marks a text too short to cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    mins: [u16; HASHES],
}

impl Signature {
    /// The signature of a text too short (or empty) to cluster: never similar to anything.
    pub const EMPTY: Signature = Signature { mins: [0; HASHES] };
    /// Length of the stored form.
    pub const BYTES: usize = HASHES * 2;

    /// True for [`Signature::EMPTY`].
    pub fn is_empty(&self) -> bool {
        self.mins.iter().all(|&m| m == 0)
    }

    /// The stored form: the 16-bit values, little-endian.
    pub fn to_bytes(&self) -> [u8; Signature::BYTES] {
        let mut out = [0u8; Signature::BYTES];
        for (chunk, m) in out.chunks_exact_mut(2).zip(self.mins.iter()) {
            chunk.copy_from_slice(&m.to_le_bytes());
        }
        out
    }

    /// Reads the stored form; `None` when `bytes` is not [`Signature::BYTES`] long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        if bytes.len() != Signature::BYTES {
            return None;
        }
        let mut mins = [0u16; HASHES];
        for (m, chunk) in mins.iter_mut().zip(bytes.chunks_exact(2)) {
            *m = u16::from_le_bytes([chunk[0], chunk[1]]);
        }
        Some(Signature { mins })
    }

    /// The key of band `band` (`< BANDS`), with the band number mixed in.
    fn band_key(&self, band: usize) -> u32 {
        let mut h = (band as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for &m in &self.mins[band * ROWS..(band + 1) * ROWS] {
            h = mix(h ^ u64::from(m));
        }
        (h >> 32) as u32
    }
}

impl Default for Signature {
    fn default() -> Self {
        Signature::EMPTY
    }
}

/// Computes the near-duplicate signature of an article body. `title` is only used to skip its
/// repetition at the start of `text`; see the module doc. Texts shorter than [`MIN_UNITS`] get
/// [`Signature::EMPTY`].
pub fn signature(title: &str, text: &str) -> Signature {
    let text = simplify(prefix(text, MAX_BYTES));
    let mut tokens = Vec::new();
    let units = tokens_into(&text, &mut tokens);
    let mut start = 0;
    if !title.is_empty() {
        let mut title_tokens = Vec::new();
        tokens_into(&simplify(prefix(title, MAX_BYTES)), &mut title_tokens);
        if !title_tokens.is_empty() && tokens.starts_with(&title_tokens) {
            start = title_tokens.len();
        }
    }
    let tokens = tokens.get(start..).unwrap_or_default();
    if units < MIN_UNITS || tokens.len() < SHINGLE {
        return Signature::EMPTY;
    }
    let mut mins = [u64::MAX; HASHES];
    for window in tokens.windows(SHINGLE) {
        let mut s = 0x243F_6A88_85A3_08D3u64;
        for &t in window {
            s = mix(s.rotate_left(23) ^ t);
        }
        // Multiply-add hashing (a * s + b mod 2^64, odd a) over an already mixed shingle hash: one
        // multiply per value; the minimum is decided by the well-mixed high bits.
        for (m, seed) in mins.iter_mut().zip(SEEDS.iter()) {
            *m = (*m).min((s.wrapping_mul(*seed | 1)).wrapping_add(seed.rotate_left(32)));
        }
    }
    let mut out = [0u16; HASHES];
    for (o, &m) in out.iter_mut().zip(mins.iter()) {
        // Minimums are small numbers: keep bits of a hash of the minimum, not its top bits. Zero is
        // reserved for EMPTY.
        let v = (mix(m) >> 48) as u16;
        *o = if v == 0 { 1 } else { v };
    }
    Signature { mins: out }
}

/// Estimated Jaccard similarity in [0, 1] of the two texts' shingle sets: the share of equal MinHash
/// values. 0 when either signature is [`Signature::EMPTY`].
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let equal = a
        .mins
        .iter()
        .zip(b.mins.iter())
        .filter(|(x, y)| x == y)
        .count();
    equal as f64 / HASHES as f64
}

/// One indexed article.
#[derive(Debug, Clone)]
struct Member {
    sig: Signature,
    /// Slot of the cluster's first member (this article's own slot when it founded the cluster).
    root: u32,
}

/// An in-memory index of signatures that finds near duplicates by LSH banding: each insert costs 12
/// hash lookups and at most 12 signature comparisons, independent of the number of articles.
///
/// Memory: the signature (72 bytes), the id, and up to 12 band entries of 8 bytes in a hash table
/// per article (about 300 bytes per article in all with 16-character ids, measured at 100,000 articles).
#[derive(Debug, Clone, Default)]
pub struct ClusterIndex {
    members: Vec<Member>,
    /// All ids, concatenated; member `i`'s id is `ids[id_ends[i-1]..id_ends[i]]`.
    ids: String,
    id_ends: Vec<usize>,
    /// Band key -> slot of the first article with that band value.
    bands: HashMap<u32, u32>,
}

impl ClusterIndex {
    /// An empty index.
    pub fn new() -> Self {
        ClusterIndex::default()
    }

    /// Adds an article and returns its cluster id: the id of the earliest-inserted article of the
    /// earliest cluster it is a near duplicate of (similarity at least [`THRESHOLD`] with a band
    /// candidate), or `article_id` itself when it has none. An article with
    /// [`Signature::EMPTY`] is counted but never clustered.
    pub fn insert(&mut self, article_id: &str, sig: Signature) -> String {
        let Ok(slot) = u32::try_from(self.members.len()) else {
            // Beyond 4 billion articles: still answer, but stop indexing.
            return article_id.to_string();
        };
        let mut root = slot;
        let mut vacant = [None::<u32>; BANDS];
        if !sig.is_empty() {
            let mut checked = [u32::MAX; BANDS];
            for (band, free) in vacant.iter_mut().enumerate() {
                let key = sig.band_key(band);
                match self.bands.get(&key) {
                    None => *free = Some(key),
                    Some(&other) => {
                        if checked.contains(&other) {
                            continue;
                        }
                        checked[band] = other;
                        if let Some(member) = self.members.get(other as usize) {
                            if similarity(&sig, &member.sig) >= THRESHOLD {
                                root = root.min(member.root);
                            }
                        }
                    }
                }
            }
        }
        self.members.push(Member { sig, root });
        self.ids.push_str(article_id);
        self.id_ends.push(self.ids.len());
        for key in vacant.into_iter().flatten() {
            self.bands.insert(key, slot);
        }
        self.id(root).unwrap_or(article_id).to_string()
    }

    /// Number of articles inserted (including those too short to cluster).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The id of the article in `slot`.
    fn id(&self, slot: u32) -> Option<&str> {
        let slot = slot as usize;
        let end = *self.id_ends.get(slot)?;
        let start = if slot == 0 {
            0
        } else {
            *self.id_ends.get(slot - 1)?
        };
        self.ids.get(start..end)
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Folds one character: fullwidth ASCII to ASCII, then lowercase (first char of the mapping),
/// ё to е.
fn fold_char(c: char) -> char {
    let c = match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    let l = if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    };
    if l == 'ё' {
        'е'
    } else {
        l
    }
}

/// Appends the token hashes of `text` to `out` (words, and CJK bigrams; a one-character CJK run is
/// one unigram) and returns its length in units (2 per word, 1 per CJK character).
fn tokens_into(text: &str, out: &mut Vec<u64>) -> usize {
    let mut units = 0usize;
    let mut word: u64 = 0;
    let mut word_len = 0usize;
    let mut prev_cjk: Option<char> = None;
    let mut run_len = 0usize;
    for c in text.chars() {
        if out.len() >= MAX_TOKENS {
            break;
        }
        let c = fold_char(c);
        if is_cjk(c) {
            end_word(&mut word, &mut word_len, &mut units, out);
            units += 1;
            if let Some(p) = prev_cjk {
                out.push(mix((u64::from(p) << 32 | u64::from(c)) ^ CJK_SALT));
            }
            prev_cjk = Some(c);
            run_len += 1;
            continue;
        }
        if let Some(p) = prev_cjk.take() {
            if run_len == 1 {
                out.push(mix(u64::from(p) ^ CJK_SALT));
            }
            run_len = 0;
        }
        if c.is_alphanumeric() {
            word = mix(word ^ u64::from(c));
            word_len += 1;
        } else {
            end_word(&mut word, &mut word_len, &mut units, out);
        }
    }
    if let (Some(p), 1) = (prev_cjk, run_len) {
        out.push(mix(u64::from(p) ^ CJK_SALT));
    }
    end_word(&mut word, &mut word_len, &mut units, out);
    units
}

/// Distinguishes CJK token hashes from word hashes.
const CJK_SALT: u64 = 0xC3A5_C85C_97CB_3127;

/// Ends the current word: pushes its hash unless it is empty or junk-long.
fn end_word(word: &mut u64, word_len: &mut usize, units: &mut usize, out: &mut Vec<u64>) {
    if *word_len > 0 && *word_len <= MAX_WORD_CHARS {
        out.push(mix(*word ^ 0x574F_5244));
        *units += 2;
    }
    *word = 0;
    *word_len = 0;
}

/// A 64-bit finaliser (splitmix64 / murmur3 style): a bijection with good avalanche.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Seeds of the 36 hash functions (fixed: stored signatures depend on them).
const SEEDS: [u64; HASHES] = seeds();

const fn seeds() -> [u64; HASHES] {
    let mut out = [0u64; HASHES];
    let mut state: u64 = 0x005E_ED0F_C1A5_7E25;
    let mut i = 0;
    while i < HASHES {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out[i] = z ^ (z >> 31);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN_BODY: &str = "The Ministry of Foreign Affairs said on Tuesday that the naval exercises near the \
        strait were a routine defensive measure and posed no threat to regional shipping. A spokesperson \
        told reporters in the capital that foreign warships had repeatedly entered the area without \
        notice, and that the drills were a necessary response to what she called provocations by \
        outside powers. She added that fishing fleets had been informed a week in advance and that \
        commercial traffic would be rerouted for three days. Analysts in the region noted that the \
        exercises were the largest this year, involving more than forty vessels and two aircraft \
        carrier groups. The statement also accused several western newspapers of spreading \
        fabricated reports about civilian ships being turned away by force. Officials promised to \
        publish the coordinates of the closed zones on the ministry website every morning until the \
        exercises end on Friday evening.";

    const EN_OTHER: &str = "Naval exercises near the strait entered their second day on Wednesday as \
        the Ministry of Foreign Affairs again rejected criticism from western governments. Shipping \
        companies reported delays of up to eighteen hours for container vessels heading north, and \
        two insurers raised premiums for cargo passing through the area. The ministry spokesperson \
        said the drills were defensive and that foreign warships should stay away from the closed \
        zones. Fishermen interviewed in a harbour town said they had received no warning at all and \
        had lost a week of income. Regional analysts disagreed on whether the exercises were larger \
        than last year, with one saying that satellite images showed fewer carriers than officials \
        claimed. The ministry website listed the coordinates of the closed zones, but several of the \
        published points fell on land, which commentators mocked on social media throughout the day.";

    const RU_BODY: &str =
        "Министерство иностранных дел во вторник заявило, что военно-морские учения \
        у пролива носят плановый оборонительный характер и не угрожают судоходству в регионе. \
        Официальный представитель ведомства сообщила журналистам, что иностранные военные корабли \
        неоднократно заходили в этот район без уведомления, а учения стали необходимым ответом на \
        провокации внешних сил. По её словам, рыболовецкие суда были предупреждены за неделю, а \
        коммерческое движение будет перенаправлено на трое суток. Аналитики отмечают, что это \
        крупнейшие учения за год, в которых участвуют более сорока кораблей. В заявлении также \
        говорится, что ряд западных газет распространяет сфабрикованные сообщения о том, будто \
        гражданские суда разворачивают силой. Координаты закрытых районов будут ежедневно \
        публиковаться на сайте министерства до окончания учений в пятницу вечером.";

    const RU_OTHER: &str = "Военно-морские учения у пролива продолжились в среду, а Министерство \
        иностранных дел вновь отвергло критику западных правительств. Судоходные компании \
        сообщили о задержках контейнеровозов до восемнадцати часов, два страховщика подняли тарифы \
        для грузов, проходящих через район. Официальный представитель министерства повторила, что \
        учения носят оборонительный характер, и призвала иностранные корабли держаться подальше от \
        закрытых районов. Рыбаки в портовом городе рассказали, что никакого предупреждения не \
        получали и потеряли неделю заработка. Эксперты разошлись во мнениях о масштабе учений: \
        один из них заявил, что спутниковые снимки показывают меньше авианосцев, чем утверждают \
        чиновники. Опубликованные на сайте министерства координаты частично оказались на суше.";

    const ZH_BODY: &str = "外交部发言人星期二表示，在海峡附近举行的海上演习是例行的防御性措施，\
        不会对地区航运构成任何威胁。发言人在记者会上说，外国军舰多次在未经通知的情况下进入该海域，\
        这次演习是对外部势力挑衅行为的必要回应。她还说，渔船已经提前一周得到通知，商业航运将改道三天。\
        地区分析人士指出，这是今年规模最大的一次演习，共有四十多艘舰艇和两个航母编队参加。\
        声明还指责几家西方报纸散布关于民用船只被强行驱离的虚假报道。官员承诺在演习于星期五晚上结束之前，\
        每天早上在外交部网站上公布封闭海域的坐标。";

    const ZH_OTHER: &str = "海峡附近的海上演习星期三进入第二天，外交部再次驳斥西方国家政府的批评。\
        航运公司报告说，北上的集装箱船最多延误十八个小时，两家保险公司提高了经过该海域货物的保费。\
        外交部发言人重申演习是防御性的，并要求外国军舰远离封闭海域。港口小镇的渔民说，他们根本没有\
        收到任何警告，损失了一个星期的收入。地区分析人士对演习规模是否超过去年看法不一，\
        其中一人说卫星图像显示的航母数量少于官员所说。外交部网站公布了封闭海域的坐标，\
        但其中几个点位于陆地上，在社交媒体上引来嘲讽。";

    /// Exact Jaccard similarity of two texts' shingle sets (for calibration).
    fn jaccard(a: &str, b: &str) -> f64 {
        let set = |t: &str| {
            let mut tokens = Vec::new();
            tokens_into(&simplify(t), &mut tokens);
            tokens
                .windows(SHINGLE)
                .map(|w| w.to_vec())
                .collect::<std::collections::HashSet<_>>()
        };
        let (x, y) = (set(a), set(b));
        x.intersection(&y).count() as f64 / x.union(&y).count() as f64
    }

    fn republish(header: &str, body: &str, footer: &str) -> String {
        format!("{header}\n\n{body}\n\n{footer}")
    }

    fn clusters(pairs: &[(&str, &str, &str)]) -> Vec<String> {
        let mut index = ClusterIndex::new();
        pairs
            .iter()
            .map(|(id, title, text)| index.insert(id, signature(title, text)))
            .collect()
    }

    fn check_pair(original: &str, copy: &str, same: bool) {
        let sim = similarity(&signature("", original), &signature("", copy));
        let exact = jaccard(original, copy);
        eprintln!("jaccard {exact:.3} estimated {sim:.3}");
        let ids = clusters(&[("a", "Original", original), ("b", "Copy", copy)]);
        assert_eq!(ids[0], "a");
        assert_eq!(
            ids[1],
            if same { "a" } else { "b" },
            "jaccard {exact:.3} est {sim:.3}"
        );
    }

    #[test]
    fn republished_with_other_header_footer_and_headline_clusters() {
        let en = republish(
            "Global Voice Daily | World | Share this article on social media",
            EN_BODY,
            "Subscribe to our newsletter for the latest news. Copyright 2026 Global Voice Daily. All rights reserved.",
        );
        let ru = republish(
            "Новости дня | Мир | Поделиться",
            RU_BODY,
            "Подписывайтесь на наш канал в Телеграме. Все права защищены. При цитировании ссылка обязательна.",
        );
        let zh = republish(
            "环球快讯 | 国际 | 分享到微信",
            ZH_BODY,
            "责任编辑：王明 本文来源：新华社 版权所有，未经许可不得转载。",
        );
        for (original, copy) in [
            (EN_BODY, en.as_str()),
            (RU_BODY, ru.as_str()),
            (ZH_BODY, zh.as_str()),
        ] {
            check_pair(original, copy, true);
            let ids = clusters(&[
                ("orig", "State agency headline", original),
                ("copy", "A completely different headline", copy),
            ]);
            assert_eq!(ids, ["orig", "orig"]);
        }
    }

    #[test]
    fn traditional_script_copy_of_simplified_original_clusters() {
        let traditional = hanconv::s2tw(ZH_BODY);
        assert_ne!(traditional, ZH_BODY);
        let copy = republish(
            "新聞速遞｜國際",
            &traditional,
            "本文轉載自新華社，版權歸原作者所有。",
        );
        check_pair(ZH_BODY, &copy, true);
    }

    #[test]
    fn same_topic_different_articles_do_not_cluster() {
        for (a, b) in [
            (EN_BODY, EN_OTHER),
            (RU_BODY, RU_OTHER),
            (ZH_BODY, ZH_OTHER),
        ] {
            check_pair(a, b, false);
            assert!(jaccard(a, b) < 0.1);
        }
    }

    /// Removes the sentence containing `remove` and appends `add` after the sentence containing
    /// `after`.
    fn edit(body: &str, remove: &str, after: &str, add: &str, stop: char) -> String {
        let mut out = String::new();
        for sentence in body.split_inclusive(stop) {
            if sentence.contains(remove) {
                continue;
            }
            out.push_str(sentence);
            if sentence.contains(after) {
                out.push_str(add);
            }
        }
        out
    }

    #[test]
    fn lightly_edited_agency_story_clusters() {
        let en = edit(
            EN_BODY,
            "Analysts in the region",
            "posed no threat",
            " The ministry repeated that it remained committed to dialogue with all neighbours.",
            '.',
        );
        let ru = edit(
            RU_BODY,
            "Аналитики отмечают",
            "судоходству в регионе",
            " Министерство подчеркнуло приверженность диалогу со всеми соседями.",
            '.',
        );
        let zh = edit(
            ZH_BODY,
            "地区分析人士",
            "任何威胁",
            "外交部重申愿与所有邻国保持对话。",
            '。',
        );
        for (original, copy) in [(EN_BODY, en), (RU_BODY, ru), (ZH_BODY, zh)] {
            assert_ne!(original, copy);
            let copy = republish("Reprinted from the state news agency", &copy, "");
            check_pair(original, &copy, true);
        }
    }

    #[test]
    fn cluster_id_is_the_earliest_member() {
        let copy1 = republish("Outlet one", EN_BODY, "Read more at outlet one");
        let copy2 = republish("Outlet two", EN_BODY, "Follow outlet two");
        let ids = clusters(&[
            ("other", "", EN_OTHER),
            ("first", "", EN_BODY),
            ("c1", "", &copy1),
            ("zh", "", ZH_BODY),
            ("c2", "", &copy2),
        ]);
        assert_eq!(ids, ["other", "first", "first", "zh", "first"]);
    }

    #[test]
    fn headline_repeated_at_the_start_of_the_body_is_skipped() {
        let title = "Ministry calls naval drills routine and defensive";
        let with_title = format!("{title}\n{EN_BODY}");
        assert_eq!(signature(title, &with_title), signature("", EN_BODY));
        assert_eq!(
            signature("Another headline", EN_BODY),
            signature("", EN_BODY)
        );
    }

    #[test]
    fn short_texts_never_cluster() {
        let short = "The ministry said the drills were routine and posed no threat to shipping.";
        assert!(signature("", short).is_empty());
        assert!(signature("", "外交部发言人表示演习是例行的防御性措施。").is_empty());
        let ids = clusters(&[("a", "", short), ("b", "", short)]);
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(similarity(&Signature::EMPTY, &Signature::EMPTY), 0.0);
    }

    #[test]
    fn stored_form_round_trips() {
        let sig = signature("", RU_BODY);
        assert!(!sig.is_empty());
        assert_eq!(Signature::from_bytes(&sig.to_bytes()), Some(sig));
        assert_eq!(Signature::from_bytes(&[1, 2, 3]), None);
        assert_eq!(similarity(&sig, &sig), 1.0);
    }

    #[test]
    fn no_panic_on_empty_garbage_or_huge_input() {
        let mut index = ClusterIndex::new();
        assert!(index.is_empty());
        let huge = EN_BODY.repeat(2_000);
        let garbage: String = (0u32..50_000)
            .filter_map(|i| char::from_u32(i.wrapping_mul(2_654_435_761) % 0x11_0000))
            .collect();
        let inputs = [
            String::new(),
            " \n\t,;—".to_string(),
            "a".repeat(100_000),
            "\u{0}\u{FFFD}\u{200B}𠀀𠀁".repeat(1_000),
            garbage,
            huge,
        ];
        for (i, text) in inputs.iter().enumerate() {
            let sig = signature(text, text);
            let _ = similarity(&sig, &sig);
            let id = format!("x{i}");
            assert_eq!(index.insert(&id, sig), id);
        }
        assert_eq!(index.len(), inputs.len());
    }
}
