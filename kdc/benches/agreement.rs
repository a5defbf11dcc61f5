//! Cost of the KDC side of PKINIT finite-field DH (RFC 4556 §3.2.3.1) per operation:
//! key pair generation, the client public value check, and the shared secret ZZ, in MODP
//! groups 14 and 16 (RFC 3526).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kdc::preauth::pkinit::agreement::{ModpGroup, agree, generate, validate_public};

fn bench_group(c: &mut Criterion, name: &str, group: ModpGroup) {
    // The client's public value, as a PA-PK-AS-REQ would carry it.
    let (_, client_public) = generate(group).unwrap();
    let (kdc_private, _) = generate(group).unwrap();

    let mut benches = c.benchmark_group(format!("dh-{name}"));
    benches.bench_function("generate", |b| {
        b.iter(|| generate(black_box(group)).unwrap())
    });
    benches.bench_function("validate_public", |b| {
        b.iter(|| validate_public(black_box(group), black_box(&client_public)).unwrap())
    });
    benches.bench_function("agree", |b| {
        b.iter(|| agree(black_box(&kdc_private), black_box(&client_public)).unwrap())
    });
    benches.finish();
}

fn agreement(c: &mut Criterion) {
    bench_group(c, "modp14", ModpGroup::Modp14);
    bench_group(c, "modp16", ModpGroup::Modp16);
}

criterion_group!(benches, agreement);
criterion_main!(benches);
