//! What the test citizens do through the running suite: dossiers filed, supplemented, paid, resolved,
//! signed, sealed, returned, rated, refused and withdrawn at intake; documents kept and cited; papers
//! signed for an agency; fee receipts and slips issued, rendered, looked up, replaced and cancelled;
//! and calls refused for the personal data they carry. Reporting follows all of it.

use std::time::{Duration, Instant};

use motcua_chassis::{ServiceKind, timestamps};
use motcua_proto::{
    google::r#type::Date,
    motcua::{
        common::v1::{Applicant, Channel, Citizen, CopyKind, FeeMoment, Money, Organisation, applicant::Kind},
        intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
        receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
        reporting::v1::{self as reporting, reporting_service_client::ReportingServiceClient},
        signing::v1::{self as signing, signing_service_client::SigningServiceClient},
    },
};
use motcua_testkit::{authorities::BranchDeployment, dossiers::PROCEDURE, people::actor, request_id};
use tonic::{Status, transport::Channel as GrpcChannel};

use super::{
    citizens::{MAI, MISTYPED_IDENTITY_NUMBER, MISTYPED_PHONE, MISTYPED_TAX_CODE, Person, QUYNH_HOA, THUY, UYEN},
    process::Suite,
};

const BRANCH: &str = "CN01";
const OFFICER: &str = "CB001";
const LEADER: &str = "LD001";
/// How long receipt's signing job and reporting's followers may take to catch up.
const FOLLOW_WAIT: Duration = Duration::from_secs(30);

/// A refused call and its answer, whose message and details must not echo the request's data.
pub struct Refusal {
    pub call: &'static str,
    pub status: Status,
}

/// What the run left to check.
pub struct Driven {
    pub refusals: Vec<Refusal>,
    /// The codes of the dossiers filed: not personal data, and logged, so the search must find them.
    pub dossier_codes: Vec<String>,
}

struct Clients {
    intake: IntakeServiceClient<GrpcChannel>,
    signing: SigningServiceClient<GrpcChannel>,
    receipts: ReceiptServiceClient<GrpcChannel>,
    reporting: ReportingServiceClient<GrpcChannel>,
    /// The procedure's required components.
    required: Vec<String>,
    fee_series: String,
    slip_series: String,
    /// Every receipt issued, to wait for its signature.
    issued: Vec<String>,
    dossier_codes: Vec<String>,
}

async fn channel(suite: &Suite, kind: ServiceKind) -> GrpcChannel {
    GrpcChannel::from_shared(suite.url(kind)).expect("a URL").connect().await.expect("the service answers")
}

/// Runs every citizen's story and the refused calls; returns once receipt has signed every receipt
/// and reporting has counted what happened.
pub async fn drive(suite: &Suite) -> Driven {
    let mut clients = Clients {
        intake: IntakeServiceClient::new(channel(suite, ServiceKind::Intake).await),
        signing: SigningServiceClient::new(channel(suite, ServiceKind::Signing).await),
        receipts: ReceiptServiceClient::new(channel(suite, ServiceKind::Receipt).await),
        reporting: ReportingServiceClient::new(channel(suite, ServiceKind::Reporting).await),
        required: Vec::new(),
        fee_series: String::new(),
        slip_series: String::new(),
        issued: Vec::new(),
        dossier_codes: Vec::new(),
    };
    BranchDeployment::of("CN01").officer("CB001").leader("LD001").deploy(&mut clients.signing).await;
    let procedure = clients
        .intake
        .get_procedure(intake::GetProcedureRequest { name: format!("procedures/{PROCEDURE}"), version: 0 })
        .await
        .expect("the procedure")
        .into_inner();
    clients.required = procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| component.code.clone())
        .collect();
    clients.fee_series = series(&mut clients.receipts, receipt::ReceiptKind::FeeReceipt, "01BLP0-001", "PD-26P").await;
    clients.slip_series =
        series(&mut clients.receipts, receipt::ReceiptKind::AcknowledgementSlip, "01/TTHC", "TN-26P").await;

    uyen_is_resolved_signed_sealed_returned_and_rates(&mut clients).await;
    thuy_registers_online_supplements_pays_through_mai_and_withdraws(&mut clients).await;
    quynh_hoa_keeps_documents_is_refused_and_has_a_paper_signed(&mut clients).await;
    let refusals = refused_calls(&mut clients).await;

    wait_for_signatures(&mut clients).await;
    wait_for_reporting(&mut clients.reporting).await;
    Driven { refusals, dossier_codes: clients.dossier_codes }
}

async fn series(
    receipts: &mut ReceiptServiceClient<GrpcChannel>,
    kind: receipt::ReceiptKind,
    template_symbol: &str,
    series_symbol: &str,
) -> String {
    receipts
        .create_series(receipt::CreateSeriesRequest {
            request_id: request_id(),
            series_id: String::new(),
            branch_code: BRANCH.to_owned(),
            year: local_today().year,
            kind: kind as i32,
            template_symbol: template_symbol.to_owned(),
            series_symbol: series_symbol.to_owned(),
        })
        .await
        .expect("a series")
        .into_inner()
        .series
        .expect("a series in the answer")
        .name
}

fn citizen(person: &Person) -> Option<Applicant> {
    let (year, month, day) = person.date_of_birth;
    Some(Applicant {
        kind: Some(Kind::Citizen(Citizen {
            identity_number: person.identity_number.to_owned(),
            full_name: person.full_name.to_owned(),
            date_of_birth: Some(Date { year, month, day }),
            phone: person.phone.to_owned(),
            address: person.address.to_owned(),
        })),
    })
}

/// A scan of one of `person`'s papers: its text names them, and the fields read from it are theirs.
fn paper(person: &Person, title: &str) -> intake::DocumentFile {
    let (year, month, day) = person.date_of_birth;
    let field = |key: &str, value: &str| intake::ExtractedField {
        key: key.to_owned(),
        label: String::new(),
        value: value.to_owned(),
    };
    intake::DocumentFile {
        file_name: format!("{title}.pdf"),
        media_type: "application/pdf".to_owned(),
        content: format!(
            "%PDF-1.7 {title}: {}, sinh ngày {day:02}/{month:02}/{year}, CCCD {}, {}, {}",
            person.full_name, person.identity_number, person.address, person.document_marker
        )
        .into_bytes(),
        extracted_fields: vec![
            field("so_dinh_danh", person.identity_number),
            field("ho_ten", person.full_name),
            field("ngay_sinh", &format!("{year:04}-{month:02}-{day:02}")),
            field("dia_chi", person.address),
            field("so_giay_to", person.extracted_value),
        ],
    }
}

/// `person`'s paper kept in their data store, as a counter officer scans it before filing: the
/// document's resource name, for a component to cite.
async fn kept(clients: &mut Clients, person: &Person, title: &str, copy_kind: CopyKind) -> String {
    let owner = Some(intake::ApplicantKey {
        key: Some(intake::applicant_key::Key::IdentityNumber(person.identity_number.to_owned())),
    });
    let request = intake::AddDocumentRequest {
        request_id: request_id(),
        owner,
        title: format!("{title} của {}", person.full_name),
        source: intake::DocumentSource::Scan as i32,
        copy_kind: copy_kind as i32,
        file: Some(paper(person, title)),
        actor: actor(OFFICER),
        ..Default::default()
    };
    let stored = clients.intake.add_document(request).await.expect("a paper kept in the data store").into_inner();
    stored.document.expect("a document in the answer").name
}

/// Every required component, each citing a scan of `person`'s paper kept in their data store.
async fn scanned(clients: &mut Clients, person: &Person, copy_kind: CopyKind) -> Vec<intake::SubmittedComponent> {
    let mut components = Vec::new();
    for code in clients.required.clone() {
        let document = kept(clients, person, "giay-to-kem-theo", copy_kind).await;
        components.push(intake::SubmittedComponent {
            component_code: code,
            copy_kind: copy_kind as i32,
            copies: 1,
            content: Some(intake::submitted_component::Content::StoredDocument(document)),
            ..Default::default()
        });
    }
    components
}

async fn file(
    clients: &mut Clients,
    person: &Person,
    channel: Channel,
    components: Vec<intake::SubmittedComponent>,
) -> intake::Dossier {
    let dossier = clients
        .intake
        .create_dossier(intake::CreateDossierRequest {
            request_id: request_id(),
            branch_code: BRANCH.to_owned(),
            procedure_code: PROCEDURE.to_owned(),
            channel: channel as i32,
            applicant: citizen(person),
            receiving_officer: actor(OFFICER),
            components,
        })
        .await
        .unwrap_or_else(|status| panic!("{}'s dossier is filed: {status:?}", person.full_name))
        .into_inner()
        .dossier
        .expect("a dossier in the answer");
    clients.dossier_codes.push(dossier.dossier_code.clone());
    dossier
}

fn content(payer: &Person, dossier_code: &str, amount: i64) -> receipt::ReceiptContent {
    receipt::ReceiptContent {
        collecting_organisation: "Trung tâm Phục vụ hành chính công thành phố Hà Nội".to_owned(),
        collecting_tax_code: "0101234567".to_owned(),
        payer: citizen(payer),
        dossier_code: dossier_code.to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        items: vec![receipt::ReceiptItem { name: "Lệ phí".to_owned(), amount: Some(Money { dong: amount }) }],
        payment_method: receipt::PaymentMethod::Cash as i32,
        issue_date: None,
        collector: Some(receipt::Collector {
            officer_id: OFFICER.to_owned(),
            display_name: "Nguyễn Văn An".to_owned(),
        }),
        acknowledgement: None,
    }
}

async fn issue(clients: &mut Clients, series: String, content: receipt::ReceiptContent) -> receipt::Receipt {
    let issued = clients
        .receipts
        .issue_receipt(receipt::IssueReceiptRequest { request_id: request_id(), series, content: Some(content) })
        .await
        .unwrap_or_else(|status| panic!("a receipt is issued: {status:?}"))
        .into_inner()
        .receipt
        .expect("a receipt in the answer");
    clients.issued.push(issued.name.clone());
    issued
}

async fn uyen_is_resolved_signed_sealed_returned_and_rates(clients: &mut Clients) {
    let components = scanned(clients, &UYEN, CopyKind::Original).await;
    let dossier = file(clients, &UYEN, Channel::InPerson, components).await;
    let name = dossier.name.clone();
    let slip = receipt::ReceiptContent {
        collecting_tax_code: String::new(),
        items: Vec::new(),
        payment_method: receipt::PaymentMethod::Unspecified as i32,
        acknowledgement: Some(receipt::Acknowledgement {
            procedure_name: dossier.procedure_name.clone(),
            receive_time: dossier.receive_time,
            appointment_time: dossier.appointment_time,
            components: vec![receipt::AcknowledgedComponent {
                name: "Giấy tờ kèm theo".to_owned(),
                copy_kind: CopyKind::Original as i32,
                copies: 1,
            }],
        }),
        ..content(&UYEN, &dossier.dossier_code, 0)
    };
    let slip_series = clients.slip_series.clone();
    issue(clients, slip_series, slip).await;

    let intake = &mut clients.intake;
    let request = intake::StartProcessingRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: actor(OFFICER),
        ..Default::default()
    };
    intake.start_processing(request).await.expect("processing");
    let result = intake::DocumentFile {
        file_name: "phieu-ket-qua.pdf".to_owned(),
        media_type: "application/pdf".to_owned(),
        content: format!(
            "%PDF-1.7 Kết quả cấp cho {}, CCCD {}, {}",
            UYEN.full_name, UYEN.identity_number, UYEN.document_marker
        )
        .into_bytes(),
        extracted_fields: Vec::new(),
    };
    intake
        .resolve_dossier(intake::ResolveDossierRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor(OFFICER),
            result_content: Some(intake::resolve_dossier_request::ResultContent::File(result)),
            electronic: true,
            reason: String::new(),
        })
        .await
        .expect("resolved, the officer's signature made by signing");
    let request = intake::ApproveResultRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: actor(LEADER),
        reason: String::new(),
    };
    intake.approve_result(request).await.expect("approved, the seal applied by signing");

    let fee_series = clients.fee_series.clone();
    let fee = issue(clients, fee_series, content(&UYEN, &dossier.dossier_code, 200_000)).await;
    for format in [receipt::RenderFormat::Pdf, receipt::RenderFormat::Xml] {
        let request = receipt::RenderReceiptRequest { name: fee.name.clone(), format: format as i32 };
        clients.receipts.render_receipt(request).await.expect("rendered");
    }
    let request = receipt::LookupReceiptRequest { lookup_code: fee.lookup_code.clone() };
    clients.receipts.lookup_receipt(request).await.expect("looked up by its code");

    let intake = &mut clients.intake;
    intake
        .return_result(intake::ReturnResultRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor(OFFICER),
            return_method: intake::ReturnMethod::Electronic as i32,
            reason: String::new(),
        })
        .await
        .expect("returned");
    let rating = intake::RateDossierRequest {
        request_id: request_id(),
        name: name.clone(),
        rating: intake::Rating::Satisfied as i32,
        comment: UYEN.own_words.to_owned(),
    };
    intake.rate_dossier(rating).await.expect("rated");
    intake
        .create_feedback(intake::CreateFeedbackRequest {
            request_id: request_id(),
            parent: name.clone(),
            kind: intake::FeedbackKind::Complaint as i32,
            content: format!("{}; số điện thoại {}; {}", UYEN.own_words, UYEN.phone, UYEN.address),
            recorded_by: actor(OFFICER),
        })
        .await
        .expect("a complaint recorded");
    let request = intake::GetDossierRequest { name, view: intake::DossierView::Full as i32 };
    intake.get_dossier(request).await.expect("read in full");
}

async fn thuy_registers_online_supplements_pays_through_mai_and_withdraws(clients: &mut Clients) {
    let components = scanned(clients, &THUY, CopyKind::Electronic).await;
    let dossier = file(clients, &THUY, Channel::Online, components).await;
    let name = dossier.name.clone();
    let first_component = clients.required.first().cloned().unwrap_or_default();
    let rescanned = kept(clients, &THUY, "ban-chup-lai", CopyKind::Electronic).await;
    let intake = &mut clients.intake;
    let request = intake::AcceptDossierRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: actor(OFFICER),
        reason: String::new(),
    };
    intake.accept_dossier(request).await.expect("accepted");
    intake
        .request_supplement(intake::RequestSupplementRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor(OFFICER),
            reason: "Bản chụp không đọc được".to_owned(),
            requested_components: vec![intake::RequestedComponent {
                component_code: first_component.clone(),
                note: "Chụp lại rõ nét".to_owned(),
            }],
        })
        .await
        .expect("a supplement requested");
    intake
        .supplement_dossier(intake::SupplementDossierRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor(OFFICER),
            components: vec![intake::SubmittedComponent {
                component_code: first_component,
                copy_kind: CopyKind::Electronic as i32,
                copies: 1,
                content: Some(intake::submitted_component::Content::StoredDocument(rescanned)),
                ..Default::default()
            }],
            reason: THUY.own_words.to_owned(),
        })
        .await
        .expect("supplemented");
    let request = intake::StartProcessingRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: actor(OFFICER),
        ..Default::default()
    };
    intake.start_processing(request).await.expect("processing");
    intake
        .request_payment(intake::RequestPaymentRequest {
            request_id: request_id(),
            name: name.clone(),
            actor: actor(OFFICER),
            items: vec![intake::FeeItem {
                name: "Lệ phí".to_owned(),
                amount: Some(Money { dong: 100_000 }),
                moment: FeeMoment::AtIntake as i32,
            }],
            reason: String::new(),
        })
        .await
        .expect("payment requested");

    let fee_series = clients.fee_series.clone();
    let paid = issue(clients, fee_series, content(&MAI, &dossier.dossier_code, 100_000)).await;
    let intake = &mut clients.intake;
    let request = intake::ConfirmPaymentRequest {
        request_id: request_id(),
        name: name.clone(),
        actor: actor(OFFICER),
        receipt: paid.name.clone(),
        reason: format!("{} nộp thay", MAI.full_name),
    };
    intake.confirm_payment(request).await.expect("payment confirmed");
    let replaced = clients
        .receipts
        .replace_receipt(receipt::ReplaceReceiptRequest {
            request_id: request_id(),
            name: paid.name,
            reason: format!("Sai số điện thoại người nộp {}", MAI.phone),
            series: String::new(),
            content: Some(content(&MAI, &dossier.dossier_code, 100_000)),
        })
        .await
        .expect("replaced")
        .into_inner();
    clients.issued.extend(replaced.replacement.map(|replacement| replacement.name));
    let request = intake::WithdrawDossierRequest {
        request_id: request_id(),
        name,
        actor: actor(OFFICER),
        reason: THUY.own_words.to_owned(),
    };
    clients.intake.withdraw_dossier(request).await.expect("withdrawn");
}

async fn quynh_hoa_keeps_documents_is_refused_and_has_a_paper_signed(clients: &mut Clients) {
    let owner = Some(intake::ApplicantKey {
        key: Some(intake::applicant_key::Key::IdentityNumber(QUYNH_HOA.identity_number.to_owned())),
    });
    let intake = &mut clients.intake;
    let stored = intake
        .add_document(intake::AddDocumentRequest {
            request_id: request_id(),
            owner: owner.clone(),
            title: format!("Bằng tốt nghiệp của {}", QUYNH_HOA.full_name),
            document_type: String::new(),
            source: intake::DocumentSource::Scan as i32,
            copy_kind: CopyKind::Copy as i32,
            file: Some(paper(&QUYNH_HOA, "bang-tot-nghiep")),
            issuer: "Trường Đại học Hà Nội".to_owned(),
            issue_date: None,
            expiry_date: None,
            origin_dossier_code: String::new(),
            actor: actor(OFFICER),
        })
        .await
        .expect("a document kept in her data store")
        .into_inner()
        .document
        .expect("a document in the answer");
    let request = intake::ListApplicantDocumentsRequest { owner: owner.clone(), ..Default::default() };
    intake.list_applicant_documents(request).await.expect("her documents listed");
    let request = intake::GetDocumentRequest { name: stored.name.clone(), view: intake::DocumentView::Full as i32 };
    intake.get_document(request).await.expect("her document read in full");

    let cited = clients
        .required
        .iter()
        .map(|code| intake::SubmittedComponent {
            component_code: code.clone(),
            content: Some(intake::submitted_component::Content::StoredDocument(stored.name.clone())),
            ..Default::default()
        })
        .collect();
    let dossier = file(clients, &QUYNH_HOA, Channel::InPerson, cited).await;
    let intake = &mut clients.intake;
    let request = intake::RefuseDossierRequest {
        request_id: request_id(),
        name: dossier.name.clone(),
        actor: actor(OFFICER),
        reason: format!("Không thuộc thẩm quyền; bà {} ở {}", QUYNH_HOA.full_name, QUYNH_HOA.address),
    };
    intake.refuse_dossier(request).await.expect("refused");
    let request =
        intake::ListDossiersRequest { applicant: owner, view: intake::DossierView::Full as i32, ..Default::default() };
    intake.list_dossiers(request).await.expect("her dossiers listed");

    let document = format!(
        "Bản sao chứng thực cấp cho {}, CCCD {}, {}",
        QUYNH_HOA.full_name, QUYNH_HOA.identity_number, QUYNH_HOA.document_marker
    )
    .into_bytes();
    let signature = clients
        .signing
        .sign(signing::SignRequest {
            request_id: request_id(),
            signer_id: OFFICER.to_owned(),
            certificate: String::new(),
            content: Some(signing::sign_request::Content::Document(document.clone())),
            subject: dossier.name,
        })
        .await
        .expect("signed for an agency")
        .into_inner()
        .signature
        .expect("a signature in the answer");
    let verified = clients
        .signing
        .verify_signature(signing::VerifySignatureRequest {
            signature_source: Some(signing::verify_signature_request::SignatureSource::Signature(signature.name)),
            content: Some(signing::verify_signature_request::Content::Document(document)),
        })
        .await
        .expect("verified")
        .into_inner();
    assert!(verified.valid, "the paper's signature verifies: {verified:?}");

    let fee_series = clients.fee_series.clone();
    let fee = issue(clients, fee_series, content(&QUYNH_HOA, &dossier.dossier_code, 50_000)).await;
    let request = receipt::CancelReceiptRequest {
        request_id: request_id(),
        name: fee.name,
        reason: format!("Thu nhầm của {}", QUYNH_HOA.full_name),
        officer_id: OFFICER.to_owned(),
    };
    clients.receipts.cancel_receipt(request).await.expect("cancelled");
}

/// Calls the services refuse, each with personal data in the request.
async fn refused_calls(clients: &mut Clients) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    let mut mistyped = citizen(&UYEN);
    if let Some(Applicant { kind: Some(Kind::Citizen(citizen)) }) = mistyped.as_mut() {
        citizen.identity_number = MISTYPED_IDENTITY_NUMBER.to_owned();
        citizen.phone = MISTYPED_PHONE.to_owned();
    }
    let create = |applicant: Option<Applicant>, request_id: String| intake::CreateDossierRequest {
        request_id,
        branch_code: BRANCH.to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        channel: Channel::InPerson as i32,
        applicant,
        receiving_officer: actor(OFFICER),
        components: Vec::new(),
    };
    let status = clients
        .intake
        .create_dossier(create(mistyped.clone(), request_id()))
        .await
        .expect_err("a mistyped identity number and phone");
    refusals.push(Refusal { call: "CreateDossier with a mistyped identity number and phone", status });

    let organisation = Some(Applicant {
        kind: Some(Kind::Organisation(Organisation {
            tax_code: MISTYPED_TAX_CODE.to_owned(),
            name: format!("Hộ kinh doanh {}", UYEN.full_name),
            address: UYEN.address.to_owned(),
            phone: UYEN.phone.to_owned(),
        })),
    });
    let status =
        clients.intake.create_dossier(create(organisation, request_id())).await.expect_err("a wrong check digit");
    refusals.push(Refusal { call: "CreateDossier with a mistyped tax code", status });

    // The same request id again with another applicant: refused as a reuse, whatever it carries.
    let reused_request_id = request_id();
    let mut components = scanned(clients, &MAI, CopyKind::Original).await;
    let first = create(citizen(&MAI), reused_request_id.clone());
    clients
        .intake
        .create_dossier(intake::CreateDossierRequest { components: components.clone(), ..first })
        .await
        .expect("filed");
    components.truncate(1);
    let reused = intake::CreateDossierRequest { components, ..create(citizen(&THUY), reused_request_id) };
    let status = clients.intake.create_dossier(reused).await.expect_err("a reused request id");
    refusals.push(Refusal { call: "CreateDossier reusing a request id", status });

    let mistyped_key = Some(intake::ApplicantKey {
        key: Some(intake::applicant_key::Key::IdentityNumber(MISTYPED_IDENTITY_NUMBER.to_owned())),
    });
    let request = intake::ListDossiersRequest { applicant: mistyped_key.clone(), ..Default::default() };
    let status = clients.intake.list_dossiers(request).await.expect_err("a mistyped identity number");
    refusals.push(Refusal { call: "ListDossiers by a mistyped identity number", status });

    let mut unreadable = paper(&THUY, "anh-chup");
    unreadable.media_type = "text/plain".to_owned();
    let request = intake::AddDocumentRequest {
        request_id: request_id(),
        owner: mistyped_key,
        title: format!("Ảnh chụp của {}", THUY.full_name),
        source: intake::DocumentSource::Upload as i32,
        file: Some(unreadable),
        actor: actor(OFFICER),
        ..Default::default()
    };
    let status = clients.intake.add_document(request).await.expect_err("a mistyped owner and a media type not taken");
    refusals.push(Refusal { call: "AddDocument with a mistyped owner", status });

    let mut payer = content(&MAI, "", 10_000);
    if let Some(Applicant { kind: Some(Kind::Citizen(citizen)) }) = payer.payer.as_mut() {
        citizen.identity_number = MISTYPED_IDENTITY_NUMBER.to_owned();
        citizen.phone = MISTYPED_PHONE.to_owned();
    }
    let request = receipt::IssueReceiptRequest {
        request_id: request_id(),
        series: clients.fee_series.clone(),
        content: Some(payer),
    };
    let status = clients.receipts.issue_receipt(request).await.expect_err("a mistyped payer");
    refusals.push(Refusal { call: "IssueReceipt with a mistyped payer", status });

    let document =
        format!("Giấy ủy quyền của {} cho {}, {}", QUYNH_HOA.full_name, MAI.full_name, QUYNH_HOA.document_marker)
            .into_bytes();
    let request = signing::SignRequest {
        request_id: request_id(),
        signer_id: "CB999".to_owned(),
        certificate: String::new(),
        content: Some(signing::sign_request::Content::Document(document)),
        subject: String::new(),
    };
    let status = clients.signing.sign(request).await.expect_err("no such signer");
    refusals.push(Refusal { call: "Sign by an officer without a certificate", status });
    refusals
}

/// Until receipt's background job has had signing sign every receipt issued.
async fn wait_for_signatures(clients: &mut Clients) {
    let deadline = Instant::now() + FOLLOW_WAIT;
    for name in clients.issued.clone() {
        loop {
            let current =
                clients.receipts.get_receipt(receipt::GetReceiptRequest { name: name.clone() }).await.expect("read");
            if current
                .into_inner()
                .signature
                .is_some_and(|signature| signature.state() == receipt::SignatureState::Signed)
            {
                break;
            }
            assert!(Instant::now() < deadline, "receipt {name} was not signed within {FOLLOW_WAIT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Until reporting has counted the last event of each citizen's story, from all three feeds.
async fn wait_for_reporting(reporting: &mut ReportingServiceClient<GrpcChannel>) {
    let request = reporting::GetSummaryRequest {
        period: Some(reporting::Period {
            kind: reporting::PeriodKind::Day as i32,
            date: Some(local_today()),
            end_date: None,
        }),
        branch_code: BRANCH.to_owned(),
        ..Default::default()
    };
    let deadline = Instant::now() + FOLLOW_WAIT;
    loop {
        let summary = reporting.get_summary(request.clone()).await.expect("a summary").into_inner();
        let counters = summary.counters.unwrap_or_default();
        let counted = [
            counters.complaints,
            counters.withdrawn,
            counters.refused,
            counters.seals,
            counters.fee_receipts_cancelled,
            counters.acknowledgement_slips_issued,
        ];
        if counted.iter().all(|count| *count >= 1) {
            return;
        }
        assert!(Instant::now() < deadline, "reporting did not count every story within {FOLLOW_WAIT:?}: {counters:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Today in Asia/Ho_Chi_Minh.
fn local_today() -> Date {
    use chrono::Datelike;
    let day = timestamps::local_date(motcua_chassis::clock::Clock::system().now());
    Date { year: day.year(), month: day.month() as i32, day: day.day() as i32 }
}
