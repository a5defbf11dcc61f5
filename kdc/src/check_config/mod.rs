//! `kdc check-config`: everything `kdc serve` would load, checked without serving: the file
//! parses, every file it names is readable, the KDC key matches its certificate and the
//! certificate carries what clients demand (RFC 4556 §3.2.4), the directory and the TPM
//! answer, and the master key unseals the key store. Each problem names the configuration
//! file, the line and the key; so does each note, which tells what works only for clients
//! configured for it and fails nothing.

mod kdc_cert;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kdc_config::{Config, DirectoryConfig, Sha1Signatures, SignerKind, TpmMode};

use crate::build::{self, BuildOptions};
use crate::keys::{KeyRing, MasterKey};
use crate::open;
use crate::signer::software::{SoftwareSigner, read_chain};
use crate::signer::{DigestAlgorithm, KdcSigner};

/// How long a configured TPM may take to answer.
const TPM_WAIT: Duration = Duration::from_secs(5);

/// Whether a finding stops the configuration from serving every client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Problem,
    /// Works, given what the message says clients need.
    Note,
}

/// One problem or note, at a key of the configuration.
#[derive(Debug, PartialEq, Eq)]
pub struct Finding {
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
    pub severity: Severity,
}

struct Checker {
    text: String,
    findings: Vec<Finding>,
}

impl Checker {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.add(key, message.into(), Severity::Problem);
    }

    fn note(&mut self, key: &str, message: impl Into<String>) {
        self.add(key, message.into(), Severity::Note);
    }

    fn add(&mut self, key: &str, message: String, severity: Severity) {
        let line = line_of_key(&self.text, key);
        self.findings.push(Finding {
            key: key.to_owned(),
            line,
            message,
            severity,
        });
    }
}

/// The line of `key` (`table.sub.name`) in TOML text: its `name = ` line in its table, or
/// the table's header when the key is not written (a default).
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let (table, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut in_table = table.is_empty();
    let mut header = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line.trim_matches(['[', ']']).trim() == table;
            if in_table {
                header = Some(index + 1);
            }
            continue;
        }
        let written = line
            .split_once('=')
            .is_some_and(|(left, _)| left.trim() == name);
        if in_table && written {
            return Some(index + 1);
        }
    }
    header
}

/// The files a configuration names, with their keys.
fn named_files(config: &Config) -> Vec<(&'static str, PathBuf)> {
    let mut files = vec![("keys.master_key", config.keys.master_key.clone())];
    let mut add = |key, path: &Option<PathBuf>| {
        if let Some(path) = path {
            files.push((key, path.clone()));
        }
    };
    add("keys.store", &config.keys.store);
    add("pkinit.certificate", &config.pkinit.certificate);
    add("pkinit.key", &config.pkinit.key);
    if let Some(tpm) = &config.pkinit.tpm {
        add("pkinit.tpm.certificate", &Some(tpm.certificate.clone()));
        add("pkinit.tpm.auth_file", &tpm.auth_file);
    }
    if let Some(trust) = &config.pkinit.certificate_trust {
        for (key, paths) in [
            ("pkinit.certificate_trust.anchors", &trust.anchors),
            (
                "pkinit.certificate_trust.intermediates",
                &trust.intermediates,
            ),
            ("pkinit.certificate_trust.crls", &trust.crls),
        ] {
            paths.iter().for_each(|p| add(key, &Some(p.clone())));
        }
    }
    match &config.directory {
        DirectoryConfig::Embedded { path } => add("directory.path", &Some(path.clone())),
        DirectoryConfig::Ldap(ldap) => {
            add("directory.bind_password_file", &ldap.bind_password_file);
            add("directory.ca_file", &ldap.ca_file);
        }
    }
    files
}

/// Checks the configuration at `path`; the problems and notes found (no problem: it would
/// start).
pub async fn check(path: &Path) -> Vec<Finding> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut checker = Checker {
        text,
        findings: Vec::new(),
    };
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(error) => {
            use kdc_config::ConfigError;
            let finding = match &error {
                ConfigError::Parse { line, message, .. } => Finding {
                    key: String::new(),
                    line: Some(*line),
                    message: message.clone(),
                    severity: Severity::Problem,
                },
                ConfigError::Invalid { key, message, .. } => Finding {
                    key: (*key).to_owned(),
                    line: line_of_key(&checker.text, key),
                    message: message.clone(),
                    severity: Severity::Problem,
                },
                ConfigError::Read { .. } => Finding {
                    key: String::new(),
                    line: None,
                    message: error.to_string(),
                    severity: Severity::Problem,
                },
            };
            checker.findings.push(finding);
            return checker.findings;
        }
    };
    check_pac(&mut checker, &config);
    for (key, file) in named_files(&config) {
        if let Err(e) = std::fs::File::open(&file) {
            checker.problem(key, format!("{}: cannot read: {e}", file.display()));
        }
    }
    let signer = check_signer(&mut checker, &config).await;
    check_directory(&mut checker, &config).await;
    check_keys(&mut checker, &config).await;
    if !checker
        .findings
        .iter()
        .any(|f| f.severity == Severity::Problem)
    {
        check_build(&mut checker, &config, signer).await;
    }
    checker.findings
}

/// Builds the KDC as `kdc serve` does (with the signer checked above: no second TPM
/// context), so that what serve would refuse beyond the parts checked one by one, such as
/// a certificate-trust anchor that is no certificate, is a problem here too.
async fn check_build(checker: &mut Checker, config: &Config, signer: Option<Arc<dyn KdcSigner>>) {
    let options = BuildOptions {
        signer,
        ..BuildOptions::default()
    };
    if let Err(error) = build::build(config, options).await {
        let message = format!("{error:#}");
        // The KDC's setup errors start with the key they refuse.
        match message
            .split_once(": ")
            .filter(|(key, _)| line_of_key(&checker.text, key).is_some())
        {
            Some((key, rest)) => checker.problem(key, rest),
            None => checker.problem("", message),
        }
    }
}

fn check_kdc_certificate(checker: &mut Checker, key: &str, file: &Path, realm: &str) {
    match read_chain(file) {
        Ok(chain) => {
            let verdict = chain
                .first()
                .map(|leaf| kdc_cert::check(leaf, realm, SystemTime::now()))
                .unwrap_or_default();
            for problem in verdict.problems {
                checker.problem(key, format!("{}: {problem}", file.display()));
            }
            for note in verdict.notes {
                checker.note(key, format!("{}: {note}", file.display()));
            }
        }
        Err(e) => checker.problem(key, e.to_string()),
    }
}

/// Checks the configured signer; the signer, when it opened.
async fn check_signer(checker: &mut Checker, config: &Config) -> Option<Arc<dyn KdcSigner>> {
    let realm = &config.realm.name;
    match (config.pkinit.signer, &config.pkinit.tpm) {
        (SignerKind::Software, _) => {
            let (Some(key), Some(cert)) = (&config.pkinit.key, &config.pkinit.certificate) else {
                return None;
            };
            let signer: Option<Arc<dyn KdcSigner>> = match SoftwareSigner::load_kdc_key(key, cert) {
                Ok(signer) => {
                    check_sha1(checker, config, signer.digests());
                    Some(Arc::new(signer))
                }
                Err(e) => {
                    checker.problem("pkinit.key", e.to_string());
                    None
                }
            };
            check_kdc_certificate(checker, "pkinit.certificate", cert, realm);
            signer
        }
        (SignerKind::Tpm, Some(tpm)) => {
            if tpm.mode == TpmMode::Direct {
                check_kdc_certificate(checker, "pkinit.tpm.certificate", &tpm.certificate, realm);
            }
            match crate::signer::from_config::build(config).await {
                Ok(signer) => {
                    check_sha1(checker, config, signer.digests());
                    let started = std::time::Instant::now();
                    while !signer.available() && started.elapsed() < TPM_WAIT {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    if !signer.available() {
                        checker.problem(
                            "pkinit.tpm.tcti",
                            format!(
                                "the TPM at {:?} did not answer within {TPM_WAIT:?}",
                                tpm.tcti
                            ),
                        );
                    }
                    Some(signer)
                }
                Err(e) => {
                    checker.problem("pkinit.tpm", e.to_string());
                    None
                }
            }
        }
        (SignerKind::Tpm, None) => None,
    }
}

/// A realm without a domain SID serves tickets without a PAC: fine for MIT and Heimdal
/// services, refused by Windows and reduced to guesses by Samba and SSSD.
fn check_pac(checker: &mut Checker, config: &Config) {
    if config.pac().is_none() {
        checker.note(
            "realm.domain_sid",
            "not set: tickets carry no PAC (MS-PAC), so Windows services refuse them and \
             Samba and SSSD cannot map the user's groups; set it to the AD domain SID \
             (S-1-5-21-x-y-z)",
        );
    }
}

/// Clients that follow Windows verify only SHA-1 KDC signatures; say so when they are allowed
/// but this signer cannot make one.
fn check_sha1(checker: &mut Checker, config: &Config, digests: &[DigestAlgorithm]) {
    if config.pkinit.sha1_signatures == Sha1Signatures::Allow
        && !digests.contains(&DigestAlgorithm::Sha1)
    {
        let why = match (config.pkinit.signer, &config.pkinit.tpm) {
            (SignerKind::Tpm, Some(tpm)) if tpm.mode == TpmMode::Direct => {
                "the TPM key signs SHA-256 only (use mode = \"delegated\")"
            }
            _ => "this build has no OpenSSL (build with --features openssl)",
        };
        checker.note(
            "pkinit.sha1_signatures",
            format!(
                "SHA-1 replies cannot be signed: {why}; clients that verify only SHA-1 \
                 (Windows-shaped smart-card clients) get SHA-256 replies they refuse"
            ),
        );
    }
}

async fn check_directory(checker: &mut Checker, config: &Config) {
    match &config.directory {
        DirectoryConfig::Embedded { .. } => {
            if let Err(e) = open::directory(config).await {
                checker.problem("directory.path", format!("{e:#}"));
            }
        }
        DirectoryConfig::Ldap(ldap) => match open::ldap(ldap).await {
            Ok(directory) => {
                if let Err(e) = directory.check().await {
                    checker.problem("directory.urls", format!("{:?}: {e}", ldap.urls));
                }
            }
            Err(e) => checker.problem("directory", format!("{e:#}")),
        },
    }
}

async fn check_keys(checker: &mut Checker, config: &Config) {
    let master = match MasterKey::load(&config.keys.master_key) {
        Ok(master) => master,
        Err(e) => return checker.problem("keys.master_key", e.to_string()),
    };
    let store = match open::key_store(config).await {
        Ok(store) => store,
        Err(e) => return checker.problem("keys.store", format!("{e:#}")),
    };
    match KeyRing::load(&*store, &master).await {
        Ok(keys) => {
            let krbtgt = format!("krbtgt/{}", config.realm.name);
            match keys.current(&krbtgt) {
                None => checker.problem("keys.store", format!("no {krbtgt} key")),
                Some((_, key)) if config.pac().is_some() && !key.enctype().is_aes_sha1() => checker
                    .note(
                        "keys.store",
                        format!(
                            "{krbtgt} signs PACs with its {} key: Windows verifies PAC \
                             signatures of aes-sha1 keys only ([MS-PAC] 2.8)",
                            key.enctype()
                        ),
                    ),
                Some(_) => {}
            }
        }
        Err(e) => checker.problem(
            "keys.master_key",
            format!("does not unseal the key store: {e}"),
        ),
    }
}

/// `kdc check-config`: prints every problem as `FILE:LINE: KEY: message` and every note as
/// `FILE:LINE: KEY: note: message`; an error if there is any problem.
pub async fn run(path: &Path) -> anyhow::Result<()> {
    let findings = check(path).await;
    let file = path.display();
    for finding in &findings {
        let key = if finding.key.is_empty() {
            String::new()
        } else {
            format!("{}: ", finding.key)
        };
        let note = match finding.severity {
            Severity::Problem => "",
            Severity::Note => "note: ",
        };
        match finding.line {
            Some(line) => println!("{file}:{line}: {key}{note}{}", finding.message),
            None if key.is_empty() => println!("{note}{}", finding.message),
            None => println!("{file}: {key}{note}{}", finding.message),
        }
    }
    let problems = findings
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .count();
    if problems == 0 {
        println!("{file}: ok");
        Ok(())
    } else {
        anyhow::bail!("{file}: {problems} problem(s)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_on_their_lines_or_their_table() {
        let text = "[realm]\nname = \"X\"\n\n[pkinit]\nkey = \"k\"\n\n[pkinit.tpm]\nhandle = 1\n";
        assert_eq!(line_of_key(text, "realm.name"), Some(2));
        assert_eq!(line_of_key(text, "pkinit.key"), Some(5));
        assert_eq!(line_of_key(text, "pkinit.tpm.handle"), Some(8));
        assert_eq!(line_of_key(text, "pkinit.certificate"), Some(4));
        assert_eq!(line_of_key(text, "metrics.listen"), None);
    }

    /// A development realm (it passes), and its kdc.toml.
    async fn dev_realm() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        crate::dev_realm::create(dir.path(), "EXAMPLE.TEST", 1)
            .await
            .unwrap();
        let config = dir.path().join("kdc.toml");
        (dir, config)
    }

    async fn problems(config: &Path) -> Vec<Finding> {
        check(config)
            .await
            .into_iter()
            .filter(|f| f.severity == Severity::Problem)
            .collect()
    }

    /// An unknown enctype and an address that is not one are problems at their line, in the
    /// words `kdc serve` refuses them with (check-config used to pass both).
    #[tokio::test]
    async fn values_serve_refuses_are_problems_in_the_same_words() {
        let (_dir, config) = dev_realm().await;
        let text = std::fs::read_to_string(&config).unwrap();
        for (from, to, words) in [
            (
                "enctypes = [",
                "enctypes = [\"rc4-hmac\", ",
                "unknown enctype \"rc4-hmac\"",
            ),
            (
                "tcp = [\"",
                "tcp = [\"localhost:88\", \"",
                "\"localhost:88\" is not an IP address and port",
            ),
        ] {
            let broken = text.replacen(from, to, 1);
            std::fs::write(&config, &broken).unwrap();
            let line = broken.lines().position(|l| l.starts_with(from)).unwrap() + 1;
            let problems = problems(&config).await;
            assert_eq!(problems.len(), 1, "{problems:?}");
            let finding = &problems[0];
            assert_eq!(finding.line, Some(line), "{finding:?}");
            assert!(finding.message.starts_with(words), "{finding:?}");
            let refused = crate::build::from_file(&config).await.err().unwrap();
            assert!(
                format!("{refused:#}").ends_with(&format!(":{line}: {}", finding.message)),
                "{refused:#}"
            );
        }
    }

    /// What only building the KDC finds, here an anchor file without a certificate, is a
    /// problem at its key in serve's words: check-config builds the KDC as serve does (it
    /// used to pass this configuration, which serve refused).
    #[tokio::test]
    async fn what_the_build_refuses_is_a_problem() {
        let (dir, config) = dev_realm().await;
        std::fs::write(dir.path().join("ca.pem"), "no certificate here\n").unwrap();
        let refused = format!(
            "{:#}",
            crate::build::from_file(&config).await.err().unwrap()
        );
        let problems = problems(&config).await;
        assert_eq!(problems.len(), 1, "{problems:?}");
        let problem = &problems[0];
        assert_eq!(problem.key, "pkinit.certificate_trust", "{problem:?}");
        assert!(problem.line.is_some(), "{problem:?}");
        assert_eq!(
            refused,
            format!("{}: {}", problem.key, problem.message),
            "{problem:?}"
        );
    }

    /// A krbtgt key of an RFC 8009 enctype signs PACs Windows cannot verify: a note.
    #[tokio::test]
    async fn a_sha2_krbtgt_key_signing_pacs_is_noted() {
        let (_dir, path) = dev_realm().await;
        let notes = |findings: Vec<Finding>| {
            findings
                .into_iter()
                .filter(|f| f.key == "keys.store" && f.message.contains("PAC"))
                .count()
        };
        assert_eq!(
            notes(check(&path).await),
            0,
            "dev-realm's krbtgt is aes-sha1"
        );
        let config = Config::load(&path).unwrap();
        let master = MasterKey::load(&config.keys.master_key).unwrap();
        let store = open::key_store(&config).await.unwrap();
        let name = format!("krbtgt/{}", config.realm.name);
        let existing = store.find_service(&name).await.unwrap();
        let sha2 = [crate::crypto::Enctype::Aes256CtsHmacSha384192];
        let (rotated, _) = crate::keys::new_key_version(&master, existing, &name, &sha2).unwrap();
        store.put_service(rotated).await.unwrap();
        assert_eq!(notes(check(&path).await), 1);
    }

    /// A realm without a domain SID passes, with a note at `[realm]` that its tickets carry
    /// no PAC; the development realm has one.
    #[tokio::test]
    async fn a_realm_without_a_domain_sid_is_noted() {
        let (_dir, config) = dev_realm().await;
        let pac_notes = |findings: &[Finding]| {
            findings
                .iter()
                .filter(|f| f.key == "realm.domain_sid")
                .collect::<Vec<_>>()
                .len()
        };
        assert_eq!(pac_notes(&check(&config).await), 0);
        let text = std::fs::read_to_string(&config).unwrap();
        let without: String = text
            .lines()
            .filter(|line| !line.starts_with("domain_sid ="))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_ne!(without, text);
        std::fs::write(&config, &without).unwrap();
        let findings = check(&config).await;
        assert!(
            findings.iter().all(|f| f.severity == Severity::Note),
            "{findings:?}"
        );
        let note = findings
            .iter()
            .find(|f| f.key == "realm.domain_sid")
            .unwrap();
        assert_eq!(pac_notes(&findings), 1);
        let header = without.lines().position(|l| l == "[realm]").unwrap() + 1;
        assert_eq!(note.line, Some(header), "{note:?}");
        assert!(note.message.contains("no PAC"), "{note:?}");
    }

    /// The note appears exactly when the build cannot sign SHA-1, and goes with
    /// `sha1_signatures = "refuse"` (nobody is then promised a SHA-1 reply).
    #[tokio::test]
    async fn sha1_replies_that_cannot_be_signed_are_noted() {
        let (_dir, config) = dev_realm().await;
        let sha1_notes = |findings: Vec<Finding>| {
            assert!(
                findings.iter().all(|f| f.severity == Severity::Note),
                "{findings:?}"
            );
            findings
                .into_iter()
                .filter(|f| f.key == "pkinit.sha1_signatures")
                .count()
        };
        let expected = if cfg!(feature = "openssl") { 0 } else { 1 };
        assert_eq!(sha1_notes(check(&config).await), expected);
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            text.replace(
                "sha1_signatures = \"allow\"",
                "sha1_signatures = \"refuse\"",
            ),
        )
        .unwrap();
        assert_eq!(sha1_notes(check(&config).await), 0);
    }
}
