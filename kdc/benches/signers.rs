//! Signatures per second of the three KDC signers (software, TPM direct, TPM delegated) on
//! the RFC 5652 signed-attributes-sized message a PA-PK-AS-REP signs. The TPM cases start
//! their own swtpm (Debian swtpm) and are skipped, with a note, where it is not installed
//! or the `tpm` feature is off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kdc::signer::KdcSigner;
use kdc::signer::software::SoftwareSigner;

/// About the size of the signed attributes of a KDCDHKeyInfo SignedData.
const MESSAGE: [u8; 96] = [0x31; 96];

fn software_signer() -> SoftwareSigner {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["kdc.example.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    SoftwareSigner::from_der(&key.serialize_der(), vec![cert.der().to_vec()]).unwrap()
}

fn bench(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, signer: &dyn KdcSigner) {
    let mut group = c.benchmark_group("kdc-signer");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.bench_function(name, |b| {
        b.iter(|| {
            rt.block_on(signer.sign(black_box(&MESSAGE), kdc::signer::DigestAlgorithm::Sha256))
                .unwrap()
        })
    });
    group.finish();
}

fn signers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    bench(c, &rt, "software rsa2048", &software_signer());
    tpm::benches(c, &rt);
}

#[cfg(not(feature = "tpm"))]
mod tpm {
    pub fn benches(_: &mut criterion::Criterion, _: &tokio::runtime::Runtime) {
        println!("note: built without the `tpm` feature: TPM direct and delegated skipped");
    }
}

#[cfg(feature = "tpm")]
mod tpm {
    use std::net::TcpStream;
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use kdc::signer::SignatureScheme;
    use kdc::signer::delegated::{DelegatedSigner, Policy};
    use kdc::signer::tpm::provision::{KeyRole, Provisioning, provision};
    use kdc::signer::tpm::{TpmOptions, TpmSigner};
    use kdc::signer::x509::{self, TbsFields, extensions};
    use zeroize::Zeroizing;

    use super::*;

    /// The process, and its state directory kept until it is killed.
    struct Swtpm(Child, #[allow(dead_code)] tempfile::TempDir);

    impl Drop for Swtpm {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn start_swtpm() -> Option<(Swtpm, String)> {
        let dir = tempfile::tempdir().unwrap();
        let port = 20_000 + (std::process::id() % 5000) as u16 * 2;
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--server"])
            .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.path().display()))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let tpm = Swtpm(child, dir);
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some((tpm, format!("swtpm:host=127.0.0.1,port={port}")));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn options(tcti: &str, handle: u32) -> TpmOptions {
        TpmOptions {
            tcti: tcti.to_owned(),
            handle,
            auth: Zeroizing::new(Vec::new()),
            queue_depth: 64,
        }
    }

    /// A persisted TPM key and a self-signed certificate for it, made by the key itself.
    async fn tpm_key(tcti: &str, handle: u32, role: KeyRole) -> TpmSigner {
        let out = tempfile::tempdir().unwrap();
        provision(&Provisioning {
            tcti: tcti.to_owned(),
            handle,
            scheme: SignatureScheme::RsaPkcs1Sha256,
            role,
            realm: "EXAMPLE.TEST".into(),
            dns_name: "kdc.example.test".into(),
            auth: Zeroizing::new(Vec::new()),
            force: true,
            out: out.path().to_owned(),
        })
        .await
        .unwrap();
        let spki = pem::parse(std::fs::read(out.path().join("tpm-key.pub.pem")).unwrap())
            .unwrap()
            .into_contents();
        let uncertified =
            TpmSigner::start_uncertified(options(tcti, handle), SignatureScheme::RsaPkcs1Sha256)
                .unwrap();
        let name = x509::name("EXAMPLE.TEST", "TPM KDC key");
        let now = SystemTime::now();
        let cert = x509::issue(
            TbsFields {
                serial: x509::random_serial().unwrap(),
                issuer: &name,
                not_before: now - Duration::from_secs(3600),
                not_after: now + Duration::from_secs(86_400),
                subject: &name,
                spki: &spki,
                extensions: match role {
                    KeyRole::Direct => extensions::kdc("EXAMPLE.TEST", "kdc.example.test").unwrap(),
                    KeyRole::Delegated => extensions::delegating_ca(),
                },
            },
            &uncertified,
        )
        .await
        .unwrap();
        TpmSigner::start(options(tcti, handle), vec![cert]).unwrap()
    }

    pub fn benches(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
        let Some((_swtpm, tcti)) = start_swtpm() else {
            println!(
                "note: swtpm is not installed (Debian: swtpm): TPM direct and delegated skipped"
            );
            return;
        };
        let direct = rt.block_on(tpm_key(&tcti, 0x8101_0001, KeyRole::Direct));
        bench(c, rt, "tpm direct rsa2048 (swtpm)", &direct);
        let stats = direct.stats();
        println!(
            "tpm direct: {} TPM2_Sign, mean latency {:?}",
            stats.signatures.load(std::sync::atomic::Ordering::Relaxed),
            stats.mean_sign_latency()
        );
        let ca = rt.block_on(tpm_key(&tcti, 0x8101_0002, KeyRole::Delegated));
        let chain = ca.chain();
        let delegated = rt
            .block_on(async {
                DelegatedSigner::start(
                    Arc::new(ca),
                    chain,
                    Policy {
                        realm: "EXAMPLE.TEST".into(),
                        dns_name: "kdc.example.test".into(),
                        period: Duration::from_secs(600),
                        clock_skew: Duration::from_secs(300),
                        key_scheme: SignatureScheme::RsaPkcs1Sha256,
                    },
                )
                .await
            })
            .unwrap();
        bench(c, rt, "tpm delegated rsa2048", &delegated);
    }
}

criterion_group!(benches, signers);
criterion_main!(benches);
