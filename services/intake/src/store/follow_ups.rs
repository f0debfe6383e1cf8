//! Follow-ups in the database: the jobs a dossier's arrival or return leaves to do, recorded in the
//! transaction that moves it; what a done one produced (`follow_ups`), recorded once in the job's own
//! transaction with its `FollowUpDone` event; and both read back for `GetDossier`.

use chrono::{DateTime, Utc};
use motcua_chassis::{
    ApiError,
    feed::{self, NewEvent},
    jobs::{self, JobRecord, NewJob},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, QueryResult, Statement, Value};

use crate::{
    domain::dossier::{Dossier, HistoryEntry},
    jobs::FollowUp,
};

/// What a done follow-up produced: the receipt issued, as printed; read from a row by its column names.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct FollowUpResult {
    /// The job's kind (`intake.slip`).
    pub kind: String,
    /// `receipts/{receipt_id}`.
    pub receipt: String,
    /// Its number as printed, 7 digits.
    pub receipt_number: String,
    /// Its lookup code.
    pub lookup_code: String,
    /// Its signature's log index, once signed.
    pub signature_log_index: Option<i64>,
}

/// A dossier's follow-up jobs, oldest first, each with what it produced when done.
pub struct FollowUps {
    /// The jobs that issue receipts (the ones that follow their signatures are not listed).
    pub jobs: Vec<(FollowUp, JobRecord)>,
    /// What the done ones produced.
    pub results: Vec<FollowUpResult>,
}

/// Records the follow-ups that `entry` (the move just made on `dossier`) leaves to do, in `transaction`,
/// which moves the dossier: they commit with the move, or neither does. Reads the procedure version's
/// fees to know which fee receipts are due. The caller wakes the job runner after the commit.
pub async fn enqueue_after(
    transaction: &impl ConnectionTrait,
    dossier: &Dossier,
    entry: &HistoryEntry,
) -> Result<(), ApiError> {
    let procedure = super::catalogue::get(transaction, &dossier.procedure_code, Some(dossier.procedure_version))
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!("the dossier's procedure version {} is gone", dossier.procedure_version))
        })?;
    let due = FollowUp::due_after(entry.dossier_move, dossier.status, &procedure.spec.fee_items);
    if due.is_empty() {
        return Ok(());
    }
    let traceparent = motcua_chassis::grpc_trace::current_traceparent();
    let subject = format!("dossiers/{}", dossier.code.printed());
    let jobs = due
        .into_iter()
        .map(|follow_up| {
            let job = NewJob {
                kind: follow_up.kind(),
                subject: subject.clone(),
                // The move whose officer collects and signs: its history entry.
                payload: entry.sequence.to_string().into_bytes(),
                request_id: entry.request_id.clone(),
            };
            (job, traceparent.clone())
        })
        .collect();
    jobs::enqueue_many(transaction, entry.time, jobs).await?;
    Ok(())
}

/// What the follow-up `kind` of `dossier_code` produced, if it is done.
pub async fn find(db: &DatabaseConnection, dossier_code: &str, kind: &str) -> Result<Option<FollowUpResult>, DbErr> {
    let sql = "SELECT kind, receipt, receipt_number, lookup_code, signature_log_index FROM follow_ups \
               WHERE dossier_code = $1 AND kind = $2";
    let rows = query(db, sql, vec![dossier_code.into(), kind.into()]).await?;
    rows.iter().map(|row| FollowUpResult::from_query_result(row, "")).next().transpose()
}

/// Records that the follow-up `kind` of `dossier_code` issued `receipt`, with `event`, in one
/// transaction; and, when the receipt is not signed yet, the job that follows its signature. False
/// when an earlier attempt recorded it already: nothing is written twice.
pub async fn record_done(
    db: &DatabaseConnection,
    dossier_code: &str,
    done: &FollowUpResult,
    attempts: i32,
    now: DateTime<Utc>,
    event: NewEvent,
    signature_job: Option<NewJob>,
) -> Result<bool, DbErr> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    let backend = transaction.get_database_backend();
    let sql = "INSERT INTO follow_ups (dossier_code, kind, receipt, receipt_number, lookup_code, signature_log_index, \
               attempts, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dossier_code, kind) DO NOTHING";
    let values: Vec<Value> = vec![
        dossier_code.into(),
        done.kind.clone().into(),
        done.receipt.clone().into(),
        done.receipt_number.clone().into(),
        done.lookup_code.clone().into(),
        done.signature_log_index.into(),
        attempts.into(),
        now.into(),
    ];
    let statement = Statement::from_sql_and_values(backend, motcua_chassis::db::placeholders(backend, sql), values);
    if transaction.execute_raw(statement).await?.rows_affected() != 1 {
        transaction.rollback().await?;
        return Ok(false);
    }
    feed::append(&transaction, event).await?;
    if let Some(job) = signature_job {
        jobs::enqueue(&transaction, now, job).await?;
    }
    transaction.commit().await?;
    Ok(true)
}

/// Records the log index of the signature of the receipt that follow-up `kind` of `dossier_code`
/// issued.
pub async fn record_signature(
    db: &DatabaseConnection,
    dossier_code: &str,
    kind: &str,
    log_index: i64,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = "UPDATE follow_ups SET signature_log_index = $1 WHERE dossier_code = $2 AND kind = $3";
    let values: Vec<Value> = vec![log_index.into(), dossier_code.into(), kind.into()];
    db.execute_raw(Statement::from_sql_and_values(backend, motcua_chassis::db::placeholders(backend, sql), values))
        .await?;
    Ok(())
}

/// The follow-ups of `dossier_code`: its jobs that issue receipts, and what the done ones produced.
pub async fn of_dossier(db: &DatabaseConnection, dossier_code: &str) -> Result<FollowUps, DbErr> {
    let jobs = jobs::for_subject(db, &format!("dossiers/{dossier_code}"))
        .await?
        .into_iter()
        .filter_map(|job| FollowUp::from_kind(&job.kind).map(|follow_up| (follow_up, job)))
        .collect();
    let sql = "SELECT kind, receipt, receipt_number, lookup_code, signature_log_index FROM follow_ups \
               WHERE dossier_code = $1 ORDER BY id";
    let results = query(db, sql, vec![dossier_code.into()])
        .await?
        .iter()
        .map(|row| FollowUpResult::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    Ok(FollowUps { jobs, results })
}

async fn query(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(backend, motcua_chassis::db::placeholders(backend, sql), values))
        .await
}
