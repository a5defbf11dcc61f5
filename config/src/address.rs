//! Socket addresses in the file (`[listen] udp` and `tcp`, `[metrics] listen`): parsed into
//! `SocketAddr` as the file loads, so that every command that loads it refuses the same text
//! with the same words.

use std::net::SocketAddr;

use serde::{Deserialize, Deserializer, de::Error};

fn parse<E: Error>(text: &str) -> Result<SocketAddr, E> {
    text.parse().map_err(|_| {
        E::custom(format!(
            "{text:?} is not an IP address and port like 0.0.0.0:88"
        ))
    })
}

/// One address, for `deserialize_with`.
pub(crate) fn one<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    parse(&String::deserialize(deserializer)?)
}

/// A list of addresses, for `deserialize_with`.
pub(crate) fn list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<SocketAddr>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| parse(text))
        .collect()
}
