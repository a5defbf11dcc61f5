//! The `kdc` command: run the KDC, make a development realm, manage users and their keys.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kdc::admin::{services, users};
use kdc::{daemon, dev_realm};

#[cfg(feature = "tpm")]
mod tpm_cli;

#[derive(Parser)]
#[command(name = "kdc", version, about = "A Kerberos KDC for PKINIT key trust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the KDC.
    Serve {
        /// The configuration file.
        #[arg(long, conflicts_with = "dev")]
        config: Option<PathBuf>,
        /// Serve the development realm in this folder, making it first if it is not there.
        #[arg(long)]
        dev: Option<PathBuf>,
    },
    /// Check a configuration and everything it names, as a start would, without serving.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// Make a complete development realm in DIR.
    DevRealm {
        dir: PathBuf,
        #[arg(long, default_value = "EXAMPLE.TEST")]
        realm: String,
        #[arg(long, default_value_t = 8888)]
        port: u16,
        /// The shape of the KDC certificate.
        #[arg(long, value_enum, default_value_t = dev_realm::KdcCert::KrbtgtSan)]
        kdc_cert: dev_realm::KdcCert,
    },
    /// Manage users in the directory.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage users' registered keys (msDS-KeyCredentialLink).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage service principals and their keys.
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Export keytabs for services.
    Keytab {
        #[command(subcommand)]
        command: KeytabCommand,
    },
    /// Manage the krbtgt key.
    Krbtgt {
        #[command(subcommand)]
        command: KrbtgtCommand,
    },
    /// Manage the TPM-held KDC signing key (built with the `tpm` feature).
    #[cfg(feature = "tpm")]
    Tpm {
        #[command(subcommand)]
        command: tpm_cli::TpmCommand,
    },
}

#[derive(Subcommand)]
enum ServiceCommand {
    /// Add a service principal with random keys of the realm's enctypes.
    Add {
        #[arg(long)]
        config: PathBuf,
        /// e.g. host/web.example@EXAMPLE.TEST
        principal: String,
    },
    List {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeytabCommand {
    /// Write every key version of a principal to a new keytab file (mode 0600).
    Export {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        principal: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum KrbtgtCommand {
    /// Add a new krbtgt key version; tickets under older versions stay valid.
    Rotate {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    Add {
        #[arg(long)]
        config: PathBuf,
        upn: String,
        #[arg(long)]
        sam: Option<String>,
        #[arg(long)]
        dn: Option<String>,
    },
    Disable {
        #[arg(long)]
        config: PathBuf,
        upn: String,
    },
    Enable {
        #[arg(long)]
        config: PathBuf,
        upn: String,
    },
    List {
        #[arg(long)]
        config: PathBuf,
    },
    /// What the PAC of a TGT issued to the user now would carry: SIDs, groups with their
    /// names, the asserted-identity SIDs each kind of logon adds.
    Show {
        #[arg(long)]
        config: PathBuf,
        upn: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Register a public key for a user (key trust), from a certificate or a public key.
    Add {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        user: String,
        #[arg(
            long,
            conflicts_with = "public_key",
            required_unless_present = "public_key"
        )]
        cert: Option<PathBuf>,
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    List {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        user: Option<String>,
    },
    Remove {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        user: String,
        /// The KeyID, base64 (as `kdc key list` prints it) or hex.
        #[arg(long)]
        key_id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("kdc: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kdc: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        #[cfg(feature = "tpm")]
        Command::Tpm { command } => tpm_cli::run(command).await,
        Command::Serve { config, dev } => {
            let config = match (config, dev) {
                (Some(config), _) => config,
                (None, Some(dir)) => {
                    let config = dir.join("kdc.toml");
                    if !config.exists() {
                        let realm = dev_realm::create(&dir, "EXAMPLE.TEST", 8888).await?;
                        println!(
                            "made a development realm in {}; in another shell:\n  {}",
                            realm.dir.display(),
                            realm.kinit_command()
                        );
                        if let Some(url) = realm.metrics_url() {
                            println!("metrics at {url}");
                        }
                    }
                    config
                }
                (None, None) => {
                    anyhow::bail!("give --config FILE, or --dev DIR for a development realm")
                }
            };
            let log = kdc_config::Config::load(&config)?.log;
            daemon::init_logging(&log);
            daemon::serve(&config).await
        }
        Command::CheckConfig { config } => kdc::check_config::run(&config).await,
        Command::DevRealm {
            dir,
            realm,
            port,
            kdc_cert,
        } => {
            let made = dev_realm::create_with(&dir, &realm, port, kdc_cert).await?;
            println!("development realm {} in {}", made.realm, made.dir.display());
            if made.kdc_cert == dev_realm::KdcCert::Dc {
                println!(
                    "KDC certificate: domain controller form (dNSName {}, no krbtgt SAN); MIT \
                     clients need `pkinit_kdc_hostname = {}`, as in krb5.conf there",
                    made.kdc_host, made.kdc_host
                );
            }
            println!(
                "start it:   kdc serve --config {}",
                made.config_path().display()
            );
            println!("get a TGT:  {}", made.kinit_command());
            println!(
                "certificate trust (bob, CA-issued): {}",
                made.kinit_command_for("bob")
            );
            if let Some(url) = made.metrics_url() {
                println!("metrics:    {url} (and /healthz)");
            }
            Ok(())
        }
        Command::User { command } => match command {
            UserCommand::Add {
                config,
                upn,
                sam,
                dn,
            } => users::user_add(&config, &upn, sam, dn).await,
            UserCommand::Disable { config, upn } => {
                users::user_set_disabled(&config, &upn, true).await
            }
            UserCommand::Enable { config, upn } => {
                users::user_set_disabled(&config, &upn, false).await
            }
            UserCommand::List { config } => users::user_list(&config).await,
            UserCommand::Show { config, upn } => {
                kdc::admin::pac_preview::user_show(&config, &upn).await
            }
        },
        Command::Key { command } => match command {
            KeyCommand::Add {
                config,
                user,
                cert,
                public_key,
            } => {
                let file = cert
                    .or(public_key)
                    .ok_or_else(|| anyhow::anyhow!("give --cert or --public-key"))?;
                users::key_add(&config, &user, &file).await
            }
            KeyCommand::List { config, user } => users::key_list(&config, user.as_deref()).await,
            KeyCommand::Remove {
                config,
                user,
                key_id,
            } => users::key_remove(&config, &user, &key_id).await,
        },
        Command::Service { command } => match command {
            ServiceCommand::Add { config, principal } => {
                services::service_add(&config, &principal).await
            }
            ServiceCommand::List { config } => services::service_list(&config).await,
        },
        Command::Keytab {
            command:
                KeytabCommand::Export {
                    config,
                    principal,
                    out,
                },
        } => services::keytab_export(&config, &principal, &out).await,
        Command::Krbtgt {
            command: KrbtgtCommand::Rotate { config },
        } => services::krbtgt_rotate(&config).await,
    }
}
