//! Rendering and reporting handlers: a receipt as PDF or as its canonical XML, and the usage report.

use motcua_chassis::{ApiError, identity::Caller};
use motcua_proto::motcua::receipt::v1 as pb;

use super::{ReceiptApi, convert, validate::Violations};
use crate::{
    domain::series::{ReceiptKind, number_text},
    render,
    store::{
        receipts::{self as store, RECEIPT_TYPE},
        series::SeriesFilter,
        usage,
    },
};

impl ReceiptApi {
    pub(super) async fn render_receipt_handler(
        &self,
        caller: Caller,
        request: pb::RenderReceiptRequest,
    ) -> Result<pb::RenderReceiptResponse, ApiError> {
        let mut violations = Violations::default();
        let receipt_id = violations.name("name", &request.name, "receipts");
        let format =
            pb::RenderFormat::try_from(request.format).ok().filter(|format| *format != pb::RenderFormat::Unspecified);
        if format.is_none() {
            violations.add("format", "required: PDF or XML");
        }
        violations.finish()?;
        let (receipt, xml) = store::find_with_xml(&self.state.db, receipt_id.unwrap_or_default())
            .await?
            .ok_or_else(|| ApiError::not_found(RECEIPT_TYPE, request.name.clone()))?;
        caller.check_branch(&receipt.issued.branch_code)?;
        let issued = &receipt.issued;
        let base_name = format!(
            "{}-{}-{}",
            issued.kind.file_prefix(),
            issued.series_symbol.replace('/', "-"),
            number_text(issued.number)
        );
        match format {
            Some(pb::RenderFormat::Xml) => Ok(pb::RenderReceiptResponse {
                format: pb::RenderFormat::Xml as i32,
                media_type: "application/xml".to_owned(),
                file_name: format!("{base_name}.xml"),
                content: xml,
            }),
            _ => {
                let pdf = render::pdf::receipt_pdf(&receipt).map_err(ApiError::internal)?;
                Ok(pb::RenderReceiptResponse {
                    format: pb::RenderFormat::Pdf as i32,
                    media_type: "application/pdf".to_owned(),
                    file_name: format!("{base_name}.pdf"),
                    content: pdf,
                })
            }
        }
    }

    /// The usage of the series matching the request, of the branches the caller may act for.
    pub(super) async fn get_usage_report_handler(
        &self,
        caller: Caller,
        request: pb::GetUsageReportRequest,
    ) -> Result<pb::GetUsageReportResponse, ApiError> {
        let mut violations = Violations::default();
        let start = violations.date("start_date", request.start_date.as_ref());
        let end = violations.date("end_date", request.end_date.as_ref());
        if start.is_none() && request.start_date.is_none() {
            violations.add("start_date", "required");
        }
        if end.is_none() && request.end_date.is_none() {
            violations.add("end_date", "required");
        }
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            violations.add("end_date", "must not precede start_date");
        }
        let series_id =
            if request.series.is_empty() { None } else { violations.name("series", &request.series, "series") };
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
        violations.finish()?;
        let (Some(start), Some(end)) = (start, end) else {
            return Err(ApiError::internal("validation passed without a period"));
        };
        let filter = SeriesFilter {
            branch_code: Some(request.branch_code).filter(|code| !code.is_empty()),
            year: None,
            kind,
            state: None,
        };
        if let Some(branch_code) = &filter.branch_code {
            caller.check_branch(branch_code)?;
        }
        let mut rows = usage::report(&self.state.db, &filter, series_id, start, end).await?;
        rows.retain(|row| caller.may_act_for_branch(&row.series.branch_code));
        Ok(pb::GetUsageReportResponse {
            start_date: Some(convert::date(start)),
            end_date: Some(convert::date(end)),
            series_usage: rows
                .into_iter()
                .map(|row| pb::SeriesUsage {
                    series: format!("series/{}", row.series.series_id),
                    branch_code: row.series.branch_code.clone(),
                    kind: row.series.kind as i32,
                    template_symbol: row.series.template_symbol.clone(),
                    series_symbol: row.series.series_symbol.clone(),
                    first_number: row.first_number,
                    last_number: row.last_number,
                    used_count: row.used_count,
                    cancelled_count: row.cancelled_numbers.len() as i64,
                    cancelled_numbers: row.cancelled_numbers,
                    replaced_count: row.replaced_count,
                    adjustment_count: row.adjustment_count,
                    total_collected: Some(convert::money(row.total_collected)),
                })
                .collect(),
        })
    }
}
