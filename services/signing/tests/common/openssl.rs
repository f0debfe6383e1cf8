//! The OpenSSL CLI as a citizen's verifier and as an outside CA: a temporary folder, `openssl cms
//! -verify` exactly as docs/api.md tells a citizen to run it, and a CA of its own (a root, a branch
//! intermediate, leaf certificates with chosen validity) whose keys the test holds, so a test can
//! make signatures signing never made: after a certificate expired, or after it was revoked.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use chrono::{DateTime, Utc};

/// A temporary folder, removed when dropped.
pub struct Folder(PathBuf);

impl Folder {
    /// A new, empty folder under the system's temporary folder.
    pub fn new(purpose: &str) -> Self {
        let path = std::env::temp_dir().join(format!("motcua-{purpose}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("temp folder");
        Self(path)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` in the folder.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.0.join(name), contents).unwrap_or_else(|error| panic!("write {name}: {error}"));
    }

    /// Reads `name` from the folder as text.
    pub fn read_string(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).unwrap_or_else(|error| panic!("read {name}: {error}"))
    }

    /// Reads `name` from the folder.
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.0.join(name)).unwrap_or_else(|error| panic!("read {name}: {error}"))
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl` with `arguments` in `folder`.
pub fn run(folder: &Folder, arguments: &[&str]) -> Output {
    Command::new("openssl")
        .args(arguments)
        .current_dir(folder.path())
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is required for this test and could not run: {error}"))
}

/// Runs `openssl` with `arguments` in `folder`, which must succeed.
pub fn must(folder: &Folder, arguments: &[&str]) {
    let output = run(folder, arguments);
    assert!(output.status.success(), "openssl {arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// `openssl cms -verify -binary -inform DER -purpose any` of the detached `cms_der` over `document`,
/// trusting `trusted_pem` (certificates, and CRLs when `extra` has `-crl_check`), with `extra`
/// arguments such as `-attime`. `Err` carries OpenSSL's complaint, so a test can say why it refused.
pub fn cms_verify(
    folder: &Folder,
    document: &[u8],
    cms_der: &[u8],
    trusted_pem: &str,
    extra: &[&str],
) -> Result<(), String> {
    folder.write("verified-document", document);
    folder.write("verified.p7s", cms_der);
    folder.write("trusted.pem", trusted_pem);
    let mut arguments =
        vec!["cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-CAfile", "trusted.pem"];
    arguments.extend(extra);
    arguments.extend(["-content", "verified-document", "-in", "verified.p7s", "-out", "/dev/null"]);
    let output = run(folder, &arguments);
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

/// The `-attime` argument for `time`: OpenSSL then checks every certificate's validity at that moment
/// instead of now, as a verifier does at the signing time.
pub fn at_time(time: &prost_types::Timestamp) -> String {
    time.seconds.to_string()
}

/// An outside CA in a folder, made with the OpenSSL CLI: `root.pem`/`root.key` (a trust anchor),
/// `int.pem`/`int.key` (the intermediate of branch CN05), and leaves it issues on demand.
pub struct OutsideCa {
    /// Where its files are.
    pub folder: Folder,
}

impl OutsideCa {
    /// A root and the CN05 intermediate, both with P-256 keys.
    pub fn new() -> Self {
        let folder = Folder::new("outside-ca");
        folder.write(
            "ca.ext",
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        );
        folder.write(
            "leaf.ext",
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        );
        // `openssl ca`, unlike `openssl x509 -req`, takes a leaf's validity as two dates, so a test can
        // make a certificate that expires a few seconds from now.
        std::fs::create_dir_all(folder.path().join("issued")).expect("issued folder");
        folder.write("issued/index.txt", "");
        folder.write("issued/serial", "1000\n");
        folder.write(
            "ca.cnf",
            "[ca]\ndefault_ca = outside\n[outside]\ndatabase = issued/index.txt\nserial = issued/serial\n\
             new_certs_dir = issued\ndefault_md = sha256\npolicy = any\nunique_subject = no\n\
             copy_extensions = none\n[any]\ncommonName = supplied\n",
        );
        must(
            &folder,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "root.key",
                "-out",
                "root.pem",
                "-subj",
                "/C=VN/O=Outside CA/CN=Outside Root",
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Self::request(&folder, "int", "/C=VN/O=Outside CA/OU=CN05/CN=Outside CN05 CA");
        must(
            &folder,
            &[
                "x509",
                "-req",
                "-in",
                "int.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-out",
                "int.pem",
                "-days",
                "3650",
                "-extfile",
                "ca.ext",
            ],
        );
        Self { folder }
    }

    fn request(folder: &Folder, name: &str, subject: &str) {
        let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
        must(
            folder,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                subject,
            ],
        );
    }

    /// Issues `name.pem`/`name.key`, a person's signing certificate in CN05 valid from `not_before` to
    /// `not_after`.
    pub fn issue_leaf(&self, name: &str, common_name: &str, not_before: DateTime<Utc>, not_after: DateTime<Utc>) {
        Self::request(&self.folder, name, &format!("/C=VN/O=Outside CA/OU=CN05/CN={common_name}"));
        let (csr, pem) = (format!("{name}.csr"), format!("{name}.pem"));
        let (start, end) =
            (not_before.format("%Y%m%d%H%M%SZ").to_string(), not_after.format("%Y%m%d%H%M%SZ").to_string());
        must(
            &self.folder,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-cert",
                "int.pem",
                "-keyfile",
                "int.key",
                "-in",
                &csr,
                "-out",
                &pem,
                "-startdate",
                &start,
                "-enddate",
                &end,
                "-extfile",
                "leaf.ext",
                "-notext",
                "-preserveDN",
            ],
        );
    }

    /// `name.p12`: the leaf `name` with its key and the intermediate, as `openssl pkcs12 -export`
    /// writes it, under `password`.
    pub fn export_pkcs12(&self, name: &str, password: &str) -> Vec<u8> {
        let (key, pem, p12, pass) =
            (format!("{name}.key"), format!("{name}.pem"), format!("{name}.p12"), format!("pass:{password}"));
        must(
            &self.folder,
            &[
                "pkcs12",
                "-export",
                "-inkey",
                &key,
                "-in",
                &pem,
                "-certfile",
                "int.pem",
                "-passout",
                &pass,
                "-out",
                &p12,
            ],
        );
        self.folder.read(&p12)
    }

    /// A detached CMS signature (DER) over `document` made now by the leaf `name`, carrying the
    /// intermediate, with OpenSSL's default signed attributes (content type, signing time, message
    /// digest): a signature made outside signing with a key signing does not hold alone.
    pub fn sign(&self, name: &str, document: &[u8]) -> Vec<u8> {
        self.folder.write("signed-document", document);
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        must(
            &self.folder,
            &[
                "cms",
                "-sign",
                "-binary",
                "-md",
                "sha256",
                "-in",
                "signed-document",
                "-signer",
                &pem,
                "-inkey",
                &key,
                "-certfile",
                "int.pem",
                "-outform",
                "DER",
                "-out",
                "made.p7s",
            ],
        );
        self.folder.read("made.p7s")
    }

    /// The root and the intermediate, PEM: what a verifier trusts.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.folder.read_string("root.pem"), self.folder.read_string("int.pem"))
    }
}
