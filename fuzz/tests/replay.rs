//! Replays every checked-in input through its target without libFuzzer: the minimized corpora
//! (`fuzz/corpus/<target>/`) and the inputs of crashes found and fixed
//! (`fuzz/regressions/<target>/`), so a fixed crash stays fixed in the normal test suite.

use std::path::Path;

#[test]
fn every_checked_in_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (name, run) in kdc_fuzz::TARGETS {
        let corpus = root.join("corpus").join(name);
        assert!(
            corpus.is_dir(),
            "target {name} has no seed corpus at {}",
            corpus.display()
        );
        for dir in [corpus, root.join("regressions").join(name)] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                run(&std::fs::read(&path).unwrap());
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0, "no input replayed");
}
