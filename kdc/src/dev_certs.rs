//! Certificates and CRLs for development realms and tests: the parameters every certificate
//! starts from, client certificate extensions for certificate trust (RFC 4556 §3.2.2
//! id-pkinit-san, MS-PKCA 3.1.5.2.1.1 UPN otherName, the KB5014754 SID extension), an empty
//! CRL (RFC 5280 §5), a random domain SID.

use anyhow::Result;
use rcgen::{
    CertificateParams, CertificateRevocationListParams, CustomExtension, DistinguishedName, DnType,
    Issuer, KeyIdMethod, KeyPair,
};

use kdc_directory::Sid;
use kdc_directory::sid::DomainSid;

use crate::proto::der::{self, tag};
use crate::proto::kerberos::{NT_PRINCIPAL, principal};
use crate::proto::pkinit::Krb5PrincipalName;

/// `S-1-5-21-a-b-c` with random sub-authorities, like a fresh AD domain's SID.
pub fn random_domain_sid() -> Result<DomainSid> {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("random generator failed"))?;
    let mut sub_authorities = vec![21];
    let (chunks, _) = bytes.as_chunks::<4>();
    sub_authorities.extend(chunks.iter().map(|chunk| u32::from_le_bytes(*chunk)));
    Ok(Sid::new(5, &sub_authorities)?.try_into()?)
}

/// What every development-realm certificate starts from: O=realm, CN=`common_name`, valid
/// for a year, a random positive serial.
pub fn base_params(common_name: &str, realm: &str) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, realm);
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    // Clients enforce validity with no tolerance: backdate by more than the allowed skew.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(365);
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| anyhow::anyhow!("random generator failed"))?;
    if let Some(first) = serial.first_mut() {
        *first &= 0x7f;
    }
    params.serial_number = Some(serial.to_vec().into());
    Ok(params)
}

/// A CRL of `ca` listing nothing, valid for a year (RFC 5280 §5).
pub fn empty_crl(ca: &Issuer<'_, &KeyPair>) -> Result<String> {
    let now = time::OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now - time::Duration::days(1),
        next_update: now + time::Duration::days(365),
        crl_number: vec![1].into(),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(ca)?.pem()?)
}

/// The extensions of a client certificate for `user@realm`: subjectAltName with otherNames
/// id-pkinit-san (RFC 4556 §3.2.2) and MS UPN (MS-PKCA 3.1.5.2.1.1), and, with a SID, the
/// KB5014754 SID extension 1.3.6.1.4.1.311.25.2.
pub fn client_extensions(
    realm: &str,
    user: &str,
    sid: Option<&str>,
) -> Result<Vec<CustomExtension>> {
    let principal_name = Krb5PrincipalName::new(realm, principal(NT_PRINCIPAL, &[user]));
    let principal_der = rasn::der::encode(&principal_name)
        .map_err(|e| anyhow::anyhow!("KRB5PrincipalName: {e}"))?;
    let upn = der::encode(UTF8_STRING, format!("{user}@{realm}").as_bytes());
    let names = der::encode_parts(
        tag::SEQUENCE,
        &[
            &other_name(crate::proto::codes::oid::PKINIT_SAN, &principal_der),
            &other_name(MS_UPN, &upn),
        ],
    );
    let mut extensions = vec![CustomExtension::from_oid_content(&[2, 5, 29, 17], names)];
    if let Some(sid) = sid {
        extensions.push(sid_extension(sid));
    }
    Ok(extensions)
}

/// The KB5014754 SID extension: SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1,
/// [0] OCTET STRING sid } }.
pub fn sid_extension(sid: &str) -> CustomExtension {
    let value = der::encode(tag::OCTET_STRING, sid.as_bytes());
    let content = der::encode_parts(tag::SEQUENCE, &[&other_name(SID_OTHER_NAME, &value)]);
    CustomExtension::from_oid_content(SID_EXTENSION, content)
}

/// otherName ::= [0] { type-id OID, value [0] EXPLICIT ANY }.
fn other_name(oid: &[u32], value_der: &[u8]) -> Vec<u8> {
    der::encode_parts(
        tag::context(0),
        &[
            &der::encode_oid(oid),
            &der::encode(tag::context(0), value_der),
        ],
    )
}

const UTF8_STRING: u8 = 0x0c;
const MS_UPN: &[u32] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
const SID_EXTENSION: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 25, 2];
const SID_OTHER_NAME: &[u32] = &[1, 3, 6, 1, 4, 1, 311, 25, 2, 1];
