//! The embedded directory's file (directory.toml) as the KDC loads it: TOML with Active
//! Directory attribute names, each entry validated, msDS-KeyCredentialLink values parsed or
//! skipped, names indexed. Errors carry a line of the text; every user loaded is found by
//! its userPrincipalName.

use kdc_directory::{Directory, DirectoryAdmin, DirectoryError, EmbeddedDirectory};

use crate::check::ready;

const PATH: &str = "/var/lib/kdc/directory.toml";
const REALM: &str = "EXAMPLE.TEST";

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let directory = match EmbeddedDirectory::parse(text, PATH) {
        Ok(directory) => directory,
        Err(DirectoryError::Parse { line, .. }) => {
            assert!(
                (1..=text.lines().count() + 1).contains(&line),
                "line {line}"
            );
            return;
        }
        Err(error) => panic!("loading text failed other than as a parse error: {error}"),
    };
    let users = match ready(directory.list_users()) {
        Ok(users) => users,
        Err(error) => panic!("listing a loaded directory failed: {error}"),
    };
    for user in &users {
        let found = ready(directory.find_user(&user.user_principal_name, REALM));
        assert!(
            matches!(&found, Ok(Some(u)) if u == user),
            "{} not found by its UPN: {found:?}",
            user.user_principal_name
        );
    }
}
