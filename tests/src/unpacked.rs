//! Client packages that `tests/run` fetches with `apt-get download` and unpacks with `dpkg -x`
//! under the workspace's target/ (never installed): where each set is, and the error that
//! names `./tests/run` when it is not there (tests never skip).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Debian's multiarch library directory inside the unpacked packages.
pub const LIB_DIR: &str = "usr/lib/x86_64-linux-gnu";
/// The file `tests/run` writes last, once every package of a set is unpacked.
const STAMP: &str = ".unpacked";

/// One set of unpacked packages.
#[derive(Clone, Copy, Debug)]
pub struct Unpacked {
    /// The root in the workspace (tests/run's variable + `/root`): target/ there, whatever
    /// CARGO_TARGET_DIR says.
    pub dir: &'static str,
    /// A file every complete unpack has (the main client).
    pub probe: &'static str,
    /// What the set is, for the error message.
    pub what: &'static str,
}

/// Debian 12's Heimdal 7.8 clients (tests/src/heimdal.rs).
pub const HEIMDAL: Unpacked = Unpacked {
    dir: "target/heimdal/root",
    probe: "usr/bin/kinit.heimdal",
    what: "Heimdal's clients (Debian's heimdal-clients and its libraries)",
};

/// Debian sid's MIT krb5 1.22 clients, with sid's glibc (tests/src/mit.rs).
pub const MIT122: Unpacked = Unpacked {
    dir: "target/mit122/root",
    probe: "usr/bin/kinit.mit",
    what: "MIT krb5 1.22's clients (Debian sid's krb5-user, krb5-pkinit, their libraries and \
           libc6)",
};

impl Unpacked {
    /// The unpacked tree (`usr/bin`, `usr/lib/...`), or an error saying how to make it.
    pub fn root(&self) -> Result<PathBuf> {
        let tests_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = tests_crate
            .parent()
            .context("the tests crate has no parent")?;
        let root = workspace.join(self.dir);
        self.check(&root)?;
        Ok(root)
    }

    /// Fails unless `root` holds a complete unpack of this set.
    pub fn check(&self, root: &Path) -> Result<()> {
        if !root.join(STAMP).is_file() || !root.join(self.probe).is_file() {
            bail!(
                "{} are not unpacked in {}: run ./tests/run, which fetches them with \
                 `apt-get download` and unpacks them there with `dpkg -x` (nothing is installed)",
                self.what,
                root.display()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_root_names_the_command_that_unpacks_it() {
        let dir = tempfile::tempdir().unwrap();
        for set in [HEIMDAL, MIT122] {
            let err = set.check(dir.path()).unwrap_err().to_string();
            assert!(err.contains("./tests/run"), "{err}");
            assert!(err.contains(&dir.path().display().to_string()), "{err}");
            assert!(err.starts_with(set.what), "{err}");
        }
    }
}
