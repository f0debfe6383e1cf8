//! The transparency log over real gRPC, on SQLite and PostgreSQL, checked by the verifier the tests
//! write from RFC 9162 and the C2SP specifications (common/verifier.rs, not the service's code): 10,000
//! signing acts, their leaves downloaded as tiles, the checkpoint's root and Ed25519 signature,
//! inclusion and consistency proofs; a changed leaf in the database stops the next checkpoint; and a
//! new leaf is in a checkpoint within a second of its signing act.

mod common;

use std::time::Duration;

use common::{
    Client, checkpoint_of_at_least, deploy, reason, request_id, start,
    verifier::{self, Hash},
};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use sea_orm::{ConnectionTrait, Database, Statement};
use sha2::{Digest, Sha256};
use tonic::Code;

async fn sign_digests(client: &Client, count: usize, tasks: usize) {
    let mut handles = Vec::new();
    for task in 0..tasks {
        let mut client = client.clone();
        handles.push(tokio::spawn(async move {
            for number in (task..count).step_by(tasks) {
                client
                    .sign(pb::SignRequest {
                        request_id: request_id(),
                        signer_id: "officer-CN01".to_owned(),
                        content: Some(pb::sign_request::Content::DocumentSha256(
                            Sha256::digest(number.to_string()).to_vec(),
                        )),
                        ..Default::default()
                    })
                    .await
                    .expect("signed");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("signer task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proofs_over_ten_thousand_leaves_check_out_with_an_independent_verifier() {
    on_every_database(|database| async move {
        const LEAVES: u64 = 10_000;
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let started = std::time::Instant::now();
        sign_digests(&client, LEAVES as usize, 16).await;
        eprintln!("{}: {LEAVES} signatures in {:?}", database.backend, started.elapsed());

        let checkpoint = checkpoint_of_at_least(&mut client, LEAVES as i64).await;
        let (origin, size, root) = verifier::open_checkpoint(&checkpoint.checkpoint, &checkpoint.verifier_key);
        assert_eq!((origin.as_str(), size), (checkpoint.origin.as_str(), LEAVES));
        assert_eq!(root.to_vec(), checkpoint.root_hash);

        // Download every leaf as entry bundles and rebuild the tree here.
        let mut entries = Vec::new();
        for index in 0..LEAVES / 256 {
            entries.extend(verifier::entries(
                &common::tile(&mut client, format!("tile/entries/{}", verifier::tile_index(index))).await,
            ));
        }
        let partial = LEAVES % 256;
        entries.extend(verifier::entries(
            &common::tile(&mut client, format!("tile/entries/{}.p/{partial}", verifier::tile_index(LEAVES / 256)))
                .await,
        ));
        assert_eq!(entries.len() as u64, LEAVES);
        let leaf_hashes: Vec<Hash> = entries.iter().map(|entry| verifier::leaf(entry)).collect();
        assert_eq!(verifier::root(&leaf_hashes), root, "{}: the leaves hash to the signed root", database.backend);
        assert!(entries.iter().all(|entry| entry.starts_with(b"motcua-signing-log/v1\n")));

        // Hash tiles hold the same hashes.
        let level_zero = common::tile(&mut client, "tile/0/000".to_owned()).await;
        assert_eq!(level_zero, leaf_hashes[..256].concat());
        let level_one = common::tile(&mut client, format!("tile/1/000.p/{}", LEAVES / 256)).await;
        let expected_level_one: Vec<u8> =
            leaf_hashes.chunks(256).filter(|chunk| chunk.len() == 256).flat_map(verifier::root).collect();
        assert_eq!(level_one, expected_level_one);
        let beyond = client.get_tile(pb::GetTileRequest { path: "tile/0/039".to_owned() }).await.expect_err("beyond");
        assert_eq!(beyond.code(), Code::NotFound);

        let indexes = [0, 1, 2, 255, 256, 257, 4095, 4096, 5000, 8191, 8192, 9998, 9999]
            .into_iter()
            .chain((0..60).map(|step| (step * 7919) % LEAVES));
        for index in indexes {
            let proof = client
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    leaf: Some(pb::get_inclusion_proof_request::Leaf::LeafIndex(index as i64)),
                    tree_size: 0,
                })
                .await
                .expect("inclusion proof")
                .into_inner();
            let hashes: Vec<Hash> =
                proof.hashes.iter().map(|hash| hash.as_slice().try_into().expect("32 bytes")).collect();
            assert_eq!(proof.tree_size as u64, LEAVES);
            assert_eq!(verifier::leaf(&proof.leaf_data), leaf_hashes[index as usize]);
            assert!(
                verifier::verify_inclusion(index, LEAVES, verifier::leaf(&proof.leaf_data), &hashes, &root),
                "{}: leaf {index} is proved included",
                database.backend
            );
        }

        for first in [1u64, 2, 3, 7, 255, 256, 257, 1000, 4096, 4097, 9999, 10_000] {
            let proof = client
                .get_consistency_proof(pb::GetConsistencyProofRequest { first_size: first as i64, second_size: 0 })
                .await
                .expect("consistency proof")
                .into_inner();
            let hashes: Vec<Hash> =
                proof.hashes.iter().map(|hash| hash.as_slice().try_into().expect("32 bytes")).collect();
            let first_root = verifier::root(&leaf_hashes[..first as usize]);
            assert!(
                verifier::verify_consistency(first, LEAVES, &first_root, &root, &hashes),
                "{}: the tree of {first} is a prefix of the tree of {LEAVES}",
                database.backend
            );
            assert!(
                !verifier::verify_consistency(first, LEAVES, &[7; 32], &root, &hashes),
                "the verifier refuses a first root the proof does not lead to"
            );
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_changed_leaf_in_the_database_is_detected_at_the_next_checkpoint() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        sign_digests(&client, 3, 1).await;
        let before = checkpoint_of_at_least(&mut client, 3).await;

        // Someone with database access rewrites leaf 1, hash and all.
        let db = Database::connect(database.url.as_str()).await.expect("database");
        let forged = b"motcua-signing-log/v1\nsignature\n-\n-\n00\n2025-01-01T00:00:00.000000Z\n".to_vec();
        let backend = db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Sqlite => "UPDATE log_leaves SET leaf_data = ?, leaf_hash = ? WHERE leaf_index = 1",
            _ => "UPDATE log_leaves SET leaf_data = $1, leaf_hash = $2 WHERE leaf_index = 1",
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [forged.clone().into(), verifier::leaf(&forged).to_vec().into()],
        ))
        .await
        .expect("tampered");

        sign_digests(&client, 1, 1).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let refused = loop {
            match client.get_checkpoint(pb::GetCheckpointRequest {}).await {
                Err(status) => break status,
                Ok(checkpoint) => {
                    assert_eq!(
                        checkpoint.into_inner().tree_size,
                        before.tree_size,
                        "{}: no checkpoint covers the forgery",
                        database.backend
                    );
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "{}: the change is detected within 5 s", database.backend);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "LOG_INCONSISTENT"));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_signed_leaf_is_in_a_checkpoint_within_one_second_of_the_sign_response() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        // Several rounds, so that a checkpointer that happened to be awake for the first does not
        // pass for one that keeps the bound.
        for round in 0..5 {
            let signature = common::sign(&mut client, "officer-CN01", format!("document {round}").as_bytes()).await;
            // The bound, not a benchmark: measured from the moment the signer has its answer.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
            let checkpoint = loop {
                let answered =
                    client.get_checkpoint(pb::GetCheckpointRequest {}).await.map(tonic::Response::into_inner);
                assert!(
                    tokio::time::Instant::now() <= deadline,
                    "{} round {round}: leaf {} is in no checkpoint 1 s after its sign response",
                    database.backend,
                    signature.log_index
                );
                if let Ok(checkpoint) = answered
                    && checkpoint.tree_size > signature.log_index
                {
                    break checkpoint;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };

            eprintln!(
                "{} round {round}: covered {:?} after the sign response",
                database.backend,
                Duration::from_secs(1) - deadline.saturating_duration_since(tokio::time::Instant::now())
            );

            // And that checkpoint does prove the new leaf.
            let (_, size, root) = verifier::open_checkpoint(&checkpoint.checkpoint, &checkpoint.verifier_key);
            let proof = client
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    leaf: Some(pb::get_inclusion_proof_request::Leaf::Signature(signature.name.clone())),
                    tree_size: checkpoint.tree_size,
                })
                .await
                .expect("inclusion proof")
                .into_inner();
            let hashes: Vec<Hash> =
                proof.hashes.iter().map(|hash| hash.as_slice().try_into().expect("32 bytes")).collect();
            assert!(
                verifier::verify_inclusion(
                    signature.log_index as u64,
                    size,
                    verifier::leaf(&proof.leaf_data),
                    &hashes,
                    &root
                ),
                "{} round {round}: the checkpoint proves leaf {}",
                database.backend,
                signature.log_index
            );
        }
        server.stop().await.expect("clean stop");
    })
    .await;
}

/// Runs `sql` (with `?` placeholders) on `database`, as someone with database access would.
async fn edit_database(url: &str, sql: &str, values: Vec<sea_orm::Value>) {
    let db = Database::connect(url).await.expect("database");
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => sql.to_owned(),
        _ => (1..=values.len()).fold(sql.to_owned(), |sql, number| sql.replacen('?', &format!("${number}"), 1)),
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.expect("edited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leaf_changed_in_a_full_tile_is_found_by_the_auditor_with_no_new_signature() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        sign_digests(&client, 300, 8).await;
        checkpoint_of_at_least(&mut client, 300).await;

        // Leaf 5 sits in the full level-0 tile, which integration never reads again: only the
        // auditor's rehash of the stored leaves can see it changed.
        let forged = b"motcua-signing-log/v1\nsignature\n-\n-\n00\n2025-01-01T00:00:00.000000Z\n".to_vec();
        edit_database(&database.url, "UPDATE log_leaves SET leaf_data = ? WHERE leaf_index = 5", vec![forged.into()])
            .await;

        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let refused = loop {
            if let Err(status) = client.get_checkpoint(pb::GetCheckpointRequest {}).await {
                break status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: the auditor finds leaf 5 within 20 s",
                database.backend
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!((refused.code(), reason(&refused).as_str()), (Code::FailedPrecondition, "LOG_INCONSISTENT"));
        assert!(refused.message().contains("leaf 5"), "{}: {}", database.backend, refused.message());
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_log_without_tiles_gets_them_built_from_its_leaves_and_stays_consistent_with_its_checkpoints() {
    on_every_database(|database| async move {
        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        deploy(&mut client, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        sign_digests(&client, 300, 8).await;
        let before = checkpoint_of_at_least(&mut client, 300).await;
        server.stop().await.expect("clean stop");

        // As a log from before tiles were stored: leaves and checkpoints, no tiles.
        edit_database(&database.url, "DELETE FROM log_tiles", vec![]).await;
        edit_database(&database.url, "UPDATE log_integration SET integrated_size = 0", vec![]).await;

        let server = start(&database).await;
        let mut client = common::client(server.local_addr).await;
        sign_digests(&client, 1, 1).await;
        let after = checkpoint_of_at_least(&mut client, before.tree_size + 1).await;
        let (_, size, root) = verifier::open_checkpoint(&after.checkpoint, &after.verifier_key);
        let (_, first, first_root) = verifier::open_checkpoint(&before.checkpoint, &before.verifier_key);
        let proof = client
            .get_consistency_proof(pb::GetConsistencyProofRequest { first_size: first as i64, second_size: 0 })
            .await
            .expect("consistency proof")
            .into_inner();
        let hashes: Vec<Hash> = proof.hashes.iter().map(|hash| hash.as_slice().try_into().expect("32 bytes")).collect();
        assert!(
            verifier::verify_consistency(first, size, &first_root, &root, &hashes),
            "{}: the rebuilt log extends the checkpoint signed before",
            database.backend
        );
        let bundle = common::tile(&mut client, "tile/entries/000".to_owned()).await;
        let level_zero = common::tile(&mut client, "tile/0/000".to_owned()).await;
        let rehashed: Vec<u8> = verifier::entries(&bundle).iter().flat_map(|entry| verifier::leaf(entry)).collect();
        assert_eq!(level_zero, rehashed, "{}: the rebuilt tile holds the leaves' hashes", database.backend);
        server.stop().await.expect("clean stop");
    })
    .await;
}
