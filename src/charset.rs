//! Bytes to text in any charset: BOM, then the HTTP `Content-Type`, then the document's own
//! declaration (XML declaration or `<meta charset>`), then statistical detection (chardetng).
//!
//! Labels follow the WHATWG Encoding Standard (encoding_rs): GB2312 and GBK decode as GB18030,
//! Big5 includes HKSCS, windows-1251 and KOI8-R are supported. This module does not judge whether a
//! declared charset is a lie beyond one check: a declaration that does not decode cleanly loses to detection.

use encoding_rs::Encoding;

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
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding,
            source: CharsetSource::Bom,
        };
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
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            return Decoded {
                text: text.into_owned(),
                encoding,
                source,
            };
        }
    }
    let encoding = detect(bytes);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        source: CharsetSource::Detected,
    }
}

/// Guesses the encoding of bytes with no usable declaration.
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() {
        return encoding_rs::UTF_8;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    detector.guess(None, chardetng::Utf8Detection::Allow)
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
    fn bom_wins() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<meta charset=\"windows-1251\">ok ё".as_bytes());
        let d = decode(&bytes, None);
        assert_eq!(d.source, CharsetSource::Bom);
        assert!(d.text.ends_with("ok ё"));
    }
}
