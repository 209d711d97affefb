//! The integration test binary: one module per area (uv's layout). Never touches the real network: the
//! fixture site in tests/fixtures/site is served from 127.0.0.1 by wiremock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod alert_email;
mod alerts;
mod check;
mod cli;
mod compare;
mod digest;
mod discover;
mod export_parquet;
mod extract;
mod extract_budget;
mod fetch;
mod forwards;
mod full_disk;
mod fuzz_regressions;
mod lang_tag;
mod metrics;
mod pipeline;
mod revisit;
mod search;
mod sources;
mod store_recovery;
mod support;
mod terms;
mod web;
mod web_alerts;
mod web_browser;
mod web_changes;
