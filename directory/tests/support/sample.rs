//! The embedded directory file most tests start from: alice with one unparsable and one real
//! NGC key credential, bob disabled.

use kdc_directory::KeyCredentialLink;
use kdc_directory::keycredlink::{Guid, KeyCredential, RsaPublicKey};

use super::read_hex;

pub const ALICE_DN: &str = "CN=alice,CN=Users,DC=example,DC=test";
pub const BOB_DN: &str = "CN=bob,CN=Users,DC=example,DC=test";

/// Real RSA keys from the vectors, so keys differ the way real ones do.
pub fn vector_key(name: &str) -> RsaPublicKey {
    KeyCredential::parse(&read_hex(&format!("{name}.hex")))
        .unwrap()
        .rsa_public_key()
        .unwrap()
        .clone()
}

pub fn ngc_link(owner_dn: &str, key: &RsaPublicKey) -> KeyCredentialLink {
    let device: Guid = "47f577e3-d2d0-4a0a-8aca-e0501098bde4".parse().unwrap();
    KeyCredentialLink {
        owner_dn: owner_dn.into(),
        credential: KeyCredential::new_ngc(key, device, 131_734_027_581_684_545),
    }
}

pub fn sample_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let alice_key = ngc_link(ALICE_DN, &vector_key("msf_ngc_rsa1")).to_dn_binary();
    let text = format!(
        r#"
[[user]]
distinguishedName = "{ALICE_DN}"
userPrincipalName = "alice@EXAMPLE.TEST"
sAMAccountName = "alice"
userAccountControl = 512
"msDS-KeyCredentialLink" = [
  "B:8:00020000:{ALICE_DN}",
  "{alice_key}",
]

[[user]]
distinguishedName = "{BOB_DN}"
userPrincipalName = "bob@corp.example"
sAMAccountName = "Bob"
userAccountControl = 514
"#
    );
    let path = dir.path().join("directory.toml");
    std::fs::write(&path, text).unwrap();
    path
}
