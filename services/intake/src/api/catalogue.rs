//! The catalogue's handlers: procedures (current and older versions) and branches.

use motcua_chassis::{ApiError, FieldViolation, paging, timestamps};
use motcua_proto::motcua::intake::v1::{
    self as pb, GetProcedureRequest, ListBranchesRequest, ListBranchesResponse, ListProcedureVersionsRequest,
    ListProcedureVersionsResponse, ListProceduresRequest, ListProceduresResponse,
};
use tonic::{Request, Response, Status};

use super::{IntakeApi, convert, status};
use crate::{
    domain::{
        catalogue::{self, Branch, Level},
        text,
    },
    store::catalogue::{self as store, ProcedureFilter, StoredProcedure},
};

const PROCEDURE_TYPE: &str = "motcua.intake.v1.Procedure";

impl IntakeApi {
    pub(super) async fn list_procedures_handler(
        &self,
        request: Request<ListProceduresRequest>,
    ) -> Result<Response<ListProceduresResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Vec::new();
        let page_size = paging::page_size(request.page_size).map_err(status)?;
        let level = match request.level {
            0 => None,
            number => {
                let level = Level::from_code(number);
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

        let mut rows = store::list_current(&self.state.db, &filter, after.as_deref(), page_size + 1)
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

    pub(super) async fn get_procedure_handler(
        &self,
        request: Request<GetProcedureRequest>,
    ) -> Result<Response<pb::Procedure>, Status> {
        let request = request.into_inner();
        let code = parse_name(&request.name)?;
        let version = match request.version {
            0 => None,
            version if version > 0 => Some(version),
            _ => return Err(status(ApiError::invalid("INVALID_VERSION", "version", "must not be negative"))),
        };
        let stored = store::get(&self.state.db, code, version).await.map_err(|error| status(error.into()))?;
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

    pub(super) async fn list_procedure_versions_handler(
        &self,
        request: Request<ListProcedureVersionsRequest>,
    ) -> Result<Response<ListProcedureVersionsResponse>, Status> {
        let request = request.into_inner();
        let code = parse_name(&request.name)?;
        let versions = store::versions(&self.state.db, code).await.map_err(|error| status(error.into()))?;
        if versions.is_empty() {
            return Err(status(ApiError::not_found(PROCEDURE_TYPE, request.name)));
        }
        Ok(Response::new(ListProcedureVersionsResponse {
            versions: versions.into_iter().map(procedure_to_proto).collect(),
        }))
    }

    pub(super) async fn list_branches_handler(
        &self,
        request: Request<ListBranchesRequest>,
    ) -> Result<Response<ListBranchesResponse>, Status> {
        let request = request.into_inner();
        let page_size = paging::page_size(request.page_size).map_err(status)?;
        let after = paging::decode_token(&request.page_token, "branches").map_err(status)?;
        let mut branches = store::list_branches(&self.state.db, after.as_deref(), page_size + 1)
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
        level: convert::level_to_proto(spec.level) as i32,
        sector: spec.sector,
        time_limit: spec.time_limit.map(|limit| pb::TimeLimit { value: limit.value as i32, unit: limit.unit as i32 }),
        after_15h_next_working_day: spec.after_15h_next_working_day,
        fee_status: spec.fee_status as i32,
        fee_items: spec.fee_items.into_iter().map(|item| convert::fee_item_to_proto(&item)).collect(),
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
