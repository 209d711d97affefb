//! Replays the inputs `make fuzz` found (tests/fixtures/fuzz/<target>/, `.gz` inflated first) through the
//! harness's own targets: each must run without a panic and within its time limit.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../../examples/fuzz/targets.rs"]
mod targets;

/// The harness flags inputs over 1 s in release; the debug build is several times slower.
const LIMIT: Duration = Duration::from_secs(if cfg!(debug_assertions) { 8 } else { 1 });

#[test]
fn fuzz_findings_run_without_panic_and_in_time() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ctx = targets::Context::new(repo);
    let dir = repo.join("tests/fixtures/fuzz");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let target = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            targets::TARGETS.contains(&target.as_str()),
            "{}: not a fuzz target (known: {:?})",
            path.display(),
            targets::TARGETS
        );
        for file in std::fs::read_dir(&path).unwrap() {
            let file = file.unwrap().path();
            let raw = std::fs::read(&file).unwrap();
            let input = if file.extension().is_some_and(|e| e == "gz") {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            } else {
                raw
            };
            let t = Instant::now();
            ctx.run(&target, &input);
            let took = t.elapsed();
            assert!(
                took < LIMIT,
                "{}: {target} took {took:?} (limit {LIMIT:?})",
                file.display()
            );
            replayed += 1;
        }
    }
    assert!(
        replayed >= 3,
        "only {replayed} inputs under {}",
        dir.display()
    );
}
