//! Declared languages (a feed's configured language, a page's `<html lang>`) parsed into the priors that the
//! detectors weigh against the text.

use super::normalize_tag;

/// A declared language: ISO 639-1 code plus, for Chinese, whether the tag says Traditional.
#[derive(Debug, Clone)]
pub(super) struct Hint {
    pub(super) lang: String,
    /// Some(true) for zh-Hant / zh-TW / zh-HK / zh-MO, Some(false) for zh-Hans / zh-CN / zh-SG, None otherwise.
    pub(super) traditional: Option<bool>,
}

impl Hint {
    pub(super) fn parse(tag: &str) -> Option<Hint> {
        let lang = normalize_tag(tag)?;
        let mut traditional = None;
        if lang == "zh" {
            for sub in tag.split(['-', '_']).skip(1) {
                match sub.to_ascii_lowercase().as_str() {
                    "hant" | "tw" | "hk" | "mo" => traditional = Some(true),
                    "hans" | "cn" | "sg" => traditional = Some(false),
                    _ => {}
                }
            }
        }
        Some(Hint { lang, traditional })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_subtags_say_the_script() {
        let cases = [
            ("zh-TW", Some("zh"), Some(true)),
            ("zh-Hant-HK", Some("zh"), Some(true)),
            ("zh_CN", Some("zh"), Some(false)),
            ("zh-Hans-SG", Some("zh"), Some(false)),
            ("zh", Some("zh"), None),
            ("ru-TW", Some("ru"), None),
            ("und", None, None),
        ];
        for (tag, lang, traditional) in cases {
            let hint = Hint::parse(tag);
            assert_eq!(hint.as_ref().map(|h| h.lang.as_str()), lang, "{tag}");
            assert_eq!(hint.and_then(|h| h.traditional), traditional, "{tag}");
        }
    }
}
