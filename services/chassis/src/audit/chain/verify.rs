//! The verifier: walks a trail's chain in position order, a page at a time, recomputing each hash
//! from the record as the database now holds it, and names the first position that does not match.

use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

use super::{GENESIS, load_records, next_hash, read_head, to_hex};
use crate::db::placeholders;

/// How many chain rows one page reads.
const PAGE: i64 = 1_000;

/// A chain that matched its records and its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many chained records were checked (the head's position).
    pub count: u64,
    /// The chain's hash at the head.
    pub head: [u8; 32],
}

/// The first place the chain does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The position (from 1) at which it fails.
    pub position: i64,
    /// The record the chain names there, when it names one.
    pub record_id: Option<i64>,
    /// What is wrong.
    pub what: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record_id {
            Some(record) => {
                write!(formatter, "MISMATCH at position {} (record {record}): {}", self.position, self.what)
            }
            None => write!(formatter, "MISMATCH at position {}: {}", self.position, self.what),
        }
    }
}

/// Walks the chain in `db` from position 1 to the head, as the head stood when the walk began.
/// `Ok(Err(..))` is a chain that does not match; `Err` a database that could not be read.
pub async fn verify(db: &impl ConnectionTrait) -> Result<Result<Verified, Mismatch>, DbErr> {
    let backend = db.get_database_backend();
    // The head first: a chainer may go on appending during the walk, and what it adds is not checked.
    let (head_position, head_hash) = read_head(db).await?;
    let mut hash = GENESIS;
    let mut position = 0_i64;
    while position < head_position {
        let sql = placeholders(
            backend,
            "SELECT position, record_id, chain_hash FROM audit_chain \
             WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3",
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [Value::from(position), Value::from(head_position), Value::from(PAGE)],
            ))
            .await?;
        let mut page: Vec<(i64, i64, Vec<u8>)> = Vec::with_capacity(rows.len());
        for row in rows {
            page.push((row.try_get("", "position")?, row.try_get("", "record_id")?, row.try_get("", "chain_hash")?));
        }
        if page.is_empty() {
            return Ok(Err(Mismatch {
                position: position + 1,
                record_id: None,
                what: format!("the chain ends at position {position}, but the head says {head_position}"),
            }));
        }
        let ids: Vec<i64> = page.iter().map(|(_, id, _)| *id).collect();
        let records = load_records(db, &ids).await?;
        for (stored_position, record_id, stored_hash) in page {
            let expected = position + 1;
            if stored_position != expected {
                return Ok(Err(Mismatch {
                    position: expected,
                    record_id: None,
                    what: format!("no chain row at this position (the next is at {stored_position})"),
                }));
            }
            let Some(record) = records.get(&record_id) else {
                return Ok(Err(Mismatch {
                    position: expected,
                    record_id: Some(record_id),
                    what: "the record is missing".to_owned(),
                }));
            };
            hash = next_hash(&hash, record);
            if stored_hash != hash {
                return Ok(Err(Mismatch {
                    position: expected,
                    record_id: Some(record_id),
                    what: format!(
                        "the record (or an earlier chain hash) changed after it was chained: recomputed {}, stored {}",
                        to_hex(&hash),
                        to_hex(&stored_hash)
                    ),
                }));
            }
            position = expected;
        }
    }
    if head_hash != hash {
        return Ok(Err(Mismatch {
            position: head_position,
            record_id: None,
            what: format!("the head's hash {} is not the chain's {}", to_hex(&head_hash), to_hex(&hash)),
        }));
    }
    Ok(Ok(Verified { count: u64::try_from(head_position).unwrap_or_default(), head: hash }))
}
