//! `GetServiceIndex`: the Decision 766 service index of a period, for the whole center or one branch.

use motcua_chassis::{ApiError, identity::Caller};
use motcua_proto::motcua::reporting::v1 as pb;

use super::{ReportingApi, check_branch, convert};
use crate::domain::index;

impl ReportingApi {
    pub(super) async fn get_service_index_handler(
        &self,
        caller: Caller,
        request: pb::GetServiceIndexRequest,
    ) -> Result<pb::GetServiceIndexResponse, ApiError> {
        check_branch(&caller, &request.branch_code)?;
        let (first, last) = convert::period(request.period.as_ref(), "period")?;
        let filter = convert::filter(&request.branch_code, "", 0, 0)?;
        let totals = self.state.totals(first, last, &filter).await?;
        let computed = index::compute(&totals, &self.state.weights);
        Ok(pb::GetServiceIndexResponse {
            service_index: Some(convert::service_index(&computed, &request.branch_code, first, last)),
        })
    }
}
