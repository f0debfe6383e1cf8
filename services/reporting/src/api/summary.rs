//! `GetSummary`: the counters and rates of a period, for the whole center or one branch, from the
//! rollups.

use motcua_chassis::{ApiError, identity::Caller};
use motcua_proto::motcua::reporting::v1 as pb;

use super::{ReportingApi, check_branch, convert};

impl ReportingApi {
    pub(super) async fn get_summary_handler(
        &self,
        caller: Caller,
        request: pb::GetSummaryRequest,
    ) -> Result<pb::GetSummaryResponse, ApiError> {
        check_branch(&caller, &request.branch_code)?;
        let (first, last) = convert::period(request.period.as_ref(), "period")?;
        let filter = convert::filter(&request.branch_code, &request.procedure_code, request.level, request.channel)?;
        let totals = self.state.totals(first, last, &filter).await?;
        Ok(pb::GetSummaryResponse {
            first_day: Some(convert::date(first)),
            last_day: Some(convert::date(last)),
            counters: Some(convert::counters(&totals)),
            rates: Some(convert::rates(&totals.rates())),
            data_time: self.state.data_time().await?,
        })
    }
}
