//! `[metrics]`: the HTTP listener that serves Prometheus metrics (`/metrics`, text exposition
//! format 0.0.4) and the health check (`/healthz`). Absent: no listener.

use std::net::SocketAddr;

use serde::Deserialize;

/// `[metrics]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address of the HTTP listener, e.g. `127.0.0.1:9188`. Required in the table. Keep it
    /// on a management network: the metrics name no user, but they are not for everyone.
    #[serde(deserialize_with = "crate::address::one")]
    pub listen: SocketAddr,
    /// Seconds between two probes of the directory (an LDAP read of the base entry) and the
    /// signer, which `/healthz` reports. Default 10, at least 1.
    #[serde(default = "default_probe_interval_secs")]
    pub probe_interval_secs: u64,
}

fn default_probe_interval_secs() -> u64 {
    10
}

impl MetricsConfig {
    /// The first problem found, as (key, message).
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        crate::bounds::check([crate::bounds::Bound::new(
            "metrics.probe_interval_secs",
            self.probe_interval_secs,
            1..=crate::bounds::HOUR,
        )])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_must_be_a_socket_address() {
        let good: MetricsConfig = toml::from_str("listen = \"127.0.0.1:9188\"").unwrap();
        assert_eq!(good.listen, SocketAddr::from(([127, 0, 0, 1], 9188)));
        assert!(good.check().is_ok());
        let bad = toml::from_str::<MetricsConfig>("listen = \"localhost\"").unwrap_err();
        assert!(
            bad.message()
                .starts_with("\"localhost\" is not an IP address and port"),
            "{bad}"
        );
        let never = MetricsConfig {
            probe_interval_secs: 0,
            ..good
        };
        assert_eq!(never.check().unwrap_err().0, "metrics.probe_interval_secs");
    }
}

#[cfg(test)]
mod shipped {
    use std::path::Path;

    use crate::Config;

    /// Every example configuration in deploy/ loads and turns the metrics listener on.
    #[test]
    fn deploy_examples_load_with_metrics() {
        let deploy = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy"));
        for example in [
            "kdc.toml.example",
            "ldap/kdc-openldap.toml.example",
            "ldap/kdc-ad.toml.example",
        ] {
            let config = Config::load(&deploy.join(example)).unwrap();
            let metrics = config.metrics.unwrap();
            assert_eq!(metrics.listen.to_string(), "127.0.0.1:9188", "{example}");
            assert_eq!(metrics.probe_interval_secs, 10, "{example}");
        }
    }
}
