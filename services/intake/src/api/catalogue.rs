//! Intake's gRPC handlers: request validation, proto <-> domain, nothing else. RPCs without a handler
//! here answer UNIMPLEMENTED (the generated default) until their issue lands.

use motcua_chassis::{ApiError, FieldViolation, ServiceKind, paging, timestamps};
use motcua_proto::motcua::{
    common::v1::{FeeMoment as ProtoFeeMoment, ImplementationLevel, Money},
    intake::v1::{
        self as pb, GetProcedureRequest, ListBranchesRequest, ListBranchesResponse, ListProcedureVersionsRequest,
        ListProcedureVersionsResponse, ListProceduresRequest, ListProceduresResponse,
        intake_service_server::IntakeService,
    },
};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        catalogue::{self, Branch, Level},
        text,
    },
    store::catalogue::{self as store, ProcedureFilter, StoredProcedure},
};

const PROCEDURE_TYPE: &str = "motcua.intake.v1.Procedure";

/// The intake service's handlers over its database.
#[derive(Clone)]
pub struct IntakeApi {
    db: DatabaseConnection,
}

impl IntakeApi {
    /// Handlers over `db`, which must be migrated and seeded.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn status(error: ApiError) -> Status {
    error.into_status(ServiceKind::Intake.error_domain())
}

#[tonic::async_trait]
impl IntakeService for IntakeApi {
    async fn list_procedures(
        &self,
        request: Request<ListProceduresRequest>,
    ) -> Result<Response<ListProceduresResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Vec::new();
        let page_size = paging::page_size(request.page_size).map_err(status)?;
        let level = match request.level {
            0 => None,
            number => {
                let level = Level::from_number(number);
                if level.is_none() {
                    violations.push(FieldViolation::new("level", "not a known implementation level"));
                }
                level
            }
        };
        if request.query.chars().count() > 200 {
            violations.push(FieldViolation::new("query", "at most 200 characters"));
        }
        if request.sector.chars().count() > 200 {
            violations.push(FieldViolation::new("sector", "at most 200 characters"));
        }
        if !violations.is_empty() {
            return Err(status(ApiError::InvalidArgument { reason: "INVALID_FILTER", violations }));
        }
        let filter = ProcedureFilter {
            level,
            sector_key: Some(text::fold(&request.sector)).filter(|key| !key.is_empty()),
            words: text::query_words(&request.query),
        };
        // The token is bound to the filters as the service understood them.
        let filter_text = format!("{:?}|{:?}|{:?}", filter.level, filter.sector_key, filter.words);
        let after = paging::decode_token(&request.page_token, &filter_text).map_err(status)?;

        let mut rows = store::list_current(&self.db, &filter, after.as_deref(), page_size + 1)
            .await
            .map_err(|error| status(error.into()))?;
        let next_page_token = if rows.len() as u64 > page_size {
            rows.truncate(page_size as usize);
            rows.last().map(|last| paging::encode_token(&last.spec.procedure_code, &filter_text)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListProceduresResponse {
            procedures: rows.into_iter().map(procedure_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_procedure(&self, request: Request<GetProcedureRequest>) -> Result<Response<pb::Procedure>, Status> {
        let request = request.into_inner();
        let code = parse_name(&request.name)?;
        let version = match request.version {
            0 => None,
            version if version > 0 => Some(version),
            _ => return Err(status(ApiError::invalid("INVALID_VERSION", "version", "must not be negative"))),
        };
        let stored = store::get(&self.db, code, version).await.map_err(|error| status(error.into()))?;
        match stored {
            Some(stored) => Ok(Response::new(procedure_to_proto(stored))),
            None => {
                let name = match version {
                    Some(version) => format!("{} (version {version})", request.name),
                    None => request.name.clone(),
                };
                Err(status(ApiError::not_found(PROCEDURE_TYPE, name)))
            }
        }
    }

    async fn list_procedure_versions(
        &self,
        request: Request<ListProcedureVersionsRequest>,
    ) -> Result<Response<ListProcedureVersionsResponse>, Status> {
        let request = request.into_inner();
        let code = parse_name(&request.name)?;
        let versions = store::versions(&self.db, code).await.map_err(|error| status(error.into()))?;
        if versions.is_empty() {
            return Err(status(ApiError::not_found(PROCEDURE_TYPE, request.name)));
        }
        Ok(Response::new(ListProcedureVersionsResponse {
            versions: versions.into_iter().map(procedure_to_proto).collect(),
        }))
    }

    async fn list_branches(
        &self,
        request: Request<ListBranchesRequest>,
    ) -> Result<Response<ListBranchesResponse>, Status> {
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size).map_err(status)?;
        let after = paging::decode_token(&request.page_token, "branches").map_err(status)?;
        let mut branches = store::list_branches(&self.db, after.as_deref(), page_size + 1)
            .await
            .map_err(|error| status(error.into()))?;
        let next_page_token = if branches.len() as u64 > page_size {
            branches.truncate(page_size as usize);
            branches.last().map(|last| paging::encode_token(&last.branch_code, "branches")).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListBranchesResponse {
            branches: branches.into_iter().map(branch_to_proto).collect(),
            next_page_token,
        }))
    }
}

fn parse_name(name: &str) -> Result<&str, Status> {
    catalogue::parse_procedure_name(name).ok_or_else(|| {
        status(ApiError::invalid(
            "INVALID_NAME",
            "name",
            "expected procedures/{procedure_code}, the code being letters, digits, dots or hyphens",
        ))
    })
}

fn procedure_to_proto(stored: StoredProcedure) -> pb::Procedure {
    let StoredProcedure { spec, version, is_current, created_at, superseded_at } = stored;
    pb::Procedure {
        name: format!("procedures/{}", spec.procedure_code),
        national_code: spec.national_code.unwrap_or_default(),
        procedure_code: spec.procedure_code,
        version,
        display_name: spec.display_name,
        level: level_to_proto(spec.level) as i32,
        sector: spec.sector,
        time_limit: spec.time_limit.map(|limit| pb::TimeLimit { value: limit.value as i32, unit: limit.unit as i32 }),
        after_15h_next_working_day: spec.after_15h_next_working_day,
        fee_status: spec.fee_status as i32,
        fee_items: spec
            .fee_items
            .into_iter()
            .map(|item| pb::FeeItem {
                name: item.name,
                amount: Some(Money { dong: item.amount_dong }),
                moment: fee_moment_to_proto(item.moment) as i32,
            })
            .collect(),
        fee_note: spec.fee_note,
        components: spec
            .components
            .into_iter()
            .map(|component| pb::DocumentComponent {
                code: component.code,
                name: component.name,
                required: component.required,
            })
            .collect(),
        source: spec.source,
        current: is_current,
        create_time: Some(timestamps::to_proto(created_at)),
        supersede_time: superseded_at.map(timestamps::to_proto),
    }
}

fn branch_to_proto(branch: Branch) -> pb::Branch {
    pb::Branch {
        name: format!("branches/{}", branch.branch_code),
        branch_code: branch.branch_code,
        display_name: branch.display_name,
        agency_code: branch.agency_code,
        service_area: branch.service_area,
        address: branch.address,
        source: branch.source,
    }
}

fn level_to_proto(level: Level) -> ImplementationLevel {
    match level {
        Level::Ministry => ImplementationLevel::Ministry,
        Level::Province => ImplementationLevel::Province,
        Level::District => ImplementationLevel::District,
        Level::Commune => ImplementationLevel::Commune,
    }
}

fn fee_moment_to_proto(moment: catalogue::FeeMoment) -> ProtoFeeMoment {
    match moment {
        catalogue::FeeMoment::AtIntake => ProtoFeeMoment::AtIntake,
        catalogue::FeeMoment::AtSupplement => ProtoFeeMoment::AtSupplement,
        catalogue::FeeMoment::AtReturn => ProtoFeeMoment::AtReturn,
    }
}
