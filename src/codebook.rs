//! Labelled examples beside the codebook, and how well the campaign rules do on them.
//!
//! Layout, relative to the config file's folder: `campaigns/<campaign-id>/positive/*.txt` (texts the campaign
//! must tag) and `campaigns/<campaign-id>/negative/*.txt` (texts it must not tag). In each file the first line is
//! the title and the rest is the text (UTF-8). Files not ending in `.txt` are ignored, so a folder may hold a
//! README. A campaign without a folder simply has no examples; a folder under `campaigns/` that names no
//! campaign of the config is an error (examples left behind by a renamed campaign must not be silently skipped).
//!
//! Examples test the rules on the text only (`min_terms`, `all`, `near`, `none`): they have no source, so the
//! source restrictions (`feeds`, `affiliations`, `countries`) are not applied to them.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::model::CampaignSpec;
use crate::tag::{TagInput, Tagger};

/// One labelled example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The campaign it belongs to.
    pub campaign: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// True for `positive/` (must be tagged), false for `negative/`.
    pub expected: bool,
    /// First line.
    pub title: String,
    /// The rest.
    pub text: String,
}

/// Reads the examples of every campaign, in campaign order, positives then negatives, files sorted by name.
pub fn load_examples(
    config_dir: &Path,
    campaigns: &[CampaignSpec],
) -> anyhow::Result<Vec<Example>> {
    let root = config_dir.join("campaigns");
    if root.is_dir() {
        let entries =
            std::fs::read_dir(&root).with_context(|| format!("cannot read {}", root.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", root.display()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if entry.path().is_dir()
                && !name.starts_with('.')
                && !campaigns.iter().any(|c| c.id == name)
            {
                bail!(
                    "{}: no campaign with id {name:?} in the config (renamed or removed?)",
                    entry.path().display()
                );
            }
        }
    }
    let mut out = Vec::new();
    for campaign in campaigns {
        for (sub, expected) in [("positive", true), ("negative", false)] {
            let dir = root.join(&campaign.id).join(sub);
            if !dir.is_dir() {
                continue;
            }
            let mut files = Vec::new();
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
            {
                let path = entry
                    .with_context(|| format!("cannot read {}", dir.display()))?
                    .path();
                if path.is_file() && path.extension().is_some_and(|e| e == "txt") {
                    files.push(path);
                }
            }
            files.sort();
            for path in files {
                let raw = std::fs::read_to_string(&path).with_context(|| {
                    format!("cannot read example {} (must be UTF-8)", path.display())
                })?;
                let raw = raw.trim_start_matches('\u{FEFF}');
                let (title, text) = raw.split_once('\n').unwrap_or((raw, ""));
                let (title, text) = (title.trim(), text.trim());
                if title.is_empty() && text.is_empty() {
                    bail!("{}: empty example", path.display());
                }
                out.push(Example {
                    campaign: campaign.id.clone(),
                    path,
                    expected,
                    title: title.to_string(),
                    text: text.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Confusion counts of one campaign on its examples.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignScore {
    /// Campaign id.
    pub id: String,
    /// Positives tagged.
    pub tp: usize,
    /// Negatives tagged.
    pub fp: usize,
    /// Positives not tagged.
    pub fn_: usize,
    /// Negatives not tagged.
    pub tn: usize,
}

impl CampaignScore {
    /// TP / (TP + FP); None without any tagged example.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// TP / (TP + FN); None without positive examples.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Number of examples.
    pub fn examples(&self) -> usize {
        self.tp + self.fp + self.fn_ + self.tn
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// An example the rules get wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Campaign id.
    pub campaign: String,
    /// The example file.
    pub path: PathBuf,
    /// Whether it should be tagged.
    pub expected: bool,
    /// Whether it was.
    pub got: bool,
    /// The matched terms with counts, as `term ×count`.
    pub terms: Vec<String>,
    /// Which rules held and which did not.
    pub why: String,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodebookReport {
    /// One row per campaign, in codebook order (campaigns without examples included).
    pub campaigns: Vec<CampaignScore>,
    /// The failing examples, in example order.
    pub failures: Vec<Failure>,
}

impl CodebookReport {
    /// True when every example passes.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every example through the tagger (text rules only, see the module docs) and scores each campaign.
pub fn evaluate(
    tagger: &Tagger,
    campaigns: &[CampaignSpec],
    examples: &[Example],
) -> CodebookReport {
    let mut report = CodebookReport {
        campaigns: campaigns
            .iter()
            .map(|c| CampaignScore {
                id: c.id.clone(),
                ..CampaignScore::default()
            })
            .collect(),
        failures: Vec::new(),
    };
    for ex in examples {
        let lang = crate::lang::detect(&format!("{}\n\n{}", ex.title, ex.text), &[]);
        let explained = tagger.explain(&TagInput::text(&ex.title, &ex.text, &lang.lang));
        let mine = explained.iter().find(|e| e.id == ex.campaign);
        let got = mine.is_some_and(|e| e.text_match);
        if let Some(score) = report.campaigns.iter_mut().find(|s| s.id == ex.campaign) {
            match (ex.expected, got) {
                (true, true) => score.tp += 1,
                (false, true) => score.fp += 1,
                (true, false) => score.fn_ += 1,
                (false, false) => score.tn += 1,
            }
        }
        if got != ex.expected {
            report.failures.push(Failure {
                campaign: ex.campaign.clone(),
                path: ex.path.clone(),
                expected: ex.expected,
                got,
                terms: mine
                    .map(|e| {
                        e.terms
                            .iter()
                            .map(|t| format!("{} ×{}", t.term, t.count))
                            .chain(e.vetoed_by.iter().map(|v| format!("{v} (none)")))
                            .collect()
                    })
                    .unwrap_or_default(),
                why: mine.map_or_else(|| "campaign not in the tagger".to_string(), |e| e.why()),
            });
        }
    }
    report
}

impl fmt::Display for CodebookReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .campaigns
            .iter()
            .map(|c| c.id.chars().count())
            .chain(["campaign".len()])
            .max()
            .unwrap_or(8);
        let pct = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"));
        writeln!(
            f,
            "{:<width$}  {:>4} {:>4}  {:>4} {:>4} {:>4} {:>4}  {:>9} {:>6}",
            "campaign", "pos", "neg", "TP", "FP", "FN", "TN", "precision", "recall"
        )?;
        for c in &self.campaigns {
            writeln!(
                f,
                "{:<width$}  {:>4} {:>4}  {:>4} {:>4} {:>4} {:>4}  {:>9} {:>6}",
                c.id,
                c.tp + c.fn_,
                c.fp + c.tn,
                c.tp,
                c.fp,
                c.fn_,
                c.tn,
                pct(c.precision()),
                pct(c.recall())
            )?;
        }
        let total: usize = self.campaigns.iter().map(CampaignScore::examples).sum();
        if self.failures.is_empty() {
            writeln!(f, "\nall {total} examples pass")?;
            return Ok(());
        }
        writeln!(f, "\n{} of {total} examples fail:", self.failures.len())?;
        let label = |b: bool| if b { "tagged" } else { "not tagged" };
        for x in &self.failures {
            writeln!(
                f,
                "  {} [{}]: expected {}, got {}",
                x.path.display(),
                x.campaign,
                label(x.expected),
                label(x.got)
            )?;
            let terms = if x.terms.is_empty() {
                "(none)".to_string()
            } else {
                x.terms.join(", ")
            };
            writeln!(f, "    terms: {terms}")?;
            writeln!(f, "    why: {}", x.why)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, terms: &[&str], none: &[&str]) -> CampaignSpec {
        CampaignSpec {
            id: id.to_string(),
            name: id.to_string(),
            min_terms: 1,
            terms: vec![("en".into(), terms.iter().map(|t| t.to_string()).collect())],
            none: none.iter().map(|t| t.to_string()).collect(),
            ..CampaignSpec::default()
        }
    }

    fn write(dir: &Path, rel: &str, body: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    #[test]
    fn loads_evaluates_and_reports_failures() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "campaigns/c/positive/a.txt",
            "Kiev regime\nThe Kiev regime said.\n",
        );
        write(d, "campaigns/c/positive/b.txt", "Nothing\nNo term here.");
        write(
            d,
            "campaigns/c/negative/a.txt",
            "Fact check\nThe Kiev regime claim.",
        );
        write(
            d,
            "campaigns/c/negative/b.txt",
            "Kiev regime\nIt is the Kiev regime.",
        );
        write(d, "campaigns/c/negative/README.md", "ignored");
        let book = vec![
            spec("c", &["Kiev regime"], &["fact check"]),
            spec("d", &["x"], &[]),
        ];
        let examples = load_examples(d, &book).unwrap();
        assert_eq!(examples.len(), 4);
        assert_eq!(examples[0].title, "Kiev regime");
        assert_eq!(examples[0].text, "The Kiev regime said.");
        assert!(examples[0].expected && !examples[2].expected);
        let tagger = Tagger::new(&book).unwrap();
        let report = evaluate(&tagger, &book, &examples);
        let c = &report.campaigns[0];
        assert_eq!((c.tp, c.fp, c.fn_, c.tn), (1, 1, 1, 1));
        assert_eq!(c.precision(), Some(0.5));
        assert_eq!(c.recall(), Some(0.5));
        assert_eq!(report.campaigns[1].precision(), None);
        assert!(!report.ok());
        assert_eq!(report.failures.len(), 2);
        assert!(report.failures[0].path.ends_with("positive/b.txt"));
        assert_eq!(report.failures[1].terms, ["Kiev regime ×2"]);
        let shown = report.to_string();
        assert!(shown.contains("precision"), "{shown}");
        assert!(shown.contains("2 of 4 examples fail"), "{shown}");
        assert!(shown.contains("expected not tagged, got tagged"), "{shown}");
        // Fixing the codebook makes the report pass.
        let fixed = vec![
            spec("c", &["Kiev regime"], &["fact check", "it is"]),
            spec("d", &["x"], &[]),
        ];
        std::fs::remove_file(d.join("campaigns/c/positive/b.txt")).unwrap();
        let examples = load_examples(d, &fixed).unwrap();
        let report = evaluate(&Tagger::new(&fixed).unwrap(), &fixed, &examples);
        assert!(report.ok(), "{report}");
        assert!(report.to_string().contains("all 3 examples pass"));
    }

    #[test]
    fn stray_folder_and_empty_example_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "campaigns/old-name/positive/a.txt", "t\nx");
        let err = load_examples(d, &[spec("c", &["x"], &[])]).unwrap_err();
        assert!(format!("{err:#}").contains("old-name"), "{err:#}");
        std::fs::remove_dir_all(d.join("campaigns/old-name")).unwrap();
        write(d, "campaigns/c/negative/e.txt", "  \n ");
        let err = load_examples(d, &[spec("c", &["x"], &[])]).unwrap_err();
        assert!(format!("{err:#}").contains("empty example"), "{err:#}");
        // No campaigns folder: no examples.
        let empty = tempfile::tempdir().unwrap();
        assert!(load_examples(empty.path(), &[spec("c", &["x"], &[])])
            .unwrap()
            .is_empty());
    }
}
