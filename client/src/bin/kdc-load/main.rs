//! `kdc-load`: a load generator for Kerberos KDCs doing PKINIT (RFC 4556) AS exchanges and
//! TGS exchanges (RFC 4120 §3.3) over UDP or TCP, with requests signed ahead of time so the
//! generator's own crypto is not what gets measured. Works against this KDC and MIT krb5kdc.
//! `kdc-load run` reports throughput, latency and errors; `kdc-load prepare` makes load-test
//! users.
#![forbid(unsafe_code)]

mod balance;
mod options;
mod pool;
mod prepare;
mod progress;
mod report;
mod runner;
mod stats;
mod target;
mod transport;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;
use kdc::proto::kerberos::{NT_PRINCIPAL, NT_SRV_INST, principal};
use kdc_client::{ClientOptions, build_request, read_reply};

use self::options::{Amount, Cli, ClientProfile, Command, ExchangeKind, RunArgs, TransportKind};
use self::pool::{Pool, Recipe, Tgt};
use self::report::{PhaseReport, RunInfo};
use self::runner::Phase;
use self::stats::Recorder;
use self::target::Target;

/// At most this many users get a TGT for the TGS phase (each costs one AS exchange).
const MAX_TGTS: usize = 64;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kdc-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run(&args).await.map(drop),
            Command::Prepare(args) => prepare::prepare(&args)
                .await
                .map(|file| println!("{}", file.display())),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kdc-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every phase the arguments ask for; prints the table on stdout and writes the JSON.
async fn run(args: &RunArgs) -> Result<Vec<PhaseReport>> {
    let target = Arc::new(target::resolve(args)?);
    let mut options: Vec<ClientOptions> = target
        .users
        .iter()
        .map(|user| ClientOptions {
            same_nonce: true,
            group: args.dh.group(),
            ..match args.client_profile {
                ClientProfile::Rfc => ClientOptions::new(&target.realm, &user.name),
                ClientProfile::Windows => ClientOptions::windows(&target.realm, &user.name),
            }
        })
        .collect();
    if args.freshness {
        let token = freshness_token(args, &target, options.first()).await?;
        for user in &mut options {
            user.freshness_token = Some(token.clone());
        }
    }
    let options = Arc::new(options);
    let info = RunInfo {
        kdc: target
            .kdcs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        realm: target.realm.clone(),
        transport: match args.transport {
            TransportKind::Udp => "udp",
            TransportKind::Tcp => "tcp",
        },
        concurrency: args.concurrency,
        rate: args.rate,
        verify_sample: args.verify_sample,
        users: target.users.len(),
    };
    let mut reports = Vec::new();
    if matches!(args.exchange, ExchangeKind::As | ExchangeKind::Both) {
        let recipe = Recipe::As {
            target: target.clone(),
            options: options.clone(),
        };
        let phase = phase(args, &target, &options, Arc::new(Vec::new()), recipe).await?;
        reports.push(measure("as", args, phase).await);
    }
    if matches!(args.exchange, ExchangeKind::Tgs | ExchangeKind::Both) {
        let tgts = Arc::new(get_tgts(args, &target, &options).await?);
        let service = match &args.tgs_service {
            Some(name) => {
                let name = name.split('@').next().unwrap_or(name);
                principal(NT_SRV_INST, &name.split('/').collect::<Vec<_>>())
            }
            None => principal(NT_SRV_INST, &["krbtgt", &target.realm]),
        };
        let recipe = Recipe::Tgs {
            realm: target.realm.clone(),
            tgts: tgts.clone(),
            service,
        };
        let phase = phase(args, &target, &options, tgts, recipe).await?;
        reports.push(measure("tgs", args, phase).await);
    }
    print!("{}", report::table(&info, &reports));
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(&info, &reports))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(reports)
}

/// Starts the signing threads and waits until the pool holds its initial fill.
async fn phase(
    args: &RunArgs,
    target: &Arc<Target>,
    options: &Arc<Vec<ClientOptions>>,
    tgts: Arc<Vec<Tgt>>,
    recipe: Recipe,
) -> Result<Phase> {
    let total = match args.amount() {
        Amount::Count(count) => Some(count),
        Amount::Duration(_) => None,
    };
    let fill = args.pool_size();
    let threads = args.prep_threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok())
            .unwrap_or(1)
    });
    if !args.quiet {
        eprintln!("kdc-load: preparing {fill} requests with {threads} threads");
    }
    let started = std::time::Instant::now();
    let pool = Pool::start(Arc::new(recipe), fill, total, threads);
    pool.wait_filled(fill).await?;
    if !args.quiet {
        eprintln!(
            "kdc-load: {} requests ready in {:.1} s",
            pool.prepared(),
            started.elapsed().as_secs_f64()
        );
    }
    let balancer = Arc::new(balance::Balancer::new(target.kdcs.clone(), args.spread)?);
    let by_kdc = target
        .kdcs
        .iter()
        .map(|_| Arc::new(Recorder::default()))
        .collect();
    Ok(Phase {
        target: target.clone(),
        balancer,
        by_kdc,
        options: options.clone(),
        tgts,
        pool,
        recorder: Arc::new(Recorder::default()),
        transport: args.transport,
        amount: args.amount(),
        rate: args.rate,
        concurrency: args.concurrency,
        verify_sample: args.verify_sample,
        timeout: args.timeout(),
    })
}

async fn measure(label: &'static str, args: &RunArgs, phase: Phase) -> PhaseReport {
    let phase = Arc::new(phase);
    let progress = (!args.quiet).then(|| progress::Progress::start(label, phase.recorder.clone()));
    let elapsed = runner::run(phase.clone()).await;
    if let Some(progress) = progress {
        progress.stop();
    }
    let tally = phase.recorder.finish();
    let by_kdc = match phase.by_kdc.len() {
        0 | 1 => Vec::new(),
        _ => phase
            .balancer
            .kdcs()
            .iter()
            .zip(&phase.by_kdc)
            .map(|(kdc, recorder)| (kdc.to_string(), recorder.finish()))
            .collect(),
    };
    if let Ok(phase) = Arc::try_unwrap(phase) {
        phase.pool.stop().await;
    }
    PhaseReport::new(label, tally, elapsed).with_kdcs(by_kdc)
}

/// One AS-REQ without pre-authentication asking for a freshness token (RFC 8070 §2.1); the
/// token from the PREAUTH_REQUIRED answer, which is not single-use, serves every request.
async fn freshness_token(
    args: &RunArgs,
    target: &Target,
    first_user: Option<&ClientOptions>,
) -> Result<Vec<u8>> {
    let Some(options) = first_user else {
        bail!("no users to ask a freshness token for");
    };
    let request = kdc_client::build_freshness_request(options)?;
    let reply = SetupKdcs::new(&target.kdcs)
        .exchange(args, &request)
        .await
        .context("asking for a freshness token")?;
    kdc_client::freshness_token_of(&reply)
        .context("the KDC's answer carries no freshness token (RFC 8070 PA_AS_FRESHNESS)")
}

/// One AS exchange per user (up to [`MAX_TGTS`]), not measured, for the TGS phase.
async fn get_tgts(args: &RunArgs, target: &Target, options: &[ClientOptions]) -> Result<Vec<Tgt>> {
    let mut tgts = Vec::new();
    let mut last_error = None;
    let mut kdcs = SetupKdcs::new(&target.kdcs);
    for (user, opts) in target.users.iter().zip(options).take(MAX_TGTS) {
        let request = build_request(opts, user.signer.as_ref()).await?;
        let reply = match kdcs.exchange(args, &request.message).await {
            Ok(reply) => reply,
            Err(e) => {
                last_error = Some(format!("{e:#}"));
                continue;
            }
        };
        match read_reply(opts, &request, &reply, &target.kdc_certificate) {
            Ok(reply) => tgts.push(Tgt {
                client: principal(NT_PRINCIPAL, &[user.name.as_str()]),
                ticket: reply.ticket,
                session_key: reply.session_key,
            }),
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    if tgts.is_empty() {
        bail!(
            "no user got a TGT for the TGS phase: {}",
            last_error.unwrap_or_default()
        );
    }
    Ok(tgts)
}

/// Where the set-up exchanges (not measured) go: to the KDC that answered the last one, else
/// to the next KDC that answers, so a `--kdc` that is down costs one failed attempt, not the
/// run.
struct SetupKdcs<'a> {
    kdcs: &'a [SocketAddr],
    answering: usize,
}

impl<'a> SetupKdcs<'a> {
    fn new(kdcs: &'a [SocketAddr]) -> SetupKdcs<'a> {
        SetupKdcs { kdcs, answering: 0 }
    }

    async fn exchange(&mut self, args: &RunArgs, message: &[u8]) -> Result<Vec<u8>> {
        let mut failures = Vec::new();
        for offset in 0..self.kdcs.len() {
            let index = (self.answering + offset) % self.kdcs.len();
            let Some(&kdc) = self.kdcs.get(index) else {
                continue;
            };
            let reply = tokio::time::timeout(
                args.timeout(),
                transport::exchange(args.transport, kdc, message),
            )
            .await;
            match reply {
                Ok(Ok(reply)) => {
                    self.answering = index;
                    return Ok(reply);
                }
                Ok(Err(e)) => failures.push(format!("{kdc}: {e}")),
                Err(_) => failures.push(format!("{kdc}: timeout")),
            }
        }
        bail!("no KDC answered ({})", failures.join("; "))
    }
}
