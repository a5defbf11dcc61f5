//! `kdc-load`: drive a KDC with prepared PKINIT AS-REQs (RFC 4556) and TGS-REQs (RFC 4120)
//! and report throughput, latency and errors; `kdc-load prepare` makes load-test users.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use kdc::load::options::{Cli, Command};

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
            Command::Run(args) => kdc::load::run(&args).await.map(drop),
            Command::Prepare(args) => kdc::load::prepare::prepare(&args)
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
