//! WatchEvents over real gRPC, on SQLite and PostgreSQL: every signing act is an event, numbered
//! densely in order with its envelope, replayed from a cursor, without personal data, and a heartbeat
//! follows when the feed is idle.

mod common;

use std::time::Duration;

use common::{deploy, request_id, sign, start};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1::{self as pb, signing_event::Payload};
use prost::Message;
use tokio_stream::StreamExt;

fn kind(event: &pb::SigningEvent) -> &'static str {
    match &event.payload {
        Some(Payload::AuthorityCreated(_)) => "authority_created",
        Some(Payload::CertificateIssued(_)) => "certificate_issued",
        Some(Payload::CertificateRevoked(_)) => "certificate_revoked",
        Some(Payload::DocumentSigned(_)) => "document_signed",
        Some(Payload::DocumentSealed(_)) => "document_sealed",
        Some(Payload::Heartbeat(_)) => "heartbeat",
        None => "none",
    }
}

#[tokio::test]
async fn every_signing_act_is_an_event_in_order_with_its_envelope_and_no_personal_data() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        let deployment = deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let signature = sign(&mut client, "officer-CN01", b"result").await;
        client
            .seal(pb::SealRequest {
                request_id: request_id(),
                officer_signature: signature.name.clone(),
                approver_id: "leader-CN01".to_owned(),
                content: Some(pb::seal_request::Content::Document(b"result".to_vec())),
            })
            .await
            .expect("sealed");
        let revoke_request_id = request_id();
        client
            .revoke_certificate(pb::RevokeCertificateRequest {
                request_id: revoke_request_id.clone(),
                name: deployment.officer.name.clone(),
                reason: pb::RevocationReason::CessationOfOperation as i32,
                note: String::new(),
            })
            .await
            .expect("revoked");

        let mut stream =
            client.watch_events(pb::WatchEventsRequest { after_sequence: 0 }).await.expect("stream").into_inner();
        let mut events = Vec::new();
        let mut heartbeat_seen = false;
        while !heartbeat_seen || events.len() < 8 {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("an event or a heartbeat within 10 s")
                .expect("stream open")
                .expect("no error");
            if kind(&event) == "heartbeat" {
                heartbeat_seen = events.len() >= 8;
            } else {
                events.push(event);
            }
        }
        let kinds: Vec<_> = events.iter().map(kind).collect();
        assert_eq!(
            kinds,
            [
                "authority_created",
                "authority_created",
                "certificate_issued",
                "certificate_issued",
                "certificate_issued",
                "document_signed",
                "document_sealed",
                "certificate_revoked"
            ],
            "{}",
            database.backend
        );
        for (position, event) in events.iter().enumerate() {
            let envelope = event.envelope.as_ref().expect("envelope");
            assert_eq!(envelope.sequence, position as i64 + 1, "{}: dense and in order", database.backend);
            assert!(!envelope.event_id.is_empty() && !envelope.request_id.is_empty() && envelope.occur_time.is_some());
            let bytes = event.encode_to_vec();
            for personal in ["Nguyễn Văn An", "Trần Thị Bình"] {
                assert!(!String::from_utf8_lossy(&bytes).contains(personal), "no personal data in events");
            }
        }
        assert_eq!(events[5].envelope.as_ref().expect("envelope").subject, signature.name);
        let revoked = events[7].envelope.as_ref().expect("envelope");
        assert_eq!(
            (revoked.subject.as_str(), revoked.request_id.as_str()),
            (deployment.officer.name.as_str(), revoke_request_id.as_str())
        );
        match &events[5].payload {
            Some(Payload::DocumentSigned(signed)) => assert_eq!(signed.log_index, signature.log_index),
            other => panic!("{other:?}"),
        }

        let mut resumed =
            client.watch_events(pb::WatchEventsRequest { after_sequence: 6 }).await.expect("stream").into_inner();
        let next = resumed.next().await.expect("open").expect("no error");
        assert_eq!(next.envelope.expect("envelope").sequence, 7);
        server.stop().await.expect("clean stop");
    })
    .await;
}
