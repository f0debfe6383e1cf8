//! Renderings over real gRPC: the PDF read back by poppler's `pdftotext` (payer, amount in words with
//! its diacritics, number) and its QR code decoded by `zbarimg` from the page image to the lookup
//! code; the XML is the bytes whose SHA-256 the receipt carries.

mod common;

use std::process::Command;

use common::*;
use motcua_chassis::testing::TestDatabase;
use motcua_proto::motcua::receipt::v1 as pb;
use sha2::{Digest, Sha256};

/// Runs `program` with `arguments`, failing the test with a clear message when the tool is missing.
fn run(program: &str, package: &str, arguments: &[&str]) -> String {
    let output = Command::new(program).args(arguments).output().unwrap_or_else(|error| {
        panic!("{program} is needed by this test ({error}); install it with `apt-get install -y {package}`")
    });
    assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_pdf_reads_back_as_vietnamese_text_and_its_qr_code_carries_the_lookup_code() {
    let database = TestDatabase::sqlite();
    let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
    let mut receipt = client(server.local_addr).await;
    let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
    let issued = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0001")).await;
    let rendering = receipt
        .render_receipt(pb::RenderReceiptRequest { name: issued.name.clone(), format: pb::RenderFormat::Pdf as i32 })
        .await
        .expect("rendered")
        .into_inner();
    assert_eq!(rendering.media_type, "application/pdf");
    assert_eq!(rendering.file_name, "BL-AB-25E-0000001.pdf");

    let folder = std::env::temp_dir().join(format!("motcua-receipt-pdf-{}", request_id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    let pdf = folder.join("receipt.pdf");
    std::fs::write(&pdf, &rendering.content).expect("PDF written");
    let pdf_path = pdf.to_str().expect("a UTF-8 path");

    let text = run("pdftotext", "poppler-utils", &["-enc", "UTF-8", pdf_path, "-"]);
    for expected in [PAYER_NAME, "Một triệu không trăm năm mươi nghìn đồng", "0000001", "BIÊN LAI THU PHÍ, LỆ PHÍ"]
    {
        assert!(text.contains(expected), "{expected:?} not in the PDF's text:\n{text}");
    }
    let page_size = run("pdfinfo", "poppler-utils", &[pdf_path]);
    assert!(page_size.contains("419.53 x 595.28") || page_size.contains("A5"), "an A5 page: {page_size}");

    let image_prefix = folder.join("page");
    run(
        "pdftoppm",
        "poppler-utils",
        &["-r", "200", "-png", "-singlefile", pdf_path, image_prefix.to_str().expect("UTF-8")],
    );
    let image = folder.join("page.png");
    let decoded = run("zbarimg", "zbar-tools", &["--quiet", "--raw", image.to_str().expect("UTF-8")]);
    assert_eq!(decoded.trim(), format!("motcua:receipt?code={}", issued.lookup_code));

    let xml = receipt
        .render_receipt(pb::RenderReceiptRequest { name: issued.name.clone(), format: pb::RenderFormat::Xml as i32 })
        .await
        .expect("rendered")
        .into_inner();
    assert_eq!(xml.media_type, "application/xml");
    assert_eq!(Sha256::digest(&xml.content).to_vec(), issued.xml_sha256, "the XML is the bytes that are signed");
    let xml_text = String::from_utf8(xml.content).expect("UTF-8");
    assert!(xml_text.contains("<Number>0000001</Number>"));
    let _ = std::fs::remove_dir_all(&folder);
    server.stop().await.expect("clean stop");
}
