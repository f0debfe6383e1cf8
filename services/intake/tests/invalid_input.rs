//! Every unary RPC of intake that takes client input, sent generated requests (any text, huge and
//! negative numbers, missing messages, unknown enum values, bogus names and page tokens) against one
//! running service on SQLite: each answer is OK or a clean error, INVALID_ARGUMENT with its details
//! for invalid input, never INTERNAL, UNKNOWN or a dropped connection.

use motcua_chassis::testing::{
    TestDatabase,
    invalid_input::{
        applicant, bytes, check_rpc, date, enum_value, int32, int64, mostly, name, optional_text, page_size,
        page_token, request_id, some, text, timestamp,
    },
    start_service,
};
use motcua_intake::Intake;
use motcua_proto::motcua::{
    common::v1::{Channel, Money},
    intake::v1::{self as pb, applicant_key, resolve_dossier_request, submitted_component},
};
use motcua_testkit::{
    clients,
    dossiers::{PROCEDURE, create, filing, required_components},
    people::{citizen, officer},
};
use proptest::prelude::*;

const IDENTITY: &str = "001099012345";

/// What exists in the service, so that generated requests also reach past the validators.
struct Known {
    dossiers: Vec<String>,
    documents: Vec<String>,
    component_codes: Vec<String>,
    /// The required components of `PROCEDURE`, as a valid filing lists them.
    components: Vec<pb::SubmittedComponent>,
}

/// One service, a filed dossier and a stored document for every test of this file.
fn start() -> (tokio::runtime::Runtime, TestDatabase, motcua_chassis::server::RunningServer, clients::Intake, Known) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let database = TestDatabase::sqlite();
    let (server, client, known) = runtime.block_on(async {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let filed = filing(&mut intake, "CN01", Channel::InPerson, IDENTITY).await;
        let dossier = create(&mut intake, filed).await;
        let document = intake
            .add_document(pb::AddDocumentRequest {
                request_id: motcua_testkit::request_id(),
                owner: owner_of(IDENTITY),
                title: "Giấy khai sinh".to_owned(),
                source: pb::DocumentSource::Scan as i32,
                file: Some(pb::DocumentFile {
                    media_type: "application/pdf".to_owned(),
                    content: b"%PDF-1.7".to_vec(),
                    ..Default::default()
                }),
                actor: Some(officer("CB001")),
                ..Default::default()
            })
            .await
            .expect("a document added")
            .into_inner()
            .document
            .expect("a document");
        let components = required_components(&mut intake, PROCEDURE).await;
        let component_codes = components.iter().map(|component| component.component_code.clone()).collect();
        let known = Known { dossiers: vec![dossier.name], documents: vec![document.name], component_codes, components };
        (server, intake, known)
    });
    (runtime, database, server, client, known)
}

fn owner_of(identity_number: &str) -> Option<pb::ApplicantKey> {
    Some(pb::ApplicantKey { key: Some(applicant_key::Key::IdentityNumber(identity_number.to_owned())) })
}

/// A code that exists mostly, any text sometimes.
fn code(known: &[&'static str]) -> BoxedStrategy<String> {
    prop_oneof![2 => prop::sample::select(known.to_vec()).prop_map(str::to_owned), 1 => text()].boxed()
}

fn officer_strategy() -> BoxedStrategy<Option<pb::Officer>> {
    prop_oneof![
        1 => Just(None),
        4 => Just(Some(officer("CB001"))),
        1 => (text(), text(), text()).prop_map(|(officer_id, display_name, unit)| Some(pb::Officer {
            officer_id,
            display_name,
            unit
        })),
    ]
    .boxed()
}

fn applicant_key_strategy() -> BoxedStrategy<Option<pb::ApplicantKey>> {
    prop_oneof![
        Just(None),
        Just(Some(pb::ApplicantKey { key: None })),
        Just(owner_of(IDENTITY)),
        text().prop_map(|identity| owner_of(&identity)),
        text().prop_map(|tax_code| Some(pb::ApplicantKey { key: Some(applicant_key::Key::TaxCode(tax_code)) })),
    ]
    .boxed()
}

fn document_file() -> BoxedStrategy<pb::DocumentFile> {
    let media_type = prop_oneof![Just("application/pdf".to_owned()), Just("image/png".to_owned()), text()];
    let field = (text(), text(), text()).prop_map(|(key, label, value)| pb::ExtractedField { key, label, value });
    (text(), media_type, bytes(), some(field, 3))
        .prop_map(|(file_name, media_type, content, extracted_fields)| pb::DocumentFile {
            file_name,
            media_type,
            content,
            extracted_fields,
        })
        .boxed()
}

fn submitted_components(known: &Known) -> BoxedStrategy<Vec<pb::SubmittedComponent>> {
    let component_code = prop_oneof![2 => prop::sample::select(known.component_codes.clone()), 1 => text()];
    let content = prop_oneof![
        Just(None),
        name("documents", known.documents.clone())
            .prop_map(|name| Some(submitted_component::Content::StoredDocument(name))),
        document_file().prop_map(|file| Some(submitted_component::Content::File(file))),
    ];
    let component =
        (component_code, enum_value(), int32(), content).prop_map(|(component_code, copy_kind, copies, content)| {
            pb::SubmittedComponent { component_code, copy_kind, copies, content, ..Default::default() }
        });
    some(component, 4)
}

fn hand_over_party() -> BoxedStrategy<Option<pb::HandOverParty>> {
    prop_oneof![
        Just(None),
        (text(), text(), officer_strategy()).prop_map(|(unit_code, unit_name, officer)| Some(pb::HandOverParty {
            unit_code,
            unit_name,
            officer
        })),
    ]
    .boxed()
}

/// What every move of a dossier carries: a request id, the dossier's name, the acting officer and a
/// reason.
fn move_parts(known: &Known) -> BoxedStrategy<(String, String, Option<pb::Officer>, String)> {
    (request_id(), name("dossiers", known.dossiers.clone()), officer_strategy(), text()).boxed()
}

#[test]
fn the_catalogue_answers_any_query_cleanly() {
    let (runtime, _database, _server, client, _known) = start();
    let procedure = name("procedures", vec![format!("procedures/{PROCEDURE}")]);
    check_rpc(
        &runtime,
        "ListProcedures",
        (page_size(), page_token(), enum_value(), optional_text(), optional_text()).prop_map(
            |(page_size, page_token, level, sector, query)| pb::ListProceduresRequest {
                page_size,
                page_token,
                level,
                sector,
                query,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.list_procedures(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetProcedure",
        (procedure.clone(), int32()).prop_map(|(name, version)| pb::GetProcedureRequest { name, version }),
        |request| {
            let mut client = client.clone();
            async move { client.get_procedure(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListProcedureVersions",
        procedure.prop_map(|name| pb::ListProcedureVersionsRequest { name }),
        |request| {
            let mut client = client.clone();
            async move { client.list_procedure_versions(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListBranches",
        (page_size(), page_token())
            .prop_map(|(page_size, page_token)| pb::ListBranchesRequest { page_size, page_token }),
        |request| {
            let mut client = client.clone();
            async move { client.list_branches(request).await.map(drop) }
        },
    );
}

#[test]
fn filing_and_reading_dossiers_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start();
    let branch = code(&["CN01", "CN02"]);
    let procedure = code(&[PROCEDURE, "1.001193"]);
    check_rpc(
        &runtime,
        "CreateDossier",
        (
            request_id(),
            branch.clone(),
            procedure.clone(),
            mostly(Channel::InPerson as i32, enum_value()),
            mostly(Some(citizen(IDENTITY)), applicant(IDENTITY)),
            officer_strategy(),
            mostly(known.components.clone(), submitted_components(&known)),
        )
            .prop_map(
                |(request_id, branch_code, procedure_code, channel, applicant, receiving_officer, components)| {
                    pb::CreateDossierRequest {
                        request_id,
                        branch_code,
                        procedure_code,
                        channel,
                        applicant,
                        receiving_officer,
                        components,
                    }
                },
            ),
        |request| {
            let mut client = client.clone();
            async move { client.create_dossier(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetDossier",
        (name("dossiers", known.dossiers.clone()), enum_value())
            .prop_map(|(name, view)| pb::GetDossierRequest { name, view }),
        |request| {
            let mut client = client.clone();
            async move { client.get_dossier(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListDossiers",
        (
            (page_size(), page_token(), branch, procedure, enum_value()),
            (date(), date(), applicant_key_strategy(), any::<bool>(), enum_value()),
        )
            .prop_map(
                |(
                    (page_size, page_token, branch_code, procedure_code, status),
                    (received_date_from, received_date_to, applicant, overdue_only, view),
                )| pb::ListDossiersRequest {
                    page_size,
                    page_token,
                    branch_code,
                    procedure_code,
                    status,
                    received_date_from,
                    received_date_to,
                    applicant,
                    overdue_only,
                    view,
                },
            ),
        |request| {
            let mut client = client.clone();
            async move { client.list_dossiers(request).await.map(drop) }
        },
    );
}

#[test]
fn every_move_of_a_dossier_answers_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start();
    let parts = move_parts(&known);
    macro_rules! check_move {
        ($rpc:literal, $method:ident, $strategy:expr) => {
            check_rpc(&runtime, $rpc, $strategy, |request| {
                let mut client = client.clone();
                async move { client.$method(request).await.map(drop) }
            })
        };
    }
    check_move!(
        "AcceptDossier",
        accept_dossier,
        parts.clone().prop_map(|(request_id, name, actor, reason)| pb::AcceptDossierRequest {
            request_id,
            name,
            actor,
            reason
        })
    );
    check_move!(
        "RefuseDossier",
        refuse_dossier,
        parts.clone().prop_map(|(request_id, name, actor, reason)| pb::RefuseDossierRequest {
            request_id,
            name,
            actor,
            reason
        })
    );
    check_move!(
        "StartProcessing",
        start_processing,
        (parts.clone(), hand_over_party(), timestamp()).prop_map(
            |((request_id, name, actor, reason), processing_unit, to_due_time)| pb::StartProcessingRequest {
                request_id,
                name,
                actor,
                processing_unit,
                to_due_time,
                reason,
            }
        )
    );
    check_move!(
        "TransferDossier",
        transfer_dossier,
        (parts.clone(), hand_over_party(), timestamp()).prop_map(
            |((request_id, name, actor, reason), to, to_due_time)| {
                pb::TransferDossierRequest { request_id, name, actor, to, to_due_time, reason }
            }
        )
    );
    let requested = (text(), text()).prop_map(|(component_code, note)| pb::RequestedComponent { component_code, note });
    check_move!(
        "RequestSupplement",
        request_supplement,
        (parts.clone(), some(requested, 3)).prop_map(|((request_id, name, actor, reason), requested_components)| {
            pb::RequestSupplementRequest { request_id, name, actor, reason, requested_components }
        })
    );
    check_move!(
        "SupplementDossier",
        supplement_dossier,
        (parts.clone(), submitted_components(&known)).prop_map(|((request_id, name, actor, reason), components)| {
            pb::SupplementDossierRequest { request_id, name, actor, components, reason }
        })
    );
    let money = prop_oneof![Just(None), int64().prop_map(|dong| Some(Money { dong }))];
    let fee = (text(), money, enum_value()).prop_map(|(name, amount, moment)| pb::FeeItem { name, amount, moment });
    check_move!(
        "RequestPayment",
        request_payment,
        (parts.clone(), some(fee, 3)).prop_map(|((request_id, name, actor, reason), items)| {
            pb::RequestPaymentRequest { request_id, name, actor, items, reason }
        })
    );
    check_move!(
        "ConfirmPayment",
        confirm_payment,
        (parts.clone(), name("receipts", vec![])).prop_map(|((request_id, name, actor, reason), receipt)| {
            pb::ConfirmPaymentRequest { request_id, name, actor, receipt, reason }
        })
    );
    check_move!(
        "StopDossier",
        stop_dossier,
        parts.clone().prop_map(|(request_id, name, actor, reason)| pb::StopDossierRequest {
            request_id,
            name,
            actor,
            reason
        })
    );
    check_move!(
        "WithdrawDossier",
        withdraw_dossier,
        parts.clone().prop_map(|(request_id, name, actor, reason)| pb::WithdrawDossierRequest {
            request_id,
            name,
            actor,
            reason
        })
    );
    let result_content = prop_oneof![
        Just(None),
        name("documents", known.documents.clone())
            .prop_map(|name| Some(resolve_dossier_request::ResultContent::Document(name))),
        document_file().prop_map(|file| Some(resolve_dossier_request::ResultContent::File(file))),
    ];
    check_move!(
        "ResolveDossier",
        resolve_dossier,
        (parts.clone(), result_content, any::<bool>()).prop_map(
            |((request_id, name, actor, reason), result_content, electronic)| pb::ResolveDossierRequest {
                request_id,
                name,
                actor,
                result_content,
                electronic,
                reason,
            }
        )
    );
    check_move!(
        "ApproveResult",
        approve_result,
        parts.clone().prop_map(|(request_id, name, actor, reason)| pb::ApproveResultRequest {
            request_id,
            name,
            actor,
            reason
        })
    );
    check_move!(
        "ReturnResult",
        return_result,
        (parts.clone(), enum_value()).prop_map(|((request_id, name, actor, reason), return_method)| {
            pb::ReturnResultRequest { request_id, name, actor, return_method, reason }
        })
    );
    check_move!(
        "ApologizeDossier",
        apologize_dossier,
        (parts.clone(), timestamp()).prop_map(|((request_id, name, actor, reason), new_appointment_time)| {
            pb::ApologizeDossierRequest { request_id, name, actor, reason, new_appointment_time }
        })
    );
    check_move!(
        "RateDossier",
        rate_dossier,
        (parts.clone(), enum_value()).prop_map(|((request_id, name, _, comment), rating)| pb::RateDossierRequest {
            request_id,
            name,
            rating,
            comment
        })
    );
    check_move!(
        "CreateFeedback",
        create_feedback,
        (parts, enum_value()).prop_map(|((request_id, parent, recorded_by, content), kind)| {
            pb::CreateFeedbackRequest { request_id, parent, kind, content, recorded_by }
        })
    );
}

#[test]
fn the_applicants_documents_answer_any_request_cleanly() {
    let (runtime, _database, _server, client, known) = start();
    check_rpc(
        &runtime,
        "AddDocument",
        (
            (request_id(), applicant_key_strategy(), text(), text(), enum_value(), enum_value()),
            (
                prop_oneof![Just(None), document_file().prop_map(Some)],
                text(),
                date(),
                date(),
                text(),
                officer_strategy(),
            ),
        )
            .prop_map(
                |(
                    (request_id, owner, title, document_type, source, copy_kind),
                    (file, issuer, issue_date, expiry_date, origin_dossier_code, actor),
                )| pb::AddDocumentRequest {
                    request_id,
                    owner,
                    title,
                    document_type,
                    source,
                    copy_kind,
                    file,
                    issuer,
                    issue_date,
                    expiry_date,
                    origin_dossier_code,
                    actor,
                },
            ),
        |request| {
            let mut client = client.clone();
            async move { client.add_document(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "GetDocument",
        (name("documents", known.documents.clone()), enum_value())
            .prop_map(|(name, view)| pb::GetDocumentRequest { name, view }),
        |request| {
            let mut client = client.clone();
            async move { client.get_document(request).await.map(drop) }
        },
    );
    check_rpc(
        &runtime,
        "ListApplicantDocuments",
        (page_size(), page_token(), applicant_key_strategy(), optional_text()).prop_map(
            |(page_size, page_token, owner, document_type)| pb::ListApplicantDocumentsRequest {
                page_size,
                page_token,
                owner,
                document_type,
            },
        ),
        |request| {
            let mut client = client.clone();
            async move { client.list_applicant_documents(request).await.map(drop) }
        },
    );
}
