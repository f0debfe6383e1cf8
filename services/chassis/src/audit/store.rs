//! Writing a record, and reading the trail for `ListAuditRecords`: the filters, keyset paging by
//! sequence, oldest first.

use chrono::{DateTime, Utc};
use motcua_proto::motcua::audit::v1::{
    AuditRecord, ListAuditRecordsRequest, ListAuditRecordsResponse, audit_record::Action,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, Value};

use super::{Entry, is_trace_id, trail_identity};
use crate::{error::ApiError, paging, timestamps};

/// How many subjects one INSERT writes.
const SUBJECTS_PER_STATEMENT: usize = 100;

/// Appends `entry`, answered at `time`, in a transaction of its own, and returns its sequence.
pub(super) async fn append_alone(db: &DatabaseConnection, time: DateTime<Utc>, entry: &Entry) -> Result<i64, DbErr> {
    let transaction = crate::db::begin_write(db).await?;
    let sequence = append(&transaction, time, entry).await?;
    transaction.commit().await?;
    Ok(sequence)
}

/// The nine columns of `entry`'s `audit_records` row, in the order the inserts name them. What callers
/// supply is cut to its column, so that an oversized request id is refused by its handler, not turned
/// into an audit failure.
fn record_values(time: DateTime<Utc>, entry: &Entry) -> [Value; 9] {
    [
        time.into(),
        clip(&entry.identity, 150).into(),
        clip(&entry.facts.actor_id, 100).into(),
        clip(&entry.rpc, 200).into(),
        (entry.action as i32 as i16).into(),
        clip(&entry.facts.request_id, 100).into(),
        clip(&entry.trace_id, 32).into(),
        entry.status_code.into(),
        clip(&entry.error_reason, 100).into(),
    ]
}

/// Appends `entry`, answered at `time`, through `transaction`, and returns its sequence.
pub(super) async fn append(
    transaction: &impl ConnectionTrait,
    time: DateTime<Utc>,
    entry: &Entry,
) -> Result<i64, DbErr> {
    let backend = transaction.get_database_backend();
    let sql = crate::db::placeholders(
        backend,
        "INSERT INTO audit_records \
         (time, identity, actor_id, rpc, action, request_id, trace_id, status_code, error_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    );
    let values: Vec<Value> = record_values(time, entry).into();
    let row = transaction
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| DbErr::Custom("INSERT ... RETURNING id returned no row".to_owned()))?;
    let sequence: i64 = row.try_get("", "id")?;
    let subjects: Vec<(i64, i32, &String)> = entry
        .facts
        .subjects
        .iter()
        .enumerate()
        .map(|(position, subject)| (sequence, position as i32, subject))
        .collect();
    insert_subjects(transaction, &subjects).await?;
    Ok(sequence)
}

/// Inserts the `(record, position, subject)` rows: a listing names up to a page of resources, so a
/// statement per hundred, not per subject.
async fn insert_subjects(transaction: &impl ConnectionTrait, subjects: &[(i64, i32, &String)]) -> Result<(), DbErr> {
    let backend = transaction.get_database_backend();
    for chunk in subjects.chunks(SUBJECTS_PER_STATEMENT) {
        let rows = (0..chunk.len())
            .map(|row| format!("(${}, ${}, ${})", 3 * row + 1, 3 * row + 2, 3 * row + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = crate::db::placeholders(
            backend,
            &format!("INSERT INTO audit_record_subjects (record_id, position, subject) VALUES {rows}"),
        );
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|(record, position, subject)| [(*record).into(), (*position).into(), (*subject).clone().into()])
            .collect();
        transaction.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    }
    Ok(())
}

/// Appends `entries`, answered at `time`, through `transaction`, in two statements however many they
/// are (a batch that commits many calls at once); their sequences, in order. Entries must name distinct
/// request ids, by which the sequences are matched; with a repeated one they are appended one by one.
pub(super) async fn append_many(
    transaction: &impl ConnectionTrait,
    time: DateTime<Utc>,
    entries: &[&Entry],
) -> Result<Vec<i64>, DbErr> {
    let request_ids: std::collections::HashSet<String> =
        entries.iter().map(|entry| clip(&entry.facts.request_id, 100)).collect();
    if entries.len() < 2 || request_ids.len() != entries.len() {
        let mut sequences = Vec::with_capacity(entries.len());
        for entry in entries {
            sequences.push(append(transaction, time, entry).await?);
        }
        return Ok(sequences);
    }
    let backend = transaction.get_database_backend();
    let rows = (0..entries.len())
        .map(|row| {
            format!("(${})", (1..=9).map(|column| (9 * row + column).to_string()).collect::<Vec<_>>().join(", $"))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = crate::db::placeholders(
        backend,
        &format!(
            "INSERT INTO audit_records \
             (time, identity, actor_id, rpc, action, request_id, trace_id, status_code, error_reason) \
             VALUES {rows} RETURNING id, request_id"
        ),
    );
    let values: Vec<Value> = entries.iter().flat_map(|entry| record_values(time, entry)).collect();
    let mut by_request = std::collections::HashMap::new();
    for row in transaction.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await? {
        let (id, request_id): (i64, String) = (row.try_get("", "id")?, row.try_get("", "request_id")?);
        by_request.insert(request_id, id);
    }
    let sequences = entries
        .iter()
        .map(|entry| {
            by_request
                .get(&clip(&entry.facts.request_id, 100))
                .copied()
                .ok_or_else(|| DbErr::Custom("INSERT ... RETURNING did not return every audit record".to_owned()))
        })
        .collect::<Result<Vec<i64>, DbErr>>()?;
    let subjects: Vec<(i64, i32, &String)> = entries
        .iter()
        .zip(&sequences)
        .flat_map(|(entry, sequence)| {
            entry
                .facts
                .subjects
                .iter()
                .enumerate()
                .map(move |(position, subject)| (*sequence, position as i32, subject))
        })
        .collect();
    insert_subjects(transaction, &subjects).await?;
    Ok(sequences)
}

/// Whether the record `sequence` exists and is the one `entry` describes: a sequence a rolled-back
/// transaction took may be another call's on SQLite, which reuses row ids.
pub(super) async fn exists(db: &DatabaseConnection, sequence: i64, entry: &Entry) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let sql = crate::db::placeholders(
        backend,
        "SELECT id FROM audit_records WHERE id = $1 AND rpc = $2 AND identity = $3 AND request_id = $4",
    );
    let values: Vec<Value> = vec![
        sequence.into(),
        clip(&entry.rpc, 200).into(),
        clip(&entry.identity, 150).into(),
        clip(&entry.facts.request_id, 100).into(),
    ];
    Ok(db.query_one_raw(Statement::from_sql_and_values(backend, sql, values)).await?.is_some())
}

/// The filters, checked, and the SQL conditions they make.
struct Filters {
    conditions: Vec<(&'static str, Value)>,
    fingerprint: String,
}

impl Filters {
    fn from_query(query: &ListAuditRecordsRequest) -> Result<Self, ApiError> {
        let time = |field: &'static str, timestamp: &Option<prost_types::Timestamp>| {
            timestamp
                .as_ref()
                .map(|timestamp| {
                    timestamps::from_proto(timestamp)
                        .ok_or_else(|| ApiError::invalid("INVALID_TIME", field, "not a valid timestamp"))
                })
                .transpose()
        };
        let start_time = time("start_time", &query.start_time)?;
        let end_time = time("end_time", &query.end_time)?;
        let action = match Action::try_from(query.action) {
            Ok(Action::Unspecified) => None,
            Ok(action) => Some(action),
            Err(_) => return Err(ApiError::invalid("INVALID_ACTION", "action", "not an AuditRecord.Action")),
        };
        if !query.trace_id.is_empty() && !is_trace_id(&query.trace_id) {
            return Err(ApiError::invalid("INVALID_TRACE_ID", "trace_id", "must be 32 lower-case hexadecimal digits"));
        }
        let identity = if query.identity.is_empty() { String::new() } else { trail_identity(&query.identity) };

        let mut conditions: Vec<(&'static str, Value)> = Vec::new();
        if let Some(start_time) = start_time {
            conditions.push(("time >= $", start_time.into()));
        }
        if let Some(end_time) = end_time {
            conditions.push(("time < $", end_time.into()));
        }
        for (condition, value) in [
            ("identity = $", &identity),
            ("rpc = $", &query.rpc),
            ("request_id = $", &query.request_id),
            ("trace_id = $", &query.trace_id),
        ] {
            if !value.is_empty() {
                conditions.push((condition, value.clone().into()));
            }
        }
        if let Some(action) = action {
            conditions.push(("action = $", (action as i32 as i16).into()));
        }
        if !query.subject.is_empty() {
            conditions.push((
                "EXISTS (SELECT 1 FROM audit_record_subjects s WHERE s.record_id = audit_records.id AND s.subject = $)",
                query.subject.clone().into(),
            ));
        }
        let fingerprint = format!(
            "start={:?};end={:?};identity={identity};subject={};rpc={};action={};request={};trace={}",
            start_time.map(|time| time.timestamp_nanos_opt()),
            end_time.map(|time| time.timestamp_nanos_opt()),
            query.subject,
            query.rpc,
            query.action,
            query.request_id,
            query.trace_id,
        );
        Ok(Self { conditions, fingerprint })
    }
}

/// One page of the trail in `db` that `query` asks for.
pub(super) async fn list(
    db: &DatabaseConnection,
    query: &ListAuditRecordsRequest,
) -> Result<ListAuditRecordsResponse, ApiError> {
    let page_size = paging::page_size(query.page_size)?;
    let filters = Filters::from_query(query)?;
    let after: i64 = match paging::decode_token(&query.page_token, &filters.fingerprint)? {
        None => 0,
        Some(key) => key
            .parse()
            .map_err(|_| ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service"))?,
    };

    let backend = db.get_database_backend();
    let mut sql = "SELECT id, time, identity, actor_id, rpc, action, request_id, trace_id, status_code, error_reason \
                   FROM audit_records WHERE id > $"
        .to_owned();
    let mut values: Vec<Value> = vec![after.into()];
    for (condition, value) in filters.conditions {
        sql.push_str(" AND ");
        sql.push_str(condition);
        values.push(value);
    }
    sql.push_str(" ORDER BY id LIMIT $");
    values.push(i64::try_from(page_size + 1).unwrap_or(i64::MAX).into());
    let sql = crate::db::placeholders(backend, &number_placeholders(&sql));
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;

    let more = rows.len() as u64 > page_size;
    let mut audit_records = Vec::with_capacity(rows.len());
    for row in rows.iter().take(usize::try_from(page_size).unwrap_or(usize::MAX)) {
        let sequence: i64 = row.try_get("", "id")?;
        let time: DateTime<Utc> = row.try_get("", "time")?;
        let action: i16 = row.try_get("", "action")?;
        audit_records.push(AuditRecord {
            name: format!("auditRecords/{sequence}"),
            sequence,
            time: Some(timestamps::to_proto(time)),
            identity: row.try_get("", "identity")?,
            actor_id: row.try_get("", "actor_id")?,
            rpc: row.try_get("", "rpc")?,
            action: i32::from(action),
            subjects: Vec::new(),
            request_id: row.try_get("", "request_id")?,
            trace_id: row.try_get("", "trace_id")?,
            status_code: row.try_get("", "status_code")?,
            error_reason: row.try_get("", "error_reason")?,
        });
    }
    attach_subjects(db, &mut audit_records).await?;
    let next_page_token = match audit_records.last() {
        Some(last) if more => paging::encode_token(&last.sequence.to_string(), &filters.fingerprint),
        _ => String::new(),
    };
    Ok(ListAuditRecordsResponse { audit_records, next_page_token })
}

/// Fills each record's subjects, in the order the handler noted them.
async fn attach_subjects(db: &DatabaseConnection, records: &mut [AuditRecord]) -> Result<(), DbErr> {
    if records.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let list = (1..=records.len()).map(|number| format!("${number}")).collect::<Vec<_>>().join(", ");
    let sql = crate::db::placeholders(
        backend,
        &format!(
            "SELECT record_id, subject FROM audit_record_subjects WHERE record_id IN ({list}) \
             ORDER BY record_id, position"
        ),
    );
    let values: Vec<Value> = records.iter().map(|record| record.sequence.into()).collect();
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    for row in rows {
        let record_id: i64 = row.try_get("", "record_id")?;
        let subject: String = row.try_get("", "subject")?;
        if let Ok(index) = records.binary_search_by_key(&record_id, |record| record.sequence) {
            records[index].subjects.push(subject);
        }
    }
    Ok(())
}

/// `text` cut to at most `limit` bytes, on a character boundary.
fn clip(text: &str, limit: usize) -> String {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Numbers each bare `$` placeholder of `sql` in order: `$1`, `$2` ...
fn number_placeholders(sql: &str) -> String {
    let mut numbered = String::with_capacity(sql.len() + 16);
    let mut number = 0;
    for character in sql.chars() {
        numbered.push(character);
        if character == '$' {
            number += 1;
            numbered.push_str(&number.to_string());
        }
    }
    numbered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("abc", 2), "ab");
        assert_eq!(clip("Việt", 3), "Vi");
        assert_eq!(clip("short", 100), "short");
    }

    #[test]
    fn bare_placeholders_are_numbered_in_order() {
        assert_eq!(number_placeholders("a = $ AND b = $ LIMIT $"), "a = $1 AND b = $2 LIMIT $3");
    }

    #[test]
    fn filters_refuse_unknown_actions_and_malformed_trace_ids() {
        let query = ListAuditRecordsRequest { action: 9, ..Default::default() };
        assert_eq!(Filters::from_query(&query).err().map(|error| error.reason()), Some("INVALID_ACTION"));
        let query = ListAuditRecordsRequest { trace_id: "not-a-trace".to_owned(), ..Default::default() };
        assert_eq!(Filters::from_query(&query).err().map(|error| error.reason()), Some("INVALID_TRACE_ID"));
    }

    #[test]
    fn a_short_identity_filter_means_the_same_as_its_uri() {
        let short =
            Filters::from_query(&ListAuditRecordsRequest { identity: "agency/a".to_owned(), ..Default::default() });
        let long = Filters::from_query(&ListAuditRecordsRequest {
            identity: "spiffe://motcua/agency/a".to_owned(),
            ..Default::default()
        });
        assert_eq!(short.map(|filters| filters.fingerprint).ok(), long.map(|filters| filters.fingerprint).ok());
    }
}
