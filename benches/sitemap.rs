//! Parsing a 50,000-URL sitemap, plain and gzipped. STUB: replaced by the sitemap reader's bench.
fn main() {}
