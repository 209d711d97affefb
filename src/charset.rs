//! Bytes to text in any charset: BOM, then the HTTP `Content-Type`, then the document's own
//! declaration (XML declaration or `<meta charset>`), then statistical detection (chardetng).
//!
//! Labels follow the WHATWG Encoding Standard (encoding_rs): GB2312 and GBK decode as GB18030,
//! Big5 includes HKSCS, windows-1251 and KOI8-R are supported. This module does not judge whether a
//! declared charset is a lie beyond one check: a declaration that does not decode cleanly loses to detection.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// Where the charset came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// Byte order mark.
    Bom,
    /// HTTP `Content-Type` header.
    Http,
    /// XML declaration or HTML `<meta>`.
    Document,
    /// Guessed from the bytes.
    Detected,
}

/// Decoded text and how the charset was chosen.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text (malformed sequences replaced with U+FFFD).
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// Where the choice came from.
    pub source: CharsetSource,
}

/// Decodes `bytes` using, in order: BOM, `content_type` header charset, in-document declaration,
/// detection. A declared charset under which the bytes are not valid falls back to detection.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let (text, encoding, source) = decode_cow(bytes, content_type);
    Decoded {
        text: text.into_owned(),
        encoding,
        source,
    }
}

/// [`decode`]'s text alone, borrowed from `bytes` when it is the input itself (UTF-8, or ASCII under an
/// ASCII-compatible charset): no copy and no second validation pass.
pub fn decode_text<'b>(bytes: &'b [u8], content_type: Option<&str>) -> Cow<'b, str> {
    decode_cow(bytes, content_type).0
}

/// Whether `bytes` is valid UTF-8 (encoding_rs's validator: on pages, several times fewer
/// instructions than `std::str::from_utf8`).
fn is_utf8(bytes: &[u8]) -> bool {
    Encoding::utf8_valid_up_to(bytes) == bytes.len()
}

/// The decoded text, borrowed from `bytes` when no conversion was needed.
fn decode_cow<'b>(
    bytes: &'b [u8],
    content_type: Option<&str>,
) -> (Cow<'b, str>, &'static Encoding, CharsetSource) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text, encoding, CharsetSource::Bom);
    }
    let declared = content_type
        .and_then(charset_from_content_type)
        .map(|e| (e, CharsetSource::Http))
        .into_iter()
        .chain(declared_in_document(bytes).map(|e| (e, CharsetSource::Document)));
    for (encoding, source) in declared {
        // UTF-16 declared in a document without a BOM is almost always wrong (WHATWG rule).
        let encoding = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
            if source == CharsetSource::Document {
                encoding_rs::UTF_8
            } else {
                encoding
            }
        } else {
            encoding
        };
        // A legacy charset declared on bytes that are valid UTF-8 with non-ASCII content is a lie: legacy
        // multi-byte text is almost never valid UTF-8 by chance (pages re-encoded by a CMS keep old meta tags).
        if encoding != encoding_rs::UTF_8 && !bytes.is_ascii() && is_utf8(bytes) {
            return (
                String::from_utf8_lossy(bytes),
                encoding_rs::UTF_8,
                CharsetSource::Detected,
            );
        }
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            // A declaration that decodes cleanly can still be wrong (Big5 bytes decode as valid GBK):
            // switch when detection reads clearly better.
            if let Some(better) = clearly_better_guess(bytes, encoding, &text) {
                let (text, _) = better.decode_without_bom_handling(bytes);
                return (text, better, CharsetSource::Detected);
            }
            return (text, encoding, source);
        }
    }
    let encoding = detect(bytes);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    (text, encoding, CharsetSource::Detected)
}

/// Guesses the encoding of bytes with no usable declaration: UTF-16 without a BOM (by its NUL bytes, as
/// XML 1.0 appendix F does), ISO-2022-JP (by its escape sequences), UTF-8, then chardetng, whose
/// single-byte Cyrillic guesses are refined by letter statistics (it never proposes KOI8-R vs KOI8-U or
/// x-mac-cyrillic well).
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    if let Some(e) = utf16_without_bom(bytes) {
        return e;
    }
    if is_iso2022jp(bytes) {
        return encoding_rs::ISO_2022_JP;
    }
    if is_utf8(bytes) {
        return encoding_rs::UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
    if CYRILLIC_SINGLE_BYTE.contains(&guess) {
        return best_cyrillic(bytes).unwrap_or(guess);
    }
    guess
}

/// Multi-byte CJK encodings whose byte ranges overlap, so that one decodes the other's bytes "validly".
const CJK_MULTI_BYTE: [&Encoding; 5] = [
    encoding_rs::GBK,
    encoding_rs::GB18030,
    encoding_rs::BIG5,
    encoding_rs::EUC_KR,
    encoding_rs::SHIFT_JIS,
];

/// The detected encoding when it is of the same family as the declared one and reads clearly better.
fn clearly_better_guess(
    bytes: &[u8],
    declared: &'static Encoding,
    text: &str,
) -> Option<&'static Encoding> {
    let cjk = CJK_MULTI_BYTE.contains(&declared);
    let cyrillic = CYRILLIC_SINGLE_BYTE.contains(&declared);
    if !cjk && !cyrillic {
        return None;
    }
    let guess = detect(bytes);
    if guess == declared || (cjk && !CJK_MULTI_BYTE.contains(&guess)) {
        return None;
    }
    if cyrillic && !CYRILLIC_SINGLE_BYTE.contains(&guess) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let (guessed_text, _) = guess.decode_without_bom_handling(sample);
    let declared_text = &text[..floor_char_boundary(text, guessed_text.len() + 1024)];
    if cjk {
        let (d_score, d_han) = han_commonness(declared_text);
        let (g_score, g_han) = han_commonness(&guessed_text);
        (d_han.min(g_han) >= 20 && g_score > d_score + 0.2).then_some(guess)
    } else {
        let letters = declared_text
            .chars()
            .filter(|c| c.is_alphabetic())
            .count()
            .max(1) as f64;
        let d = cyrillic_score(declared_text) / letters;
        let g = cyrillic_score(&guessed_text) / letters;
        (letters >= 30.0 && g > d + 0.3).then_some(guess)
    }
}

/// The largest char boundary of `s` at or below `i` (`s.len()` when `i` is past the end).
pub(crate) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Share of Han characters that are among the most common ones (either script), and the Han count.
/// Correctly decoded Chinese prose scores about 0.5; CJK text decoded with the wrong CJK charset, near 0.1.
fn han_commonness(text: &str) -> (f64, usize) {
    static COMMON: std::sync::OnceLock<std::collections::HashSet<char>> =
        std::sync::OnceLock::new();
    let common = COMMON.get_or_init(|| {
        let simplified = COMMON_HAN;
        let traditional = hanconv::s2t(simplified);
        simplified.chars().chain(traditional.chars()).collect()
    });
    let (mut han, mut hits) = (0usize, 0usize);
    for c in text
        .chars()
        .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c) || ('\u{3400}'..='\u{4DBF}').contains(c))
    {
        han += 1;
        if common.contains(&c) {
            hits += 1;
        }
    }
    (hits as f64 / han.max(1) as f64, han)
}

/// About 400 of the most frequent characters of written Chinese (Simplified; Traditional forms are
/// derived with hanconv).
const COMMON_HAN: &str = "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笔";

/// Single-byte encodings of Russian-family text that chardetng mixes up.
const CYRILLIC_SINGLE_BYTE: [&Encoding; 6] = [
    encoding_rs::WINDOWS_1251,
    encoding_rs::KOI8_R,
    encoding_rs::KOI8_U,
    encoding_rs::IBM866,
    encoding_rs::ISO_8859_5,
    encoding_rs::X_MAC_CYRILLIC,
];

/// The Cyrillic single-byte encoding under which the bytes read most like Russian-family prose:
/// mostly lowercase letters, capitals at word starts, no box drawing or rare symbols.
fn best_cyrillic(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    let mut best: Option<(&'static Encoding, f64)> = None;
    for enc in CYRILLIC_SINGLE_BYTE {
        let (text, _) = enc.decode_without_bom_handling(sample);
        let score = cyrillic_score(&text);
        // Ties keep the earlier (more common) encoding: windows-1251, then KOI8-R.
        if best.is_none_or(|(_, b)| score > b + 1e-9) {
            best = Some((enc, score));
        }
    }
    best.map(|(e, _)| e)
}

fn cyrillic_score(text: &str) -> f64 {
    let mut score = 0.0;
    let mut prev_letter = false;
    for c in text.chars() {
        let is_cyr = ('\u{0410}'..='\u{044F}').contains(&c) || c == 'ё' || c == 'Ё';
        if is_cyr {
            if c.is_lowercase() {
                score += 1.0;
            } else if prev_letter {
                score -= 1.0; // a capital inside a word: the case halves are swapped
            }
        } else if ('\u{0400}'..='\u{04FF}').contains(&c) {
            // Ukrainian/Belarusian letters are fine; Serbian/Macedonian ones in Russian text are mojibake.
            score += if "іїєґўІЇЄҐЎ".contains(c) {
                0.5
            } else {
                -1.0
            };
        } else if matches!(c as u32, 0x2500..=0x25FF | 0x80..=0x9F | 0x2020..=0x2122 | 0xA4..=0xBF)
        {
            score -= 2.0; // box drawing, C1 controls, typographic symbols amid letters
        }
        prev_letter = c.is_alphabetic();
    }
    score
}

/// UTF-16 without a BOM: an ASCII-range document has NUL in every other byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let n = bytes.len().min(512) & !1;
    if n < 8 {
        return None;
    }
    let (mut even_nul, mut odd_nul) = (0, 0);
    for (i, b) in bytes[..n].iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 {
                even_nul += 1;
            } else {
                odd_nul += 1;
            }
        }
    }
    let pairs = n / 2;
    if odd_nul * 10 >= pairs * 7 && even_nul * 10 <= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 10 <= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// ISO-2022-JP switches into JIS X 0208 with `ESC $ B` or `ESC $ @`.
fn is_iso2022jp(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b < 0x80)
        && bytes
            .windows(3)
            .any(|w| w == b"\x1b$B" || w == b"\x1b$@" || w == b"\x1b(J")
}

/// The charset parameter of a `Content-Type` value.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(
            value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .as_bytes(),
        )
    })
}

/// The charset declared by an XML declaration or an HTML `<meta>` in the first 4 KiB.
pub fn declared_in_document(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    // ASCII-compatible prescan: lowercase a copy for searching.
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    if lower.starts_with(b"<?xml") {
        if let Some(end) = find(&lower, b"?>") {
            if let Some(label) = attribute_value(&lower[..end], b"encoding") {
                return Encoding::for_label(label);
            }
        }
    }
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(label) = attribute_value(tag, b"charset") {
            if let Some(e) = Encoding::for_label(label) {
                return Some(e);
            }
        }
        if let Some(content) = attribute_value(tag, b"content") {
            if let Some(idx) = find(content, b"charset=") {
                let rest = &content[idx + 8..];
                let label_end = rest
                    .iter()
                    .position(|&b| b == b';' || b == b'"' || b == b'\'' || b.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                if let Some(e) = Encoding::for_label(&rest[..label_end]) {
                    return Some(e);
                }
            }
        }
        from = end.max(start + 5);
        if from >= lower.len() {
            break;
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Value of `name=...` inside a tag (quoted or not). `tag` is already lowercase.
fn attribute_value<'a>(tag: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(pos) = find(&tag[from..], name) {
        let start = from + pos;
        from = start + name.len();
        // Must be a whole attribute name.
        if start > 0 && (tag[start - 1].is_ascii_alphanumeric() || tag[start - 1] == b'-') {
            continue;
        }
        let mut i = start + name.len();
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= tag.len() || tag[i] != b'=' {
            continue;
        }
        i += 1;
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= tag.len() {
            return None;
        }
        let quote = tag[i];
        if quote == b'"' || quote == b'\'' {
            let rest = &tag[i + 1..];
            let end = rest.iter().position(|&b| b == quote).unwrap_or(rest.len());
            return Some(&rest[..end]);
        }
        let rest = &tag[i..];
        let end = rest
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/' || b == b';')
            .unwrap_or(rest.len());
        return Some(&rest[..end]);
    }
    None
}

/// Rewrites an XML declaration's `encoding="..."` to UTF-8 after decoding, so an XML parser reading the
/// decoded text does not try to decode it a second time.
pub fn xml_declaration_to_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = text.trim_start_matches('\u{feff}');
    if !trimmed.trim_start().starts_with("<?xml") {
        return std::borrow::Cow::Borrowed(text);
    }
    let start = text.len() - trimmed.trim_start().len();
    let Some(end_rel) = text[start..].find("?>") else {
        return std::borrow::Cow::Borrowed(text);
    };
    let end = start + end_rel + 2;
    std::borrow::Cow::Owned(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>{}",
        &text[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_charset_wins_over_meta() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("<meta charset=utf-8><p>Привет, мир</p>");
        let d = decode(&bytes, Some("text/html; charset=windows-1251"));
        assert_eq!(d.source, CharsetSource::Http);
        assert!(d.text.contains("Привет, мир"));
    }

    #[test]
    fn xml_declaration_gb2312_decodes_as_gb18030() {
        // 镕 is outside GB2312 but inside GBK/GB18030: GB2312 labels must decode it.
        let xml =
            "<?xml version=\"1.0\" encoding=\"gb2312\"?><rss><title>朱镕基 台湾</title></rss>";
        let (bytes, _, _) = encoding_rs::GB18030.encode(xml);
        let d = decode(&bytes, Some("application/xml"));
        assert_eq!(d.source, CharsetSource::Document);
        assert!(d.text.contains("朱镕基 台湾"), "{}", d.text);
        assert!(xml_declaration_to_utf8(&d.text)
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>"));
    }

    #[test]
    fn meta_http_equiv_and_detection() {
        let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=Big5\"></head><body>臺灣新聞報導</body></html>";
        let (bytes, _, _) = encoding_rs::BIG5.encode(html);
        let d = decode(&bytes, None);
        assert_eq!(d.encoding, encoding_rs::BIG5);
        assert!(d.text.contains("臺灣新聞報導"));
        // No declaration at all: detection.
        let body = "<p>Москва и Киев ведут переговоры о прекращении огня, сообщили источники.</p>"
            .repeat(4);
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&body);
        let d = decode(&bytes, None);
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(d.text.contains("Москва и Киев"), "{}", d.text);
    }

    #[test]
    fn wrong_declaration_loses_to_detection_when_invalid() {
        let text = "<p>台湾海峡局势紧张，两岸关系备受关注。</p>".repeat(5);
        let (bytes, _, _) = encoding_rs::GBK.encode(&text);
        // Declared UTF-8, but the bytes are GBK.
        let d = decode(&bytes, Some("text/html; charset=utf-8"));
        assert!(d.text.contains("台湾海峡"), "{}", d.text);
    }

    #[test]
    fn utf16_without_bom_and_iso2022jp_are_detected() {
        let text = "<?xml version=\"1.0\"?><rss><title>Привет</title></rss>";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(detect(&le), encoding_rs::UTF_16LE);
        assert_eq!(detect(&be), encoding_rs::UTF_16BE);
        assert!(decode(&le, None).text.contains("Привет"));
        let (jp, _, _) = encoding_rs::ISO_2022_JP.encode("日本語のニュース記事です。");
        assert_eq!(detect(&jp), encoding_rs::ISO_2022_JP);
    }

    #[test]
    fn cyrillic_single_byte_encodings_are_told_apart() {
        let text = "Правительство заявило, что переговоры о прекращении огня продолжатся на следующей неделе. \
                    Эксперты считают, что стороны пока далеки от соглашения, а Москва и Киев обмениваются обвинениями."
            .repeat(3);
        for enc in [
            encoding_rs::WINDOWS_1251,
            encoding_rs::KOI8_R,
            encoding_rs::IBM866,
            encoding_rs::X_MAC_CYRILLIC,
        ] {
            let (bytes, _, _) = enc.encode(&text);
            let d = decode(&bytes, None);
            assert!(
                d.text.contains("Москва и Киев"),
                "{}: {}",
                enc.name(),
                d.text
            );
        }
    }

    #[test]
    fn big5_page_with_a_wrong_gbk_header_is_decoded_as_big5() {
        let html = "<html><body><p>中央社記者今天報導，立法院將在下週審查國防預算，朝野黨團對於軍購項目仍有不同意見。\
                    行政院長表示，政府會持續與各方溝通，確保臺灣的安全與穩定。</p></body></html>";
        let (bytes, _, _) = encoding_rs::BIG5.encode(html);
        let d = decode(&bytes, Some("text/html; charset=gbk"));
        assert_eq!(d.encoding, encoding_rs::BIG5);
        assert!(d.text.contains("確保臺灣的安全"), "{}", d.text);
        // A right declaration stays.
        let (gbk, _, _) = encoding_rs::GBK.encode("<p>新华社北京电 国务院新闻办公室今天举行发布会，介绍经济运行情况和下一步工作安排。</p>");
        assert_eq!(
            decode(&gbk, Some("text/html; charset=gbk")).encoding,
            encoding_rs::GBK
        );
    }

    #[test]
    fn legacy_label_on_utf8_bytes_is_read_as_utf8() {
        let lying = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><p>新闻联播</p>";
        let d = decode(lying.as_bytes(), None);
        assert_eq!(d.encoding, encoding_rs::UTF_8);
        assert!(d.text.contains("新闻联播"));
        let d = decode(
            "<p>Привет</p>".as_bytes(),
            Some("text/html; charset=windows-1251"),
        );
        assert!(d.text.contains("Привет"));
    }

    #[test]
    fn bom_wins() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<meta charset=\"windows-1251\">ok ё".as_bytes());
        let d = decode(&bytes, None);
        assert_eq!(d.source, CharsetSource::Bom);
        assert!(d.text.ends_with("ok ё"));
    }

    #[test]
    fn decode_text_is_decode_borrowing_utf8() {
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("<p>ok ё</p>".as_bytes());
        let (cp1251, _, _) =
            encoding_rs::WINDOWS_1251.encode("<meta charset=windows-1251><p>Привет</p>");
        let inputs: Vec<(Vec<u8>, Option<&str>)> = vec![
            (b"".to_vec(), None),
            (b"<p>plain ascii</p>".to_vec(), None),
            ("<p>新闻联播 ё</p>".as_bytes().to_vec(), None),
            (
                "<meta charset=gb2312><p>新闻联播</p>".as_bytes().to_vec(),
                None,
            ),
            (bom, None),
            (cp1251.into_owned(), None),
            (
                b"<p>caf\xe9 bad utf-8</p>".to_vec(),
                Some("text/html; charset=utf-8"),
            ),
        ];
        for (bytes, ct) in inputs {
            let a = decode(&bytes, ct);
            let b = decode_text(&bytes, ct);
            assert_eq!(a.text, b, "{bytes:?}");
            // Valid UTF-8 (no BOM, no other charset) is the input itself, not a copy.
            if a.encoding == encoding_rs::UTF_8 && std::str::from_utf8(&bytes).is_ok() {
                assert!(matches!(b, Cow::Borrowed(_)), "{bytes:?}");
            }
        }
        for bytes in [
            &b""[..],
            b"ascii",
            "ё新".as_bytes(),
            b"caf\xe9",
            b"\xe6\x96",
        ] {
            assert_eq!(
                is_utf8(bytes),
                std::str::from_utf8(bytes).is_ok(),
                "{bytes:?}"
            );
        }
    }
}
