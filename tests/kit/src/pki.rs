//! A throw-away certificate authority for mutual TLS: it issues the services' and the callers'
//! certificates (identities as spiffe URIs), revokes them in CRLs, writes them to a folder of its own,
//! and configures a service under mutual TLS with a policy file.

use std::path::{Path, PathBuf};

use motcua_chassis::{ServiceConfig, ServiceKind, config::TlsFiles};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, Issuer, KeyIdMethod, KeyPair,
    RevokedCertParams, SanType, SerialNumber, date_time_ymd,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::wait::free_loopback_address;

/// A certificate and its private key, in PEM.
pub type Issued = (String, String);

/// A throw-away CA issuing the servers' and the callers' certificates, written to a folder.
pub struct Pki {
    /// Where the CA writes certificates, keys, CRLs and policies; removed when the CA is dropped.
    pub folder: PathBuf,
    /// The CA's certificate, which servers and callers trust, in PEM.
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// A new CA in a new folder.
    pub fn new() -> Self {
        let folder = std::env::temp_dir().join(format!("motcua-pki-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("pki folder");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("CA key");
        let ca = params.self_signed(&key).expect("CA certificate");
        let ca_pem = ca.pem();
        std::fs::write(folder.join("ca.pem"), &ca_pem).expect("write CA");
        Self { folder, ca_pem, issuer: Issuer::new(params, key) }
    }

    /// A certificate for `identity` (a spiffe URI SAN) and `dns` names; expired when `expired`.
    pub fn issue(&self, identity: Option<&str>, dns: &[&str], expired: bool) -> Issued {
        self.issue_numbered(identity, dns, expired, None)
    }

    /// A client certificate for `identity` with serial number `serial`, to revoke it by.
    pub fn issue_serial(&self, identity: &str, serial: u64) -> Issued {
        self.issue_numbered(Some(identity), &[], false, Some(serial))
    }

    fn issue_numbered(&self, identity: Option<&str>, dns: &[&str], expired: bool, serial: Option<u64>) -> Issued {
        let mut params =
            CertificateParams::new(dns.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>()).expect("params");
        if let Some(identity) = identity {
            params
                .subject_alt_names
                .push(SanType::URI(format!("spiffe://motcua/{identity}").try_into().expect("an IA5 URI")));
        }
        if expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        params.serial_number = serial.map(SerialNumber::from);
        let key = KeyPair::generate().expect("key");
        let certificate = params.signed_by(&key, &self.issuer).expect("issued");
        (certificate.pem(), key.serialize_pem())
    }

    /// A CRL of this CA, numbered `number`, revoking `serials`, in PEM.
    pub fn crl(&self, number: u64, serials: &[u64]) -> String {
        CertificateRevocationListParams {
            this_update: date_time_ymd(2025, 1, 1),
            next_update: date_time_ymd(2099, 1, 1),
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from(*serial),
                    revocation_time: date_time_ymd(2025, 1, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&self.issuer)
        .expect("CRL signed")
        .pem()
        .expect("CRL in PEM")
    }

    /// Writes `contents` to `name` in the folder, replacing the file in one step (as Kubernetes
    /// replaces a mounted Secret), so a reader never sees half of it.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.folder.join(name);
        let staged = self.folder.join(format!(".{name}.staged"));
        std::fs::write(&staged, contents).expect("write");
        std::fs::rename(&staged, &path).expect("rename into place");
        path
    }

    /// The configuration of `kind` on `database_url` under mutual TLS as `service/<kind>`, with the
    /// server certificate valid for `localhost`, and `policy`.
    pub fn service_config(&self, kind: ServiceKind, database_url: &str, policy: &Path) -> ServiceConfig {
        let (cert, key) = self.issue(Some(&format!("service/{}", kind.name())), &["localhost"], false);
        let mut config = ServiceConfig::for_local(kind, database_url.to_owned());
        config.dev_identity = false;
        config.tls = Some(TlsFiles {
            cert: self.write(&format!("{}.pem", kind.name()), &cert),
            key: self.write(&format!("{}.key", kind.name()), &key),
            client_ca: self.folder.join("ca.pem"),
            client_crl: None,
        });
        config.policy_file = Some(policy.to_owned());
        config.health_listen_addr = Some(free_loopback_address());
        config
    }

    /// A channel to `127.0.0.1:port` that expects the server's certificate to name `server_name`,
    /// presenting `client` when given.
    pub async fn channel(
        &self,
        port: u16,
        server_name: &str,
        client: Option<Issued>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca_pem)).domain_name(server_name);
        if let Some((cert, key)) = client {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Endpoint::from_shared(format!("https://127.0.0.1:{port}"))?.tls_config(tls)?.connect().await
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
