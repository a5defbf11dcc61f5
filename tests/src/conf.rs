//! Line edits of the two configuration files a test may change before it starts the KDC or
//! runs a client: the KDC's kdc.toml (every option listed as `key = value` by `kdc dev-realm`)
//! and MIT's krb5.conf (profile syntax, krb5.conf(5)). Edits are in place, by line, so the
//! rest of each file stays exactly as the KDC wrote it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// `key` of a `key = value` line (TOML or MIT profile), or None for anything else.
fn line_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('#')).then_some(key)
}

fn indentation(line: &str) -> &str {
    let trimmed = line.trim_start();
    line.get(..line.len() - trimmed.len()).unwrap_or("")
}

/// Byte-exact rejoin: keeps the file's trailing newline if it had one.
fn join(lines: &[String], trailing_newline: bool) -> String {
    let mut out = lines.join("\n");
    if trailing_newline {
        out.push('\n');
    }
    out
}

fn is_section_header(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('[') && t.ends_with(']')
}

/// Line indices [start, end) of the body of section `[name]` (TOML tables, profile sections).
fn section_body(lines: &[String], name: &str) -> Option<(usize, usize)> {
    let header = format!("[{name}]");
    let start = lines.iter().position(|l| l.trim() == header)? + 1;
    let end = lines
        .iter()
        .skip(start)
        .position(|l| is_section_header(l))
        .map_or(lines.len(), |p| start + p);
    Some((start, end))
}

/// Replaces the value of `key` in TOML table `[section]`; `value` is TOML (quote strings).
/// The key must already be there: the contract is that dev-realm lists every option.
pub fn set_toml_option(text: &str, section: &str, key: &str, value: &str) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let Some((start, end)) = section_body(&lines, section) else {
        bail!("kdc.toml has no [{section}] table");
    };
    let Some(index) = (start..end).find(|i| {
        lines
            .get(*i)
            .and_then(|l| line_key(l))
            .is_some_and(|k| k == key)
    }) else {
        bail!("kdc.toml [{section}] has no `{key} = ...` line");
    };
    if let Some(line) = lines.get_mut(index) {
        *line = format!("{}{key} = {value}", indentation(line));
    }
    Ok(join(&lines, text.ends_with('\n')))
}

/// Removes TOML table `[section]`, its header and body (e.g. `pkinit.certificate_trust`, to
/// run a KDC with key trust only).
pub fn remove_table(text: &str, section: &str) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let Some((start, end)) = section_body(&lines, section) else {
        bail!("kdc.toml has no [{section}] table");
    };
    lines.drain(start.saturating_sub(1)..end);
    Ok(join(&lines, text.ends_with('\n')))
}

/// Sets `key = value` in krb5.conf's [libdefaults], replacing an existing line there.
pub fn set_libdefault(text: &str, key: &str, value: &str) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let Some((start, end)) = section_body(&lines, "libdefaults") else {
        bail!("krb5.conf has no [libdefaults] section");
    };
    let existing = (start..end).find(|i| {
        lines
            .get(*i)
            .and_then(|l| line_key(l))
            .is_some_and(|k| k == key)
    });
    match existing {
        Some(index) => {
            if let Some(line) = lines.get_mut(index) {
                *line = format!("{}{key} = {value}", indentation(line));
            }
        }
        None => lines.insert(start, format!("    {key} = {value}")),
    }
    Ok(join(&lines, text.ends_with('\n')))
}

/// Adds a trust anchor for the client. MIT reads `pkinit_anchors` from the first place that
/// has it ([realms] REALM, else [libdefaults]), so the new line goes right after the last
/// existing one; without any, it goes into [libdefaults].
pub fn add_pkinit_anchor(text: &str, pem_path: &str) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last = lines
        .iter()
        .rposition(|l| line_key(l).is_some_and(|k| k == "pkinit_anchors"));
    match last {
        Some(index) => {
            let indent = lines
                .get(index)
                .map(|l| indentation(l).to_owned())
                .unwrap_or_default();
            lines.insert(
                index + 1,
                format!("{indent}pkinit_anchors = FILE:{pem_path}"),
            );
        }
        None => {
            let Some((start, _)) = section_body(&lines, "libdefaults") else {
                bail!("krb5.conf has neither pkinit_anchors nor [libdefaults]");
            };
            lines.insert(start, format!("    pkinit_anchors = FILE:{pem_path}"));
        }
    }
    Ok(join(&lines, text.ends_with('\n')))
}

/// Points every `kdc = ...` line at `host_port` (e.g. a proxy's `127.0.0.1:P`).
pub fn set_kdc_address(text: &str, host_port: &str) -> Result<String> {
    set_kdc_addresses(text, &[host_port])
}

/// Replaces each `kdc = ...` line by one line per address, in this order (MIT tries them in
/// turn: the first that answers serves the request).
pub fn set_kdc_addresses(text: &str, host_ports: &[&str]) -> Result<String> {
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .flat_map(|l| {
            if line_key(l).is_some_and(|k| k == "kdc") {
                found = true;
                let indent = indentation(l);
                host_ports
                    .iter()
                    .map(|host_port| format!("{indent}kdc = {host_port}"))
                    .collect()
            } else {
                vec![l.to_owned()]
            }
        })
        .collect();
    if !found {
        bail!("krb5.conf has no `kdc = ...` line");
    }
    Ok(join(&lines, text.ends_with('\n')))
}

/// Removes every `key = ...` line (in any section); an error if there is none.
pub fn remove_option(text: &str, key: &str) -> Result<String> {
    let lines: Vec<String> = text
        .lines()
        .filter(|l| line_key(l) != Some(key))
        .map(str::to_owned)
        .collect();
    if lines.len() == text.lines().count() {
        bail!("no `{key} = ...` line to remove");
    }
    Ok(join(&lines, text.ends_with('\n')))
}

/// A client's private krb5.conf (MIT's and Heimdal's clients read the same format).
#[derive(Debug)]
pub struct ConfFile(PathBuf);

impl ConfFile {
    /// Writes `text` to `path` and keeps the path.
    pub fn create(path: PathBuf, text: &str) -> Result<ConfFile> {
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
        Ok(ConfFile(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn read(&self) -> Result<String> {
        std::fs::read_to_string(&self.0).with_context(|| format!("read {}", self.0.display()))
    }

    /// Rewrites the file through `edit` (one of this module's functions, usually).
    pub fn edit(&self, edit: impl FnOnce(&str) -> Result<String>) -> Result<()> {
        let text = edit(&self.read()?)?;
        std::fs::write(&self.0, text).with_context(|| format!("write {}", self.0.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_a_table_and_only_it() {
        let text = "a = 1\n\n[x.y]\nb = 2\nc = 3\n\n[z]\nd = 4\n";
        assert_eq!(remove_table(text, "x.y").unwrap(), "a = 1\n\n[z]\nd = 4\n");
        assert!(remove_table(text, "w").is_err());
    }

    const TOML: &str = "\
realm = \"EXAMPLE.TEST\"

[listen]
udp = [\"127.0.0.1:20001\"]
tcp = [\"127.0.0.1:20001\"]
max_udp_reply_bytes = 4096
max_request_bytes = 65536

[pkinit]
min_dh_bits = 2048
";

    #[test]
    fn toml_option_replaced_in_its_table_only() {
        let out = set_toml_option(TOML, "listen", "max_udp_reply_bytes", "1200").unwrap();
        assert!(out.contains("\nmax_udp_reply_bytes = 1200\n"));
        assert!(!out.contains("4096"));
        assert_eq!(out.lines().count(), TOML.lines().count());
        let out = set_toml_option(TOML, "pkinit", "min_dh_bits", "1024").unwrap();
        assert!(out.ends_with("min_dh_bits = 1024\n"));
        // The key exists, but not in that table.
        assert!(set_toml_option(TOML, "pkinit", "max_request_bytes", "1").is_err());
        assert!(set_toml_option(TOML, "tickets", "clock_skew_secs", "1").is_err());
    }

    const KRB5: &str = "\
[libdefaults]
    default_realm = EXAMPLE.TEST
    dns_lookup_kdc = false

[realms]
    EXAMPLE.TEST = {
        kdc = 127.0.0.1:20001
        pkinit_anchors = FILE:/d/ca.pem
        pkinit_anchors = FILE:/d/alice.pem
    }
";

    #[test]
    fn libdefault_added_or_replaced() {
        let out = set_libdefault(KRB5, "udp_preference_limit", "65535").unwrap();
        assert!(out.starts_with("[libdefaults]\n    udp_preference_limit = 65535\n"));
        let out = set_libdefault(KRB5, "dns_lookup_kdc", "true").unwrap();
        assert!(out.contains("    dns_lookup_kdc = true\n") && !out.contains("= false"));
        assert!(set_libdefault("[realms]\n", "a", "b").is_err());
    }

    #[test]
    fn anchor_goes_after_the_last_one() {
        let out = add_pkinit_anchor(KRB5, "/t/bob.pem").unwrap();
        assert!(out.contains(
            "pkinit_anchors = FILE:/d/alice.pem\n        pkinit_anchors = FILE:/t/bob.pem\n    }"
        ));
        let bare = "[libdefaults]\n    default_realm = X\n";
        let out = add_pkinit_anchor(bare, "/t/bob.pem").unwrap();
        assert_eq!(
            out,
            "[libdefaults]\n    pkinit_anchors = FILE:/t/bob.pem\n    default_realm = X\n"
        );
    }

    #[test]
    fn option_removed_everywhere() {
        let out = remove_option(KRB5, "pkinit_anchors").unwrap();
        assert!(!out.contains("pkinit_anchors"));
        assert_eq!(out.lines().count(), KRB5.lines().count() - 2);
        assert!(out.ends_with("        kdc = 127.0.0.1:20001\n    }\n"));
        assert!(remove_option(KRB5, "pkinit_kdc_hostname").is_err());
    }

    #[test]
    fn kdc_address_rewritten() {
        let out = set_kdc_address(KRB5, "127.0.0.1:20777").unwrap();
        assert!(out.contains("        kdc = 127.0.0.1:20777\n"));
        assert!(!out.contains("20001"));
        assert!(set_kdc_address("[libdefaults]\n", "x").is_err());
    }
}
