//! Experiment for issue #25 (built only with the `learn-dump` feature): a
//! learned keep/drop scorer at the conditional cleaning's block decision
//! (`body.rs`'s `should_clean`), to see whether it generalises across folds.
//!
//! - Dump: with `MW_LEARN_DUMP=1`, every block decision (a non-empty block
//!   that is not an embed) prints one JSON line on stderr: the features below,
//!   the rule's decision and the block's text at decision time, for
//!   `scripts/learned_scorer.py` to label against the corpora's gold.
//! - Decide: with `MW_LEARNED=FILE` (weights written by the training script),
//!   the logistic model's probability of "boilerplate" replaces the rule.
//!
//! Nothing here is in the normal build: the figures (README, "Extraction
//! rules reviewed") say the scorer did not beat the rules.

use std::sync::OnceLock;

/// Features per decision, in this order (see `body::decision_features`):
/// ln(1+tlen), link density, ln(1+inline length), ln(1+commas), ln(1+<p>s),
/// <p> text share, ln(1+<li>s), ln(1+headings), has a form, class weight/25,
/// signed ln(1+|candidate score|), share of the root's text, ul/ol,
/// div/section, table/dl, form/aside/header/footer/nav, figure, the rule's
/// decision, hints on, negative hint, positive hint, ln(1+depth below root).
pub(super) const N_FEATURES: usize = 22;

/// A standardised logistic model: p = sigmoid(b + sum w_k (x_k - mean_k) / scale_k).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Linear {
    pub(super) mean: Vec<f64>,
    pub(super) scale: Vec<f64>,
    pub(super) w: Vec<f64>,
    pub(super) b: f64,
    /// Drop the block when p >= threshold.
    pub(super) threshold: f64,
}

impl Linear {
    /// Reads the training script's weight file: whitespace-separated numbers,
    /// `N_FEATURES` means, scales and weights, then the bias and threshold.
    pub(super) fn parse(text: &str) -> Result<Linear, String> {
        let nums: Vec<f64> = text
            .split_whitespace()
            .map(|t| t.parse::<f64>().map_err(|e| format!("{t:?}: {e}")))
            .collect::<Result<_, _>>()?;
        let want = 3 * N_FEATURES + 2;
        if nums.len() != want {
            return Err(format!(
                "{} numbers, expected {want} ({N_FEATURES} means, scales, weights, then bias and threshold)",
                nums.len()
            ));
        }
        let n = N_FEATURES;
        Ok(Linear {
            mean: nums[..n].to_vec(),
            scale: nums[n..2 * n].to_vec(),
            w: nums[2 * n..3 * n].to_vec(),
            b: nums[3 * n],
            threshold: nums[3 * n + 1],
        })
    }

    /// The probability that the block is boilerplate.
    pub(super) fn prob(&self, x: &[f32; N_FEATURES]) -> f64 {
        let mut z = self.b;
        for (k, &v) in x.iter().enumerate() {
            let s = if self.scale[k] > 0.0 {
                self.scale[k]
            } else {
                1.0
            };
            z += self.w[k] * (f64::from(v) - self.mean[k]) / s;
        }
        1.0 / (1.0 + (-z).exp())
    }
}

/// The model named by `MW_LEARNED`, read once; `None` when unset. A file that
/// cannot be read or parsed is reported once on stderr and the rules stay.
fn model() -> Option<&'static Linear> {
    static MODEL: OnceLock<Option<Linear>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = std::env::var_os("MW_LEARNED")?;
            let read = std::fs::read_to_string(&path).map_err(|e| e.to_string());
            match read.and_then(|t| Linear::parse(&t)) {
                Ok(m) => Some(m),
                Err(e) => {
                    eprintln!(
                        "MW_LEARNED={}: {e}; the rules decide (write the file with scripts/learned_scorer.py)",
                        path.to_string_lossy()
                    );
                    None
                }
            }
        })
        .as_ref()
}

fn dumping() -> bool {
    static DUMP: OnceLock<bool> = OnceLock::new();
    *DUMP.get_or_init(|| std::env::var_os("MW_LEARN_DUMP").is_some_and(|v| v == "1"))
}

/// One decision's JSON line (what `MW_LEARN_DUMP=1` prints).
pub(super) fn dump_line(x: &[f32; N_FEATURES], rule: bool, text: &str) -> String {
    serde_json::json!({ "f": x.as_slice(), "rule": rule, "text": text }).to_string()
}

/// The decision at one block: the rule's, or the model's when `MW_LEARNED`
/// is set; dumped first when `MW_LEARN_DUMP=1`.
pub(super) fn decide(x: &[f32; N_FEATURES], rule: bool, text: impl FnOnce() -> String) -> bool {
    #[cfg(test)]
    if tests::CAPTURE.with(|c| c.borrow().is_some()) {
        let line = dump_line(x, rule, &text());
        tests::CAPTURE.with(|c| c.borrow_mut().as_mut().map(|v| v.push(line)));
        return rule;
    }
    if dumping() {
        eprintln!("{}", dump_line(x, rule, &text()));
    }
    match model() {
        Some(m) => m.prob(x) >= m.threshold,
        None => rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// When set, `decide` pushes its dump lines here (and the rule decides).
        pub(super) static CAPTURE: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    }

    #[test]
    fn dump_records_each_block_decision_with_its_text() {
        let para = "The minister said on Tuesday that the new rules, which were agreed after months of talks, \
                    would apply from next year, and that the costs would be shared.";
        let links = (0..6)
            .map(|k| format!("<a href=\"/s{k}\">Other story number {k}</a> "))
            .collect::<String>();
        let html = format!(
            "<html><body><article><div class=\"story\"><p>{para}</p><p>{para}</p><p>{para}</p>\
             <div>{links}</div><div><p>{para}</p></div></div></article></body></html>"
        );
        CAPTURE.with(|c| *c.borrow_mut() = Some(Vec::new()));
        let got = crate::extract::extract(&html, None);
        let lines = CAPTURE.with(|c| c.borrow_mut().take()).unwrap();
        let recs: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // The block of links is dropped by the rule, with its text and a link density of 1.
        let list = recs
            .iter()
            .find(|r| {
                r["text"]
                    .as_str()
                    .unwrap()
                    .starts_with("Other story number 0")
            })
            .unwrap_or_else(|| panic!("no decision on the link list in {lines:?}"));
        assert_eq!(list["rule"], true);
        assert_eq!(list["f"][1].as_f64(), Some(1.0));
        assert_eq!(list["f"][13].as_f64(), Some(1.0), "div");
        // The inner paragraph's div is kept and so is its text.
        let kept = recs
            .iter()
            .find(|r| r["text"].as_str().unwrap().starts_with("The minister") && r["f"][13] == 1.0)
            .unwrap_or_else(|| panic!("no decision on the inner div in {lines:?}"));
        assert_eq!(kept["rule"], false);
        assert!(got.text.contains("The minister"));
        assert!(!got.text.contains("Other story"));
    }

    /// The training script's fixture: feature vectors and the probabilities
    /// its Python model gave them.
    const FIXTURE: &str = include_str!("../../tests/fixtures/learned_scorer.json");

    #[test]
    fn rust_scorer_reproduces_the_python_model() {
        let fx: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let model = Linear::parse(fx["weights"].as_str().unwrap()).unwrap();
        let cases = fx["cases"].as_array().unwrap();
        assert!(cases.len() >= 5);
        let mut seen_low = false;
        let mut seen_high = false;
        for c in cases {
            let xs: Vec<f32> = c["x"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let x: [f32; N_FEATURES] = xs.try_into().unwrap();
            let want = c["p"].as_f64().unwrap();
            let got = model.prob(&x);
            assert!(
                (got - want).abs() < 1e-5,
                "{x:?}: rust {got}, python {want}"
            );
            seen_low |= want < 0.5;
            seen_high |= want >= 0.5;
        }
        assert!(seen_low && seen_high, "the fixture holds both decisions");
    }

    #[test]
    fn weight_file_errors_say_what_is_wrong() {
        let e = Linear::parse("1 2 3").unwrap_err();
        assert!(e.contains("3 numbers, expected 68"), "{e}");
        let e = Linear::parse("x").unwrap_err();
        assert!(e.contains("\"x\""), "{e}");
    }

    #[test]
    fn dump_line_carries_features_rule_and_text() {
        let mut x = [0.0f32; N_FEATURES];
        x[0] = 1.5;
        x[17] = 1.0;
        let line = dump_line(&x, true, "Share \"this\"");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["f"].as_array().unwrap().len(), N_FEATURES);
        assert_eq!(v["f"][0].as_f64(), Some(1.5));
        assert_eq!(v["rule"], true);
        assert_eq!(v["text"], "Share \"this\"");
    }
}
