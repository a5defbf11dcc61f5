//! Runs a child process with a deadline: stdout and stderr go to files (no pipe can fill up
//! and stall the child), and a child still running at the deadline is killed.

use std::fmt;
use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// What a finished (or killed) command left behind.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The command line, for messages.
    pub command: String,
    /// None when the command was killed at its deadline.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl RunOutput {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }

    /// Fails with the whole output unless the command exited 0.
    pub fn ok(self) -> Result<RunOutput> {
        if self.success() {
            Ok(self)
        } else {
            anyhow::bail!("command failed:\n{self}")
        }
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Some(s) => s.to_string(),
            None => "killed at its deadline".to_owned(),
        };
        write!(
            f,
            "$ {}\n[{} after {:?}]\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, status, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to completion or until `timeout`, with stdin closed. `scratch` is a directory
/// where the two output files are written (overwritten on each run with the same `tag`).
pub fn run_with_timeout(
    cmd: &mut Command,
    scratch: &Path,
    tag: &str,
    timeout: Duration,
) -> Result<RunOutput> {
    let command = describe(cmd);
    let out_path = scratch.join(format!("{tag}.stdout"));
    let err_path = scratch.join(format!("{tag}.stderr"));
    let out = File::create(&out_path).with_context(|| format!("create {}", out_path.display()))?;
    let err = File::create(&err_path).with_context(|| format!("create {}", err_path.display()))?;
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .with_context(|| format!("spawn {command}"))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= timeout {
            // The child may exit between the check and the kill; either way it is gone.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    Ok(RunOutput {
        command,
        status,
        stdout: read_lossy(&out_path),
        stderr: read_lossy(&err_path),
        elapsed,
    })
}

/// Waits until a server `child` just spawned accepts TCP connections on `addr`. Fails, with
/// `log()` in the message, when it exits first (then `child` becomes None) or `timeout`
/// passes; `what` names it.
pub fn wait_listening(
    child: &mut Option<Child>,
    addr: SocketAddr,
    timeout: Duration,
    what: &str,
    log: impl Fn() -> String,
) -> Result<()> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.as_mut().map(Child::try_wait).transpose()?.flatten() {
            *child = None;
            bail!("{what} exited with {status}:\n{}", log());
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if started.elapsed() > timeout {
            bail!("{what} did not listen on {addr} in time:\n{}", log());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A file's text, or an empty string when it cannot be read (it may not exist yet).
pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The command line as a shell user would type it (env assignments first).
pub fn describe(cmd: &Command) -> String {
    let envs = cmd
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())));
    let program = std::iter::once(cmd.get_program().to_string_lossy().into_owned());
    let args = cmd.get_args().map(|a| a.to_string_lossy().into_owned());
    envs.chain(program)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let dir = tempfile::tempdir().unwrap();
        let out = run_with_timeout(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            dir.path(),
            "t",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.status.and_then(|s| s.code()), Some(3));
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("out\n", "err\n")
        );
        assert!(!out.success());
        assert!(out.ok().is_err());
    }

    #[test]
    fn kills_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let out = run_with_timeout(
            Command::new("sleep").arg("30"),
            dir.path(),
            "t",
            Duration::from_millis(200),
        )
        .unwrap();
        assert!(out.timed_out());
        assert!(out.elapsed < Duration::from_secs(5));
    }

    #[test]
    fn describes_env_and_args() {
        let mut cmd = Command::new("kinit");
        cmd.env("KRB5_CONFIG", "/x/krb5.conf").args(["-X", "a b"]);
        assert_eq!(describe(&cmd), "KRB5_CONFIG=/x/krb5.conf kinit -X a b");
    }
}
