//! kdc.toml as the daemon loads it (`Config::parse`): TOML, the schema, defaults, path
//! resolution and the consistency checks. Errors, never panics; a configuration accepted
//! holds what the checks promise.

use std::path::Path;

use kdc_config::{Config, ConfigError, DirectoryConfig};

/// Where the text claims to come from; relative paths resolve against its folder.
const PATH: &str = "/etc/kdc/kdc.toml";

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, Path::new(PATH)) {
        Ok(config) => {
            assert!(!config.realm.name.is_empty() && !config.realm.name.contains(['/', '@']));
            assert!(!config.listen.udp.is_empty() || !config.listen.tcp.is_empty());
            assert!(!config.tickets.enctypes.is_empty());
            assert!(config.keys.master_key.is_absolute());
            if let DirectoryConfig::Embedded { path } = &config.directory {
                assert!(path.is_absolute());
                assert!(config.keys.store.as_ref().is_some_and(|p| p.is_absolute()));
            }
        }
        Err(ConfigError::Parse { line, .. }) => {
            assert!(
                line <= text.lines().count() + 1,
                "line {line} is past the text"
            );
        }
        Err(ConfigError::Invalid { .. }) => {}
        Err(error @ ConfigError::Read { .. }) => panic!("parsing text read a file: {error}"),
    }
}
