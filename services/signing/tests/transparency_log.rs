//! The transparency log over real gRPC, on SQLite and PostgreSQL, checked by a verifier written here
//! from RFC 9162 and the C2SP specifications (not the service's code): 10,000 signing acts, their
//! leaves downloaded as tiles, the checkpoint's root and Ed25519 signature, inclusion and consistency
//! proofs; and a changed leaf in the database stops the next checkpoint.

mod common;

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use common::{Client, deploy, reason, request_id, start};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use motcua_chassis::testing::on_every_database;
use motcua_proto::motcua::signing::v1 as pb;
use sea_orm::{ConnectionTrait, Database, Statement};
use sha2::{Digest, Sha256};
use tonic::Code;

type Hash = [u8; 32];

/// The independent verifier: RFC 9162 hashing and proof checking, and C2SP signed notes.
mod verifier {
    use super::*;

    pub fn leaf(data: &[u8]) -> Hash {
        Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
    }

    pub fn node(left: &Hash, right: &Hash) -> Hash {
        Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
    }

    /// MTH computed bottom-up with a stack of complete subtrees (RFC 9162 section 2.1.1's result,
    /// by another route than the recursive definition).
    pub fn root(leaves: &[Hash]) -> Hash {
        if leaves.is_empty() {
            return Sha256::digest([]).into();
        }
        let mut stack: Vec<(Hash, u64)> = Vec::new();
        for leaf in leaves {
            let mut entry = (*leaf, 1u64);
            while stack.last().is_some_and(|top| top.1 == entry.1) {
                let (left, size) = stack.pop().expect("checked");
                entry = (node(&left, &entry.0), size * 2);
            }
            stack.push(entry);
        }
        let mut accumulated = stack.pop().expect("not empty").0;
        while let Some((left, _)) = stack.pop() {
            accumulated = node(&left, &accumulated);
        }
        accumulated
    }

    /// RFC 9162 section 2.1.3.2.
    pub fn verify_inclusion(index: u64, size: u64, leaf_hash: Hash, proof: &[Hash], root: &Hash) -> bool {
        if index >= size {
            return false;
        }
        let (mut fn_, mut sn, mut r) = (index, size - 1, leaf_hash);
        for p in proof {
            if sn == 0 {
                return false;
            }
            if fn_ & 1 == 1 || fn_ == sn {
                r = node(p, &r);
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            } else {
                r = node(&r, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        sn == 0 && &r == root
    }

    /// RFC 9162 section 2.1.4.2.
    pub fn verify_consistency(first: u64, second: u64, first_root: &Hash, second_root: &Hash, proof: &[Hash]) -> bool {
        if first == 0 || first > second {
            return false;
        }
        if first == second {
            return proof.is_empty() && first_root == second_root;
        }
        let mut path = proof.to_vec();
        if first.is_power_of_two() {
            path.insert(0, *first_root);
        }
        let Some((start, rest)) = path.split_first() else { return false };
        let (mut fn_, mut sn) = (first - 1, second - 1);
        while fn_ & 1 == 1 {
            fn_ >>= 1;
            sn >>= 1;
        }
        let (mut fr, mut sr) = (*start, *start);
        for c in rest {
            if sn == 0 {
                return false;
            }
            if fn_ & 1 == 1 || fn_ == sn {
                fr = node(c, &fr);
                sr = node(c, &sr);
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            } else {
                sr = node(&sr, c);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        &fr == first_root && &sr == second_root && sn == 0
    }

    /// Checks a C2SP signed note with a signed-note Ed25519 verifier key; returns the checkpoint's
    /// (origin, size, root).
    pub fn open_checkpoint(note: &str, verifier_key: &str) -> (String, u64, Hash) {
        let mut key_parts = verifier_key.splitn(3, '+');
        let name = key_parts.next().expect("name");
        let key_hash = hex::decode(key_parts.next().expect("key hash")).expect("hex");
        let key_bytes = STANDARD.decode(key_parts.next().expect("key")).expect("base64");
        assert_eq!(key_bytes[0], 1, "an Ed25519 key");
        let key = VerifyingKey::from_bytes(&key_bytes[1..].try_into().expect("32 bytes")).expect("a key");
        let (body, signatures) = note.split_once("\n\n").expect("a blank line ends the body");
        let body = format!("{body}\n");
        let line = signatures
            .lines()
            .find(|line| line.starts_with(&format!("\u{2014} {name} ")))
            .expect("a signature by the key");
        let signature = STANDARD.decode(line.rsplit(' ').next().expect("base64")).expect("base64");
        assert_eq!(signature[..4], key_hash[..], "the signature names the key");
        let signature = Signature::from_slice(&signature[4..]).expect("64 bytes");
        key.verify(body.as_bytes(), &signature).expect("the checkpoint's signature verifies");
        let mut lines = body.lines();
        let origin = lines.next().expect("origin").to_owned();
        let size = lines.next().expect("size").parse().expect("a number");
        let root = STANDARD.decode(lines.next().expect("root")).expect("base64").try_into().expect("32 bytes");
        (origin, size, root)
    }

    /// A tile index in the C2SP path form: `x001/x234/067`.
    pub fn tile_index(index: u64) -> String {
        let mut elements = vec![format!("{:03}", index % 1000)];
        let mut rest = index / 1000;
        while rest > 0 {
            elements.push(format!("x{:03}", rest % 1000));
            rest /= 1000;
        }
        elements.reverse();
        elements.join("/")
    }

    /// The entries of an entry bundle.
    pub fn entries(bundle: &[u8]) -> Vec<Vec<u8>> {
        let mut entries = Vec::new();
        let mut rest = bundle;
        while rest.len() >= 2 {
            let length = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            entries.push(rest[2..2 + length].to_vec());
            rest = &rest[2 + length..];
        }
        entries
    }
}

async fn checkpoint_of_at_least(client: &mut Client, size: i64) -> pb::GetCheckpointResponse {
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

async fn tile(client: &mut Client, path: String) -> Vec<u8> {
    client.get_tile(pb::GetTileRequest { path }).await.expect("tile").into_inner().data
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
                &tile(&mut client, format!("tile/entries/{}", verifier::tile_index(index))).await,
            ));
        }
        let partial = LEAVES % 256;
        entries.extend(verifier::entries(
            &tile(&mut client, format!("tile/entries/{}.p/{partial}", verifier::tile_index(LEAVES / 256))).await,
        ));
        assert_eq!(entries.len() as u64, LEAVES);
        let leaf_hashes: Vec<Hash> = entries.iter().map(|entry| verifier::leaf(entry)).collect();
        assert_eq!(verifier::root(&leaf_hashes), root, "{}: the leaves hash to the signed root", database.backend);
        assert!(entries.iter().all(|entry| entry.starts_with(b"motcua-signing-log/v1\n")));

        // Hash tiles hold the same hashes.
        let level_zero = tile(&mut client, "tile/0/000".to_owned()).await;
        assert_eq!(level_zero, leaf_hashes[..256].concat());
        let level_one = tile(&mut client, format!("tile/1/000.p/{}", LEAVES / 256)).await;
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
