//! Witnesses (C2SP tlog-witness) over real gRPC, on SQLite and PostgreSQL: two signing deployments
//! witness each other, each cosigning the other's checkpoints, and each log's published checkpoint
//! carries a cosignature this test verifies with ed25519-dalek alone; then one log is forked, its
//! database edited as a dishonest operator would (a leaf changed, its checkpoint re-signed over the
//! new root, the earlier cosignature wiped), and the witness refuses the fork: its own collector's
//! submission and a direct one, each with its reason, in the witness's audit trail.

mod common;

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use common::{TEST_SECRET, another_database, deploy, reason, sign, verifier};
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey, pkcs8::DecodePrivateKey};
use motcua_chassis::{
    ServiceConfig,
    server::RunningServer,
    testing::{TestDatabase, TrailReader, on_every_database, start_service_with},
};
use motcua_proto::motcua::{
    audit::v1::ListAuditRecordsRequest,
    signing::v1::{self as pb, witness_service_client::WitnessServiceClient},
};
use motcua_signing::{
    domain::{checkpoint, merkle},
    keys::KeyEncryption,
    settings::{
        ENV_SIGNING_LOG_ORIGIN, ENV_SIGNING_WITNESS_NAME, ENV_SIGNING_WITNESS_QUORUM, ENV_SIGNING_WITNESSED_LOGS,
        ENV_SIGNING_WITNESSES,
    },
    store::entities::{checkpoint as checkpoint_row, cosignature, log_key, log_leaf},
    witness::{self, domain::add_checkpoint_body},
};
use motcua_testkit::clients::{AsIdentity, IdentifiedChannel, channel};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};
use tonic_types::StatusExt;

const ADD_CHECKPOINT: &str = "/motcua.signing.v1.WitnessService/AddCheckpoint";

/// One deployment: its database, log origin and witness name.
struct Deployment {
    database: TestDatabase,
    origin: &'static str,
    witness_name: &'static str,
}

impl Deployment {
    /// Its configuration, witnessing `other`'s log and witnessed by `other` at `other_url`, when given.
    fn config(&self, peer: Option<(&Keys, &str)>) -> ServiceConfig {
        let mut config = motcua_testkit::services::signing_config(&self.database);
        let variables = &mut config.service_variables;
        variables.insert(ENV_SIGNING_LOG_ORIGIN, self.origin.to_owned());
        variables.insert(ENV_SIGNING_WITNESS_NAME, self.witness_name.to_owned());
        if let Some((keys, url)) = peer {
            variables.insert(ENV_SIGNING_WITNESSED_LOGS, keys.log.clone());
            variables.insert(ENV_SIGNING_WITNESSES, format!("{}@{url}", keys.witness));
            variables.insert(ENV_SIGNING_WITNESS_QUORUM, "1".to_owned());
        }
        config
    }

    async fn db(&self) -> DatabaseConnection {
        Database::connect(&self.database.url).await.expect("the deployment's database")
    }
}

/// A deployment's public keys: its log's and its witness's verifier keys.
struct Keys {
    log: String,
    witness: String,
}

async fn keys_of(server: &RunningServer) -> Keys {
    let mut signing = common::client(server.local_addr).await;
    let log = common::checkpoint_of_at_least(&mut signing, 0).await.verifier_key;
    let witness = witness_client(server).await.get_witness(pb::GetWitnessRequest {}).await.expect("the witness");
    Keys { log, witness: witness.into_inner().verifier_key }
}

async fn witness_client(server: &RunningServer) -> WitnessServiceClient<IdentifiedChannel> {
    WitnessServiceClient::with_interceptor(channel(server.local_addr).await, AsIdentity::new("service/signing"))
}

/// The checkpoint `GetCheckpoint` publishes once it covers `size` leaves (with a quorum of 1, only a
/// cosigned one is published), given 10 s.
async fn published_of_at_least(server: &RunningServer, size: i64) -> (i64, String) {
    let checkpoint = common::checkpoint_of_at_least(&mut common::client(server.local_addr).await, size).await;
    (checkpoint.tree_size, checkpoint.checkpoint)
}

/// Checks, with ed25519-dalek and the specifications only, that `note` carries a valid tlog-cosignature
/// v1 of the witness whose verifier key is `witness_key`; returns its timestamp.
fn verify_cosignature(note: &str, witness_key: &str) -> u64 {
    let mut parts = witness_key.splitn(3, '+');
    let (name, _id, encoded) = (parts.next().expect("name"), parts.next().expect("id"), parts.next().expect("key"));
    let encoded = STANDARD.decode(encoded).expect("base64");
    assert_eq!(encoded[0], 0x04, "a cosigner's key type");
    let key = VerifyingKey::from_bytes(&encoded[1..].try_into().expect("32 bytes")).expect("an Ed25519 key");
    let mut hasher = Sha256::new();
    hasher.update(format!("{name}\n").as_bytes());
    hasher.update([0x04]);
    hasher.update(key.as_bytes());
    let key_id = hasher.finalize()[..4].to_vec();
    let (text, signatures) = note.split_once("\n\n").expect("a signed note");
    let text = format!("{text}\n");
    let line = signatures
        .lines()
        .find_map(|line| line.strip_prefix(&format!("\u{2014} {name} ")))
        .expect("a line of the witness");
    let bytes = STANDARD.decode(line).expect("base64");
    assert_eq!((bytes.len(), &bytes[..4]), (4 + 8 + 64, key_id.as_slice()), "key ID, timestamp, signature");
    let timestamp = u64::from_be_bytes(bytes[4..12].try_into().expect("8 bytes"));
    let message = format!("cosignature/v1\ntime {timestamp}\n{text}");
    let signature = Signature::from_slice(&bytes[12..]).expect("64 bytes");
    key.verify(message.as_bytes(), &signature).expect("the cosignature verifies");
    timestamp
}

/// The refusals of AddCheckpoint in `server`'s trail, as (status code, reason).
async fn refusals(server: &RunningServer) -> Vec<(i32, String)> {
    let request = ListAuditRecordsRequest { rpc: ADD_CHECKPOINT.to_owned(), ..Default::default() };
    let records = TrailReader::connect(server.local_addr).await.records(request).await;
    records
        .into_iter()
        .filter(|record| record.status_code != 0)
        .map(|record| (record.status_code, record.error_reason))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_deployments_cosign_each_other_and_a_forked_log_is_refused_visibly() {
    on_every_database(|database| async move {
        let second = another_database(&database).await;
        let a = Deployment { database, origin: "a.example/signing-log", witness_name: "a.example/witness" };
        let b = Deployment { database: second, origin: "b.example/signing-log", witness_name: "b.example/witness" };
        let backend = a.database.backend;

        // First starts make the keys; each deployment is then configured with the other's.
        let (server_a, server_b) = (
            start_service_with::<motcua_signing::Signing>(a.config(None)).await,
            start_service_with::<motcua_signing::Signing>(b.config(None)).await,
        );
        let (keys_a, keys_b) = (keys_of(&server_a).await, keys_of(&server_b).await);
        let (addr_a, addr_b) = (server_a.local_addr, server_b.local_addr);
        server_a.stop().await.expect("clean stop");
        server_b.stop().await.expect("clean stop");
        let mut config_a = a.config(Some((&keys_b, &format!("http://{addr_b}"))));
        config_a.listen_addr = addr_a;
        let mut config_b = b.config(Some((&keys_a, &format!("http://{addr_a}"))));
        config_b.listen_addr = addr_b;
        let server_a = start_service_with::<motcua_signing::Signing>(config_a.clone()).await;
        let server_b = start_service_with::<motcua_signing::Signing>(config_b.clone()).await;

        // Each signs; each log's checkpoint is cosigned by the other's witness.
        for server in [&server_a, &server_b] {
            let mut signing = common::client(server.local_addr).await;
            deploy(&mut signing, "CN01", true, pb::KeyAlgorithm::EcdsaP256).await;
            sign(&mut signing, "officer-CN01", b"quyet dinh 1").await;
        }
        let (size_a, note_a) = published_of_at_least(&server_a, 1).await;
        let (size_b, note_b) = published_of_at_least(&server_b, 1).await;
        verify_cosignature(&note_a, &keys_b.witness);
        verify_cosignature(&note_b, &keys_a.witness);
        let (origin, opened_size, honest_root) = verifier::open_checkpoint(&note_a, &keys_a.log);
        assert_eq!((origin.as_str(), opened_size), (a.origin, size_a as u64), "{backend}");
        assert_eq!(verifier::open_checkpoint(&note_b, &keys_b.log).1, size_b as u64);
        let seen = witness_client(&server_b).await.get_witness(pb::GetWitnessRequest {}).await.expect("B").into_inner();
        assert_eq!((seen.logs[0].origin.as_str(), seen.logs[0].tree_size), (a.origin, size_a), "{backend}");

        // A forks: stopped, one leaf changed, its checkpoint re-signed over the new root with its own
        // key, B's cosignature wiped; then it comes back where B expects it.
        server_a.stop().await.expect("clean stop");
        let db_a = a.db().await;
        let stored_key = log_key::Entity::find_by_id(1).one(&db_a).await.expect("read").expect("the log key");
        let der = KeyEncryption::new(TEST_SECRET).decrypt(&stored_key.encrypted_key).expect("the key decrypts");
        let log_key = SigningKey::from_pkcs8_der(der.as_bytes()).expect("an Ed25519 key");
        let mut leaves =
            log_leaf::Entity::find().order_by_asc(log_leaf::Column::LeafIndex).all(&db_a).await.expect("leaves");
        leaves[0].leaf_data.extend_from_slice(b" (forged)");
        let forged_leaf = merkle::leaf_hash(&leaves[0].leaf_data);
        let mut changed: log_leaf::ActiveModel = leaves[0].clone().into();
        changed.leaf_data = Set(leaves[0].leaf_data.clone());
        changed.leaf_hash = Set(forged_leaf.to_vec());
        changed.update(&db_a).await.expect("the leaf changed");
        let mut forked: Vec<merkle::Hash> = leaves.iter().map(|leaf| merkle::leaf_hash(&leaf.leaf_data)).collect();
        forked.truncate(size_a as usize);
        let forged_root = merkle::root(&forked);
        assert_ne!(forged_root, honest_root);
        let forged_note =
            checkpoint::sign(a.origin, &log_key, &checkpoint::body(a.origin, size_a as u64, &forged_root));
        let mut rewritten: checkpoint_row::ActiveModel =
            checkpoint_row::Entity::find_by_id(size_a).one(&db_a).await.expect("read").expect("the checkpoint").into();
        rewritten.root_hash = Set(forged_root.to_vec());
        rewritten.note = Set(forged_note.clone());
        rewritten.update(&db_a).await.expect("the checkpoint rewritten");
        checkpoint_row::Entity::delete_many()
            .filter(checkpoint_row::Column::TreeSize.gt(size_a))
            .exec(&db_a)
            .await
            .expect("later checkpoints dropped");
        cosignature::Entity::delete_many().exec(&db_a).await.expect("cosignatures wiped");
        let server_a = start_service_with::<motcua_signing::Signing>(config_a.clone()).await;

        // A's own collector submits the fork and B refuses it: in B's trail, with its reason.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let refused = loop {
            let found = refusals(&server_b).await;
            if found.iter().any(|(_, reason)| reason == "ROOT_HASH_MISMATCH" || reason == "CONSISTENCY_PROOF_INVALID") {
                break found;
            }
            assert!(tokio::time::Instant::now() < deadline, "{backend}: B refuses A's fork: {found:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(refused.iter().all(|(code, _)| *code == tonic::Code::FailedPrecondition as i32), "{refused:?}");
        let settings_a = witness::Settings::from_config(&config_a);
        assert_eq!(witness::published(&db_a, &settings_a).await.expect("read"), None, "no cosignature of the fork");

        // The same refusals answered to a direct call, each with its reason.
        let mut witness_b = witness_client(&server_b).await;
        let add = |body: String| {
            let mut witness_b = witness_b.clone();
            async move { witness_b.add_checkpoint(pb::AddCheckpointRequest { body }).await }
        };
        let mismatch = add(add_checkpoint_body(0, &[], &forged_note)).await.expect_err("old 0 after a cosigned size");
        assert_eq!(
            (mismatch.code(), reason(&mismatch).as_str()),
            (tonic::Code::FailedPrecondition, "OLD_SIZE_MISMATCH")
        );
        let info = mismatch.get_error_details().error_info().cloned().expect("an ErrorInfo");
        assert_eq!(info.metadata.get("tree_size"), Some(&size_a.to_string()), "the witness's size");
        let same_size = add(add_checkpoint_body(size_a as u64, &[], &forged_note)).await.expect_err("another root");
        assert_eq!(reason(&same_size), "ROOT_HASH_MISMATCH", "{backend}");
        // The fork grown by one leaf, with a proof that holds within the forked tree only.
        forked.push(merkle::leaf_hash(b"one more"));
        let grown = checkpoint::sign(
            a.origin,
            &log_key,
            &checkpoint::body(a.origin, forked.len() as u64, &merkle::root(&forked)),
        );
        let proof = merkle::consistency_proof(size_a as usize, &forked).expect("a proof");
        let invalid = add(add_checkpoint_body(size_a as u64, &proof, &grown)).await.expect_err("not consistent");
        assert_eq!(
            (invalid.code(), reason(&invalid).as_str()),
            (tonic::Code::FailedPrecondition, "CONSISTENCY_PROOF_INVALID")
        );
        let unknown = checkpoint::sign("c.example/log", &log_key, &checkpoint::body("c.example/log", 1, &[0; 32]));
        let not_found = add(add_checkpoint_body(0, &[], &unknown)).await.expect_err("not witnessed");
        assert_eq!((not_found.code(), reason(&not_found).as_str()), (tonic::Code::NotFound, "UNKNOWN_LOG"));
        let other_key = SigningKey::from_bytes(&[9; 32]);
        let impostor = checkpoint::sign(a.origin, &other_key, &checkpoint::body(a.origin, size_a as u64, &honest_root));
        let denied = add(add_checkpoint_body(size_a as u64, &[], &impostor)).await.expect_err("not A's key");
        assert_eq!(
            (denied.code(), reason(&denied).as_str()),
            (tonic::Code::PermissionDenied, "CHECKPOINT_SIGNATURE_INVALID")
        );
        let reasons: Vec<String> = refusals(&server_b).await.into_iter().map(|(_, reason)| reason).collect();
        for expected in [
            "OLD_SIZE_MISMATCH",
            "ROOT_HASH_MISMATCH",
            "CONSISTENCY_PROOF_INVALID",
            "UNKNOWN_LOG",
            "CHECKPOINT_SIGNATURE_INVALID",
        ] {
            assert!(reasons.iter().any(|reason| reason == expected), "{backend}: {expected} in B's trail: {reasons:?}");
        }

        // B still holds A's honest history.
        let seen = witness_b.get_witness(pb::GetWitnessRequest {}).await.expect("B").into_inner();
        assert_eq!((seen.logs[0].tree_size, seen.logs[0].root_hash.as_slice()), (size_a, honest_root.as_slice()));
        for server in [server_a, server_b] {
            server.stop().await.expect("clean stop");
        }
    })
    .await;
}
