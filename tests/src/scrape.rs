//! Reading the KDC's metrics listener as Prometheus would: a plain HTTP/1.1 GET (RFC 9112)
//! over std, and the text exposition format's samples (`name{label="value",...} number`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// `GET path` on `addr`: the status code and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .with_context(|| format!("connect to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .with_context(|| format!("no end of head in {reply:?}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_owned()))
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of an exposition text (comments skipped).
pub fn parse(text: &str) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line
            .rsplit_once(' ')
            .with_context(|| format!("no value in {line:?}"))?;
        let value: f64 = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .with_context(|| format!("bad value in {line:?}"))?,
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .with_context(|| format!("unclosed labels in {line:?}"))?;
                let mut labels = BTreeMap::new();
                // Label values here never hold '",' or escapes (bounded, plain values).
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (key, value) = pair
                        .split_once("=\"")
                        .with_context(|| format!("bad label in {line:?}"))?;
                    labels.insert(key.to_owned(), value.trim_end_matches('"').to_owned());
                }
                (name, labels)
            }
        };
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    if samples.is_empty() {
        bail!("no samples in the metrics text");
    }
    Ok(samples)
}

/// `GET /metrics` on `addr`, which must answer 200: its samples.
pub fn scrape(addr: SocketAddr) -> Result<Vec<Sample>> {
    let (status, body) = http_get(addr, "/metrics")?;
    if status != 200 {
        bail!("GET /metrics on {addr}: {status}\n{body}");
    }
    parse(&body)
}

/// The sum of the samples named `name` whose labels include all of `labels`. No such sample
/// is an error: a metric that is not exported must fail an assertion about it, even "is 0".
pub fn sum(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Result<f64> {
    sum_if_present(samples, name, labels).with_context(|| {
        format!(
            "no sample {name}{labels:?} among the {} scraped",
            samples.len()
        )
    })
}

/// How much `name{labels}` grew from `before` to `after`. It must be exported in `after`;
/// absent from `before` counts as 0, since a labelled counter appears at its first increment.
pub fn growth(
    before: &[Sample],
    after: &[Sample],
    name: &str,
    labels: &[(&str, &str)],
) -> Result<f64> {
    Ok(sum(after, name, labels)? - sum_if_present(before, name, labels).unwrap_or(0.0))
}

fn sum_if_present(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut matching = samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .peekable();
    matching.peek()?;
    Some(matching.sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_and_labels_are_read() {
        let text = "# HELP a_total x\n# TYPE a_total counter\n\
                    a_total{result=\"ok\",transport=\"tcp\",type=\"as\"} 3\n\
                    a_total{result=\"ok\",transport=\"udp\",type=\"as\"} 2\n\
                    a_total{result=\"KDC_ERR_PREAUTH_REQUIRED\",transport=\"udp\",type=\"as\"} 5\n\
                    g NaN\nh 1.5\n";
        let samples = parse(text).unwrap();
        assert_eq!(samples.len(), 5);
        assert_eq!(sum(&samples, "a_total", &[("result", "ok")]).unwrap(), 5.0);
        assert_eq!(
            sum(
                &samples,
                "a_total",
                &[("result", "ok"), ("transport", "tcp")]
            )
            .unwrap(),
            3.0
        );
        assert_eq!(sum(&samples, "a_total", &[("type", "as")]).unwrap(), 10.0);
        assert_eq!(sum(&samples, "h", &[]).unwrap(), 1.5);
        assert!(sum(&samples, "missing", &[]).is_err());
        assert!(sum(&samples, "a_total", &[("result", "refused")]).is_err());
        assert!(parse("# only comments\n").is_err());
    }

    #[test]
    fn growth_needs_the_metric_after_and_counts_it_absent_before_as_zero() {
        let before = parse("b_total{x=\"1\"} 2\ng 0\n").unwrap();
        let after = parse("b_total{x=\"1\"} 5\nb_total{x=\"2\"} 1\ng 0\n").unwrap();
        assert_eq!(
            growth(&before, &after, "b_total", &[("x", "1")]).unwrap(),
            3.0
        );
        assert_eq!(
            growth(&before, &after, "b_total", &[("x", "2")]).unwrap(),
            1.0
        );
        // A gauge exported as 0 is present.
        assert_eq!(sum(&after, "g", &[]).unwrap(), 0.0);
        assert!(growth(&after, &before, "b_total", &[("x", "2")]).is_err());
    }
}
