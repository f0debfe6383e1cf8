//! Test fixtures: a throw-away folder of TLS files (a CA, a server certificate it issued, a CRL) and
//! more certificates from the same CA.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, Issuer, KeyIdMethod, KeyPair,
    RevokedCertParams, SerialNumber, date_time_ymd,
};

use crate::config::TlsFiles;

/// A folder removed when dropped.
pub(super) struct Folder(pub(super) PathBuf);

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A certificate for `localhost` issued by `issuer`, and its key, in PEM.
pub(super) fn issue(issuer: &Issuer<'static, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let certificate = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, issuer)
        .expect("certificate");
    (certificate.pem(), key.serialize_pem())
}

/// A CA, a server certificate it issued and a CRL revoking serial 7, written to a fresh folder;
/// and the CA, to issue more.
pub(super) fn files(name: &str) -> (Folder, TlsFiles, Issuer<'static, KeyPair>) {
    let folder = std::env::temp_dir().join(format!("motcua-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("CA key");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let (server_cert, server_key) = issue(&issuer);
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 1, 1),
        next_update: date_time_ymd(2099, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(7u64),
            revocation_time: date_time_ymd(2025, 1, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .expect("CRL");
    let write = |file: &str, contents: String| {
        let path = folder.join(file);
        std::fs::write(&path, contents).expect("write");
        path
    };
    let files = TlsFiles {
        cert: write("tls.crt", server_cert),
        key: write("tls.key", server_key),
        client_ca: write("ca.crt", ca.pem()),
        client_crl: Some(write("ca.crl", crl.pem().expect("CRL PEM"))),
    };
    (Folder(folder), files, issuer)
}
