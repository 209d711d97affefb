//! Work units against time, page by page (calibration of `extract::Work`): prints a TSV line per file
//! (HTML, or gzipped HTML) with its bytes, the work counted and the best of three wall times.
use std::time::Instant;

use mediawatch::extract::{extract_checked, ExtractOptions};

fn main() {
    println!("path\tbytes\tscanned\tnodes\tdepth_sum\tvisits\tunits\tms");
    for path in std::env::args().skip(1) {
        let bytes = mediawatch::snapshot::read_page(path.as_ref()).expect("read");
        let html = String::from_utf8_lossy(&bytes);
        let mut best = f64::MAX;
        let mut work = None;
        for _ in 0..3 {
            let t = Instant::now();
            let r = extract_checked(&html, None, &ExtractOptions::default(), u64::MAX);
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            work = r.ok().map(|(_, w)| w);
        }
        let Some(w) = work else { continue };
        println!(
            "{path}\t{}\t{}\t{}\t{}\t{}\t{}\t{best:.3}",
            html.len(),
            w.bytes,
            w.nodes,
            w.depth_sum,
            w.visits,
            w.total()
        );
    }
}
