//! Acknowledgement slips (form 01) over real gRPC, on SQLite and PostgreSQL: a slip series numbers
//! slips with their appointment, the slip reads back and renders as the form (title and appointment
//! in the PDF's text and in the XML), and the rules that tell a slip from a fee receipt hold both ways.

mod common;

use std::process::Command;

use chrono::{TimeZone, Utc};
use common::*;
use motcua_chassis::{testing::on_every_database, timestamps};
use motcua_proto::motcua::{common::v1::CopyKind, receipt::v1 as pb};
use tonic::Code;
use tonic_types::StatusExt;

const SLIP_TITLE: &str = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ";
const PROCEDURE_NAME: &str = "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam";

/// A week from today at 16:30 in Hà Nội (09:30 UTC), when the result is due.
fn appointment() -> chrono::DateTime<Utc> {
    let day = (motcua_chassis::clock::Clock::system().now() + chrono::Duration::hours(7)).date_naive()
        + chrono::Duration::days(7);
    Utc.from_utc_datetime(&day.and_hms_opt(9, 30, 0).expect("a valid time"))
}

async fn slip_series(receipt: &mut Client, branch_code: &str) -> pb::Series {
    receipt
        .create_series(pb::CreateSeriesRequest {
            request_id: request_id(),
            series_id: String::new(),
            branch_code: branch_code.to_owned(),
            year: this_year(),
            kind: pb::ReceiptKind::AcknowledgementSlip as i32,
            template_symbol: "01/TTHC".to_owned(),
            series_symbol: "TN-25".to_owned(),
        })
        .await
        .expect("slip series created")
        .into_inner()
        .series
        .expect("a series")
}

/// What a slip for `dossier_code` says: the applicant, the procedure, the appointment and the
/// components received; no tax code, no items, no payment method.
fn slip_content(dossier_code: &str) -> pb::ReceiptContent {
    pb::ReceiptContent {
        collecting_organisation: "Trung tâm Phục vụ hành chính công thành phố Hà Nội".to_owned(),
        collecting_tax_code: String::new(),
        items: Vec::new(),
        payment_method: pb::PaymentMethod::Unspecified as i32,
        acknowledgement: Some(pb::Acknowledgement {
            procedure_name: PROCEDURE_NAME.to_owned(),
            receive_time: Some(timestamps::to_proto(motcua_chassis::clock::Clock::system().now())),
            appointment_time: Some(timestamps::to_proto(appointment())),
            components: vec![pb::AcknowledgedComponent {
                name: "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp".to_owned(),
                copy_kind: CopyKind::Original as i32,
                copies: 1,
            }],
        }),
        ..fee_content(dossier_code)
    }
}

fn slip_request(series: &pb::Series, content: pb::ReceiptContent) -> pb::IssueReceiptRequest {
    pb::IssueReceiptRequest { request_id: request_id(), series: series.name.clone(), content: Some(content) }
}

/// The fields an INVALID_ARGUMENT names.
fn violated_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let bad_request = details.bad_request().expect("field violations");
    bad_request.field_violations.iter().map(|violation| violation.field.clone()).collect()
}

fn run(program: &str, arguments: &[&str]) -> String {
    let output = Command::new(program).args(arguments).output().unwrap_or_else(|error| {
        panic!("{program} is needed by this test ({error}); install it with `apt-get install -y poppler-utils`")
    });
    assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn a_slip_is_numbered_with_its_appointment_and_renders_as_form_01() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let series = slip_series(&mut receipt, "CN11").await;
        assert_eq!(series.kind(), pb::ReceiptKind::AcknowledgementSlip);

        let dossier_code = "000.11.12.H26-251201-0001";
        let issued = issue(&mut receipt, slip_request(&series, slip_content(dossier_code))).await;
        assert_eq!((issued.number, issued.number_text.as_str()), (1, "0000001"), "{}", database.backend);
        assert_eq!(issued.kind(), pb::ReceiptKind::AcknowledgementSlip);
        assert_eq!(issued.total.as_ref().map(|money| money.dong), Some(0), "a slip collects nothing");

        let read =
            receipt.get_receipt(pb::GetReceiptRequest { name: issued.name.clone() }).await.expect("read").into_inner();
        assert_eq!(read.content, issued.content, "{}: the slip reads back as issued", database.backend);
        assert_eq!((read.number, read.lookup_code), (1, issued.lookup_code.clone()));
        let content = read.content.expect("content");
        assert_eq!(content.dossier_code, dossier_code);
        let acknowledgement = content.acknowledgement.expect("the slip's own content");
        assert_eq!(acknowledgement.procedure_name, PROCEDURE_NAME);
        assert_eq!(acknowledgement.appointment_time, Some(timestamps::to_proto(appointment())));
        assert_eq!(acknowledgement.components.len(), 1);

        let listed = receipt
            .list_receipts(pb::ListReceiptsRequest {
                dossier_code: dossier_code.to_owned(),
                kind: pb::ReceiptKind::AcknowledgementSlip as i32,
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        assert_eq!(listed.receipts.iter().map(|slip| slip.name.as_str()).collect::<Vec<_>>(), [issued.name.as_str()]);

        let pdf = receipt
            .render_receipt(pb::RenderReceiptRequest {
                name: issued.name.clone(),
                format: pb::RenderFormat::Pdf as i32,
            })
            .await
            .expect("rendered")
            .into_inner();
        assert_eq!(pdf.file_name, "GTN-TN-25-0000001.pdf");
        let folder = std::env::temp_dir().join(format!("motcua-receipt-slip-{}", request_id()));
        std::fs::create_dir_all(&folder).expect("a temporary folder");
        let path = folder.join("slip.pdf");
        std::fs::write(&path, &pdf.content).expect("PDF written");
        let text = run("pdftotext", &["-enc", "UTF-8", path.to_str().expect("a UTF-8 path"), "-"]);
        let _ = std::fs::remove_dir_all(&folder);
        let appointment_printed = format!("Hẹn trả kết quả: 16 giờ 30, ngày {}", appointment().format("%d/%m/%Y"));
        for expected in [SLIP_TITLE, &appointment_printed, PROCEDURE_NAME, PAYER_NAME, dossier_code, "0000001"] {
            assert!(text.contains(expected), "{}: {expected:?} not in the slip's text:\n{text}", database.backend);
        }
        for absent in ["BIÊN LAI", "Số tiền bằng chữ", "Hình thức thanh toán"] {
            assert!(!text.contains(absent), "{}: a slip prints no {absent:?}:\n{text}", database.backend);
        }

        let xml = receipt
            .render_receipt(pb::RenderReceiptRequest {
                name: issued.name.clone(),
                format: pb::RenderFormat::Xml as i32,
            })
            .await
            .expect("rendered")
            .into_inner();
        let xml = String::from_utf8(xml.content).expect("UTF-8");
        let appointment_xml =
            format!("<AppointmentTime>{}</AppointmentTime>", appointment().format("%Y-%m-%dT09:30:00Z"));
        assert!(xml.contains(&appointment_xml), "{appointment_xml} in {xml}");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn fee_only_fields_are_refused_on_a_slip_and_the_slip_content_on_a_fee_receipt() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let slips = slip_series(&mut receipt, "CN12").await;

        // A slip with fee items and a payment method, and one without its dossier or appointment.
        let mut with_fees = slip_content("000.12.12.H26-251201-0001");
        with_fees.items = vec![item("Lệ phí cấp phiếu lý lịch tư pháp", 200_000)];
        with_fees.payment_method = pb::PaymentMethod::Cash as i32;
        let status = receipt.issue_receipt(slip_request(&slips, with_fees)).await.expect_err("fees on a slip");
        let fields = violated_fields(&status);
        for field in ["content.items", "content.payment_method"] {
            assert!(fields.iter().any(|found| found == field), "{}: {field} in {fields:?}", database.backend);
        }

        let mut incomplete = slip_content("");
        incomplete.acknowledgement = None;
        let status = receipt.issue_receipt(slip_request(&slips, incomplete)).await.expect_err("an incomplete slip");
        let fields = violated_fields(&status);
        for field in ["content.dossier_code", "content.acknowledgement"] {
            assert!(fields.iter().any(|found| found == field), "{}: {field} in {fields:?}", database.backend);
        }

        let mut no_appointment = slip_content("000.12.12.H26-251201-0002");
        if let Some(acknowledgement) = no_appointment.acknowledgement.as_mut() {
            acknowledgement.appointment_time = None;
        }
        let status = receipt.issue_receipt(slip_request(&slips, no_appointment)).await.expect_err("no appointment");
        assert_eq!(violated_fields(&status), ["content.acknowledgement.appointment_time"]);

        // The other way round: a fee receipt carries no slip content.
        let fees = fee_series(&mut receipt, "CN12", "AB-25E").await;
        let mut fee_with_slip = fee_content("000.12.12.H26-251201-0003");
        fee_with_slip.acknowledgement = slip_content("x").acknowledgement;
        let status = receipt.issue_receipt(slip_request(&fees, fee_with_slip)).await.expect_err("a slip on a fee");
        assert_eq!(violated_fields(&status), ["content.acknowledgement"]);

        // Refused requests took no number.
        let slip = issue(&mut receipt, slip_request(&slips, slip_content("000.12.12.H26-251201-0004"))).await;
        assert_eq!(slip.number, 1, "{}", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}
