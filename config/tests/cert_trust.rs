//! The `[pkinit.certificate_trust]` table: absent means off, defaults are the documented
//! ones, relative paths follow the file, and bad values name their key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use kdc_config::{Config, RevocationPolicy, StrongMapping};

const BASE: &str = r#"
[realm]
name = "EXAMPLE.TEST"

[pkinit]
certificate = "kdc.pem"
key = "kdc.key"

[directory]
type = "embedded"
path = "directory.toml"

[keys]
master_key = "master.key"
store = "principals.toml"
"#;

fn with_table(table: &str) -> Result<Config, kdc_config::ConfigError> {
    let text = BASE.replace("\n[directory]", &format!("\n{table}\n[directory]"));
    Config::parse(&text, Path::new("/etc/kdc/kdc.toml"))
}

#[test]
fn absent_table_means_certificate_trust_is_off() {
    let config = Config::parse(BASE, Path::new("/etc/kdc/kdc.toml")).unwrap();
    assert!(config.pkinit.certificate_trust.is_none());
}

#[test]
fn defaults_are_the_documented_ones_and_paths_follow_the_file() {
    let config =
        with_table("[pkinit.certificate_trust]\nanchors = [\"ca.pem\", \"/srv/cas\"]\n").unwrap();
    let trust = config.pkinit.certificate_trust.unwrap();
    assert_eq!(
        trust.anchors,
        [Path::new("/etc/kdc/ca.pem"), Path::new("/srv/cas")]
    );
    assert!(trust.intermediates.is_empty());
    assert!(trust.crls.is_empty());
    assert_eq!(trust.missing_crl, RevocationPolicy::FailClosed);
    assert_eq!(trust.stale_crl, RevocationPolicy::FailClosed);
    assert_eq!(
        trust.ekus,
        [
            "1.3.6.1.5.2.3.4",
            "1.3.6.1.4.1.311.20.2.2",
            "1.3.6.1.5.5.7.3.2"
        ]
    );
    assert_eq!(trust.strong_mapping, StrongMapping::Full);
    assert_eq!(trust.reload_interval_secs, 30);
}

#[test]
fn every_option_parses() {
    let config = with_table(
        "[pkinit.certificate_trust]\nanchors = [\"a\"]\nintermediates = [\"i\"]\n\
         crls = [\"c\"]\nmissing_crl = \"allow\"\nstale_crl = \"allow\"\n\
         ekus = [\"1.3.6.1.5.5.7.3.2\"]\nstrong_mapping = \"compatibility\"\n\
         reload_interval_secs = 0\n",
    )
    .unwrap();
    let trust = config.pkinit.certificate_trust.unwrap();
    assert_eq!(trust.intermediates, [Path::new("/etc/kdc/i")]);
    assert_eq!(trust.crls, [Path::new("/etc/kdc/c")]);
    assert_eq!(trust.missing_crl, RevocationPolicy::Allow);
    assert_eq!(trust.stale_crl, RevocationPolicy::Allow);
    assert_eq!(trust.ekus, ["1.3.6.1.5.5.7.3.2"]);
    assert_eq!(trust.strong_mapping, StrongMapping::Compatibility);
    assert_eq!(trust.reload_interval_secs, 0);
}

#[test]
fn bad_values_name_their_key() {
    let cases = [
        ("anchors = []\n", "pkinit.certificate_trust.anchors"),
        (
            "anchors = [\"a\"]\nekus = []\n",
            "pkinit.certificate_trust.ekus",
        ),
        (
            "anchors = [\"a\"]\nekus = [\"clientAuth\"]\n",
            "pkinit.certificate_trust.ekus",
        ),
    ];
    for (body, key) in cases {
        let err = with_table(&format!("[pkinit.certificate_trust]\n{body}")).unwrap_err();
        assert!(err.to_string().contains(key), "{body}: {err}");
    }
    for body in [
        "anchors = [\"a\"]\nstrong_mapping = \"strict\"\n",
        "anchors = [\"a\"]\nstale_crl = \"ignore\"\n",
        "anchors = [\"a\"]\nanchor_dir = \"x\"\n",
    ] {
        let err = with_table(&format!("[pkinit.certificate_trust]\n{body}")).unwrap_err();
        assert!(err.to_string().contains("kdc.toml:"), "{body}: {err}");
    }
}

#[test]
fn shipped_example_enables_certificate_trust() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kdc.toml.example");
    let config = Config::load(&path).unwrap();
    let trust = config.pkinit.certificate_trust.unwrap();
    assert_eq!(trust.strong_mapping, StrongMapping::Full);
    assert_eq!(trust.anchors, [Path::new("/etc/kdc/trust/anchors")]);
}
