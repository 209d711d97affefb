//! Text helpers shared by the stages: which script a character belongs to ([`script`]) and
//! Traditional -> Simplified folding ([`fold`]). One table each, so extraction, language detection,
//! tagging, the index's tokenizer and clustering agree on what a Han or Hangul character is.

pub mod fold;
pub mod script;
