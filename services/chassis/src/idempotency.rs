//! `request_id` on every mutation (AIP-155): the first call's response is stored in the same
//! transaction as its effect, a retry gets that response back, and the same id with another body is
//! refused. Concurrent retries are safe: the id is claimed first, so the second caller waits on the
//! unique key and then finds the first one's answer. Storing the response also writes the call's audit
//! record, in the same transaction: every mutation's change, response and record commit together.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, Statement, Value};
use sea_orm_migration::{prelude::*, schema::*};
use sha2::{Digest, Sha256};

use crate::{db::placeholders, error::ApiError};

#[derive(DeriveIden)]
enum RequestLog {
    Table,
    RequestId,
    Rpc,
    BodyHash,
    Response,
    CreatedAt,
}

/// Creates `request_log`. Call it from the service's migration that introduces its mutations.
pub async fn create_table(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(RequestLog::Table)
                .if_not_exists()
                .col(string_len(RequestLog::RequestId, 64).primary_key())
                .col(string_len(RequestLog::Rpc, 64))
                .col(string_len(RequestLog::BodyHash, 64))
                .col(blob(RequestLog::Response))
                .col(timestamp_with_time_zone(RequestLog::CreatedAt))
                .to_owned(),
        )
        .await
}

/// A mutation's identity: its request id, its RPC and a hash of its body.
#[derive(Debug, Clone)]
pub struct RequestKey {
    request_id: String,
    rpc: &'static str,
    body_hash: String,
}

impl RequestKey {
    /// Checks `request_id` (1 to 64 printable ASCII characters; a UUID is expected) and hashes `body`,
    /// the request's encoding without any field that may differ between retries.
    pub fn new(request_id: &str, rpc: &'static str, body: &[u8]) -> Result<Self, ApiError> {
        if request_id.is_empty() || request_id.len() > 64 || !request_id.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(ApiError::invalid(
                "INVALID_REQUEST_ID",
                "request_id",
                "required: 1 to 64 printable ASCII characters, a UUID chosen by the client",
            ));
        }
        let body_hash = Sha256::digest(body).iter().map(|byte| format!("{byte:02x}")).collect();
        Ok(Self { request_id: request_id.to_owned(), rpc, body_hash })
    }

    /// The request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// What claiming a request id found.
pub enum Claim {
    /// The id is new and now held by this transaction: do the work, then [`complete`].
    Claimed,
    /// An earlier call with the same id and body succeeded: here is its encoded response.
    Replay(Vec<u8>),
}

/// Claims `key` inside `transaction`, or finds the earlier call's response. The same id with another
/// RPC or body is ALREADY_EXISTS with reason REQUEST_ID_REUSED.
pub async fn claim(transaction: &DatabaseTransaction, key: &RequestKey) -> Result<Claim, ApiError> {
    if let Some(response) = find(transaction, key).await? {
        return Ok(Claim::Replay(response));
    }
    let backend = transaction.get_database_backend();
    let inserted = transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "INSERT INTO request_log (request_id, rpc, body_hash, response, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (request_id) DO NOTHING",
            ),
            [
                Value::from(key.request_id.clone()),
                Value::from(key.rpc),
                Value::from(key.body_hash.clone()),
                Value::from(Vec::<u8>::new()),
                Value::from(crate::clock::Clock::system().now()),
            ],
        ))
        .await?
        .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    // A concurrent call with the same id committed between our look and our insert.
    match find(transaction, key).await? {
        Some(response) => Ok(Claim::Replay(response)),
        None => Err(in_progress()),
    }
}

/// The stored response of an earlier call with `key`, read outside any transaction: a handler that
/// calls another service before its own transaction checks this first, so a retry is answered
/// without calling again.
pub async fn replay(connection: &impl ConnectionTrait, key: &RequestKey) -> Result<Option<Vec<u8>>, ApiError> {
    Ok(find(connection, key).await?.filter(|response| !response.is_empty()))
}

/// Stores the response of a claimed request, and the audit record of the call the current task handles,
/// in the transaction that made its effect.
pub async fn complete(transaction: &DatabaseTransaction, key: &RequestKey, response: &[u8]) -> Result<(), DbErr> {
    crate::audit::record_in(transaction, response).await?;
    let backend = transaction.get_database_backend();
    transaction
        .execute_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "UPDATE request_log SET response = $1 WHERE request_id = $2"),
            [Value::from(response.to_vec()), Value::from(key.request_id.clone())],
        ))
        .await?;
    Ok(())
}

/// What an earlier call with each of `keys` left, in one query, for a batch of calls: its response
/// (a replay), nothing (a new call), or REQUEST_ID_REUSED. A batch writes its new calls' responses
/// with [`record_many`] in the transaction that makes their effects.
pub async fn find_many(
    connection: &impl ConnectionTrait,
    keys: &[&RequestKey],
) -> Result<Vec<Result<Option<Vec<u8>>, ApiError>>, ApiError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let backend = connection.get_database_backend();
    let list = (1..=keys.len()).map(|index| format!("${index}")).collect::<Vec<_>>().join(", ");
    let rows = connection
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                &format!("SELECT request_id, rpc, body_hash, response FROM request_log WHERE request_id IN ({list})"),
            ),
            keys.iter().map(|key| Value::from(key.request_id.clone())),
        ))
        .await?;
    let mut found = std::collections::HashMap::new();
    for row in rows {
        let request_id: String = row.try_get("", "request_id")?;
        let rpc: String = row.try_get("", "rpc")?;
        let body_hash: String = row.try_get("", "body_hash")?;
        let response: Vec<u8> = row.try_get("", "response")?;
        found.insert(request_id, (rpc, body_hash, response));
    }
    Ok(keys
        .iter()
        .map(|key| match found.get(&key.request_id) {
            None => Ok(None),
            Some((rpc, body_hash, _)) if *rpc != key.rpc || *body_hash != key.body_hash => Err(reused()),
            // A claimed call still in progress in another transaction has no response yet.
            Some((_, _, response)) if response.is_empty() => Err(in_progress()),
            Some((_, _, response)) => Ok(Some(response.clone())),
        })
        .collect())
}

/// Records the responses of a batch of new calls in one statement, inside the transaction that made
/// their effects. The batch runs apart from its calls' tasks: it writes their audit records itself,
/// with [`crate::audit::PendingCall::record_in`]. Returns whether every id was recorded: `false` means a concurrent call took one of
/// them first, and the transaction must be rolled back and the batch tried again (its retry then
/// finds that call's response).
pub async fn record_many(transaction: &DatabaseTransaction, calls: &[(&RequestKey, &[u8])]) -> Result<bool, DbErr> {
    if calls.is_empty() {
        return Ok(true);
    }
    let backend = transaction.get_database_backend();
    let now = crate::clock::Clock::system().now();
    let mut rows = Vec::with_capacity(calls.len());
    let mut values = Vec::with_capacity(calls.len() * 5);
    for (index, (key, response)) in calls.iter().enumerate() {
        let base = index * 5;
        rows.push(format!("(${}, ${}, ${}, ${}, ${})", base + 1, base + 2, base + 3, base + 4, base + 5));
        values.extend([
            Value::from(key.request_id.clone()),
            Value::from(key.rpc),
            Value::from(key.body_hash.clone()),
            Value::from(response.to_vec()),
            Value::from(now),
        ]);
    }
    let sql = format!(
        "INSERT INTO request_log (request_id, rpc, body_hash, response, created_at) VALUES {} \
         ON CONFLICT (request_id) DO NOTHING",
        rows.join(", ")
    );
    let inserted =
        transaction.execute_raw(Statement::from_sql_and_values(backend, placeholders(backend, &sql), values)).await?;
    Ok(inserted.rows_affected() == calls.len() as u64)
}

fn reused() -> ApiError {
    ApiError::AlreadyExists {
        reason: "REQUEST_ID_REUSED",
        description: "this request_id was used for a different request; choose a new request_id".to_owned(),
    }
}

fn in_progress() -> ApiError {
    ApiError::Unavailable {
        reason: "REQUEST_IN_PROGRESS",
        description: "a call with this request_id is in progress; retry with the same request_id".to_owned(),
    }
}

async fn find(connection: &impl ConnectionTrait, key: &RequestKey) -> Result<Option<Vec<u8>>, ApiError> {
    let backend = connection.get_database_backend();
    let row = connection
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "SELECT rpc, body_hash, response FROM request_log WHERE request_id = $1"),
            [Value::from(key.request_id.clone())],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let rpc: String = row.try_get("", "rpc")?;
    let body_hash: String = row.try_get("", "body_hash")?;
    if rpc != key.rpc || body_hash != key.body_hash {
        return Err(reused());
    }
    Ok(Some(row.try_get("", "response")?))
}
