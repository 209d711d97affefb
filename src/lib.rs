//! mediawatch: monitor news media for state-backed disinformation campaigns.
//!
//! One pass of the pipeline ([`pipeline::ingest_pass`]):
//!
//! ```text
//! feeds.toml ─▶ config ─▶ fetch (feeds) ─▶ feed ─▶ fetch (pages) ─▶ charset ─▶ extract ─▶ lang ─▶ tag ─▶ index
//!                                                                                                      │
//!                                                   search ◀── archive (tantivy + state store) ◀──────┘ ─▶ digest
//! ```
//!
//! Plain data types ([`model`]) flow between the stages; I/O lives at the edges ([`fetch`], [`index`],
//! [`store`], [`snapshot`], [`cli`], [`web`]). Parsing, extraction, language detection, tagging and digest
//! building are pure functions of their input. Below every stage: [`text`] (the one script table and
//! Traditional -> Simplified folding), [`escape`] (escaping and the http(s)-only link guard) and
//! [`status`] (feed health in one vocabulary); [`catch`] turns a panic in code that is not ours, on
//! hostile input, into a quiet error. Each pass ends by fetching again the archived articles that are due
//! ([`revisit`]: the decisions; `pipeline::revisit_pass`: the fetches), keeping their versions and
//! removals. After each pass's commits, [`alert`] runs the saved searches over the new articles and
//! delivers their messages from the store's outbox. [`export_parquet`] hands the archive over as
//! partitioned Parquet files. ARCHITECTURE.md maps every file.

pub mod alert;
pub mod analysis;
pub mod catch;
pub mod charset;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod codebook;
pub mod config;
pub mod daemon;
pub mod digest;
pub mod disk;

pub mod escape;
pub mod export_parquet;
pub mod extract;
pub mod fetch;
pub mod index;
pub mod lang;
pub mod metrics;
pub mod model;
pub mod opml;
pub mod pipeline;
pub mod revisit;
pub mod schedule;
pub mod search;
pub mod snapshot;
pub mod source;
pub mod state_media;
pub mod status;
pub mod store;
pub mod suggest;
pub mod tag;
pub mod text;
pub mod web;
