//! The end-of-run report: per phase, throughput, latency percentiles, KRB-ERROR codes
//! (RFC 4120 §7.5.9, RFC 4556 §3.1.3) and other failures, as a table and as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::stats::{Percentiles, Tally, percentiles};
use kdc::proto::codes::ErrorCode;

/// The run's setup, printed above the phases.
pub struct RunInfo {
    pub kdc: String,
    pub realm: String,
    pub transport: &'static str,
    pub concurrency: u32,
    pub rate: Option<f64>,
    pub verify_sample: f64,
    pub users: usize,
}

pub struct PhaseReport {
    /// `as` or `tgs`.
    pub exchange: &'static str,
    pub tally: Tally,
    pub elapsed: Duration,
    pub latency_us: Option<Percentiles>,
    /// With several KDCs: every attempt by the KDC it went to (a request retried on another
    /// KDC counts at both; the totals above count it once, by how it ended).
    pub by_kdc: Vec<(String, Tally)>,
}

impl PhaseReport {
    pub fn new(exchange: &'static str, tally: Tally, elapsed: Duration) -> PhaseReport {
        let latency_us = percentiles(&tally.latencies_us);
        PhaseReport {
            exchange,
            tally,
            elapsed,
            latency_us,
            by_kdc: Vec::new(),
        }
    }

    pub fn with_kdcs(self, by_kdc: Vec<(String, Tally)>) -> PhaseReport {
        PhaseReport { by_kdc, ..self }
    }

    /// Exchanges that ended (any outcome) per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        match secs > 0.0 {
            true => self.tally.total() as f64 / secs,
            false => 0.0,
        }
    }
}

/// The RFC name of a KRB-ERROR code a load run meets, from the one table in `proto::codes`;
/// empty for a code not declared there.
pub fn error_name(code: i32) -> &'static str {
    ErrorCode(code).rfc_name().unwrap_or("")
}

fn ms(us: u32) -> f64 {
    f64::from(us) / 1000.0
}

pub fn table(info: &RunInfo, phases: &[PhaseReport]) -> String {
    let mut out = String::new();
    let rate = match info.rate {
        Some(rate) => format!("{rate}/s"),
        None => "as fast as possible".into(),
    };
    let _ = writeln!(
        out,
        "kdc-load: {} realm {} over {}, {} clients, {rate}, {} users, verify {:.0} %",
        info.kdc,
        info.realm,
        info.transport,
        info.concurrency,
        info.users,
        info.verify_sample * 100.0
    );
    for phase in phases {
        let t = &phase.tally;
        let _ = writeln!(out, "\n{} exchanges", phase.exchange.to_uppercase());
        let mut row = |name: &str, value: String| {
            let _ = writeln!(out, "  {name:<22} {value}");
        };
        row("completed", t.total().to_string());
        row("ok", format!("{} ({} verified)", t.ok, t.verified));
        row("KRB errors", t.krb_error_count().to_string());
        row("other failures", t.failure_count().to_string());
        row("duration s", format!("{:.3}", phase.elapsed.as_secs_f64()));
        row("throughput /s", format!("{:.1}", phase.throughput()));
        row("waits for the pool", t.pool_waits.to_string());
        match &phase.latency_us {
            Some(p) => {
                row("latency ms p50", format!("{:.3}", ms(p.p50)));
                row("latency ms p90", format!("{:.3}", ms(p.p90)));
                row("latency ms p99", format!("{:.3}", ms(p.p99)));
                row("latency ms p99.9", format!("{:.3}", ms(p.p99_9)));
                row("latency ms max", format!("{:.3}", ms(p.max)));
                row("latency ms mean", format!("{:.3}", p.mean / 1000.0));
            }
            None => row("latency", "no successful exchange".into()),
        }
        for (code, count) in &t.krb_errors {
            row(
                &format!("error {code}"),
                format!("{count} {}", error_name(*code)),
            );
        }
        for (failure, count) in &t.failures {
            row(&format!("failure {}", failure.name()), count.to_string());
        }
        if let Some(why) = &t.first_bad_reply {
            row("first bad reply", why.clone());
        }
        if !phase.by_kdc.is_empty() {
            row("retried elsewhere", t.retries.to_string());
        }
        for (kdc, t) in &phase.by_kdc {
            let _ = writeln!(out, "  KDC {kdc:<18} {}", kdc_line(t));
        }
    }
    out
}

/// One KDC's attempts on one line: what it was sent, how each ended (KRB-ERROR codes and
/// failure kinds, a wrong answer being `bad_reply`), and its latency.
fn kdc_line(t: &Tally) -> String {
    let mut line = format!(
        "{} sent, {} ok ({} verified), {} KRB errors",
        t.total(),
        t.ok,
        t.verified,
        t.krb_error_count()
    );
    let codes: Vec<String> = t
        .krb_errors
        .iter()
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    if !codes.is_empty() {
        let _ = write!(line, " ({})", codes.join(", "));
    }
    let _ = write!(line, ", {} failures", t.failure_count());
    let kinds: Vec<String> = t
        .failures
        .iter()
        .map(|(f, n)| format!("{}: {n}", f.name()))
        .collect();
    if !kinds.is_empty() {
        let _ = write!(line, " ({})", kinds.join(", "));
    }
    if let Some(p) = percentiles(&t.latencies_us) {
        let _ = write!(line, ", p50 {:.3} ms, p99 {:.3} ms", ms(p.p50), ms(p.p99));
    }
    line
}

pub fn json(info: &RunInfo, phases: &[PhaseReport]) -> String {
    let rate = info.rate.map_or("null".to_owned(), |r| r.to_string());
    let phases: Vec<String> = phases.iter().map(phase_json).collect();
    format!(
        "{{\"kdc\":{},\"realm\":{},\"transport\":{},\"concurrency\":{},\"rate\":{rate},\
         \"verify_sample\":{},\"users\":{},\"phases\":[{}]}}\n",
        string(&info.kdc),
        string(&info.realm),
        string(info.transport),
        info.concurrency,
        info.verify_sample,
        info.users,
        phases.join(",")
    )
}

fn phase_json(phase: &PhaseReport) -> String {
    let t = &phase.tally;
    let kdcs = match phase.by_kdc.as_slice() {
        [] => String::new(),
        by_kdc => {
            let each: Vec<String> = by_kdc
                .iter()
                .map(|(kdc, t)| {
                    format!(
                        "{{\"kdc\":{},\"sent\":{},{},\"latency_ms\":{}}}",
                        string(kdc),
                        t.total(),
                        outcomes_json(t),
                        latency_json(percentiles(&t.latencies_us).as_ref())
                    )
                })
                .collect();
            format!(",\"retries\":{},\"kdcs\":[{}]", t.retries, each.join(","))
        }
    };
    format!(
        "{{\"exchange\":{},\"completed\":{},{},\"duration_secs\":{:.6},\
         \"throughput_per_sec\":{:.3},\"pool_waits\":{},\"latency_ms\":{}{kdcs}}}",
        string(phase.exchange),
        t.total(),
        outcomes_json(t),
        phase.elapsed.as_secs_f64(),
        phase.throughput(),
        t.pool_waits,
        latency_json(phase.latency_us.as_ref())
    )
}

/// `"ok":N,"verified":N,"krb_errors":{CODE:N},"failures":{KIND:N}`, the same for a phase's
/// totals and for each KDC.
fn outcomes_json(t: &Tally) -> String {
    let codes: BTreeMap<String, u64> = t
        .krb_errors
        .iter()
        .map(|(code, n)| (code.to_string(), *n))
        .collect();
    let failures: BTreeMap<String, u64> = t
        .failures
        .iter()
        .map(|(f, n)| (f.name().to_owned(), *n))
        .collect();
    format!(
        "\"ok\":{},\"verified\":{},\"krb_errors\":{},\"failures\":{}",
        t.ok,
        t.verified,
        object(&codes),
        object(&failures)
    )
}

fn latency_json(latency: Option<&Percentiles>) -> String {
    match latency {
        Some(p) => format!(
            "{{\"p50\":{},\"p90\":{},\"p99\":{},\"p99_9\":{},\"max\":{},\"mean\":{:.3}}}",
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.p99_9),
            ms(p.max),
            p.mean / 1000.0
        ),
        None => "null".into(),
    }
}

fn object(map: &BTreeMap<String, u64>) -> String {
    let fields: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}:{v}", string(k)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A JSON string literal (RFC 8259 §7).
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Failure;

    fn sample() -> (RunInfo, Vec<PhaseReport>) {
        let info = RunInfo {
            kdc: "127.0.0.1:88".into(),
            realm: "EXAMPLE.\"TEST\"".into(),
            transport: "tcp",
            concurrency: 4,
            rate: None,
            verify_sample: 0.5,
            users: 2,
        };
        let tally = Tally {
            ok: 4,
            verified: 2,
            krb_errors: BTreeMap::from([(62, 3)]),
            failures: BTreeMap::from([(Failure::Timeout, 1)]),
            latencies_us: vec![1000, 2000, 3000, 4000],
            pool_waits: 0,
            retries: 0,
            first_bad_reply: None,
        };
        let phase = PhaseReport::new("as", tally, Duration::from_secs(2));
        (info, vec![phase])
    }

    #[test]
    fn throughput_counts_every_ended_exchange() {
        let (_, phases) = sample();
        assert_eq!(phases[0].throughput(), 4.0);
    }

    #[test]
    fn json_report() {
        let (info, phases) = sample();
        assert_eq!(
            json(&info, &phases),
            "{\"kdc\":\"127.0.0.1:88\",\"realm\":\"EXAMPLE.\\\"TEST\\\"\",\"transport\":\"tcp\",\
             \"concurrency\":4,\"rate\":null,\"verify_sample\":0.5,\"users\":2,\"phases\":[\
             {\"exchange\":\"as\",\"completed\":8,\"ok\":4,\"verified\":2,\
             \"krb_errors\":{\"62\":3},\"failures\":{\"timeout\":1},\"duration_secs\":2.000000,\
             \"throughput_per_sec\":4.000,\"pool_waits\":0,\"latency_ms\":{\"p50\":2,\"p90\":4,\
             \"p99\":4,\"p99_9\":4,\"max\":4,\"mean\":2.500}}]}\n"
        );
    }

    #[test]
    fn several_kdcs_are_reported_each_and_in_total() {
        let (info, mut phases) = sample();
        let phase = phases.remove(0);
        let mut retried = phase.tally.clone();
        retried.retries = 1;
        let by_kdc = vec![
            ("127.0.0.2:88".to_owned(), phase.tally.clone()),
            ("127.0.0.3:88".to_owned(), Tally::default()),
        ];
        let phases = vec![PhaseReport::new("as", retried, phase.elapsed).with_kdcs(by_kdc)];
        let text = table(&info, &phases);
        assert!(text.contains("retried elsewhere      1"), "{text}");
        assert!(
            text.contains(
                "KDC 127.0.0.2:88       8 sent, 4 ok (2 verified), 3 KRB errors (62: 3), \
                 1 failures (timeout: 1), p50 2.000 ms, p99 4.000 ms"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "KDC 127.0.0.3:88       0 sent, 0 ok (0 verified), 0 KRB errors, 0 failures\n"
            ),
            "{text}"
        );
        let json = json(&info, &phases);
        assert!(
            json.contains(
                ",\"retries\":1,\"kdcs\":[{\"kdc\":\"127.0.0.2:88\",\"sent\":8,\"ok\":4,\
                 \"verified\":2,\"krb_errors\":{\"62\":3},\"failures\":{\"timeout\":1},\
                 \"latency_ms\":{\"p50\":2,\"p90\":4,\"p99\":4,\"p99_9\":4,\"max\":4,\
                 \"mean\":2.500}},{\"kdc\":\"127.0.0.3:88\",\"sent\":0,\"ok\":0,\
                 \"verified\":0,\"krb_errors\":{},\"failures\":{},\"latency_ms\":null}]}"
            ),
            "{json}"
        );
    }

    #[test]
    fn table_names_error_codes() {
        let (info, phases) = sample();
        let text = table(&info, &phases);
        assert!(text.contains("error 62"), "{text}");
        assert!(text.contains("KDC_ERR_CLIENT_NOT_TRUSTED"), "{text}");
        assert!(text.contains("failure timeout"), "{text}");
        assert!(text.contains("latency ms p99.9"), "{text}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(string("a\nb\\"), "\"a\\u000ab\\\\\"");
    }
}
