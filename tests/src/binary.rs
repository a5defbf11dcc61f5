//! Where the `kdc` binary under test is: `KDC_BIN`, else the `kdc` that cargo built into the
//! same target profile directory as the running test executable (target/<profile>/deps/..).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The `kdc` binary for this test run.
pub fn kdc_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("path of the test executable")?;
    locate(std::env::var_os("KDC_BIN"), &exe)
}

/// `KDC_BIN` wins; otherwise `<exe>/../../kdc`, since cargo puts test executables in
/// target/<profile>/deps and binaries in target/<profile>.
pub fn locate(kdc_bin: Option<OsString>, test_exe: &Path) -> Result<PathBuf> {
    if let Some(path) = kdc_bin.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("KDC_BIN={} is not a file", path.display());
        }
        return Ok(path);
    }
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .with_context(|| format!("{} has no grandparent directory", test_exe.display()))?;
    let candidate = profile_dir.join("kdc");
    if !candidate.is_file() {
        bail!(
            "no kdc binary at {}: build it first (cargo build -p kdc, or cargo test --workspace), \
             or set KDC_BIN",
            candidate.display()
        );
    }
    Ok(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_then_profile_dir() {
        let dir = tempfile::tempdir().unwrap();
        let deps = dir.path().join("debug/deps");
        std::fs::create_dir_all(&deps).unwrap();
        let exe = deps.join("key_trust-0123abcd");
        let err = locate(None, &exe).unwrap_err().to_string();
        assert!(err.contains("cargo build -p kdc"), "{err}");
        std::fs::write(dir.path().join("debug/kdc"), b"").unwrap();
        assert_eq!(locate(None, &exe).unwrap(), dir.path().join("debug/kdc"));
        let other = dir.path().join("other-kdc");
        assert!(locate(Some(other.clone().into()), &exe).is_err());
        std::fs::write(&other, b"").unwrap();
        assert_eq!(locate(Some(other.clone().into()), &exe).unwrap(), other);
        // An empty KDC_BIN counts as unset.
        assert_eq!(
            locate(Some(OsString::new()), &exe).unwrap(),
            dir.path().join("debug/kdc")
        );
    }
}
