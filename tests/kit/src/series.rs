//! Receipt series for tests: the open fee and slip series of a branch for this year that intake's
//! follow-up jobs number their receipts in, as `motcua up` opens them.

use std::net::SocketAddr;

use motcua_proto::motcua::receipt::v1 as receipt_pb;

use crate::{calendar::this_year, clients, request_id};

/// Opens this year's fee-receipt and acknowledgement-slip series of `branch_code` on the receipt
/// service at `receipt`.
pub async fn open_series(receipt: SocketAddr, branch_code: &str) {
    let mut receipts = clients::receipt(receipt).await;
    let year = this_year();
    for (kind, template_symbol) in
        [(receipt_pb::ReceiptKind::FeeReceipt, "01BLP0-001"), (receipt_pb::ReceiptKind::AcknowledgementSlip, "01/TN")]
    {
        receipts
            .create_series(receipt_pb::CreateSeriesRequest {
                request_id: request_id(),
                series_id: String::new(),
                branch_code: branch_code.to_owned(),
                year,
                kind: kind as i32,
                template_symbol: template_symbol.to_owned(),
                series_symbol: format!("{branch_code}-{}T", year % 100),
            })
            .await
            .expect("a series opens");
    }
}
