//! The README's quick-start command keeps working: `cargo run -p kdc` must pick the `kdc`
//! binary, whatever other binaries the package ships.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)).unwrap()
}

#[test]
fn quick_start_command_names_a_runnable_binary() {
    let readme = repo_file("README.md");
    assert!(
        readme.contains("cargo run --release -p kdc -- serve --dev ./dev-realm"),
        "the README's run command changed: update this test with it"
    );
    let manifest = repo_file("kdc/Cargo.toml");
    let package = manifest.split("\n[").next().unwrap();
    assert!(
        package
            .lines()
            .any(|l| l.replace(' ', "") == "default-run=\"kdc\""),
        "kdc/Cargo.toml must set default-run = \"kdc\" for `cargo run -p kdc`"
    );
}
