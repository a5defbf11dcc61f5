//! The systemd notification protocol (sd_notify(3)): `READY=1` once the listeners are up,
//! `STATUS=` after a reload, `STOPPING=1` when draining, each a datagram to the AF_UNIX
//! socket named by `$NOTIFY_SOCKET`. Without the variable (not started by systemd with
//! `Type=notify`) nothing is sent. (`RELOADING=1` is left out: it needs `MONOTONIC_USEC`,
//! CLOCK_MONOTONIC, which std does not expose.)

use std::ffi::OsStr;
use std::os::unix::net::UnixDatagram;

/// Sends `state` (newline-separated `KEY=value` assignments); failures are only logged.
pub fn send(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET") {
        send_to(&path, state);
    }
}

fn send_to(path: &OsStr, state: &str) {
    // An abstract socket ("@name") needs a Linux-only address type; systemd gives a path.
    if path.to_string_lossy().starts_with('@') {
        tracing::warn!("NOTIFY_SOCKET is an abstract socket; notifications not sent");
        return;
    }
    let sent = UnixDatagram::unbound().and_then(|socket| socket.send_to(state.as_bytes(), path));
    if let Err(error) = sent {
        tracing::warn!(%error, socket = %path.to_string_lossy(), "cannot notify systemd");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_arrives_as_one_datagram() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        send_to(path.as_os_str(), "READY=1\nSTATUS=serving");
        let mut buf = [0u8; 64];
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=serving");
    }
}
