//! `kdc tpm ...` (feature `tpm`): provisioning the TPM-held KDC key (TPM 2.0 Part 3
//! TPM2_CreatePrimary, TPM2_EvictControl) and its PKCS#10 request (RFC 2986) for the CA.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use kdc::signer::SignatureScheme;
use kdc::signer::tpm::provision::{self, KeyRole, Provisioning};
use zeroize::Zeroizing;

#[derive(Subcommand)]
pub enum TpmCommand {
    /// Create the KDC key in the TPM, persist it, and write its public key, a CSR signed by
    /// it and an openssl extfile to DIR.
    Provision {
        /// TSS2 TCTI: device:/dev/tpmrm0, tabrmd, swtpm:host=127.0.0.1,port=2321.
        #[arg(long, default_value = "device:/dev/tpmrm0")]
        tcti: String,
        /// Persistent handle for the key (0x81000000-0x81FFFFFF).
        #[arg(long, default_value = "0x81010001", value_parser = parse_handle)]
        handle: u32,
        #[arg(long, value_enum, default_value_t = Algorithm::Rsa2048)]
        alg: Algorithm,
        /// direct: the key's certificate is the KDC certificate; delegated: a pathLen-0 CA.
        #[arg(long, value_enum, default_value_t = Mode::Delegated)]
        mode: Mode,
        #[arg(long)]
        realm: String,
        /// The KDC's DNS name. Default: kdc.<realm in lower case>.
        #[arg(long)]
        dns_name: Option<String>,
        /// The key's auth value; a missing file is created with a random one.
        #[arg(long)]
        auth_file: Option<PathBuf>,
        /// Replace a key already persisted at the handle.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Algorithm {
    Rsa2048,
    P256,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    Direct,
    Delegated,
}

fn parse_handle(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    match parsed {
        Ok(handle) if (0x8100_0000..=0x81FF_FFFF).contains(&handle) => Ok(handle),
        Ok(_) => Err("not a persistent handle (0x81000000-0x81FFFFFF)".into()),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn run(command: TpmCommand) -> Result<()> {
    match command {
        TpmCommand::Provision {
            tcti,
            handle,
            alg,
            mode,
            realm,
            dns_name,
            auth_file,
            force,
            out,
        } => {
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let auth = match &auth_file {
                Some(path) if path.exists() => kdc::signer::tpm::TpmOptions::read_auth(path)?,
                Some(path) => {
                    let mut secret = [0u8; 24];
                    aws_lc_rs::rand::fill(&mut secret)
                        .map_err(|_| anyhow::anyhow!("random generator failed"))?;
                    let auth = Zeroizing::new(hex::encode(secret).into_bytes());
                    kdc::secret_file::write(path, &auth)
                        .with_context(|| format!("writing {}", path.display()))?;
                    auth
                }
                None => Zeroizing::new(Vec::new()),
            };
            let request = Provisioning {
                dns_name: dns_name.unwrap_or_else(|| format!("kdc.{}", realm.to_lowercase())),
                tcti,
                handle,
                scheme: match alg {
                    Algorithm::Rsa2048 => SignatureScheme::RsaPkcs1Sha256,
                    Algorithm::P256 => SignatureScheme::EcdsaP256Sha256,
                },
                role: match mode {
                    Mode::Direct => KeyRole::Direct,
                    Mode::Delegated => KeyRole::Delegated,
                },
                realm,
                auth,
                force,
                out,
            };
            let made = provision::provision(&request).await?;
            println!(
                "TPM key persisted at {handle:#010x}\npublic key: {}\nrequest:    {}\nextfile:    {}",
                made.public_key.display(),
                made.csr.display(),
                made.extfile.display()
            );
            println!(
                "have the CA issue it, e.g.:\n  openssl x509 -req -in {} -CA ca.pem -CAkey ca.key \
                 -CAcreateserial -days 365 -sha256 -extfile {} -extensions {} -out tpm-key.pem",
                made.csr.display(),
                made.extfile.display(),
                made.extensions_section
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_parse_in_hex_or_decimal_within_the_persistent_range() {
        assert_eq!(parse_handle("0x81010001"), Ok(0x8101_0001));
        assert_eq!(parse_handle("2164326401"), Ok(0x8101_0001));
        assert!(parse_handle("0x01010001").is_err());
        assert!(parse_handle("0x8101000g").is_err());
    }
}
