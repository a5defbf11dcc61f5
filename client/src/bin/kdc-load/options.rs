//! The `kdc-load` command line: `run` (drive a KDC with PKINIT AS-REQs, RFC 4556 §3.2, and
//! TGS-REQs, RFC 4120 §3.3) and `prepare` (make load-test users in a development realm).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use kdc::preauth::pkinit::agreement::{DhGroup, EcCurve, ModpGroup};

#[derive(Parser, Debug)]
#[command(
    name = "kdc-load",
    version,
    about = "Load generator for Kerberos KDCs: PKINIT AS-REQs and TGS-REQs over UDP or TCP"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Send prepared requests to a KDC and report throughput, latency and errors.
    Run(Box<RunArgs>),
    /// Make N load-test users in a development realm (kdc.toml's directory) with their
    /// certificates and keys, and a users file listing them.
    Prepare(PrepareArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    Udp,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExchangeKind {
    /// PKINIT AS exchanges.
    As,
    /// TGS exchanges with TGTs got once per user before the measured phase.
    Tgs,
    /// An AS phase, then a TGS phase of the same size.
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TrustKind {
    /// Self-signed certificates whose keys are registered for the users (key trust).
    Key,
    /// Certificates issued by the realm's CA (ca.pem, ca.key) naming the user in
    /// id-pkinit-san and the Microsoft UPN (certificate trust).
    Certificate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClientProfile {
    /// As MIT kinit asks: RFC 8636 KDFs, SHA-256 signatures, no clientDHNonce.
    Rfc,
    /// As clients that follow Windows ask: clientDHNonce (so the KDC may reuse its DH key),
    /// DH INTEGERs without their sign byte, an empty supportedCMSTypes, SHA-1 signatures
    /// both ways, octetstring2key; replies checked the way those clients check them.
    Windows,
}

/// The key agreement the client offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DhChoice {
    Modp1024,
    Modp2048,
    Modp4096,
    P256,
    P384,
    P521,
}

impl DhChoice {
    pub fn group(self) -> DhGroup {
        match self {
            DhChoice::Modp1024 => DhGroup::Modp(ModpGroup::Modp2),
            DhChoice::Modp2048 => DhGroup::Modp(ModpGroup::Modp14),
            DhChoice::Modp4096 => DhGroup::Modp(ModpGroup::Modp16),
            DhChoice::P256 => DhGroup::Ec(EcCurve::P256),
            DhChoice::P384 => DhGroup::Ec(EcCurve::P384),
            DhChoice::P521 => DhGroup::Ec(EcCurve::P521),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// A development realm folder: kdc.toml gives the realm, KDC address and certificate;
    /// users come from load-users/users.txt there if it exists, else alice.
    #[arg(long)]
    pub realm_dir: Option<PathBuf>,
    /// Users to log in as: lines `user cert.pem key.pem` (paths relative to the file).
    #[arg(long)]
    pub users_file: Option<PathBuf>,
    /// The KDC's address (default: the realm folder's first TCP or UDP listener). Give it
    /// several times (or `--target`) for replicas of one realm: requests are spread over them
    /// as `--spread` says, like a load balancer, and reported per KDC and in total. The
    /// set-up exchanges (freshness token, TGTs for the TGS phase) go to the first that
    /// answers.
    #[arg(long, visible_alias = "target")]
    pub kdc: Vec<SocketAddr>,
    /// How requests are spread over several `--kdc`: each in turn, or a random one per
    /// request. Either way a KDC that failed 3 times in a row (refused, reset, timeout) is
    /// left out for 1 s, then gets one request at a time until it answers again, and a
    /// request it did not answer is sent once more to another KDC.
    #[arg(long, value_enum, default_value_t = Spread::RoundRobin)]
    pub spread: Spread,
    /// The realm (default: from the realm folder).
    #[arg(long)]
    pub realm: Option<String>,
    /// The KDC certificate (PEM) its replies must be signed with (default: the realm
    /// folder's `[pkinit] certificate`).
    #[arg(long)]
    pub kdc_cert: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = TransportKind::Tcp)]
    pub transport: TransportKind,
    #[arg(long, value_enum, default_value_t = ExchangeKind::As)]
    pub exchange: ExchangeKind,
    /// The service TGS-REQs ask for (default krbtgt/REALM).
    #[arg(long)]
    pub tgs_service: Option<String>,
    /// Clients with one request in flight each.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
    /// Requests per second, spread evenly; absent = as fast as the clients go. Latency of a
    /// request sent late, because its client still waited for a reply, is then counted from
    /// its scheduled time, so a KDC that falls behind shows it; one sent on time counts from
    /// its sending (the timer's own lateness is the generator's, not the KDC's).
    #[arg(long, value_parser = positive_f64)]
    pub rate: Option<f64>,
    /// Requests per phase (default 1000 unless --duration is given).
    #[arg(long, conflicts_with = "duration", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Seconds per phase.
    #[arg(long, value_parser = positive_f64)]
    pub duration: Option<f64>,
    /// The fraction of replies fully checked (decrypted with the agreed key, KDC signature
    /// verified); the others are only classified by their message type.
    #[arg(long, default_value_t = 1.0, value_parser = fraction)]
    pub verify_sample: f64,
    /// Per-exchange timeout in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: u64,
    /// Prepared AS-REQs held ahead (default: the whole count, else 4000). Beyond it,
    /// background threads sign new ones during the run.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub pool: Option<u64>,
    /// Threads signing requests (default: the number of CPUs).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub prep_threads: Option<u32>,
    /// Ask the KDC for an RFC 8070 freshness token once at the start, as kinit does, and sign
    /// it into every request (needed against a KDC that requires tokens; a token lives about
    /// ten minutes on this KDC, so keep such runs shorter).
    #[arg(long)]
    pub freshness: bool,
    /// How the client talks.
    #[arg(long, value_enum, default_value_t = ClientProfile::Rfc)]
    pub client_profile: ClientProfile,
    /// The key agreement offered: a MODP group (RFC 4556) or an ECDH curve (RFC 5349).
    #[arg(long, value_enum, default_value_t = DhChoice::Modp2048)]
    pub dh: DhChoice,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    RoundRobin,
    Random,
}

#[derive(Args, Debug, Clone)]
pub struct PrepareArgs {
    /// The development realm folder (its kdc.toml names the directory to add users to).
    #[arg(long)]
    pub realm_dir: PathBuf,
    /// How many users: load00001, load00002, ...
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub users: u32,
    #[arg(long, value_enum, default_value_t = TrustKind::Key)]
    pub trust: TrustKind,
    /// Where the certificates, keys and users.txt go (default REALM_DIR/load-users).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// How long a phase lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Amount {
    Count(u64),
    Duration(Duration),
}

impl RunArgs {
    pub fn amount(&self) -> Amount {
        match (self.count, self.duration) {
            (Some(count), _) => Amount::Count(count),
            (None, Some(secs)) => Amount::Duration(Duration::from_secs_f64(secs)),
            (None, None) => Amount::Count(1000),
        }
    }

    /// AS-REQs to sign before the phase starts.
    pub fn pool_size(&self) -> u64 {
        match (self.pool, self.amount()) {
            (Some(pool), Amount::Count(count)) => pool.min(count),
            (Some(pool), Amount::Duration(_)) => pool,
            (None, Amount::Count(count)) => count,
            (None, Amount::Duration(_)) => 4000,
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

fn positive_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a fraction from 0 to 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<RunArgs, clap::Error> {
        let argv = ["kdc-load", "run"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Run(run) => Ok(*run),
            Command::Prepare(_) => panic!("parsed as prepare"),
        }
    }

    #[test]
    fn defaults() {
        let args = run(&["--realm-dir", "/r"]).unwrap();
        assert_eq!(args.transport, TransportKind::Tcp);
        assert_eq!(args.exchange, ExchangeKind::As);
        assert_eq!(args.concurrency, 8);
        assert_eq!(args.amount(), Amount::Count(1000));
        assert_eq!(args.pool_size(), 1000);
        assert_eq!(args.verify_sample, 1.0);
        assert_eq!(args.timeout(), Duration::from_secs(5));
        assert_eq!(args.rate, None);
    }

    #[test]
    fn every_option() {
        let args = run(&[
            "--kdc",
            "127.0.0.1:88",
            "--realm",
            "EXAMPLE.TEST",
            "--users-file",
            "u.txt",
            "--kdc-cert",
            "kdc.pem",
            "--transport",
            "udp",
            "--exchange",
            "both",
            "--concurrency",
            "32",
            "--rate",
            "250.5",
            "--duration",
            "2.5",
            "--verify-sample",
            "0.1",
            "--pool",
            "300",
            "--json",
            "out.json",
        ])
        .unwrap();
        assert_eq!(args.kdc, [SocketAddr::from(([127, 0, 0, 1], 88))]);
        assert_eq!(args.spread, Spread::RoundRobin);
        assert_eq!(args.transport, TransportKind::Udp);
        assert_eq!(args.exchange, ExchangeKind::Both);
        assert_eq!(args.concurrency, 32);
        assert_eq!(args.rate, Some(250.5));
        assert_eq!(args.amount(), Amount::Duration(Duration::from_millis(2500)));
        assert_eq!(args.pool_size(), 300);
        assert_eq!(args.verify_sample, 0.1);
        assert_eq!(args.json, Some(PathBuf::from("out.json")));
    }

    #[test]
    fn several_kdcs_by_either_name() {
        let args = run(&[
            "--kdc",
            "127.0.0.2:88",
            "--target",
            "127.0.0.3:750",
            "--spread",
            "random",
        ])
        .unwrap();
        assert_eq!(
            args.kdc,
            [
                SocketAddr::from(([127, 0, 0, 2], 88)),
                SocketAddr::from(([127, 0, 0, 3], 750))
            ]
        );
        assert_eq!(args.spread, Spread::Random);
        assert!(run(&["--spread", "least-busy"]).is_err());
    }

    #[test]
    fn pool_never_exceeds_the_count() {
        let args = run(&["--count", "50", "--pool", "400"]).unwrap();
        assert_eq!(args.pool_size(), 50);
        let args = run(&["--duration", "10"]).unwrap();
        assert_eq!(args.pool_size(), 4000);
    }

    #[test]
    fn refuses_bad_values() {
        for bad in [
            &["--verify-sample", "1.5"][..],
            &["--verify-sample", "-0.1"],
            &["--rate", "0"],
            &["--rate", "NaN"],
            &["--concurrency", "0"],
            &["--count", "0"],
            &["--count", "5", "--duration", "5"],
            &["--transport", "sctp"],
            &["--kdc", "localhost"],
        ] {
            assert!(run(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn prepare() {
        let cli = Cli::try_parse_from([
            "kdc-load",
            "prepare",
            "--realm-dir",
            "/r",
            "--users",
            "20",
            "--trust",
            "certificate",
        ])
        .unwrap();
        let Command::Prepare(args) = cli.command else {
            panic!("not prepare");
        };
        assert_eq!((args.users, args.trust), (20, TrustKind::Certificate));
        assert!(Cli::try_parse_from(["kdc-load", "prepare", "--users", "2"]).is_err());
    }
}
