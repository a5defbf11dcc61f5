//! The PAC in this KDC's tickets as others read it (issue 17): MIT kinit and kvno get the
//! tickets, MIT's own `krb5_pac_verify` and `krb5_kdc_verify_ticket` check every signature
//! and the client name, and Samba's NDR decoder reads every buffer. The SIDs and groups are
//! the dev realm's: alice (key trust, RID 1103) in Domain Users and Developers (1105), bob
//! (certificate trust, RID 1104) in Domain Users.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use kdc_integration::pac_tools::{check_ticket, decode};
use kdc_integration::{Identity, MitClient, Realm};
use serde_json::Value;

struct PacRealm {
    realm: Realm,
    web: String,
    krbtgt: String,
    web_keytab: PathBuf,
    krbtgt_keytab: PathBuf,
    domain_sid: String,
}

/// The dev realm with a service, the service's and krbtgt's keys exported to keytabs (the
/// KDC signature is checked with the krbtgt key), started.
fn pac_realm() -> PacRealm {
    let mut realm = Realm::create().unwrap();
    let web = realm.add_service("host/web.example").unwrap();
    let krbtgt = realm.principal("krbtgt/EXAMPLE.TEST");
    let web_keytab = realm.tmp().join("web.keytab");
    let krbtgt_keytab = realm.tmp().join("krbtgt.keytab");
    for (principal, keytab) in [(&web, &web_keytab), (&krbtgt, &krbtgt_keytab)] {
        let out = keytab.to_str().unwrap();
        realm
            .admin(&["keytab", "export", "--principal", principal, "--out", out])
            .unwrap()
            .ok()
            .unwrap();
    }
    let toml = std::fs::read_to_string(realm.kdc_toml_path()).unwrap();
    let domain_sid = toml
        .lines()
        .find_map(|line| line.strip_prefix("domain_sid = "))
        .map(|value| value.trim_matches('"').to_owned())
        .expect("dev-realm writes a domain SID");
    realm.start().unwrap();
    PacRealm {
        realm,
        web,
        krbtgt,
        web_keytab,
        krbtgt_keytab,
        domain_sid,
    }
}

impl PacRealm {
    fn logged_on(&self, user: &str, identity: &Identity) -> MitClient {
        let client = self.realm.client().unwrap();
        let run = client.kinit(&self.realm.principal(user), identity).unwrap();
        assert!(run.success(), "{}\n{}", run.report(), self.realm.log());
        let run = client.kvno(&[&self.web]).unwrap();
        assert!(run.success(), "{}\n{}", run.report(), self.realm.log());
        client
    }

    /// MIT's checks of the ticket for `service` all pass; Samba's reading of its PAC.
    fn verified_pac(
        &self,
        client: &MitClient,
        service: &str,
        keytab: &std::path::Path,
    ) -> (PathBuf, Value) {
        let pac = client
            .dir()
            .join(format!("{}.pac", service.replace('/', "_")));
        let checked =
            check_ticket(client, service, keytab, &self.krbtgt_keytab, &pac, None).unwrap();
        assert!(checked.all_ok(), "{}\n{}", checked.output, self.realm.log());
        (pac.clone(), decode(&pac).unwrap())
    }
}

fn buffer_types(pac: &Value) -> Vec<u64> {
    pac["buffers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_u64().unwrap())
        .collect()
}

fn extra_sids(pac: &Value) -> Vec<String> {
    pac["logon_info"]["extra_sids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sid"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn mit_verifies_and_samba_decodes_the_pacs_of_a_key_trust_logon() {
    let pacs = pac_realm();
    let client = pacs.logged_on("alice", &pacs.realm.alice());

    let (service_pac, pac) = pacs.verified_pac(&client, &pacs.web, &pacs.web_keytab);
    assert_eq!(buffer_types(&pac), [1, 10, 12, 16, 19, 6, 7], "{pac:#}");
    let logon = &pac["logon_info"];
    assert_eq!(logon["account_name"], "alice");
    assert_eq!(logon["rid"], 1103);
    assert_eq!(logon["primary_gid"], 513);
    let groups: Vec<u64> = logon["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["rid"].as_u64().unwrap())
        .collect();
    assert_eq!(groups, [513, 1105], "Domain Users and Developers");
    assert_eq!(logon["domain_sid"], pacs.domain_sid.as_str());
    assert_eq!(logon["logon_domain"], "EXAMPLE");
    // MIT kinit signs the freshness token the dev realm offers: key trust and fresh.
    assert_eq!(extra_sids(&pac), ["S-1-18-1", "S-1-18-4", "S-1-18-3"]);
    assert_eq!(pac["client_info"]["name"], "alice");
    let alice_sid = format!("{}-1103", pacs.domain_sid);
    assert_eq!(pac["upn_dns_info"]["sam_name"], "alice");
    assert_eq!(pac["upn_dns_info"]["sid"], alice_sid.as_str());

    let (_, tgt) = pacs.verified_pac(&client, &pacs.krbtgt, &pacs.krbtgt_keytab);
    assert_eq!(buffer_types(&tgt), [1, 10, 12, 17, 18, 6, 7], "{tgt:#}");
    assert_eq!(tgt["requester_sid"], alice_sid.as_str());
    assert_eq!(tgt["attributes"]["flags"], 2, "MIT sends no PA-PAC-REQUEST");

    // MIT notices a changed RID: the server signature no longer matches.
    let mut bytes = std::fs::read(&service_pac).unwrap();
    let rid = 1103u32.to_le_bytes();
    let at = bytes.windows(4).position(|w| w == rid).unwrap();
    bytes[at] ^= 0x01;
    let changed = client.dir().join("changed.pac");
    std::fs::write(&changed, &bytes).unwrap();
    let checked = check_ticket(
        &client,
        &pacs.web,
        &pacs.web_keytab,
        &pacs.krbtgt_keytab,
        &client.dir().join("again.pac"),
        Some(&changed),
    )
    .unwrap();
    assert!(
        checked
            .verdict("server_and_client")
            .is_some_and(|v| v.starts_with("FAILED")),
        "{}",
        checked.output
    );
}

#[test]
fn a_certificate_trust_logon_has_no_key_trust_sid() {
    let pacs = pac_realm();
    let client = pacs.logged_on("bob", &pacs.realm.bob());
    let (_, pac) = pacs.verified_pac(&client, &pacs.web, &pacs.web_keytab);
    assert_eq!(pac["logon_info"]["rid"], 1104);
    assert_eq!(extra_sids(&pac), ["S-1-18-1", "S-1-18-3"]);
}
