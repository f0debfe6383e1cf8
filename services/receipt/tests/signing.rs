//! End to end with the real signing service: a receipt issued with signing up is signed by the
//! collector's certificate in the background, its signature and log index are recorded, and
//! `openssl cms -verify` accepts the signature over the receipt's canonical XML; a receipt issued while
//! signing is down keeps its number and is signed once signing comes up.

mod common;

use std::process::Command;

use common::*;
use motcua_chassis::testing::{TestDatabase, on_every_database};
use motcua_proto::motcua::{receipt::v1 as pb, signing::v1 as signing_pb};
use motcua_testkit::{
    authorities::deploy_officer,
    clients,
    people::COLLECTOR_NAME,
    services::{start_signing, start_signing_at},
};

/// Polls `name` until its signature leaves PENDING, at most `polls` times 100 ms apart.
async fn wait_while_pending(receipt: &mut Client, name: &str, polls: u32) -> pb::Receipt {
    let mut read =
        receipt.get_receipt(pb::GetReceiptRequest { name: name.to_owned() }).await.expect("read").into_inner();
    for _ in 0..polls {
        if read.signature.as_ref().is_some_and(|signature| signature.state() != pb::SignatureState::Pending) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        read = receipt.get_receipt(pb::GetReceiptRequest { name: name.to_owned() }).await.expect("read").into_inner();
    }
    read
}

#[tokio::test]
async fn a_receipt_is_signed_in_the_background_and_openssl_verifies_its_xml() {
    let signing_database = TestDatabase::sqlite();
    let signing_server = start_signing(&signing_database).await;
    let mut signing = clients::signing(signing_server.local_addr).await;
    deploy_officer(&mut signing, "CN01", "CB001", COLLECTOR_NAME).await;

    let database = TestDatabase::sqlite();
    let server = start_receipt(&database, &format!("http://{}", signing_server.local_addr)).await;
    let mut receipt = client(server.local_addr).await;
    let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
    let issued = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0001")).await;

    let read = wait_while_pending(&mut receipt, &issued.name, 100).await;
    let signed = read.signature.expect("a signature state");
    assert_eq!(signed.state(), pb::SignatureState::Signed, "signed within 10 s: {}", signed.last_error_reason);
    assert!(signed.signature.starts_with("signatures/"));
    assert!(signed.log_index >= 0);

    let signature = signing
        .get_signature(signing_pb::GetSignatureRequest { name: signed.signature.clone() })
        .await
        .expect("the signature")
        .into_inner();
    let xml = receipt
        .render_receipt(pb::RenderReceiptRequest { name: issued.name.clone(), format: pb::RenderFormat::Xml as i32 })
        .await
        .expect("the XML")
        .into_inner()
        .content;
    let folder = std::env::temp_dir().join(format!("motcua-receipt-cms-{}", request_id()));
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    std::fs::write(folder.join("receipt.xml"), &xml).expect("XML written");
    std::fs::write(folder.join("receipt.xml.p7s"), &signature.cms_der).expect("signature written");
    std::fs::write(folder.join("chain.pem"), &signature.chain_pem).expect("chain written");
    let output = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in", "receipt.xml.p7s", "-content", "receipt.xml"])
        .args(["-CAfile", "chain.pem", "-purpose", "any", "-out", "/dev/null"])
        .current_dir(&folder)
        .output()
        .unwrap_or_else(|error| panic!("the openssl CLI is needed by this test ({error}); apt-get install -y openssl"));
    assert!(output.status.success(), "openssl cms -verify: {}", String::from_utf8_lossy(&output.stderr));
    let _ = std::fs::remove_dir_all(&folder);
    server.stop().await.expect("clean stop");
    signing_server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_receipt_issued_while_signing_is_down_keeps_its_number_and_is_signed_when_signing_comes_up() {
    on_every_database(|database| async move {
        let (signing_database, signing_addr) = signing_down_with_the_collector().await;

        let server = start_receipt(&database, &format!("http://{signing_addr}")).await;
        let mut receipt = client(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
        let issued = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0001")).await;
        assert_eq!(issued.number, 1, "{}: the number does not wait for signing", database.backend);
        assert_eq!(issued.signature.as_ref().map(|signature| signature.state()), Some(pb::SignatureState::Pending));

        // The job asks, finds signing down, and keeps the receipt pending with its number.
        let mut read = issued.clone();
        for _ in 0..50 {
            read = receipt
                .get_receipt(pb::GetReceiptRequest { name: issued.name.clone() })
                .await
                .expect("read")
                .into_inner();
            if read.signature.as_ref().is_some_and(|signature| signature.attempts >= 1) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let pending = read.signature.clone().expect("a signature state");
        assert_eq!(pending.state(), pb::SignatureState::Pending, "{}", database.backend);
        assert!(pending.attempts >= 1, "{}: the job asked signing within 5 s", database.backend);
        assert!(!pending.last_error_reason.is_empty(), "the failed attempt says why");
        assert_eq!(read.number, 1);

        // Signing comes up on that port; the job's backoff (2 s after the first failure, doubling) brings
        // the next attempt to it well within 30 s.
        let signing_server = start_signing_at(&signing_database, signing_addr).await;
        let signed = wait_while_pending(&mut receipt, &issued.name, 300).await;
        let signature = signed.signature.clone().expect("a signature state");
        assert_eq!(
            signature.state(),
            pb::SignatureState::Signed,
            "{}: signed within 30 s of signing coming up (last error {:?})",
            database.backend,
            signature.last_error_reason
        );
        assert!(signature.attempts >= 2, "signed on a retry, not the first attempt");
        assert!(signature.signature.starts_with("signatures/"));
        assert!(signature.last_error_reason.is_empty());
        assert_eq!((signed.number, signed.xml_sha256.clone()), (issued.number, issued.xml_sha256.clone()));

        let mut signing = clients::signing(signing_addr).await;
        let made = signing
            .get_signature(signing_pb::GetSignatureRequest { name: signature.signature.clone() })
            .await
            .expect("signing has the signature")
            .into_inner();
        assert_eq!(made.log_index, signature.log_index);

        // The number was kept, not lost or taken again: the next receipt is 2.
        let next = issue(&mut receipt, issue_request(&series, "000.01.12.H26-250301-0002")).await;
        assert_eq!(next.number, 2, "{}", database.backend);
        server.stop().await.expect("clean stop");
        signing_server.stop().await.expect("clean stop");
    })
    .await;
}
