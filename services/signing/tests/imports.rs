//! Imports from an outside CA, made here with the OpenSSL CLI: its root as a trust anchor (PEM, no
//! key), its intermediate with its key (PEM), an officer's certificate and key (a PKCS#12 file as
//! `openssl pkcs12 -export` writes it); the officer then signs exactly as one issued here, OpenSSL
//! verifies the signature, and the imported intermediate issues a seal. Wrong passwords and unknown
//! chains are refused.

mod common;

use std::{path::Path, process::Command};

use common::{reason, request_id, start};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use tonic::Code;

fn openssl(folder: &Path, arguments: &[&str]) {
    let output = Command::new("openssl")
        .args(arguments)
        .current_dir(folder)
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is required for this test and could not run: {error}"));
    assert!(output.status.success(), "openssl {arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn read(folder: &Path, name: &str) -> String {
    std::fs::read_to_string(folder.join(name)).expect("file")
}

/// An outside CA in `folder`: `root.pem`, `int.pem` + `int.key`, `officer.p12` (password `p12-secret`)
/// and `stranger.p12` from another root.
fn outside_ca(folder: &Path) {
    std::fs::write(
        folder.join("ca.ext"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .expect("ext");
    std::fs::write(
        folder.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .expect("ext");
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    for (name, subject) in
        [("root", "/C=VN/O=Outside CA/CN=Outside Root"), ("other-root", "/C=VN/O=Other/CN=Other Root")]
    {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut arguments = vec!["req", "-x509"];
        arguments.extend(new_key);
        arguments.extend(["-keyout", &key, "-out", &pem, "-subj", subject, "-days", "3650"]);
        arguments.extend([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(folder, &arguments);
    }
    let issue = |name: &str, subject: &str, issuer: &str, extensions: &str| {
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        let mut arguments = vec!["req", "-utf8"];
        arguments.extend(new_key);
        arguments.extend(["-keyout", &key, "-out", &csr, "-subj", subject]);
        openssl(folder, &arguments);
        let (issuer_pem, issuer_key) = (format!("{issuer}.pem"), format!("{issuer}.key"));
        openssl(
            folder,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &issuer_pem,
                "-CAkey",
                &issuer_key,
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "365",
                "-extfile",
                extensions,
            ],
        );
    };
    issue("int", "/C=VN/O=Outside CA/OU=CN05/CN=Outside CN05 CA", "root", "ca.ext");
    issue("officer", "/C=VN/O=Outside CA/OU=CN05/CN=Lê Văn Cường", "int", "leaf.ext");
    issue("stranger", "/C=VN/O=Other/CN=Stranger", "other-root", "leaf.ext");
    openssl(
        folder,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "officer.key",
            "-in",
            "officer.pem",
            "-certfile",
            "int.pem",
            "-passout",
            "pass:p12-secret",
            "-out",
            "officer.p12",
        ],
    );
    openssl(
        folder,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "stranger.key",
            "-in",
            "stranger.pem",
            "-passout",
            "pass:p12-secret",
            "-out",
            "stranger.p12",
        ],
    );
}

fn pkcs12(folder: &Path, name: &str, password: &str) -> Option<pb::KeyMaterial> {
    Some(pb::KeyMaterial {
        format: Some(pb::key_material::Format::Pkcs12(pb::Pkcs12Bundle {
            data: std::fs::read(folder.join(name)).expect("p12"),
            password: password.to_owned(),
        })),
    })
}

fn import_officer(folder: &Path, file: &str, password: &str) -> pb::ImportCertificateRequest {
    pb::ImportCertificateRequest {
        request_id: request_id(),
        subject_kind: pb::SubjectKind::Person as i32,
        holder_id: "officer-CN05".to_owned(),
        branch_code: "CN05".to_owned(),
        roles: vec![pb::SignerRole::Officer as i32],
        key_material: pkcs12(folder, file, password),
    }
}

#[tokio::test]
async fn an_outside_ca_imported_from_pem_and_pkcs12_signs_as_one_of_ours() {
    on_every_database(|database| async move {
        let folder = std::env::temp_dir().join(format!("motcua-import-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("temp folder");
        outside_ca(&folder);
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;

        let root = client
            .import_certificate_authority(pb::ImportCertificateAuthorityRequest {
                request_id: request_id(),
                authority_id: "root".to_owned(),
                kind: pb::AuthorityKind::Root as i32,
                branch_code: String::new(),
                key_material: Some(pb::KeyMaterial {
                    format: Some(pb::key_material::Format::Pem(pb::PemBundle {
                        certificate_chain_pem: read(&folder, "root.pem"),
                        ..Default::default()
                    })),
                }),
            })
            .await
            .expect("root imported")
            .into_inner()
            .authority
            .expect("authority");
        assert!(root.imported && !root.can_issue, "{}: a trust anchor without its key", database.backend);

        let intermediate = client
            .import_certificate_authority(pb::ImportCertificateAuthorityRequest {
                request_id: request_id(),
                authority_id: "cn05".to_owned(),
                kind: pb::AuthorityKind::Intermediate as i32,
                branch_code: "CN05".to_owned(),
                key_material: Some(pb::KeyMaterial {
                    format: Some(pb::key_material::Format::Pem(pb::PemBundle {
                        certificate_chain_pem: read(&folder, "int.pem"),
                        private_key_pem: read(&folder, "int.key"),
                        private_key_password: String::new(),
                    })),
                }),
            })
            .await
            .expect("intermediate imported")
            .into_inner()
            .authority
            .expect("authority");
        assert!(intermediate.can_issue);
        assert_eq!(intermediate.parent, "authorities/root");

        let wrong_password = client
            .import_certificate(import_officer(&folder, "officer.p12", "wrong"))
            .await
            .expect_err("wrong password");
        assert_eq!(
            (wrong_password.code(), reason(&wrong_password).as_str()),
            (Code::InvalidArgument, "INVALID_KEY_MATERIAL")
        );
        let stranger = client
            .import_certificate(import_officer(&folder, "stranger.p12", "p12-secret"))
            .await
            .expect_err("unknown chain");
        assert_eq!((stranger.code(), reason(&stranger).as_str()), (Code::FailedPrecondition, "CHAIN_UNKNOWN"));

        let officer = client
            .import_certificate(import_officer(&folder, "officer.p12", "p12-secret"))
            .await
            .expect("officer imported")
            .into_inner()
            .certificate
            .expect("certificate");
        assert!(officer.imported);
        assert_eq!((officer.display_name.as_str(), officer.issuer.as_str()), ("Lê Văn Cường", "authorities/cn05"));
        assert_eq!(officer.key_storage, pb::KeyStorage::EncryptedPkcs8 as i32);

        // The imported intermediate issues the branch's seal and a leader here.
        for (kind, holder, roles) in [
            (pb::SubjectKind::Organisation, "CN05", vec![]),
            (pb::SubjectKind::Person, "leader-CN05", vec![pb::SignerRole::Approver as i32]),
        ] {
            client
                .create_certificate(pb::CreateCertificateRequest {
                    request_id: request_id(),
                    issuer: "authorities/cn05".to_owned(),
                    subject_kind: kind as i32,
                    holder_id: holder.to_owned(),
                    display_name: format!("{holder} holder"),
                    branch_code: "CN05".to_owned(),
                    roles,
                    ..Default::default()
                })
                .await
                .expect("issued by the imported intermediate");
        }
        let document = b"result signed with an imported key";
        let signature = common::sign(&mut client, "officer-CN05", document).await;
        let seal = client
            .seal(pb::SealRequest {
                request_id: request_id(),
                officer_signature: signature.name.clone(),
                approver_id: "leader-CN05".to_owned(),
                content: Some(pb::seal_request::Content::Document(document.to_vec())),
            })
            .await
            .expect("sealed")
            .into_inner()
            .seal
            .expect("seal");
        for record in [&signature, &seal] {
            std::fs::write(folder.join("doc"), document).expect("document");
            std::fs::write(folder.join("sig.p7s"), &record.cms_der).expect("signature");
            std::fs::write(folder.join("chain.pem"), &record.chain_pem).expect("chain");
            openssl(
                &folder,
                &[
                    "cms",
                    "-verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-purpose",
                    "any",
                    "-CAfile",
                    "chain.pem",
                    "-content",
                    "doc",
                    "-in",
                    "sig.p7s",
                    "-out",
                    "/dev/null",
                ],
            );
            let verified = client
                .verify_signature(pb::VerifySignatureRequest {
                    signature_source: Some(pb::verify_signature_request::SignatureSource::Signature(
                        record.name.clone(),
                    )),
                    content: Some(pb::verify_signature_request::Content::Document(document.to_vec())),
                })
                .await
                .expect("answered")
                .into_inner();
            assert!(verified.valid, "{}: {verified:?}", database.backend);
        }
        let _ = std::fs::remove_dir_all(&folder);
        server.stop().await.expect("clean stop");
    })
    .await;
}
