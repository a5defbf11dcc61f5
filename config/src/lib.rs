//! The kdc configuration file: TOML, parsed strictly (unknown keys are errors), every option
//! documented here with its default. Relative paths are resolved against the file's folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use self::bounds::{Bound, DAY, HOUR, YEAR};

mod address;
mod bounds;
mod cert_trust;
mod enctype;
mod ldap;
mod metrics;
mod pac;
pub use cert_trust::{CertificateTrustConfig, RevocationPolicy, StrongMapping};
pub use enctype::EnctypeName;
pub use ldap::{GroupMembership, LdapAttributeNames, LdapConfig, is_attribute_description};
pub use metrics::MetricsConfig;
pub use pac::{NetbiosName, PacConfig, PacSettings};

/// A loaded configuration, with every path made absolute.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub realm: RealmConfig,
    #[serde(default)]
    pub listen: ListenConfig,
    #[serde(default)]
    pub tickets: TicketConfig,
    pub pkinit: PkinitConfig,
    pub directory: DirectoryConfig,
    pub keys: KeysConfig,
    #[serde(default)]
    pub log: LogConfig,
    /// The Prometheus metrics and health listener, `[metrics]` (see [`MetricsConfig`]).
    /// Default: absent, no listener.
    #[serde(default)]
    pub metrics: Option<MetricsConfig>,
    /// How PACs are filled and checked, `[pac]` (see [`PacConfig`]); used only with
    /// `[realm] domain_sid`.
    #[serde(default)]
    pub pac: PacConfig,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmConfig {
    /// The Kerberos realm served, e.g. `EXAMPLE.TEST`. Required.
    pub name: String,
    /// The Active Directory domain SID of the realm, `S-1-5-21-x-y-z` (three
    /// sub-authorities): the PAC names the user and the groups by RID under it. Default:
    /// absent, and then tickets carry no PAC (MS-PAC authorization data), which Windows,
    /// Samba and SSSD services need; `kdc check-config` notes it.
    #[serde(default)]
    pub domain_sid: Option<kdc_sid::DomainSid>,
    /// The domain's NetBIOS name (LogonDomainName of the PAC), 1 to 15 characters. Default:
    /// the realm name's first label, upper-case, cut to 15 characters (`CORP.EXAMPLE.COM`
    /// gives `CORP`).
    #[serde(default)]
    pub netbios_name: Option<NetbiosName>,
}

/// Where the long-term keys of krbtgt and the services live.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// File with the master key (one hex line, mode 0600) that seals every principal key. Required.
    pub master_key: PathBuf,
    /// The principal key store file (krbtgt and services, sealed). Absent: the principals
    /// live in the LDAP directory (`kdcPrincipal` entries), which then must be configured.
    #[serde(default)]
    pub store: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// UDP addresses. Default `["0.0.0.0:88"]`.
    #[serde(default = "default_listen", deserialize_with = "address::list")]
    pub udp: Vec<SocketAddr>,
    /// TCP addresses. Default `["0.0.0.0:88"]`.
    #[serde(default = "default_listen", deserialize_with = "address::list")]
    pub tcp: Vec<SocketAddr>,
    /// Largest request accepted, UDP or TCP, in bytes. Default 65536.
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: usize,
    /// Largest UDP reply; longer ones get KRB_ERR_RESPONSE_TOO_BIG so the client retries over
    /// TCP (MIT's kdc_max_dgram_reply_size). Default 4096.
    #[serde(default = "default_max_udp_reply_bytes")]
    pub max_udp_reply_bytes: usize,
    /// Seconds a TCP connection may stay idle. Default 30.
    #[serde(default = "default_tcp_idle_timeout_secs")]
    pub tcp_idle_timeout_secs: u64,
    /// Open TCP connections at most; when all are open the one idle longest is closed to
    /// admit a new one (or the new one, when every connection is busy). Default 1024.
    #[serde(default = "default_max_tcp_connections")]
    pub max_tcp_connections: usize,
    /// Open TCP connections from one IP address at most; more from it are closed at once.
    /// Raise it for many clients behind one NAT address. Default 64.
    #[serde(default = "default_max_tcp_connections_per_ip")]
    pub max_tcp_connections_per_ip: usize,
    /// Seconds one request may take before it is abandoned. Default 10.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketConfig {
    /// Ticket lifetime in seconds. Default 36000 (10 h).
    #[serde(default = "default_lifetime_secs")]
    pub lifetime_secs: u64,
    /// Longest renewable lifetime in seconds. Default 604800 (7 d).
    #[serde(default = "default_renewable_lifetime_secs")]
    pub renewable_lifetime_secs: u64,
    /// Allowed clock skew in seconds. Default 300.
    #[serde(default = "default_clock_skew_secs")]
    pub clock_skew_secs: u64,
    /// Session/reply key enctypes the realm allows, in preference order of the realm; the first
    /// one of the client's list that is here wins. Default: aes256-cts-hmac-sha1-96,
    /// aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha384-192, aes128-cts-hmac-sha256-128.
    #[serde(default = "default_enctypes")]
    pub enctypes: Vec<EnctypeName>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PkinitConfig {
    /// Where the KDC's signing key lives: `software` (a PKCS#8 file, `key` below) or `tpm`
    /// (a TPM 2.0 key, the `[pkinit.tpm]` table). Default `software`.
    #[serde(default)]
    pub signer: SignerKind,
    /// PEM file: the KDC certificate first, then its chain (without the root). Required with
    /// `signer = "software"`; unused with `tpm` (see `pkinit.tpm.certificate`).
    pub certificate: Option<PathBuf>,
    /// PEM PKCS#8 private key (RSA or ECDSA P-256) of the KDC certificate. Required with
    /// `signer = "software"`; unused with `tpm`.
    pub key: Option<PathBuf>,
    /// The TPM-held key. Required with `signer = "tpm"`.
    pub tpm: Option<TpmConfig>,
    /// The weakest key agreement accepted, ordered as MIT's `pkinit_dh_min_bits`: 1024 (MODP
    /// group 2, weak) < 2048 (group 14, default) < "P-256" < 4096 (group 16) < "P-384" <
    /// "P-521" (ECDH, RFC 5349).
    #[serde(default = "default_min_dh_bits")]
    pub min_dh_bits: DhStrength,
    /// Certificate trust for CA-issued client certificates, `[pkinit.certificate_trust]`
    /// (see [`CertificateTrustConfig`]). Default: absent, certificate trust off and every
    /// client certificate handled by key trust.
    #[serde(default)]
    pub certificate_trust: Option<CertificateTrustConfig>,
    /// PKINIT freshness tokens (RFC 8070): `supported` (default) hands a token to every client
    /// that asks and checks any token sent; `required` refuses PKINIT requests without one
    /// (clients that cannot send one, such as older Windows, then fail); `off` hands none out.
    #[serde(default)]
    pub freshness: Freshness,
    /// How long the KDC reuses one DH key pair per group for clients that send a
    /// clientDHNonce (RFC 4556 §3.2.3.1), answering with serverDHNonce and dhKeyExpiration;
    /// 0 makes a new key for each such request (both fields are still sent). Default 60,
    /// at most 3600. Clients without clientDHNonce always get a new key.
    #[serde(default = "default_dh_key_reuse_secs")]
    pub dh_key_reuse_secs: u64,
    /// SHA-1 in PKINIT's CMS signatures: `allow` (default) accepts clients that sign their
    /// AuthPack with SHA-1 and signs the reply with SHA-1 for clients that ask for it (those
    /// that follow Windows verify nothing else), each such reply logged and counted
    /// (`kdc_pkinit_sha1_replies_total`); `refuse` answers such clients
    /// KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED.
    #[serde(default)]
    pub sha1_signatures: Sha1Signatures,
    /// When the PKAuthenticator must carry paChecksum2 (MS-PKCA §2.2.3), as Windows Server 2025
    /// requires for finite-field DH: `never` (default), `modp` (for MODP offers, not ECDH),
    /// `always`. A request without it gets KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED.
    #[serde(default)]
    pub require_pa_checksum2: PaChecksum2Policy,
    /// The hashes a request-body checksum may use (paChecksum is SHA-1, paChecksum2 names its
    /// own), like Windows' "Configure hash algorithms for certificate logon" policy. A request
    /// needs at least one checksum in an accepted hash. Default all four.
    #[serde(default = "default_pa_checksum_hashes")]
    pub pa_checksum_hashes: Vec<HashName>,
    /// Threads that run PKINIT AS exchanges (signature checks, certificate paths, DH, the
    /// KDC signature) apart from the network threads; 0 = one per core. Default 0.
    #[serde(default)]
    pub workers: usize,
    /// PKINIT AS exchanges admitted beyond those running, started oldest first; when full,
    /// more get KDC_ERR_SVC_UNAVAILABLE over TCP and are dropped over UDP
    /// (`kdc_pkinit_pool_full_total`). Default 256.
    #[serde(default = "default_pkinit_queue")]
    pub queue: usize,
    /// A request over UDP that waited this long for a worker is dropped unstarted
    /// (`kdc_pkinit_queue_stale_total`): MIT's client sends it again after 1 s, and the copy
    /// that waited is work nobody waits for. Default 1000.
    #[serde(default = "default_pkinit_udp_queue_timeout_ms")]
    pub udp_queue_timeout_ms: u64,
}

/// The strength of a key agreement group, for `[pkinit] min_dh_bits`: declared weakest first,
/// so the derived order is MIT's (`pkinit_dh_min_bits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "DhStrengthText")]
pub enum DhStrength {
    /// MODP group 2 (RFC 2409), 1024 bits: weak.
    Modp1024,
    /// MODP group 14 (RFC 3526), 2048 bits.
    Modp2048,
    /// ECDH on NIST P-256 (RFC 5349).
    P256,
    /// MODP group 16 (RFC 3526), 4096 bits.
    Modp4096,
    P384,
    P521,
}

/// `min_dh_bits` as written: a number of bits, or a curve name.
#[derive(Deserialize)]
#[serde(untagged)]
enum DhStrengthText {
    Bits(u32),
    Name(String),
}

impl TryFrom<DhStrengthText> for DhStrength {
    type Error = String;

    fn try_from(text: DhStrengthText) -> Result<Self, Self::Error> {
        match text {
            DhStrengthText::Bits(1024) => Ok(DhStrength::Modp1024),
            DhStrengthText::Bits(2048) => Ok(DhStrength::Modp2048),
            DhStrengthText::Bits(4096) => Ok(DhStrength::Modp4096),
            DhStrengthText::Name(name) if name.eq_ignore_ascii_case("P-256") => {
                Ok(DhStrength::P256)
            }
            DhStrengthText::Name(name) if name.eq_ignore_ascii_case("P-384") => {
                Ok(DhStrength::P384)
            }
            DhStrengthText::Name(name) if name.eq_ignore_ascii_case("P-521") => {
                Ok(DhStrength::P521)
            }
            _ => Err("must be 1024, 2048, 4096, \"P-256\", \"P-384\" or \"P-521\"".into()),
        }
    }
}

/// `[pkinit] require_pa_checksum2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaChecksum2Policy {
    #[default]
    Never,
    Modp,
    Always,
}

/// A hash named in the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashName {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

fn default_pa_checksum_hashes() -> Vec<HashName> {
    vec![
        HashName::Sha1,
        HashName::Sha256,
        HashName::Sha384,
        HashName::Sha512,
    ]
}

/// `[pkinit] sha1_signatures`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sha1Signatures {
    #[default]
    Allow,
    Refuse,
}

/// Upper bound of `[pkinit] dh_key_reuse_secs`: a key reused longer gains nothing (key
/// generation is a fraction of a logon) and widens what one leaked key exposes.
pub const MAX_DH_KEY_REUSE_SECS: u64 = bounds::HOUR;

/// `[pkinit] freshness`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    Off,
    #[default]
    Supported,
    Required,
}

/// `[pkinit] signer`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignerKind {
    #[default]
    Software,
    Tpm,
}

/// `[pkinit.tpm]`: the KDC key in a TPM 2.0 (made by `kdc tpm provision`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TpmConfig {
    /// TSS2 TCTI: `device:/dev/tpmrm0` (the kernel resource manager), `tabrmd`, or
    /// `swtpm:host=127.0.0.1,port=2321`. Default `device:/dev/tpmrm0`.
    #[serde(default = "default_tcti")]
    pub tcti: String,
    /// Persistent handle of the key (TPM 2.0 Part 2 §7.2: 0x81000000-0x81FFFFFF; the owner
    /// range starts at 0x81000000). Default 0x81010001.
    #[serde(default = "default_tpm_handle")]
    pub handle: u32,
    /// File holding the key's auth value (its bytes, a trailing newline dropped). Default:
    /// none, an empty auth value.
    pub auth_file: Option<PathBuf>,
    /// `direct`: every reply is signed inside the TPM (throughput = the TPM's).
    /// `delegated`: the TPM key is a CA (pathLen 0) that certifies a fresh in-memory KDC key
    /// every `period_secs`; replies carry both certificates. Default `delegated`.
    #[serde(default)]
    pub mode: TpmMode,
    /// Delegated mode: seconds between two in-memory KDC keys. Each KDC certificate is valid
    /// for two periods (notBefore backdated by `tickets.clock_skew_secs`), so a TPM outage
    /// shorter than about one period goes unnoticed. Default 600, at least 10.
    #[serde(default = "default_tpm_period_secs")]
    pub period_secs: u64,
    /// Delegated mode: algorithm of the in-memory KDC key, `rsa2048` or `p256`. Default
    /// `rsa2048` (every PKINIT client verifies RSA).
    #[serde(default)]
    pub delegated_key: DelegatedKey,
    /// Delegated mode: the dNSName (and subject CN) of each KDC certificate. Default
    /// `kdc.` followed by the realm name in lower case.
    pub dns_name: Option<String>,
    /// PEM file: the TPM key's certificate, then its chain (without the root). In direct mode
    /// it is the KDC certificate; in delegated mode a CA certificate with pathLen 0. Required.
    pub certificate: PathBuf,
    /// Signing requests waiting for the TPM at most; more are refused at once
    /// (KDC_ERR_SVC_UNAVAILABLE) instead of queueing without bound. Default 256.
    #[serde(default = "default_tpm_queue_depth")]
    pub queue_depth: usize,
}

/// `[pkinit.tpm] delegated_key`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DelegatedKey {
    #[default]
    Rsa2048,
    P256,
}

/// `[pkinit.tpm] mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TpmMode {
    Direct,
    #[default]
    Delegated,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "lowercase")]
pub enum DirectoryConfig {
    /// The embedded file directory (AD attribute names), loaded at start.
    Embedded { path: PathBuf },
    /// An LDAP directory: Active Directory, or OpenLDAP with deploy/ldap/kdc.schema. See
    /// [`LdapConfig`] for the options and their defaults.
    Ldap(Box<LdapConfig>),
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`. Default `text`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `kdc=debug`; RUST_LOG overrides it. Default `info`.
    #[serde(default = "default_log_level")]
    pub level: String,
}

/// `[log] format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

fn default_listen() -> Vec<SocketAddr> {
    vec![SocketAddr::from(([0, 0, 0, 0], 88))]
}
fn default_max_request_bytes() -> usize {
    65_536
}
fn default_max_udp_reply_bytes() -> usize {
    4096
}
fn default_tcp_idle_timeout_secs() -> u64 {
    30
}
fn default_max_tcp_connections_per_ip() -> usize {
    64
}
fn default_max_tcp_connections() -> usize {
    1024
}
fn default_request_timeout_secs() -> u64 {
    10
}
fn default_lifetime_secs() -> u64 {
    36_000
}
fn default_renewable_lifetime_secs() -> u64 {
    604_800
}
fn default_clock_skew_secs() -> u64 {
    300
}
fn default_enctypes() -> Vec<EnctypeName> {
    vec![
        EnctypeName::Aes256CtsHmacSha196,
        EnctypeName::Aes128CtsHmacSha196,
        EnctypeName::Aes256CtsHmacSha384192,
        EnctypeName::Aes128CtsHmacSha256128,
    ]
}
fn default_min_dh_bits() -> DhStrength {
    DhStrength::Modp2048
}
fn default_dh_key_reuse_secs() -> u64 {
    60
}
fn default_pkinit_queue() -> usize {
    256
}
fn default_pkinit_udp_queue_timeout_ms() -> u64 {
    1000
}
fn default_tcti() -> String {
    "device:/dev/tpmrm0".to_owned()
}
fn default_tpm_handle() -> u32 {
    0x8101_0001
}
fn default_tpm_period_secs() -> u64 {
    600
}
fn default_tpm_queue_depth() -> usize {
    256
}
fn default_log_level() -> String {
    "info".to_owned()
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            udp: default_listen(),
            tcp: default_listen(),
            max_request_bytes: default_max_request_bytes(),
            max_udp_reply_bytes: default_max_udp_reply_bytes(),
            tcp_idle_timeout_secs: default_tcp_idle_timeout_secs(),
            max_tcp_connections: default_max_tcp_connections(),
            max_tcp_connections_per_ip: default_max_tcp_connections_per_ip(),
            request_timeout_secs: default_request_timeout_secs(),
        }
    }
}

impl Default for TicketConfig {
    fn default() -> Self {
        Self {
            lifetime_secs: default_lifetime_secs(),
            renewable_lifetime_secs: default_renewable_lifetime_secs(),
            clock_skew_secs: default_clock_skew_secs(),
            enctypes: default_enctypes(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::default(),
            level: default_log_level(),
        }
    }
}

/// Why a configuration could not be loaded; the message names the file, line and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses configuration text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            line: e.span().map(|span| line_of(text, span.start)).unwrap_or(0),
            message: e.message().to_owned(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.check(path)?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.keys.master_key);
        if let Some(store) = &mut self.keys.store {
            resolve(store);
        }
        for path in [&mut self.pkinit.certificate, &mut self.pkinit.key]
            .into_iter()
            .flatten()
        {
            resolve(path);
        }
        if let Some(trust) = &mut self.pkinit.certificate_trust {
            trust.resolve_paths(resolve);
        }
        if let Some(tpm) = &mut self.pkinit.tpm {
            resolve(&mut tpm.certificate);
            if let Some(auth) = &mut tpm.auth_file {
                resolve(auth);
            }
        }
        match &mut self.directory {
            DirectoryConfig::Embedded { path } => resolve(path),
            DirectoryConfig::Ldap(ldap) => ldap.resolve_paths(resolve),
        }
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            message: message.to_owned(),
        };
        if self.realm.name.is_empty() || self.realm.name.contains(['/', '@']) {
            return Err(invalid(
                "realm.name",
                "must be a realm name like EXAMPLE.TEST",
            ));
        }
        if self.listen.udp.is_empty() && self.listen.tcp.is_empty() {
            return Err(invalid("listen", "no udp or tcp address to listen on"));
        }
        bounds::check(self.bounds()).map_err(|(key, message)| invalid(key, &message))?;
        if self.tickets.enctypes.is_empty() {
            return Err(invalid(
                "tickets.enctypes",
                "must name at least one enctype",
            ));
        }
        self.check_signer(path)?;
        if self.pkinit.pa_checksum_hashes.is_empty() {
            return Err(invalid(
                "pkinit.pa_checksum_hashes",
                "must name at least one of \"sha1\", \"sha256\", \"sha384\", \"sha512\"",
            ));
        }
        if let Some(metrics) = &self.metrics {
            metrics
                .check()
                .map_err(|(key, message)| invalid(key, &message))?;
        }
        if let Some(trust) = &self.pkinit.certificate_trust {
            trust
                .check()
                .map_err(|(key, message)| invalid(key, &message))?;
        }
        if self.keys.store.is_none() && matches!(self.directory, DirectoryConfig::Embedded { .. }) {
            return Err(invalid(
                "keys.store",
                "required with the embedded directory (only an LDAP directory can hold principal keys)",
            ));
        }
        if let DirectoryConfig::Ldap(ldap) = &self.directory {
            ldap.check()
                .map_err(|(key, message)| invalid(key, &message))?;
        }
        self.check_pac()
            .map_err(|(key, message)| invalid(key, &message))?;
        Ok(())
    }
}

impl Config {
    /// The bounds of the numeric settings of `[listen]`, `[tickets]` and `[pkinit]`.
    fn bounds(&self) -> Vec<Bound> {
        let (listen, tickets, pkinit) = (&self.listen, &self.tickets, &self.pkinit);
        let mut bounds = vec![
            // A UDP datagram's payload is at most 65507 bytes over IPv4; a TCP request of a
            // mebibyte is far beyond any real one (PKINIT requests run to a few KiB).
            Bound::new(
                "listen.max_request_bytes",
                listen.max_request_bytes,
                1024..=0x10_0000,
            ),
            Bound::new(
                "listen.max_udp_reply_bytes",
                listen.max_udp_reply_bytes,
                512..=65_507,
            ),
            Bound::new(
                "listen.tcp_idle_timeout_secs",
                listen.tcp_idle_timeout_secs,
                1..=HOUR,
            ),
            Bound::new(
                "listen.max_tcp_connections",
                listen.max_tcp_connections,
                1..=1_000_000,
            ),
            Bound::new(
                "listen.max_tcp_connections_per_ip",
                listen.max_tcp_connections_per_ip,
                1..=1_000_000,
            ),
            Bound::new(
                "listen.request_timeout_secs",
                listen.request_timeout_secs,
                1..=300,
            ),
            Bound::new("tickets.lifetime_secs", tickets.lifetime_secs, 60..=YEAR),
            Bound::new(
                "tickets.renewable_lifetime_secs",
                tickets.renewable_lifetime_secs,
                0..=YEAR,
            ),
            Bound::new("tickets.clock_skew_secs", tickets.clock_skew_secs, 0..=DAY),
            Bound::new(
                "pkinit.dh_key_reuse_secs",
                pkinit.dh_key_reuse_secs,
                0..=MAX_DH_KEY_REUSE_SECS,
            ),
            Bound::new("pkinit.workers", pkinit.workers, 0..=256),
            Bound::new("pkinit.queue", pkinit.queue, 1..=0x1_0000),
            Bound::new(
                "pkinit.udp_queue_timeout_ms",
                pkinit.udp_queue_timeout_ms,
                1..=60_000,
            ),
        ];
        if let Some(tpm) = &pkinit.tpm {
            bounds.push(Bound::new(
                "pkinit.tpm.period_secs",
                tpm.period_secs,
                10..=DAY,
            ));
            bounds.push(Bound::new(
                "pkinit.tpm.queue_depth",
                tpm.queue_depth,
                1..=0x1_0000,
            ));
        }
        bounds
    }

    fn check_signer(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            message: message.to_owned(),
        };
        let pkinit = &self.pkinit;
        match (pkinit.signer, &pkinit.tpm) {
            (SignerKind::Software, _) => {
                if pkinit.certificate.is_none() || pkinit.key.is_none() {
                    return Err(invalid(
                        "pkinit",
                        "signer = \"software\" needs `certificate` and `key`",
                    ));
                }
            }
            (SignerKind::Tpm, None) => {
                return Err(invalid(
                    "pkinit.tpm",
                    "signer = \"tpm\" needs a [pkinit.tpm] table",
                ));
            }
            (SignerKind::Tpm, Some(tpm)) => {
                if !(0x8100_0000..=0x81FF_FFFF).contains(&tpm.handle) {
                    return Err(invalid(
                        "pkinit.tpm.handle",
                        "must be a persistent handle, 0x81000000-0x81FFFFFF",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|before| before.matches('\n').count() + 1)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[realm]
name = "EXAMPLE.TEST"

[pkinit]
certificate = "kdc.pem"
key = "/etc/kdc/kdc.key"

[directory]
type = "embedded"
path = "directory.toml"

[keys]
master_key = "master.key"
store = "principals.toml"
"#;

    /// `min_dh_bits` takes bits or a curve name, ordered as MIT's `pkinit_dh_min_bits`.
    #[test]
    fn min_dh_bits_takes_bits_or_curves_in_mits_order() {
        let path = Path::new("/etc/kdc/kdc.toml");
        let parse = |value: &str| {
            Config::parse(
                &MINIMAL.replace("[pkinit]\n", &format!("[pkinit]\nmin_dh_bits = {value}\n")),
                path,
            )
            .map(|c| c.pkinit.min_dh_bits)
        };
        assert_eq!(parse("1024").unwrap(), DhStrength::Modp1024);
        assert_eq!(parse("\"P-256\"").unwrap(), DhStrength::P256);
        assert_eq!(parse("\"p-521\"").unwrap(), DhStrength::P521);
        assert!(DhStrength::Modp2048 < DhStrength::P256);
        assert!(DhStrength::P256 < DhStrength::Modp4096);
        assert!(DhStrength::Modp4096 < DhStrength::P384);
        for bad in ["3000", "\"P-224\"", "\"secp256k1\""] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("P-256"), "{bad}: {err}");
        }
    }

    /// Each numeric setting has an upper bound checked at load: a huge value used to load and
    /// then make time arithmetic fail on every request.
    #[test]
    fn values_beyond_their_bounds_are_refused_naming_the_key() {
        let path = Path::new("/etc/kdc/kdc.toml");
        for (table, key, value) in [
            ("tickets", "lifetime_secs", "18446744073709551615"),
            ("tickets", "renewable_lifetime_secs", "31536001"),
            ("tickets", "clock_skew_secs", "86401"),
            ("listen", "tcp_idle_timeout_secs", "0"),
            ("listen", "request_timeout_secs", "301"),
            ("listen", "max_request_bytes", "1048577"),
            ("listen", "max_udp_reply_bytes", "65508"),
            ("listen", "max_tcp_connections_per_ip", "0"),
            ("pkinit", "dh_key_reuse_secs", "3601"),
        ] {
            let text = if MINIMAL.contains(&format!("[{table}]")) {
                MINIMAL.replace(
                    &format!("[{table}]\n"),
                    &format!("[{table}]\n{key} = {value}\n"),
                )
            } else {
                format!("{MINIMAL}\n[{table}]\n{key} = {value}\n")
            };
            let err = Config::parse(&text, path).unwrap_err().to_string();
            assert!(
                err.contains(&format!("{table}.{key}")),
                "{key} = {value}: {err}"
            );
        }
        // The bounds themselves are accepted.
        let text =
            format!("{MINIMAL}\n[tickets]\nlifetime_secs = 31536000\nclock_skew_secs = 86400\n");
        assert!(Config::parse(&text, path).is_ok());
    }

    /// Addresses, enctype names and the named choices are parsed as the file loads: a bad
    /// one is refused at its line by every command (it used to pass `check-config` and stop
    /// `serve`, or be read as the default).
    #[test]
    fn addresses_enctypes_and_choices_are_parsed_at_load() {
        let path = Path::new("/etc/kdc/kdc.toml");
        let text = format!(
            "{MINIMAL}\n[listen]\nudp = [\"127.0.0.1:88\", \"[::1]:8888\"]\n\
             [tickets]\nenctypes = [\"aes128-sha2\", \"AES256-CTS-HMAC-SHA1-96\"]\n"
        );
        let config = Config::parse(&text, path).unwrap();
        assert_eq!(
            config.listen.udp,
            [
                SocketAddr::from(([127, 0, 0, 1], 88)),
                "[::1]:8888".parse().unwrap()
            ]
        );
        assert_eq!(config.listen.tcp, [SocketAddr::from(([0, 0, 0, 0], 88))]);
        assert_eq!(
            config.tickets.enctypes,
            [
                EnctypeName::Aes128CtsHmacSha256128,
                EnctypeName::Aes256CtsHmacSha196
            ]
        );
        for (table, line, words) in [
            (
                "[listen]\ntcp = [\"localhost:88\"]",
                "tcp =",
                "\"localhost:88\" is not an IP address and port like 0.0.0.0:88",
            ),
            (
                "[tickets]\nenctypes = [\"aes256-cts\", \"rc4-hmac\"]",
                "enctypes =",
                "unknown enctype \"rc4-hmac\": must be one of aes128-cts-hmac-sha1-96,",
            ),
            (
                "[log]\nformat = \"xml\"",
                "format =",
                "unknown variant `xml`",
            ),
        ] {
            let text = format!("{MINIMAL}\n{table}\n");
            let number = text.lines().position(|l| l.starts_with(line)).unwrap() + 1;
            let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("k.toml:{number}: {words}")),
                "{table}: {err}"
            );
        }
        let tpm = MINIMAL.replace("[pkinit]\n", "[pkinit]\nsigner = \"tpm\"\n")
            + "\n[pkinit.tpm]\ncertificate = \"tpm.pem\"\ndelegated_key = \"p384\"\n";
        let err = Config::parse(&tpm, path).unwrap_err().to_string();
        assert!(err.contains("unknown variant `p384`"), "{err}");
    }

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let config = Config::parse(MINIMAL, Path::new("/etc/kdc/kdc.toml")).unwrap();
        assert_eq!(config.listen.max_request_bytes, 65_536);
        assert_eq!(config.listen.max_udp_reply_bytes, 4096);
        assert_eq!(config.tickets.lifetime_secs, 36_000);
        assert_eq!(config.tickets.renewable_lifetime_secs, 604_800);
        assert_eq!(config.tickets.clock_skew_secs, 300);
        assert_eq!(config.pkinit.min_dh_bits, DhStrength::Modp2048);
        assert_eq!(config.pkinit.freshness, Freshness::Supported);
        assert_eq!(
            config.keys.store.as_deref(),
            Some(Path::new("/etc/kdc/principals.toml"))
        );
        assert_eq!(
            config.pkinit.key.as_deref(),
            Some(Path::new("/etc/kdc/kdc.key"))
        );
        assert_eq!(config.pkinit.signer, SignerKind::Software);
    }

    #[test]
    fn unknown_key_is_an_error_naming_file_and_line() {
        let text = format!("{MINIMAL}\n[tickets]\nlifetime = 5\n");
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        let message = err.to_string();
        let line = text
            .lines()
            .position(|l| l.starts_with("lifetime"))
            .unwrap()
            + 1;
        assert!(message.starts_with(&format!("k.toml:{line}:")), "{message}");
        assert!(message.contains("lifetime"), "{message}");
    }

    #[test]
    fn shipped_example_config_is_valid() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/kdc.toml.example"
        ));
        let config = Config::load(path).unwrap();
        assert_eq!(config.realm.name, "CORP.EXAMPLE.COM");
        assert_eq!(config.log.format, LogFormat::Json);
        let pac = config.pac().unwrap();
        assert_eq!(pac.netbios_name.as_str(), "CORP");
    }

    #[test]
    fn tpm_signer_defaults_and_checks() {
        let base = MINIMAL.replace("[pkinit]\n", "[pkinit]\nsigner = \"tpm\"\n");
        let err = Config::parse(&base, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("pkinit.tpm"), "{err}");
        let text = format!("{base}\n[pkinit.tpm]\ncertificate = \"tpm.pem\"\n");
        let config = Config::parse(&text, Path::new("/etc/kdc/kdc.toml")).unwrap();
        let tpm = config.pkinit.tpm.unwrap();
        assert_eq!(tpm.tcti, "device:/dev/tpmrm0");
        assert_eq!(tpm.handle, 0x8101_0001);
        assert_eq!(tpm.mode, TpmMode::Delegated);
        assert_eq!(tpm.period_secs, 600);
        assert_eq!(tpm.delegated_key, DelegatedKey::Rsa2048);
        assert_eq!(tpm.queue_depth, 256);
        assert_eq!(tpm.certificate, Path::new("/etc/kdc/tpm.pem"));
        assert!(tpm.auth_file.is_none());
        let bad = text.replace("[pkinit.tpm]\n", "[pkinit.tpm]\nhandle = 0x01000001\n");
        let err = Config::parse(&bad, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("pkinit.tpm.handle"), "{err}");
        let software = MINIMAL.replace("key = \"/etc/kdc/kdc.key\"\n", "");
        let err = Config::parse(&software, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("software"), "{err}");
    }

    #[test]
    fn key_store_may_be_left_out_only_with_ldap() {
        let text = MINIMAL.replace("store = \"principals.toml\"\n", "");
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("keys.store"), "{err}");
    }

    #[test]
    fn bad_value_names_the_key() {
        let text = MINIMAL.replace("EXAMPLE.TEST", "a/b");
        let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("realm.name"), "{err}");
    }

    /// Without a domain SID there is no PAC; with one, the NetBIOS name defaults to the
    /// realm's first label and the logon server to this host's name.
    #[test]
    fn pac_settings_follow_the_domain_sid() {
        let path = Path::new("/etc/kdc/kdc.toml");
        let config = Config::parse(MINIMAL, path).unwrap();
        assert_eq!(config.realm.domain_sid, None);
        assert_eq!(config.pac(), None);
        assert_eq!(config.netbios_name().unwrap().as_str(), "EXAMPLE");
        assert!(config.pac.accept_tgt_without_pac);

        let realm = "[realm]\nname = \"EXAMPLE.TEST\"\n";
        let with_sid = MINIMAL.replace(
            realm,
            &format!("{realm}domain_sid = \"S-1-5-21-1004336348-1177238915-682003330\"\n"),
        );
        let pac = Config::parse(&with_sid, path).unwrap().pac().unwrap();
        assert_eq!(
            pac.domain_sid.to_string(),
            "S-1-5-21-1004336348-1177238915-682003330"
        );
        assert_eq!(pac.netbios_name.as_str(), "EXAMPLE");
        assert!(pac.accept_tgt_without_pac);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let first_label = host.trim().split('.').next().unwrap().to_uppercase();
        let expected: String = first_label.chars().take(15).collect();
        assert_eq!(pac.logon_server.as_str(), expected);

        let written = with_sid.replace(realm, &format!("{realm}netbios_name = \"CORP\"\n"))
            + "\n[pac]\nlogon_server = \"DC1\"\naccept_tgt_without_pac = false\n";
        let pac = Config::parse(&written, path).unwrap().pac().unwrap();
        assert_eq!(pac.netbios_name.as_str(), "CORP");
        assert_eq!(pac.logon_server.as_str(), "DC1");
        assert!(!pac.accept_tgt_without_pac);
    }

    /// A wrong domain SID or NetBIOS name is refused at its line, as serve and check-config
    /// load the file; a realm whose first label is no NetBIOS name needs one written.
    #[test]
    fn pac_settings_given_wrong_are_refused_at_their_line() {
        let realm = "[realm]\nname = \"EXAMPLE.TEST\"\n";
        for (line, words) in [
            (
                "domain_sid = \"S-1-5-32-544\"",
                "S-1-5-32-544 is not a domain SID",
            ),
            (
                "domain_sid = \"S-1-5-21-1-2-3-4\"",
                "S-1-5-21-1-2-3-4 is not a domain SID",
            ),
            (
                "domain_sid = \"S-1-5-21-1-2-x\"",
                "\"S-1-5-21-1-2-x\" is not a SID",
            ),
            (
                "netbios_name = \"SIXTEEN-CHARS-XX\"",
                "\"SIXTEEN-CHARS-XX\" is not a NetBIOS name",
            ),
            ("netbios_name = \"\"", "\"\" is not a NetBIOS name"),
        ] {
            let text = MINIMAL.replace(realm, &format!("{realm}{line}\n"));
            let number = text.lines().position(|l| l == line).unwrap() + 1;
            let err = Config::parse(&text, Path::new("k.toml")).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("k.toml:{number}: {words}")),
                "{line}: {err}"
            );
        }
        let pac = format!("{MINIMAL}\n[pac]\nlogon_server = \"a|b\"\n");
        let err = Config::parse(&pac, Path::new("k.toml")).unwrap_err();
        let number = pac
            .lines()
            .position(|l| l.starts_with("logon_server"))
            .unwrap()
            + 1;
        assert!(
            err.to_string()
                .starts_with(&format!("k.toml:{number}: \"a|b\" is not a NetBIOS name")),
            "{err}"
        );
        let unknown = format!("{MINIMAL}\n[pac]\nenabled = true\n");
        let err = Config::parse(&unknown, Path::new("k.toml")).unwrap_err();
        assert!(err.to_string().contains("enabled"), "{err}");

        let no_label = MINIMAL.replace(
            realm,
            "[realm]\nname = \".EXAMPLE.TEST\"\ndomain_sid = \"S-1-5-21-1-2-3\"\n",
        );
        let err = Config::parse(&no_label, Path::new("k.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("k.toml: realm.netbios_name: must be set"),
            "{err}"
        );
        let named = no_label.replace("domain_sid", "netbios_name = \"EXAMPLE\"\ndomain_sid");
        assert!(
            Config::parse(&named, Path::new("k.toml"))
                .unwrap()
                .pac()
                .is_some()
        );
    }
}
