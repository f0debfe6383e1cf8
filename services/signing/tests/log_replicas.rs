//! The transparency log with two signing instances on one database, over real gRPC, on PostgreSQL and
//! SQLite: signing acts made through both at once take one order (dense leaf indexes, none twice), both
//! instances sign the same checkpoint of it, and a proof from one checks out against the other's
//! checkpoint with the independent verifier.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{
    Client, checkpoint_of_at_least, deploy, reason, request_id, start,
    verifier::{self, Hash},
};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use sha2::{Digest, Sha256};

/// Signs `document` as the CN01 officer the way the API asks a client to: on UNAVAILABLE
/// (DATABASE_BUSY) the same request again, with the same request id, so a retry never signs twice.
/// Counts the retries in `retries`.
async fn sign_as_a_client_should(client: &mut Client, document: &[u8], retries: &AtomicUsize) -> pb::Signature {
    let request = pb::SignRequest {
        request_id: request_id(),
        signer_id: "officer-CN01".to_owned(),
        content: Some(pb::sign_request::Content::Document(document.to_vec())),
        ..Default::default()
    };
    for attempt in 0..100u64 {
        match client.sign(request.clone()).await {
            Ok(response) => return response.into_inner().signature.expect("signature"),
            Err(status) if status.code() == tonic::Code::Unavailable && reason(&status) == "DATABASE_BUSY" => {
                retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5 * (attempt % 10 + 1))).await;
            }
            Err(status) => panic!("signed: {status:?}"),
        }
    }
    panic!("still busy after 100 attempts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_keep_one_log_order_and_agree_on_its_checkpoints() {
    on_every_database(|database| async move {
        const TASKS: usize = 8;
        const PER_TASK: usize = 25;
        // One after the other, so the schema is migrated once, as with replicas in a deployment; the
        // certificates are made before the second starts, since deploy() does not retry a busy SQLite.
        let first = start(&database).await;
        let mut setup = common::client(first.local_addr).await;
        deploy(&mut setup, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
        let instances = [first, start(&database).await];
        let mut clients = Vec::new();
        for instance in &instances {
            clients.push(common::client(instance.local_addr).await);
        }
        let before = checkpoint_of_at_least(&mut clients[0], 0).await.tree_size;

        let retries = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let made_by = task % clients.len();
            let (mut client, retries) = (clients[made_by].clone(), retries.clone());
            handles.push(tokio::spawn(async move {
                let mut signed = Vec::new();
                for number in 0..PER_TASK {
                    let document = format!("task {task}, document {number}");
                    signed.push((made_by, sign_as_a_client_should(&mut client, document.as_bytes(), &retries).await));
                }
                signed
            }));
        }
        let mut signatures = Vec::new();
        for handle in handles {
            signatures.extend(handle.await.expect("signer task"));
        }

        eprintln!("{}: {} busy retries", database.backend, retries.load(Ordering::Relaxed));

        let size = before + (TASKS * PER_TASK) as i64;
        let mut indexes: Vec<i64> = signatures.iter().map(|(_, signature)| signature.log_index).collect();
        indexes.sort_unstable();
        assert_eq!(
            indexes,
            (before..size).collect::<Vec<_>>(),
            "{}: the leaves of both instances are numbered densely, each index once",
            database.backend
        );

        // Both have caught up: the same checkpoint, signed by the one log key both hold.
        let mut checkpoints = Vec::new();
        for client in &mut clients {
            checkpoints.push(checkpoint_of_at_least(client, size).await);
        }
        let roots: Vec<Hash> = checkpoints
            .iter()
            .map(|checkpoint| {
                let (origin, opened_size, root) =
                    verifier::open_checkpoint(&checkpoint.checkpoint, &checkpoint.verifier_key);
                assert_eq!((origin.as_str(), opened_size), (checkpoint.origin.as_str(), size as u64));
                root
            })
            .collect();
        assert_eq!(checkpoints[0].verifier_key, checkpoints[1].verifier_key, "one log key for every instance");
        assert_eq!(
            (checkpoints[0].tree_size, &checkpoints[0].root_hash),
            (checkpoints[1].tree_size, &checkpoints[1].root_hash),
            "{}: both instances' checkpoints agree",
            database.backend
        );

        // The leaves, read from the second instance, hash to the root the first signed.
        assert!(size < 256, "one partial entry tile holds the log");
        let bundle = common::tile(&mut clients[1], format!("tile/entries/000.p/{size}")).await;
        let leaf_hashes: Vec<Hash> = verifier::entries(&bundle).iter().map(|entry| verifier::leaf(entry)).collect();
        assert_eq!(verifier::root(&leaf_hashes), roots[0], "{}", database.backend);

        // Each signature is proved, by the instance that did not make it, against the checkpoint of
        // the one that did.
        for (made_by, signature) in &signatures {
            let proof = clients[1 - made_by]
                .get_inclusion_proof(pb::GetInclusionProofRequest {
                    leaf: Some(pb::get_inclusion_proof_request::Leaf::Signature(signature.name.clone())),
                    tree_size: size,
                })
                .await
                .expect("inclusion proof")
                .into_inner();
            assert_eq!(proof.leaf_index, signature.log_index);
            let entry = proof.entry.as_ref().expect("the leaf's entry");
            assert_eq!(
                entry.signature_sha256,
                Sha256::digest(&signature.cms_der).to_vec(),
                "the leaf is its signature's"
            );
            let hashes: Vec<Hash> =
                proof.hashes.iter().map(|hash| hash.as_slice().try_into().expect("32 bytes")).collect();
            assert!(
                verifier::verify_inclusion(
                    signature.log_index as u64,
                    size as u64,
                    verifier::leaf(&proof.leaf_data),
                    &hashes,
                    &roots[*made_by]
                ),
                "{}: leaf {} from instance {} checks against instance {made_by}'s checkpoint",
                database.backend,
                signature.log_index,
                1 - made_by
            );
        }
        for instance in instances {
            instance.stop().await.expect("clean stop");
        }
    })
    .await;
}
