//! Signing's gRPC handlers: request validation and proto <-> domain, one file per resource. This one
//! binds them to the generated service trait, noting each recorded call's facts for the audit trail
//! on the way in and out.

pub mod audit;
mod authorities;
mod certificates;
mod convert;
mod imports;
mod issuing;
mod log;
mod records;
mod revocation;
mod signing;
mod validate;

use std::sync::Arc;

use motcua_chassis::{ApiError, ServiceKind, feed::Feed};
use motcua_proto::motcua::signing::v1::{self as pb, signing_service_server::SigningService};
use sea_orm::{DatabaseConnection, DbErr};
use tonic::{Request, Response, Status, codegen::BoxStream};

use motcua_chassis::clock::Clock;

use crate::{
    batcher::{BatchLimits, Batcher},
    cache::{ChainCache, HolderCache},
    keys::KeyRing,
    settings::SigningSettings,
    transparency::TransparencyLog,
};

/// The signing service's handlers, over its database, its keys, its feed and its log.
#[derive(Clone)]
pub struct SigningApi {
    state: Arc<State>,
}

/// What every handler shares.
pub(crate) struct State {
    pub db: DatabaseConnection,
    pub keys: KeyRing,
    pub feed: Feed,
    pub log: Arc<TransparencyLog>,
    pub settings: SigningSettings,
    /// The time every handler reads.
    pub clock: Clock,
    /// The certificates' chains, kept in memory.
    pub chains: ChainCache,
    /// The holders' certificates, kept a moment.
    pub holders: HolderCache,
    /// The batches signing acts are logged in.
    pub batcher: Batcher,
}

impl SigningApi {
    /// Handlers over a migrated `db`, logging signing acts in batches within `batch`.
    pub fn new(
        db: DatabaseConnection,
        keys: KeyRing,
        feed: Feed,
        log: Arc<TransparencyLog>,
        settings: SigningSettings,
        clock: Clock,
        batch: BatchLimits,
    ) -> Self {
        let batcher = Batcher::new(db.clone(), feed.clone(), log.clone(), clock.clone(), batch);
        Self {
            state: Arc::new(State {
                db,
                keys,
                feed,
                log,
                settings,
                clock,
                chains: ChainCache::default(),
                holders: HolderCache::default(),
                batcher,
            }),
        }
    }
}

/// Now, to the microsecond: what both databases keep, so a stored time reads back equal.
pub(crate) fn now(clock: &Clock) -> chrono::DateTime<chrono::Utc> {
    let now = clock.now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// The status of `error`, in signing's error domain.
pub(crate) fn status(error: ApiError) -> Status {
    error.into_status(ServiceKind::Signing.error_domain())
}

/// The status of a database error.
pub(crate) fn db_status(error: DbErr) -> Status {
    status(error.into())
}

/// The status of a fault of the service (a key that does not open, an encoding that fails).
pub(crate) fn internal(error: impl std::fmt::Display) -> Status {
    status(ApiError::internal(error))
}

#[tonic::async_trait]
impl SigningService for SigningApi {
    async fn create_certificate_authority(
        &self,
        request: Request<pb::CreateCertificateAuthorityRequest>,
    ) -> Result<Response<pb::CreateCertificateAuthorityResponse>, Status> {
        let note = audit::noted(&request);
        authorities::create(&self.state, request.into_inner()).await.map(|answer| Response::new(note.answered(answer)))
    }

    async fn import_certificate_authority(
        &self,
        request: Request<pb::ImportCertificateAuthorityRequest>,
    ) -> Result<Response<pb::ImportCertificateAuthorityResponse>, Status> {
        let note = audit::noted(&request);
        imports::import_authority(&self.state, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
    }

    async fn import_certificate(
        &self,
        request: Request<pb::ImportCertificateRequest>,
    ) -> Result<Response<pb::ImportCertificateResponse>, Status> {
        let note = audit::noted(&request);
        imports::import_certificate(&self.state, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
    }

    async fn get_certificate_authority(
        &self,
        request: Request<pb::GetCertificateAuthorityRequest>,
    ) -> Result<Response<pb::CertificateAuthority>, Status> {
        authorities::get(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn list_certificate_authorities(
        &self,
        request: Request<pb::ListCertificateAuthoritiesRequest>,
    ) -> Result<Response<pb::ListCertificateAuthoritiesResponse>, Status> {
        authorities::list(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn create_certificate(
        &self,
        request: Request<pb::CreateCertificateRequest>,
    ) -> Result<Response<pb::CreateCertificateResponse>, Status> {
        let note = audit::noted(&request);
        certificates::create(&self.state, request.into_inner()).await.map(|answer| Response::new(note.answered(answer)))
    }

    async fn get_certificate(
        &self,
        request: Request<pb::GetCertificateRequest>,
    ) -> Result<Response<pb::Certificate>, Status> {
        certificates::get(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn list_certificates(
        &self,
        request: Request<pb::ListCertificatesRequest>,
    ) -> Result<Response<pb::ListCertificatesResponse>, Status> {
        certificates::list(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn revoke_certificate(
        &self,
        request: Request<pb::RevokeCertificateRequest>,
    ) -> Result<Response<pb::RevokeCertificateResponse>, Status> {
        let note = audit::noted(&request);
        revocation::revoke(&self.state, request.into_inner()).await.map(|answer| Response::new(note.answered(answer)))
    }

    async fn get_crl(&self, request: Request<pb::GetCrlRequest>) -> Result<Response<pb::GetCrlResponse>, Status> {
        revocation::crl(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn sign(&self, request: Request<pb::SignRequest>) -> Result<Response<pb::SignResponse>, Status> {
        let note = audit::noted(&request);
        let caller = signing::caller(&request)?;
        signing::sign(&self.state, &caller, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
    }

    async fn seal(&self, request: Request<pb::SealRequest>) -> Result<Response<pb::SealResponse>, Status> {
        let note = audit::noted(&request);
        let caller = signing::caller(&request)?;
        signing::seal(&self.state, &caller, request.into_inner())
            .await
            .map(|answer| Response::new(note.answered(answer)))
    }

    async fn get_signature(
        &self,
        request: Request<pb::GetSignatureRequest>,
    ) -> Result<Response<pb::Signature>, Status> {
        let note = audit::noted(&request);
        records::get(&self.state, request.into_inner()).await.map(|answer| Response::new(note.answered(answer)))
    }

    async fn list_signatures(
        &self,
        request: Request<pb::ListSignaturesRequest>,
    ) -> Result<Response<pb::ListSignaturesResponse>, Status> {
        let note = audit::noted(&request);
        records::list(&self.state, request.into_inner()).await.map(|answer| Response::new(note.answered(answer)))
    }

    async fn verify_signature(
        &self,
        request: Request<pb::VerifySignatureRequest>,
    ) -> Result<Response<pb::VerifySignatureResponse>, Status> {
        records::verify(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn get_checkpoint(
        &self,
        _request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::GetCheckpointResponse>, Status> {
        log::checkpoint(&self.state).await.map(Response::new)
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::GetInclusionProofResponse>, Status> {
        log::inclusion_proof(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::GetConsistencyProofResponse>, Status> {
        log::consistency_proof(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn get_tile(&self, request: Request<pb::GetTileRequest>) -> Result<Response<pb::GetTileResponse>, Status> {
        log::tile(&self.state, request.into_inner()).await.map(Response::new)
    }

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<BoxStream<pb::SigningEvent>>, Status> {
        let domain = ServiceKind::Signing.error_domain();
        self.state.feed.watch_events(request.get_ref().after_sequence, domain).map(Response::new)
    }
}

/// A mutation's transaction, or the response of its earlier call with the same request id.
pub(crate) enum Begun<R> {
    /// The request id is new and claimed: do the work in this transaction.
    Fresh(sea_orm::DatabaseTransaction),
    /// A retry: answer the original response.
    Replayed(R),
}

/// Begins the transaction of a mutation and claims its request id (AIP-155).
pub(crate) async fn begin_claimed<R: prost::Message + Default>(
    state: &State,
    key: &motcua_chassis::idempotency::RequestKey,
) -> Result<Begun<R>, Status> {
    use motcua_chassis::idempotency::{Claim, claim};

    let transaction = motcua_chassis::db::begin_write(&state.db).await.map_err(db_status)?;
    match claim(&transaction, key).await.map_err(status)? {
        Claim::Claimed => Ok(Begun::Fresh(transaction)),
        Claim::Replay(response) => {
            transaction.rollback().await.map_err(db_status)?;
            R::decode(response.as_slice()).map(Begun::Replayed).map_err(internal)
        }
    }
}

/// Records the response of a claimed mutation, appends its event, and commits; then wakes the feed.
pub(crate) async fn finish_claimed<R: prost::Message>(
    state: &State,
    transaction: sea_orm::DatabaseTransaction,
    key: &motcua_chassis::idempotency::RequestKey,
    response: &R,
    event: (String, &str, pb::signing_event::Payload),
) -> Result<(), Status> {
    use prost::Message as _;
    let (subject, event_type, payload) = event;
    let encoded = pb::SigningEvent { envelope: None, payload: Some(payload) }.encode_to_vec();
    motcua_chassis::feed::append(
        &transaction,
        motcua_chassis::feed::NewEvent {
            occur_time: state.clock.now(),
            subject,
            request_id: key.request_id().to_owned(),
            event_type: event_type.to_owned(),
            payload: encoded,
        },
    )
    .await
    .map_err(db_status)?;
    motcua_chassis::idempotency::complete(&transaction, key, &response.encode_to_vec()).await.map_err(db_status)?;
    transaction.commit().await.map_err(db_status)?;
    // A certificate issued, imported or revoked: the next act reads its holder's anew.
    state.holders.clear();
    state.feed.appended();
    Ok(())
}
