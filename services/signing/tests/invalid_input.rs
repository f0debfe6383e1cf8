//! Every unary RPC of signing that takes client input, sent generated requests (any text and bytes as
//! names, documents, CMS signatures, PEM and PKCS#12 bundles; huge and negative sizes and indices;
//! unknown enum values; bogus page tokens and tile paths) against one running service on SQLite: each
//! answer is OK or a clean error, INVALID_ARGUMENT with its details for invalid input, never INTERNAL,
//! UNKNOWN or a dropped connection.

mod common;

use common::{Client, client, deploy, sign, start};
use motcua_chassis::testing::{
    TestDatabase,
    invalid_input::{
        bytes, check_rpc, enum_value, int32, int64, mostly, name, optional_text, page_size, page_token, request_id,
        some, text, timestamp,
    },
};
use motcua_proto::motcua::signing::v1::{
    self as pb, get_inclusion_proof_request, key_material, seal_request, sign_request, verify_signature_request,
};
use proptest::prelude::*;

const BRANCH: &str = "CN01";

/// What exists in the service, so that generated requests also reach past the validators.
struct Known {
    authorities: Vec<String>,
    certificates: Vec<String>,
    signatures: Vec<String>,
    /// A CMS signature the service made, in DER.
    cms_der: Vec<u8>,
    /// The root's certificate in PEM.
    certificate_pem: String,
}

/// One service with a deployment for `BRANCH` and one signature.
fn start_signing() -> (tokio::runtime::Runtime, TestDatabase, motcua_chassis::server::RunningServer, Client, Known) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let database = TestDatabase::sqlite();
    let (server, client, known) = runtime.block_on(async {
        let server = start(&database).await;
        let mut signing = client(server.local_addr).await;
        let deployment = deploy(&mut signing, BRANCH, true, pb::KeyAlgorithm::EcdsaP256).await;
        let signature = sign(&mut signing, &format!("officer-{BRANCH}"), b"a document").await;
        let known = Known {
            authorities: vec!["authorities/root".to_owned(), format!("authorities/{}", BRANCH.to_lowercase())],
            certificates: [
                &deployment.root,
                &deployment.intermediate,
                &deployment.officer,
                &deployment.leader,
                &deployment.seal,
            ]
            .iter()
            .map(|certificate| certificate.name.clone())
            .collect(),
            signatures: vec![signature.name.clone()],
            cms_der: signature.cms_der.clone(),
            certificate_pem: deployment.root.chain_pem.clone(),
        };
        (server, signing, known)
    });
    (runtime, database, server, client, known)
}

/// A key algorithm of the fast kinds (RSA key generation would take most of the run), or an unknown one.
fn key_algorithm() -> BoxedStrategy<i32> {
    prop_oneof![2 => Just(0), 2 => Just(pb::KeyAlgorithm::EcdsaP256 as i32), 1 => 3..10, 1 => any::<i32>()].boxed()
}

fn display_name() -> BoxedStrategy<String> {
    mostly("Nguyễn Văn An".to_owned(), text())
}

fn validity_days() -> BoxedStrategy<i32> {
    mostly(0, int32())
}

/// An optional branch filter, mostly absent.
fn branch_filter() -> BoxedStrategy<String> {
    mostly(String::new(), branch())
}

fn branch() -> BoxedStrategy<String> {
    prop_oneof![Just(BRANCH.to_owned()), Just("CN02".to_owned()), text()].boxed()
}

fn key_material(known: &Known) -> BoxedStrategy<Option<pb::KeyMaterial>> {
    let pem_text = prop_oneof![
        Just(known.certificate_pem.clone()),
        text().prop_map(|body| format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")),
        text(),
    ];
    let key_text = prop_oneof![
        Just(String::new()),
        text().prop_map(|body| format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")),
        text(),
    ];
    prop_oneof![
        Just(None),
        Just(Some(pb::KeyMaterial { format: None })),
        (bytes(), text()).prop_map(|(data, password)| Some(pb::KeyMaterial {
            format: Some(key_material::Format::Pkcs12(pb::Pkcs12Bundle { data, password })),
        })),
        (pem_text, key_text, text()).prop_map(|(certificate_chain_pem, private_key_pem, private_key_password)| {
            Some(pb::KeyMaterial {
                format: Some(key_material::Format::Pem(pb::PemBundle {
                    certificate_chain_pem,
                    private_key_pem,
                    private_key_password,
                })),
            })
        }),
    ]
    .boxed()
}

/// A document or its digest: absent, any bytes, or 32 bytes.
fn sign_content() -> BoxedStrategy<Option<sign_request::Content>> {
    prop_oneof![
        Just(None),
        bytes().prop_map(|document| Some(sign_request::Content::Document(document))),
        bytes().prop_map(|digest| Some(sign_request::Content::DocumentSha256(digest))),
        any::<[u8; 32]>().prop_map(|digest| Some(sign_request::Content::DocumentSha256(digest.to_vec()))),
    ]
    .boxed()
}

#[test]
fn authorities_and_certificates_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start_signing();
    let authority = name("authorities", known.authorities.clone());
    let certificate = name("certificates", known.certificates.clone());
    check_rpc(
        &runtime,
        "CreateCertificateAuthority",
        (
            request_id(),
            mostly("cn02".to_owned(), text()),
            mostly(pb::AuthorityKind::Intermediate as i32, enum_value()),
            branch(),
            authority.clone(),
            display_name(),
            key_algorithm(),
            validity_days(),
        )
            .prop_map(
                |(request_id, authority_id, kind, branch_code, parent, display_name, key_algorithm, validity_days)| {
                    pb::CreateCertificateAuthorityRequest {
                        request_id,
                        authority_id,
                        kind,
                        branch_code,
                        parent,
                        display_name,
                        key_algorithm,
                        validity_days,
                    }
                },
            ),
        |request| {
            let mut client = client.clone();
            async move { client.create_certificate_authority(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ImportCertificateAuthority",
        (request_id(), text(), enum_value(), branch(), key_material(&known)).prop_map(
            |(request_id, authority_id, kind, branch_code, key_material)| pb::ImportCertificateAuthorityRequest {
                request_id,
                authority_id,
                kind,
                branch_code,
                key_material,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.import_certificate_authority(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetCertificateAuthority",
        authority.clone().prop_map(|name| pb::GetCertificateAuthorityRequest { name }),
        |request| {
            let mut client = client.clone();
            async move { client.get_certificate_authority(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListCertificateAuthorities",
        (page_size(), page_token(), enum_value(), branch_filter()).prop_map(
            |(page_size, page_token, kind, branch_code)| pb::ListCertificateAuthoritiesRequest {
                page_size,
                page_token,
                kind,
                branch_code,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.list_certificate_authorities(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "CreateCertificate",
        (
            request_id(),
            authority.clone(),
            mostly(pb::SubjectKind::Person as i32, enum_value()),
            mostly("officer-2".to_owned(), text()),
            display_name(),
            branch(),
            mostly(vec![pb::SignerRole::Officer as i32], some(enum_value(), 3)),
            key_algorithm(),
            validity_days(),
        )
            .prop_map(
                |(
                    request_id,
                    issuer,
                    subject_kind,
                    holder_id,
                    display_name,
                    branch_code,
                    roles,
                    key_algorithm,
                    validity_days,
                )| {
                    pb::CreateCertificateRequest {
                        request_id,
                        issuer,
                        subject_kind,
                        holder_id,
                        display_name,
                        branch_code,
                        roles,
                        key_algorithm,
                        validity_days,
                    }
                },
            ),
        |request| {
            let mut client = client.clone();
            async move { client.create_certificate(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ImportCertificate",
        (request_id(), enum_value(), text(), branch(), some(enum_value(), 3), key_material(&known)).prop_map(
            |(request_id, subject_kind, holder_id, branch_code, roles, key_material)| pb::ImportCertificateRequest {
                request_id,
                subject_kind,
                holder_id,
                branch_code,
                roles,
                key_material,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.import_certificate(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetCertificate",
        certificate.clone().prop_map(|name| pb::GetCertificateRequest { name }),
        |request| {
            let mut client = client.clone();
            async move { client.get_certificate(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListCertificates",
        (
            page_size(),
            page_token(),
            mostly(String::new(), authority.clone()),
            branch_filter(),
            optional_text(),
            enum_value(),
            enum_value(),
        )
            .prop_map(|(page_size, page_token, issuer, branch_code, holder_id, subject_kind, state)| {
                pb::ListCertificatesRequest {
                    page_size,
                    page_token,
                    issuer,
                    branch_code,
                    holder_id,
                    subject_kind,
                    state,
                }
            }),
        |request| {
            let mut client = client.clone();
            async move { client.list_certificates(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetCrl",
        (authority, int64()).prop_map(|(authority, crl_number)| pb::GetCrlRequest { authority, crl_number }),
        |request| {
            let mut client = client.clone();
            async move { client.get_crl(request).await.map(drop) }
        },
    );
    // Last: a well-formed request may revoke the deployment's certificates.
    check_rpc(
        &runtime,
        "RevokeCertificate",
        (request_id(), certificate, enum_value(), text()).prop_map(|(request_id, name, reason, note)| {
            pb::RevokeCertificateRequest { request_id, name, reason, note }
        }),
        |request| {
            let mut client = client.clone();
            async move { client.revoke_certificate(request).await.map(drop) }
        },
    );
}

#[test]
fn signing_sealing_and_verifying_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start_signing();
    let signature = name("signatures", known.signatures.clone());
    let certificate = name("certificates", known.certificates.clone());
    let signer = prop_oneof![Just(format!("officer-{BRANCH}")), Just(format!("leader-{BRANCH}")), text()];
    check_rpc(
        &runtime,
        "Sign",
        (request_id(), signer.clone(), prop_oneof![Just(String::new()), certificate.clone()], sign_content(), text())
            .prop_map(|(request_id, signer_id, certificate, content, subject)| pb::SignRequest {
                request_id,
                signer_id,
                certificate,
                content,
                subject,
            }),
        |request| {
            let mut client = client.clone();
            async move { client.sign(request).await.map(drop) }
        },
    );
    let seal_content = sign_content().prop_map(|content| {
        content.map(|content| match content {
            sign_request::Content::Document(document) => seal_request::Content::Document(document),
            sign_request::Content::DocumentSha256(digest) => seal_request::Content::DocumentSha256(digest),
        })
    });
    check_rpc(
        &runtime,
        "Seal",
        (request_id(), signature.clone(), signer, seal_content).prop_map(
            |(request_id, officer_signature, approver_id, content)| pb::SealRequest {
                request_id,
                officer_signature,
                approver_id,
                content,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.seal(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetSignature",
        signature.clone().prop_map(|name| pb::GetSignatureRequest { name }),
        |request| {
            let mut client = client.clone();
            async move { client.get_signature(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListSignatures",
        (
            page_size(),
            page_token(),
            optional_text(),
            branch_filter(),
            enum_value(),
            mostly(String::new(), certificate),
            timestamp(),
            timestamp(),
        )
            .prop_map(
                |(page_size, page_token, subject, branch_code, kind, certificate, start_time, end_time)| {
                    pb::ListSignaturesRequest {
                        page_size,
                        page_token,
                        subject,
                        branch_code,
                        kind,
                        certificate,
                        start_time,
                        end_time,
                    }
                },
            ),
        |request| {
            let mut client = client.clone();
            async move { client.list_signatures(request).await.map(drop) }
        },
    );
    let cms_der = known.cms_der.clone();
    let source = prop_oneof![
        Just(None),
        signature.prop_map(|name| Some(verify_signature_request::SignatureSource::Signature(name))),
        Just(Some(verify_signature_request::SignatureSource::CmsDer(cms_der.clone()))),
        (0..cms_der.len(), any::<u8>()).prop_map(move |(index, byte)| {
            let mut changed = cms_der.clone();
            changed[index] ^= byte | 1;
            Some(verify_signature_request::SignatureSource::CmsDer(changed))
        }),
        bytes().prop_map(|der| Some(verify_signature_request::SignatureSource::CmsDer(der))),
    ];
    let content = sign_content().prop_map(|content| {
        content.map(|content| match content {
            sign_request::Content::Document(document) => verify_signature_request::Content::Document(document),
            sign_request::Content::DocumentSha256(digest) => verify_signature_request::Content::DocumentSha256(digest),
        })
    });
    check_rpc(
        &runtime,
        "VerifySignature",
        (source, content)
            .prop_map(|(signature_source, content)| pb::VerifySignatureRequest { signature_source, content }),
        |request| {
            let mut client = client.clone();
            async move { client.verify_signature(request).await.map(drop) }
        },
    );
}

#[test]
fn the_transparency_log_answers_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start_signing();
    let leaf = prop_oneof![
        Just(None),
        int64().prop_map(|index| Some(get_inclusion_proof_request::Leaf::LeafIndex(index))),
        name("signatures", known.signatures.clone())
            .prop_map(|signature| Some(get_inclusion_proof_request::Leaf::Signature(signature))),
    ];
    check_rpc(
        &runtime,
        "GetInclusionProof",
        (leaf, int64()).prop_map(|(leaf, tree_size)| pb::GetInclusionProofRequest { leaf, tree_size }),
        |request| {
            let mut client = client.clone();
            async move { client.get_inclusion_proof(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetConsistencyProof",
        (int64(), int64())
            .prop_map(|(first_size, second_size)| pb::GetConsistencyProofRequest { first_size, second_size }),
        |request| {
            let mut client = client.clone();
            async move { client.get_consistency_proof(request).await.map(drop) }
        },
    );
    let path = prop_oneof![
        Just("tile/0/000".to_owned()),
        Just("tile/entries/000".to_owned()),
        "tile/[0-9]{1,3}/(x[0-9]{3}/){0,3}[0-9]{3}(\\.p/[0-9]{1,3})?",
        "tile/entries/(x[0-9]{3}/){0,3}[0-9]{3}(\\.p/[0-9]{1,3})?",
        "[a-z0-9x./-]{0,30}",
        text(),
    ];
    check_rpc(&runtime, "GetTile", path.prop_map(|path| pb::GetTileRequest { path }), |request| {
        let mut client = client.clone();
        async move { client.get_tile(request).await.map(drop) }
    });
}
