//! What only the signing tests share: a branch's deployment in the signing vocabulary, signing a
//! document, waiting for the log's checkpoint, reading its tiles, the independent log verifier and
//! the OpenSSL CLI. What every crate's tests share (clients, request ids, starting signing, the
//! certificate authorities) comes from the test kit, re-exported here under the names these tests use.

#![allow(dead_code, unused_imports)]

pub mod openssl;
pub mod verifier;

use std::time::Duration;

use motcua_proto::motcua::signing::v1 as pb;
use motcua_testkit::authorities::BranchDeployment;
pub use motcua_testkit::{
    authorities::Deployment,
    clients::{Signing as Client, signing as client},
    request_id,
    services::{TEST_SECRET, another_database, start_signing as start},
    status::reason,
};

/// Creates the root (if `with_root`) and, for `branch`, its intermediate, officer `officer-<branch>`,
/// leader `leader-<branch>` and the seal, all with `algorithm`.
pub async fn deploy(client: &mut Client, branch: &str, with_root: bool, algorithm: pb::KeyAlgorithm) -> Deployment {
    let deployment = BranchDeployment::of(branch).key_algorithm(algorithm);
    let deployment = if with_root { deployment } else { deployment.under_existing_root() };
    deployment.deploy(client).await
}

/// Signs `document` as `signer_id`.
pub async fn sign(client: &mut Client, signer_id: &str, document: &[u8]) -> pb::Signature {
    client
        .sign(pb::SignRequest {
            request_id: request_id(),
            signer_id: signer_id.to_owned(),
            content: Some(pb::sign_request::Content::Document(document.to_vec())),
            subject: "dossiers/000.00.12.H26-250301-0001".to_owned(),
            ..Default::default()
        })
        .await
        .expect("signed")
        .into_inner()
        .signature
        .expect("signature")
}

/// The latest checkpoint once it covers at least `size` leaves; the checkpointer is given 10 s, far
/// more than its one-second bound, so that a slow machine does not fail a test about something else.
pub async fn checkpoint_of_at_least(client: &mut Client, size: i64) -> pb::GetCheckpointResponse {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(response) = client.get_checkpoint(pb::GetCheckpointRequest {}).await {
            let checkpoint = response.into_inner();
            if checkpoint.tree_size >= size {
                return checkpoint;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "a checkpoint of {size} leaves within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tile at a C2SP tlog-tiles `path`.
pub async fn tile(client: &mut Client, path: String) -> Vec<u8> {
    client.get_tile(pb::GetTileRequest { path }).await.expect("tile").into_inner().data
}
