//! Series handlers: creating, reading, listing and closing series.

use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller, paging};
use motcua_proto::motcua::receipt::v1::{self as pb, receipt_event::Payload};
use prost::Message;

use super::{ReceiptApi, convert, decode, events, validate::Violations};
use crate::{
    domain::series::{ReceiptKind, Series, SeriesState, is_valid_series_id, is_valid_symbol},
    store::{
        Effects, Outcome,
        series::{self as store, SERIES_TYPE, SeriesFilter},
    },
};

impl ReceiptApi {
    pub(super) async fn create_series_handler(
        &self,
        caller: Caller,
        request: pb::CreateSeriesRequest,
    ) -> Result<pb::CreateSeriesResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "CreateSeries", &request.encode_to_vec())?;
        let mut violations = Violations::default();
        let series_id =
            if request.series_id.is_empty() { uuid::Uuid::new_v4().to_string() } else { request.series_id.clone() };
        if !is_valid_series_id(&series_id) {
            violations
                .add("series_id", "lowercase letters, digits and hyphens, at most 63, not starting with a hyphen");
        }
        violations.code("branch_code", &request.branch_code, 20, true);
        if !(2000..=2999).contains(&request.year) {
            violations.add("year", "required: a calendar year from 2000 to 2999");
        }
        let kind = ReceiptKind::from_code(request.kind);
        if kind.is_none() {
            violations.add("kind", "required: fee receipt or acknowledgement slip");
        }
        for (field, symbol) in
            [("template_symbol", &request.template_symbol), ("series_symbol", &request.series_symbol)]
        {
            if !is_valid_symbol(symbol) {
                violations.add(field, "required: 1 to 20 uppercase letters, digits, hyphens and slashes");
            }
        }
        violations.finish()?;
        caller.check_branch(&request.branch_code)?;
        let Some(kind) = kind else { return Err(ApiError::internal("validation passed without a kind")) };
        let new = Series {
            series_id,
            branch_code: request.branch_code,
            year: request.year,
            kind,
            template_symbol: request.template_symbol,
            series_symbol: request.series_symbol,
            state: SeriesState::Open,
            last_number: 0,
            last_issue_date: None,
            create_time: self.state.clock.now(),
            close_time: None,
            close_reason: String::new(),
        };
        let effects = |series: &Series| {
            let response = pb::CreateSeriesResponse { series: Some(convert::series(series)) };
            let payload = Payload::SeriesCreated(pb::SeriesCreated {
                series: format!("series/{}", series.series_id),
                branch_code: series.branch_code.clone(),
                year: series.year,
                kind: series.kind as i32,
            });
            Effects {
                response: response.encode_to_vec(),
                events: vec![events::event(
                    format!("series/{}", series.series_id),
                    key.request_id(),
                    payload,
                    self.state.clock.now(),
                )],
            }
        };
        match store::create(&self.state.db, &key, &new, effects).await? {
            Outcome::Done(series) => {
                self.state.feed.appended();
                tracing::info!(series = %series.series_id, branch_code = %series.branch_code, "series created");
                Ok(pb::CreateSeriesResponse { series: Some(convert::series(&series)) })
            }
            Outcome::Replayed(response) => decode(&response),
        }
    }

    pub(super) async fn get_series_handler(&self, request: pb::GetSeriesRequest) -> Result<pb::Series, ApiError> {
        let mut violations = Violations::default();
        let series_id = violations.name("name", &request.name, "series");
        violations.finish()?;
        let series_id = series_id.unwrap_or_default();
        let series = store::find(&self.state.db, series_id)
            .await?
            .ok_or_else(|| ApiError::not_found(SERIES_TYPE, request.name.clone()))?;
        Ok(convert::series(&series))
    }

    pub(super) async fn list_series_handler(
        &self,
        request: pb::ListSeriesRequest,
    ) -> Result<pb::ListSeriesResponse, ApiError> {
        let page_size = paging::page_size(request.page_size)?;
        let mut violations = Violations::default();
        violations.code("branch_code", &request.branch_code, 20, false);
        let kind = match request.kind {
            0 => None,
            code => {
                let kind = ReceiptKind::from_code(code);
                if kind.is_none() {
                    violations.add("kind", "not a receipt kind");
                }
                kind
            }
        };
        let state = match request.state {
            0 => None,
            code => {
                let state = SeriesState::from_code(code);
                if state.is_none() {
                    violations.add("state", "not a series state");
                }
                state
            }
        };
        violations.finish()?;
        let filter = SeriesFilter {
            branch_code: Some(request.branch_code).filter(|code| !code.is_empty()),
            year: Some(request.year).filter(|year| *year != 0),
            kind,
            state,
        };
        let filter_text = format!("{filter:?}");
        let after = match paging::decode_token(&request.page_token, &filter_text)? {
            None => None,
            Some(position) => Some(serde_json::from_str::<store::SeriesPosition>(&position).map_err(|_| {
                ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service")
            })?),
        };
        let mut page = store::list(&self.state.db, &filter, after.as_ref(), page_size + 1).await?;
        let next_page_token = if page.len() as u64 > page_size {
            page.truncate(page_size as usize);
            match page.last() {
                Some(last) => {
                    let position = serde_json::to_string(&store::position(last)).map_err(ApiError::internal)?;
                    paging::encode_token(&position, &filter_text)
                }
                None => String::new(),
            }
        } else {
            String::new()
        };
        Ok(pb::ListSeriesResponse { series: page.iter().map(convert::series).collect(), next_page_token })
    }

    pub(super) async fn close_series_handler(
        &self,
        caller: Caller,
        request: pb::CloseSeriesRequest,
    ) -> Result<pb::CloseSeriesResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "CloseSeries", &request.encode_to_vec())?;
        let mut violations = Violations::default();
        let series_id = violations.name("name", &request.name, "series").unwrap_or_default().to_owned();
        violations.text("reason", &request.reason, false);
        violations.finish()?;
        if let Some(series) = store::find(&self.state.db, &series_id).await? {
            caller.check_branch(&series.branch_code)?;
        }
        let effects = |series: &Series| {
            let response = pb::CloseSeriesResponse { series: Some(convert::series(series)) };
            let payload = Payload::SeriesClosed(pb::SeriesClosed {
                series: format!("series/{}", series.series_id),
                branch_code: series.branch_code.clone(),
                last_number: series.last_number,
            });
            Effects {
                response: response.encode_to_vec(),
                events: vec![events::event(
                    format!("series/{}", series.series_id),
                    key.request_id(),
                    payload,
                    self.state.clock.now(),
                )],
            }
        };
        match store::close(&self.state.db, &key, &series_id, &request.reason, self.state.clock.now(), effects).await? {
            Outcome::Done(series) => {
                self.state.feed.appended();
                tracing::info!(series = %series.series_id, last_number = series.last_number, "series closed");
                Ok(pb::CloseSeriesResponse { series: Some(convert::series(&series)) })
            }
            Outcome::Replayed(response) => decode(&response),
        }
    }
}
