//! The hash chain over a service's audit trail: what a record's bytes are, and how each chained
//! record's hash follows from the one before it.
//!
//! Records are written concurrently, by the transactions of the mutations they describe, and commit
//! out of id order; hashing them there would serialise every mutation of the service. Instead a
//! background [`Chainer`] takes committed, unchained records in batches, gives each the next position
//! (dense from 1) and stores `chain_hash(n) = SHA-256(chain_hash(n - 1) || canonical_bytes(record n))`
//! in `audit_chain`, with the last position and hash in `audit_chain_head`; `chain_hash(0)` is 32 zero
//! bytes. [`verify`] walks the chain and names the first position that no longer matches.
//!
//! [`canonical_bytes`] is the one encoding, shared by the chainer and the verifier (version 1): a
//! sequence of fields, each written as its length (4 bytes, big-endian) followed by its bytes —
//! 1. the record's id (8 bytes, big-endian two's complement);
//! 2. its time: seconds since the Unix epoch (8 bytes, big-endian two's complement);
//! 3. its time's nanoseconds within that second (4 bytes, big-endian);
//! 4. identity, 5. actor_id, 6. rpc (UTF-8);
//! 7. action (2 bytes, big-endian);
//! 8. request_id, 9. trace_id (UTF-8);
//! 10. status_code (4 bytes, big-endian);
//! 11. error_reason (UTF-8);
//! 12. the number of subjects (4 bytes, big-endian);
//! 13. then, for each subject in position order, its position (4 bytes, big-endian) and the subject
//!     (UTF-8), as two fields.
//!
//! Every field carries its length, so no two different records have the same bytes.

mod chainer;
mod verify;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
use sha2::{Digest, Sha256};

pub use chainer::{Chained, Chainer, chain_all, chain_pending};
pub use verify::{Mismatch, Verified, verify};

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// One record of the trail with its subjects, as the database holds it: what the chain covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedRecord {
    /// Its sequence (`audit_records.id`).
    pub id: i64,
    /// When the call was answered.
    pub time: DateTime<Utc>,
    /// Who called.
    pub identity: String,
    /// The acting officer, when one was named.
    pub actor_id: String,
    /// The method called.
    pub rpc: String,
    /// What the call was recorded as.
    pub action: i16,
    /// The caller's request id.
    pub request_id: String,
    /// The W3C trace id.
    pub trace_id: String,
    /// The gRPC status code of the answer.
    pub status_code: i32,
    /// The error's reason, when it failed.
    pub error_reason: String,
    /// The resources it names: `(position, subject)`, in position order.
    pub subjects: Vec<(i32, String)>,
}

/// The record's bytes as the chain hashes them (the encoding in this module's documentation).
pub fn canonical_bytes(record: &ChainedRecord) -> Vec<u8> {
    fn field(bytes: &mut Vec<u8>, value: &[u8]) {
        let length = u32::try_from(value.len()).unwrap_or(u32::MAX);
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(value);
    }
    let mut bytes = Vec::with_capacity(256);
    field(&mut bytes, &record.id.to_be_bytes());
    field(&mut bytes, &record.time.timestamp().to_be_bytes());
    field(&mut bytes, &record.time.timestamp_subsec_nanos().to_be_bytes());
    field(&mut bytes, record.identity.as_bytes());
    field(&mut bytes, record.actor_id.as_bytes());
    field(&mut bytes, record.rpc.as_bytes());
    field(&mut bytes, &record.action.to_be_bytes());
    field(&mut bytes, record.request_id.as_bytes());
    field(&mut bytes, record.trace_id.as_bytes());
    field(&mut bytes, &record.status_code.to_be_bytes());
    field(&mut bytes, record.error_reason.as_bytes());
    field(&mut bytes, &u32::try_from(record.subjects.len()).unwrap_or(u32::MAX).to_be_bytes());
    for (position, subject) in &record.subjects {
        field(&mut bytes, &position.to_be_bytes());
        field(&mut bytes, subject.as_bytes());
    }
    bytes
}

/// The chain's hash after `record`, given the hash before it.
pub fn next_hash(previous: &[u8; 32], record: &ChainedRecord) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(canonical_bytes(record));
    hasher.finalize().into()
}

/// Lower-case hexadecimal, for reports.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The records `ids` with their subjects, by id; an id with no record is absent.
async fn load_records(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, ChainedRecord>, DbErr> {
    let mut records = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(records);
    }
    let backend = db.get_database_backend();
    let list = (1..=ids.len()).map(|number| format!("${number}")).collect::<Vec<_>>().join(", ");
    let values: Vec<Value> = ids.iter().map(|id| (*id).into()).collect();
    let sql = crate::db::placeholders(
        backend,
        &format!(
            "SELECT id, time, identity, actor_id, rpc, action, request_id, trace_id, status_code, error_reason \
             FROM audit_records WHERE id IN ({list})"
        ),
    );
    for row in db.query_all_raw(Statement::from_sql_and_values(backend, sql, values.clone())).await? {
        let record = ChainedRecord {
            id: row.try_get("", "id")?,
            time: row.try_get("", "time")?,
            identity: row.try_get("", "identity")?,
            actor_id: row.try_get("", "actor_id")?,
            rpc: row.try_get("", "rpc")?,
            action: row.try_get("", "action")?,
            request_id: row.try_get("", "request_id")?,
            trace_id: row.try_get("", "trace_id")?,
            status_code: row.try_get("", "status_code")?,
            error_reason: row.try_get("", "error_reason")?,
            subjects: Vec::new(),
        };
        records.insert(record.id, record);
    }
    let sql = crate::db::placeholders(
        backend,
        &format!(
            "SELECT record_id, position, subject FROM audit_record_subjects WHERE record_id IN ({list}) \
             ORDER BY record_id, position"
        ),
    );
    for row in db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await? {
        let record_id: i64 = row.try_get("", "record_id")?;
        if let Some(record) = records.get_mut(&record_id) {
            record.subjects.push((row.try_get("", "position")?, row.try_get("", "subject")?));
        }
    }
    Ok(records)
}

/// The head: the last chained position and the chain's hash there.
async fn read_head(db: &impl ConnectionTrait) -> Result<(i64, Vec<u8>), DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT position, chain_hash FROM audit_chain_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("audit_chain_head has no row: the chain's migration has not run".to_owned()))?;
    Ok((row.try_get("", "position")?, row.try_get("", "chain_hash")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ChainedRecord {
        ChainedRecord {
            id: 7,
            time: DateTime::from_timestamp(1_765_000_000, 123_456_000).expect("a valid time"),
            identity: "spiffe://motcua/staff/cn01".to_owned(),
            actor_id: "cn01".to_owned(),
            rpc: "/motcua.intake.v1.IntakeService/CreateDossier".to_owned(),
            action: 1,
            request_id: "r-1".to_owned(),
            trace_id: String::new(),
            status_code: 0,
            error_reason: String::new(),
            subjects: vec![(0, "dossiers/1".to_owned()), (1, "dossiers/2".to_owned())],
        }
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_encoding() {
        let original = record();
        let mut shifted = record();
        shifted.identity = "spiffe://motcua/staff/cn01c".to_owned();
        shifted.actor_id = "n01".to_owned();
        assert_ne!(canonical_bytes(&original), canonical_bytes(&shifted));
        let mut merged = record();
        merged.subjects = vec![(0, "dossiers/1dossiers/2".to_owned())];
        assert_ne!(canonical_bytes(&original), canonical_bytes(&merged));
    }

    #[test]
    fn every_field_and_the_previous_hash_count() {
        let base = next_hash(&GENESIS, &record());
        let mut changes: Vec<ChainedRecord> = Vec::new();
        for change in 0..8 {
            let mut changed = record();
            match change {
                0 => changed.id += 1,
                1 => changed.time += chrono::Duration::nanoseconds(1000),
                2 => changed.action = 2,
                3 => changed.status_code = 7,
                4 => changed.error_reason = "X".to_owned(),
                5 => changed.subjects.reverse(),
                6 => changed.subjects[1].0 = 5,
                _ => changed.subjects.pop().map(drop).unwrap_or_default(),
            }
            changes.push(changed);
        }
        for changed in &changes {
            assert_ne!(next_hash(&GENESIS, changed), base, "{changed:?}");
        }
        assert_ne!(next_hash(&[1; 32], &record()), base);
        assert_eq!(next_hash(&GENESIS, &record()), base);
        assert_eq!(to_hex(&[0x00, 0xab]), "00ab");
    }
}
