//! The scenarios' calls against running services: the clients (plaintext, the caller named by the
//! development-mode identity header, a few connections per service), what each scenario needs set up
//! first (the demo's signers of CN01, the procedure's required components, CN01's open fee series),
//! and one call of `create-dossier`, `issue-receipt`, `sign` and `report-query`. Every call carries a
//! request id of its own.

use std::sync::Arc;

use anyhow::Context;
use motcua_proto::motcua::{
    common::v1::{Applicant, Channel as IntakeChannel, Citizen, Money, applicant::Kind},
    intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
    jobs::v1::job_service_client::JobServiceClient,
    receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
    reporting::v1::{self as reporting, reporting_service_client::ReportingServiceClient},
    signing::v1::{self as signing, signing_service_client::SigningServiceClient},
};
use tonic::{
    Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tonic_health::pb::health_client::HealthClient;

use super::load::Call;
use crate::demo::{BRANCH, OFFICER, PROCEDURE};

/// Who the bench says it is, in the development mode's identity header.
const IDENTITY: &str = "dev/bench";
/// Connections per service at most: calls of one worker always take the same one.
const MAX_CONNECTIONS: usize = 4;
/// The citizen every benchmark dossier is filed for (a valid identity number).
const CITIZEN: &str = "001099000001";

/// A channel whose calls name the bench as their caller.
pub type Identified = InterceptedService<Channel, Identify>;

/// Puts the bench's identity on every call.
#[derive(Clone)]
pub struct Identify;

impl Interceptor for Identify {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert(motcua_chassis::identity::IDENTITY_HEADER, MetadataValue::from_static(IDENTITY));
        Ok(request)
    }
}

/// The clients of one connection to each of the four services.
#[derive(Clone)]
pub struct Clients {
    pub intake: IntakeServiceClient<Identified>,
    pub signing: SigningServiceClient<Identified>,
    pub receipt: ReceiptServiceClient<Identified>,
    pub reporting: ReportingServiceClient<Identified>,
    /// Each service's job runner, intake's first, for settling between runs.
    pub jobs: [JobServiceClient<Identified>; 4],
    /// Each service's grpc.health.v1, by port, for the empty-RPC floor.
    pub health: [HealthClient<Identified>; 4],
}

/// The four services' default ports, in the order of [`Clients::jobs`] and [`Clients::health`].
pub const PORTS: [u16; 4] = [50051, 50052, 50053, 50054];

impl Clients {
    /// One lazily made connection to each service on `host`.
    pub fn connect(host: &str) -> anyhow::Result<Self> {
        let channel = |port: u16| -> anyhow::Result<Identified> {
            let url = format!("http://{host}:{port}");
            let channel = Channel::from_shared(url.clone()).with_context(|| format!("{url} is not a URL"))?;
            Ok(InterceptedService::new(channel.connect_lazy(), Identify))
        };
        let channels = [channel(PORTS[0])?, channel(PORTS[1])?, channel(PORTS[2])?, channel(PORTS[3])?];
        Ok(Self {
            intake: IntakeServiceClient::new(channels[0].clone()),
            signing: SigningServiceClient::new(channels[1].clone()),
            receipt: ReceiptServiceClient::new(channels[2].clone()),
            reporting: ReportingServiceClient::new(channels[3].clone()),
            jobs: channels.clone().map(JobServiceClient::new),
            health: channels.map(HealthClient::new),
        })
    }

    /// A few connections for `concurrency` workers: worker `w` uses `pool[w % pool.len()]`.
    pub fn pool(host: &str, concurrency: usize) -> anyhow::Result<Arc<Vec<Self>>> {
        let connections = concurrency.clamp(1, MAX_CONNECTIONS);
        Ok(Arc::new((0..connections).map(|_| Self::connect(host)).collect::<anyhow::Result<_>>()?))
    }
}

/// What the scenarios need that exists before they run.
pub struct Setup {
    /// The demo procedure's required components, as filed.
    pub components: Vec<intake::SubmittedComponent>,
    /// CN01's open fee-receipt series of this year (`series/...`): the one series `issue-receipt` numbers in.
    pub fee_series: String,
    /// Today in Asia/Ho_Chi_Minh.
    pub today: motcua_proto::google::r#type::Date,
}

impl Setup {
    /// Creates the demo's signers (idempotent) and reads the procedure and the series.
    pub async fn prepare(host: &str, clients: &Clients) -> anyhow::Result<Self> {
        let mut clients = clients.clone();
        let signing_url = format!("http://{host}:{}", PORTS[1]);
        let mut signing = SigningServiceClient::new(motcua_chassis::peer::connect_lazy(&signing_url)?);
        crate::demo::signers::set_up(&mut signing)
            .await
            .context("creating the signers of CN01 (is `motcua up` running?)")?;
        let procedure = clients
            .intake
            .get_procedure(intake::GetProcedureRequest { name: format!("procedures/{PROCEDURE}"), version: 0 })
            .await
            .context("intake: the demo procedure")?
            .into_inner();
        let components = crate::demo::required_components(&procedure);
        let today = crate::demo::local_today();
        let series = receipt::ListSeriesRequest {
            page_size: 1,
            branch_code: BRANCH.to_owned(),
            year: today.year,
            kind: receipt::ReceiptKind::FeeReceipt as i32,
            state: receipt::SeriesState::Open as i32,
            ..Default::default()
        };
        let fee_series = clients
            .receipt
            .list_series(series)
            .await
            .context("receipt: ListSeries")?
            .into_inner()
            .series
            .into_iter()
            .next()
            .context("CN01 has no open fee-receipt series this year: `motcua up` opens one")?
            .name;
        Ok(Self { components, fee_series, today })
    }
}

/// A fresh request id.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An officer of CN01 by staff code.
pub fn officer(officer_id: &str) -> Option<intake::Officer> {
    Some(intake::Officer { officer_id: officer_id.to_owned(), ..Default::default() })
}

/// A new in-person dossier of the demo procedure at CN01.
pub fn create_dossier_request(setup: &Setup) -> intake::CreateDossierRequest {
    intake::CreateDossierRequest {
        request_id: request_id(),
        branch_code: BRANCH.to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        channel: IntakeChannel::InPerson as i32,
        applicant: Some(Applicant {
            kind: Some(Kind::Citizen(Citizen {
                identity_number: CITIZEN.to_owned(),
                full_name: "Người dân thử tải".to_owned(),
                ..Default::default()
            })),
        }),
        receiving_officer: officer(OFFICER),
        components: setup.components.clone(),
    }
}

/// `intake.CreateDossier`.
pub fn create_dossier(pool: Arc<Vec<Clients>>, setup: Arc<Setup>) -> Call {
    Arc::new(move |worker| {
        let mut intake = pool[worker % pool.len()].intake.clone();
        let request = create_dossier_request(&setup);
        Box::pin(async move { intake.create_dossier(request).await.map(drop) })
    })
}

/// `receipt.IssueReceipt`: a fee receipt in CN01's one open fee series, collected by the demo officer
/// (whose certificate receipt's job signs it with).
pub fn issue_receipt(pool: Arc<Vec<Clients>>, setup: Arc<Setup>) -> Call {
    Arc::new(move |worker| {
        let mut receipts = pool[worker % pool.len()].receipt.clone();
        let request = receipt::IssueReceiptRequest {
            request_id: request_id(),
            series: setup.fee_series.clone(),
            content: Some(receipt::ReceiptContent {
                collecting_organisation: "Trung tâm Phục vụ hành chính công (thử tải)".to_owned(),
                collecting_tax_code: "0101234567".to_owned(),
                payer: create_dossier_request(&setup).applicant,
                procedure_code: PROCEDURE.to_owned(),
                items: vec![receipt::ReceiptItem {
                    name: "Lệ phí đăng ký thường trú".to_owned(),
                    amount: Some(Money { dong: 20_000 }),
                }],
                payment_method: receipt::PaymentMethod::Cash as i32,
                collector: Some(receipt::Collector {
                    officer_id: OFFICER.to_owned(),
                    display_name: "Cán bộ thu (thử tải)".to_owned(),
                }),
                ..Default::default()
            }),
        };
        Box::pin(async move { receipts.issue_receipt(request).await.map(drop) })
    })
}

/// `signing.Sign`: the demo officer signs a digest of its own (two random UUIDs, 32 bytes).
pub fn sign(pool: Arc<Vec<Clients>>) -> Call {
    Arc::new(move |worker| {
        let mut signing = pool[worker % pool.len()].signing.clone();
        let digest = [*uuid::Uuid::new_v4().as_bytes(), *uuid::Uuid::new_v4().as_bytes()].concat();
        let request = signing::SignRequest {
            request_id: request_id(),
            signer_id: OFFICER.to_owned(),
            content: Some(signing::sign_request::Content::DocumentSha256(digest)),
            subject: "bench/sign".to_owned(),
            ..Default::default()
        };
        Box::pin(async move { signing.sign(request).await.map(drop) })
    })
}

/// `reporting.GetSummary`: this year, every branch.
pub fn report_query(pool: Arc<Vec<Clients>>, setup: Arc<Setup>) -> Call {
    Arc::new(move |worker| {
        let mut reporting = pool[worker % pool.len()].reporting.clone();
        let request = reporting::GetSummaryRequest {
            period: Some(reporting::Period {
                kind: reporting::PeriodKind::Year as i32,
                date: Some(setup.today),
                end_date: None,
            }),
            ..Default::default()
        };
        Box::pin(async move { reporting.get_summary(request).await.map(drop) })
    })
}
