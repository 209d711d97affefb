//! Function words: very frequent words that belong to one language group only, counted as votes that overrule
//! whatlang when it is unsure (short texts).

use std::collections::HashMap;
use std::sync::OnceLock;

use whatlang::Lang;

/// Very frequent words that, among the languages listed here, belong to one group only. A group is a set of
/// languages whatlang tells apart well enough by itself (e.g. Danish/Norwegian/Swedish), so votes only correct
/// whatlang across groups (English taken for French, Russian for Bulgarian ...). Words listed for two groups are
/// dropped when the table is built, so the lists may overlap without harm.
const FUNCTION_WORDS: &[(&[Lang], &[&str])] = &[
    (
        &[Lang::Eng],
        &[
            "the", "and", "you", "your", "with", "that", "this", "have", "has", "had", "are",
            "were", "from", "they", "them", "their", "there", "which", "would", "could", "should",
            "been", "what", "about", "these", "those", "when", "where", "who", "not", "but", "how",
            "its", "it", "our", "does", "did", "just", "like", "more", "some", "than", "then",
            "only", "also", "into", "after", "said", "she", "his", "can", "one", "out", "get",
            "new", "or", "if", "any", "very", "i'm", "don't", "it's",
        ],
    ),
    (
        &[Lang::Deu],
        &[
            "der", "das", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "einer", "ich",
            "sich", "mit", "auf", "für", "von", "zu", "wird", "wurde", "sind", "oder", "aber",
            "noch", "nur", "werden", "über", "auch", "dem", "vom", "zum", "zur", "bei", "nach",
            "sie", "wir", "ihr", "ihre", "dass", "daß", "wenn", "kann", "können", "haben", "hat",
            "hier", "im", "bis", "durch", "gegen", "unter", "sehr", "schon", "mehr", "diese",
            "dieser", "dieses", "alle", "jetzt", "immer", "wieder", "keine", "kein", "mich", "mir",
            "dich", "uns", "sein", "seine", "gibt", "viel", "viele", "ob", "beim",
        ],
    ),
    (
        &[Lang::Fra],
        &[
            "les", "des", "une", "pas", "pour", "dans", "qui", "sur", "aux", "cette", "ces", "ils",
            "elle", "elles", "nous", "vous", "sont", "avec", "été", "être", "très", "leur",
            "leurs", "ont", "au", "plus", "fait", "tout", "tous", "comme", "avait", "était",
            "peut", "aussi", "bien", "chez", "ses", "notre", "votre", "même", "quand", "donc",
            "alors", "encore", "après", "avant", "depuis", "lui", "c'est", "d'un", "d'une", "l'on",
            "qu'il", "n'est", "j'ai",
        ],
    ),
    (
        &[Lang::Spa],
        &[
            "el", "los", "las", "del", "y", "muy", "pero", "hay", "fue", "sus", "cuando", "desde",
            "también", "tambien", "está", "ese", "esa", "eso", "yo", "usted", "ustedes",
            "nosotros", "ellos", "ellas", "hasta", "donde", "sin", "otro", "otra", "otros",
            "otras", "mismo", "misma", "puede", "tiene", "tienen", "hacer", "aquí", "aqui", "así",
            "asi", "qué", "cómo", "hace", "mucho", "muchos", "más", "según", "porque", "la", "lo",
            "una", "con", "por", "para", "como",
        ],
    ),
    (&[Lang::Spa, Lang::Cat], &["el", "del", "al", "en", "un"]),
    (
        &[Lang::Por],
        &[
            "não", "nao", "uma", "um", "com", "mais", "foi", "ele", "ela", "eles", "você", "voce",
            "também", "muito", "muita", "isso", "isto", "pelo", "pela", "seu", "sua", "dos", "das",
            "em", "ao", "aos", "os", "até", "onde", "já", "há", "tem", "mas", "ou", "meu", "minha",
            "nós", "eu", "está", "por", "para", "como", "porque", "são",
        ],
    ),
    (
        &[Lang::Ita],
        &[
            "il", "della", "delle", "degli", "dei", "che", "non", "sono", "è", "questo", "questa",
            "anche", "più", "molto", "nel", "nella", "gli", "alla", "alle", "sul", "sulla",
            "essere", "stato", "hanno", "perché", "così", "ancora", "dove", "tutto", "tutti",
            "fatto", "ci", "con", "una", "per", "come",
        ],
    ),
    (
        &[Lang::Cat],
        &[
            "els", "amb", "és", "però", "aquest", "aquesta", "també", "molt", "més", "seva",
            "dels", "als", "això", "quan", "perquè", "fins", "són", "per", "una", "la", "el",
            "del", "al", "en", "un",
        ],
    ),
    (
        &[Lang::Nld, Lang::Afr],
        &[
            "het", "een", "niet", "ook", "maar", "hulle", "jy", "sy", "vir", "omdat", "deur",
            "wat", "hierdie", "naar", "zijn", "wordt", "worden", "hij", "wij", "bij", "deze",
            "dit", "heeft", "hebben", "geen", "veel", "ek", "van", "die", "nie",
        ],
    ),
    (
        &[Lang::Dan, Lang::Nob, Lang::Swe],
        &[
            "og", "ikke", "inte", "jeg", "jag", "det", "och", "att", "til", "till", "på", "med",
            "som", "har", "efter", "blev", "hvor", "når", "också", "også", "være", "vara", "havde",
            "hade", "skal", "ska", "meget", "mycket", "mig", "sig", "hun", "hon", "hvad", "vad",
            "eller", "fra", "från", "av",
        ],
    ),
    (
        &[Lang::Rus],
        &[
            "что",
            "это",
            "мне",
            "меня",
            "его",
            "ее",
            "её",
            "уже",
            "только",
            "если",
            "когда",
            "был",
            "была",
            "было",
            "были",
            "быть",
            "нет",
            "вот",
            "тоже",
            "здесь",
            "сейчас",
            "теперь",
            "потом",
            "очень",
            "надо",
            "нужно",
            "чтобы",
            "себя",
            "который",
            "которые",
            "которая",
            "которого",
            "которых",
            "также",
            "можно",
            "будет",
            "будут",
            "еще",
            "ещё",
            "него",
            "ему",
            "лишь",
            "даже",
            "почему",
            "потому",
            "хорошо",
            "ничего",
            "никогда",
            "всегда",
            "сегодня",
            "сразу",
            "более",
            "время",
            "года",
            "году",
            "человек",
            "мы",
            "вы",
            "ты",
            "их",
            "всех",
            "после",
            "между",
            "со",
            "об",
            "бы",
            "ведь",
            "чем",
            "тем",
            "как",
            "так",
            "он",
            "она",
            "они",
            "все",
            "тебя",
            "кто",
            "где",
            "или",
            "того",
            "к",
            "вдруг",
            "уж",
            "есть",
            "ней",
            "чтоб",
            "будто",
            "чего",
            "тогда",
            "какой",
            "совсем",
            "почти",
            "нее",
            "куда",
            "зачем",
            "наконец",
            "другой",
            "хоть",
            "больше",
            "тот",
            "всего",
            "какая",
            "разве",
            "впрочем",
            "иногда",
            "лучше",
            "чуть",
            "нельзя",
            "такой",
            "конечно",
            "всю",
            "ей",
            "вас",
            "опять",
            "нибудь",
            "самый",
            "теперь",
            "сказал",
            "сказала",
            "говорит",
            "знаю",
            "здесь",
            "тут",
        ],
    ),
    (
        &[Lang::Ukr],
        &[
            "що",
            "це",
            "він",
            "вона",
            "вони",
            "але",
            "або",
            "від",
            "вже",
            "був",
            "була",
            "було",
            "були",
            "бути",
            "мені",
            "його",
            "її",
            "цей",
            "ця",
            "ці",
            "цього",
            "який",
            "яка",
            "яке",
            "які",
            "якщо",
            "тепер",
            "потім",
            "дуже",
            "треба",
            "також",
            "року",
            "років",
            "щоб",
            "можна",
            "буде",
            "має",
            "немає",
            "нема",
            "хоча",
            "тобто",
            "завжди",
            "й",
            "і",
            "як",
            "так",
            "та",
            "ще",
            "де",
            "того",
            "ми",
            "ви",
            "ти",
            "мене",
            "тут",
            "вас",
            "нас",
        ],
    ),
    (
        &[Lang::Bel],
        &[
            "гэта",
            "што",
            "яго",
            "але",
            "ці",
            "ўсё",
            "калі",
            "таксама",
            "вельмі",
            "трэба",
            "можна",
            "і",
            "як",
        ],
    ),
    (
        &[Lang::Bul, Lang::Mkd, Lang::Srp],
        &[
            "е",
            "се",
            "са",
            "ще",
            "със",
            "във",
            "към",
            "това",
            "тази",
            "този",
            "тези",
            "които",
            "която",
            "който",
            "което",
            "беше",
            "бяха",
            "няма",
            "има",
            "след",
            "като",
            "си",
            "ги",
            "го",
            "му",
            "пък",
            "вече",
            "още",
            "тук",
            "сега",
            "защото",
            "обаче",
            "според",
            "чрез",
            "всички",
            "нещо",
            "нищо",
            "днес",
            "че",
            "ние",
            "вие",
            "тя",
            "як",
            "ти",
            "ми",
            "ви",
            "мене",
            "он",
            "она",
            "они",
            "где",
            "бил",
            "била",
            "било",
            "били",
            "трябва",
            "както",
            "когато",
            "където",
            "кой",
            "коя",
            "какво",
            "защо",
            "колко",
            "също",
            "година",
            "години",
            "хора",
            "ни",
            "им",
            "ѝ",
            "съм",
            "сме",
            "сте",
            "нашата",
            "је",
            "од",
        ],
    ),
];

/// Word -> index into [`FUNCTION_WORDS`], for words that belong to exactly one group.
fn function_words() -> &'static HashMap<&'static str, usize> {
    static MAP: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<&'static str, Option<usize>> = HashMap::new();
        for (gi, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
            for w in *words {
                map.entry(*w)
                    .and_modify(|g| {
                        if *g != Some(gi) {
                            *g = None;
                        }
                    })
                    .or_insert(Some(gi));
            }
        }
        map.into_iter()
            .filter_map(|(w, g)| g.map(|g| (w, g)))
            .collect()
    })
}

/// At most this many words are looked up (the vote is settled long before).
pub(super) const MAX_VOTING_WORDS: usize = 2_000;

/// Function-word votes per group, and how many words were looked at.
pub(super) struct Votes {
    counts: Vec<usize>,
    pub(super) words: usize,
}

impl Votes {
    /// Votes for one language: the sum over the groups that contain it.
    pub(super) fn for_lang(&self, lang: Lang) -> usize {
        FUNCTION_WORDS
            .iter()
            .zip(&self.counts)
            .filter(|((langs, _), _)| langs.contains(&lang))
            .map(|(_, n)| *n)
            .sum()
    }

    /// The allowed languages with the most votes (ties kept, e.g. a whole group) and their votes; None when no
    /// word voted.
    pub(super) fn leaders(&self, allowed: &[Lang]) -> Option<(Vec<Lang>, usize)> {
        let scored: Vec<(Lang, usize)> = allowed.iter().map(|l| (*l, self.for_lang(*l))).collect();
        let best = scored.iter().map(|(_, n)| *n).max().filter(|n| *n > 0)?;
        Some((
            scored
                .into_iter()
                .filter(|(_, n)| *n == best)
                .map(|(l, _)| l)
                .collect(),
            best,
        ))
    }
}

/// Counts function words of the groups that contain an allowed language.
pub(super) fn word_votes(text: &str, allowed: &[Lang]) -> Votes {
    let table = function_words();
    let mut counts = vec![0usize; FUNCTION_WORDS.len()];
    let usable: Vec<bool> = FUNCTION_WORDS
        .iter()
        .map(|(langs, _)| langs.iter().any(|l| allowed.contains(l)))
        .collect();
    let mut word = String::new();
    let mut words = 0usize;
    let ru_group = FUNCTION_WORDS
        .iter()
        .position(|(langs, _)| langs == &[Lang::Rus])
        .filter(|_| allowed.contains(&Lang::Rus));
    for raw in text
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .take(MAX_VOTING_WORDS)
    {
        words += 1;
        word.clear();
        for c in raw.trim_matches(['\'', '’']).chars() {
            if c == '’' {
                word.push('\'');
            } else {
                word.extend(c.to_lowercase());
            }
        }
        // Russian adjective endings that Ukrainian and the South Slavic languages do not use.
        if ru_group.is_some()
            && word.chars().count() >= 4
            && ["ая", "яя", "ое"].iter().any(|e| word.ends_with(e))
        {
            if let Some(n) = ru_group.and_then(|g| counts.get_mut(g)) {
                *n += 1;
            }
            continue;
        }
        if let Some(&gi) = table.get(word.as_str()) {
            if usable.get(gi).copied().unwrap_or(false) {
                if let Some(n) = counts.get_mut(gi) {
                    *n += 1;
                }
            }
        }
    }
    Votes { counts, words }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_listed_for_two_groups_does_not_vote() {
        for (word, group) in function_words() {
            let groups = FUNCTION_WORDS
                .iter()
                .filter(|(_, words)| words.contains(word))
                .count();
            assert_eq!(groups, 1, "{word} (group {group})");
        }
    }

    #[test]
    fn votes_count_per_language() {
        let votes = word_votes("The cat and the dog und", &[Lang::Eng, Lang::Deu]);
        assert_eq!(votes.words, 6);
        assert_eq!(votes.for_lang(Lang::Eng), 3);
        assert_eq!(votes.for_lang(Lang::Deu), 1);
        assert_eq!(
            votes.leaders(&[Lang::Eng, Lang::Deu]),
            Some((vec![Lang::Eng], 3))
        );
        // Russian adjective endings vote for Russian only when Russian is allowed.
        assert_eq!(word_votes("новая", &[Lang::Rus]).for_lang(Lang::Rus), 1);
        assert_eq!(word_votes("новая", &[Lang::Bul]).for_lang(Lang::Rus), 0);
    }
}
