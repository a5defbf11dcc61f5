//! PKINIT past the signature (RFC 4556 §3.2.1-§3.2.3, RFC 8070, RFC 8636): the fuzzer's bytes
//! are an AuthPack, signed with alice's registered key as the client does and sent for alice,
//! so every mutation reaches what the KDC checks after verifying the signature: the
//! PKAuthenticator (time, checksums, freshness token), the DH or ECDH domain parameters and
//! public value, clientDHNonce, the KDFs and supportedCMSTypes.
//!
//! Input: one control byte ([`Control`]), then the AuthPack DER. When the AuthPack decodes,
//! the control byte can make parts of it right for this request (the time, paChecksum, a
//! valid freshness token, the nonce, paChecksum2), so that mutations elsewhere are not all
//! stopped by the clock check; when it does not, it is signed as it is.

use std::time::SystemTime;

use kdc::preauth::pkinit::cms;
use kdc::proto::codes::padata;
use kdc::proto::kerberos::krbtgt_name;
use kdc::proto::pkinit::{AuthPack, KdcDhKeyInfo, PaPkAsRep};
use kdc::server::Transport;
use kdc::signer::software::SoftwareSigner;
use kdc::signer::{DigestAlgorithm, KdcSigner};
use kdc_client::{self as client, ClientOptions};
use rasn_kerberos::AsRep;

use crate::live_kdc::{FIXTURE, REALM, USER};
use crate::reply;

/// The KDC-REQ-BODY nonce: fixed, so that an input means the same request every time.
const BODY_NONCE: u32 = 0x2f3e_4d5c;

/// The first input byte: how the AuthPack is sent.
#[derive(Clone, Copy)]
pub struct Control(pub u8);

impl Control {
    /// Over TCP rather than UDP.
    pub const TCP: u8 = 0x01;
    /// ctime and cusec now, paChecksum over this request's body.
    pub const FIX_TIME_AND_CHECKSUM: u8 = 0x02;
    /// The freshness token the KDC handed out last.
    pub const FRESHNESS_TOKEN: u8 = 0x04;
    /// The PKAuthenticator nonce equal to the body's, as MIT's kinit sends it.
    pub const BODY_NONCE: u8 = 0x08;
    /// A right paChecksum2 (MS-PKCA §2.2.3, SHA-256).
    pub const PA_CHECKSUM2: u8 = 0x10;
    /// KDC option canonicalize (RFC 6806 §5).
    pub const CANONICALIZE: u8 = 0x20;
    /// The two high bits: the digest of the AuthPack signature, an index into the digests
    /// the fixture's key signs with.
    const DIGEST_SHIFT: u32 = 6;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    fn transport(self) -> Transport {
        if self.has(Self::TCP) {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }

    /// The digest of the AuthPack signature: one the fixture's key signs with in this build
    /// (SHA-1 needs the `openssl` feature).
    fn digest(self, signer: &SoftwareSigner) -> DigestAlgorithm {
        let usable = signer.digests();
        let index = usize::from(self.0 >> Self::DIGEST_SHIFT) % usable.len().max(1);
        usable
            .get(index)
            .copied()
            .unwrap_or(DigestAlgorithm::Sha256)
    }
}

pub fn run(data: &[u8]) {
    let Some((&control, auth_pack)) = data.split_first() else {
        return;
    };
    let control = Control(control);
    let fixture = &*FIXTURE;
    let kdc = fixture.kdc();
    let now = SystemTime::now();
    let options = ClientOptions {
        canonicalize: control.has(Control::CANONICALIZE),
        freshness_token: control
            .has(Control::FRESHNESS_TOKEN)
            .then(|| fixture.freshness_token()),
        pa_checksum2: control
            .has(Control::PA_CHECKSUM2)
            .then_some(DigestAlgorithm::Sha256),
        ..ClientOptions::new(REALM, USER)
    };
    let body = client::as_request_body(&options, now, BODY_NONCE);
    let auth_pack = match rasn::der::decode::<AuthPack>(auth_pack) {
        Ok(decoded) => fit_to_request(decoded, control, &options, &body, now),
        Err(_) => auth_pack.to_vec(),
    };
    let message = kdc
        .block_on(client::signed_as_request(
            body,
            &auth_pack,
            &kdc.signer,
            control.digest(&kdc.signer),
        ))
        .unwrap_or_else(|e| panic!("the fixture cannot sign: {e}"));
    // Every request here decodes as a KDC-REQ: none may be dropped.
    let reply = kdc
        .send(message, control.transport())
        .unwrap_or_else(|| panic!("the KDC dropped a well-formed AS-REQ"));
    if let Some(rep) = reply::as_answer(&reply) {
        check_tgt(&rep, &auth_pack);
    }
}

/// The AuthPack with the parts the control byte names made right for this request.
fn fit_to_request(
    mut auth_pack: AuthPack,
    control: Control,
    options: &ClientOptions,
    body: &rasn_kerberos::KdcReqBody,
    now: SystemTime,
) -> Vec<u8> {
    let body_der = rasn::der::encode(body).unwrap_or_else(|e| panic!("the fixture's body: {e}"));
    let right = client::pk_authenticator(options, &body_der, now, BODY_NONCE)
        .unwrap_or_else(|e| panic!("the fixture's PKAuthenticator: {e}"));
    let fuzzed = &mut auth_pack.pk_authenticator;
    if control.has(Control::FIX_TIME_AND_CHECKSUM) {
        fuzzed.ctime = right.ctime;
        fuzzed.cusec = right.cusec;
        fuzzed.pa_checksum = right.pa_checksum;
    }
    if control.has(Control::FRESHNESS_TOKEN) {
        fuzzed.freshness_token = right.freshness_token;
    }
    if control.has(Control::BODY_NONCE) {
        fuzzed.nonce = right.nonce;
    }
    if control.has(Control::PA_CHECKSUM2) {
        fuzzed.pa_checksum2 = right.pa_checksum2;
    }
    rasn::der::encode(&auth_pack).unwrap_or_else(|e| panic!("re-encoding an AuthPack: {e}"))
}

/// A TGT went to alice, who signed (the only signer here), for the krbtgt of this realm, with
/// a PA-PK-AS-REP signed by the KDC's certificate over the nonce alice signed.
fn check_tgt(rep: &AsRep, signed_auth_pack: &[u8]) {
    let alice = [USER.as_bytes()];
    let names = |name: &rasn_kerberos::PrincipalName| -> Vec<Vec<u8>> {
        name.string.iter().map(|c| c.as_bytes().to_vec()).collect()
    };
    assert_eq!(names(&rep.0.cname), alice, "a TGT for another client");
    assert_eq!(rep.0.crealm.as_bytes(), REALM.as_bytes());
    assert_eq!(rep.0.ticket.sname, krbtgt_name(REALM), "not a TGT");
    let ticket = reply::open_ticket(&rep.0.ticket);
    assert_eq!(
        names(&ticket.cname),
        alice,
        "a TGT sealed for another client"
    );
    assert_eq!(ticket.crealm.as_bytes(), REALM.as_bytes());

    let auth_pack: AuthPack = rasn::der::decode(signed_auth_pack)
        .unwrap_or_else(|e| panic!("a TGT for an AuthPack that does not decode: {e}"));
    let pa_value = rep
        .0
        .padata
        .iter()
        .flatten()
        .find(|pa| pa.r#type == padata::PK_AS_REP)
        .map(|pa| pa.value.to_vec())
        .unwrap_or_else(|| panic!("an AS-REP without PA-PK-AS-REP"));
    let Ok(PaPkAsRep::DhInfo(info)) = rasn::der::decode(&pa_value) else {
        panic!("a PA-PK-AS-REP that is not dhInfo");
    };
    let verified = cms::verify(&info.dh_signed_data, cms::ContentType::DhKeyInfo)
        .unwrap_or_else(|e| panic!("the KDC's signature does not verify: {e}"));
    assert_eq!(
        verified.signer_certificate(),
        Some(FIXTURE.kdc().kdc_certificate.as_slice()),
        "signed by another certificate than the KDC's"
    );
    let key_info: KdcDhKeyInfo = rasn::der::decode(verified.content())
        .unwrap_or_else(|e| panic!("an undecodable KDCDHKeyInfo: {e}"));
    assert_eq!(key_info.nonce, auth_pack.pk_authenticator.nonce);
    if let Some(kdf) = &info.kdf {
        let offered = auth_pack.supported_kdfs.iter().flatten();
        assert!(
            offered.map(|id| &id.kdf_id).any(|id| *id == kdf.kdf_id),
            "a KDF the client did not offer (RFC 8636 §4)"
        );
    }
    assert_eq!(
        info.server_dh_nonce.is_some(),
        auth_pack.client_dh_nonce.is_some(),
        "serverDHNonce goes with clientDHNonce (RFC 4556 §3.2.3.1)"
    );
}
