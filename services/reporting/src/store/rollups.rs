//! The rollups and reporting's record of each dossier: applying a batch of events (with its cursor
//! move, in one transaction), and the sums queries answer from.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::{Tables, execute, query};
use crate::domain::{
    metrics::{Dims, Totals},
    projection::{self, Components, FeedEvent, Tracked},
};

/// Applies `events` in order to `tables` through `transaction`: each dossier's record is read once,
/// moved event by event, and written back; the counters are summed per row and added.
pub async fn apply(transaction: &impl ConnectionTrait, tables: Tables, events: &[FeedEvent]) -> Result<(), DbErr> {
    let mut records: HashMap<String, Option<Tracked>> = HashMap::new();
    let mut deltas: BTreeMap<(NaiveDate, Dims, String), i64> = BTreeMap::new();
    for event in events {
        let code = match event {
            FeedEvent::Dossier { facts, .. } => Some(facts.dossier_code.clone()),
            _ => None,
        };
        if let Some(code) = &code {
            if !records.contains_key(code) {
                let stored = read_tracked(transaction, tables, code).await?;
                records.insert(code.clone(), stored);
            }
        }
        let current = code.as_ref().and_then(|code| records.get(code).cloned().flatten());
        let outcome = projection::apply(event, current.as_ref());
        if let Some((code, record)) = outcome.tracked {
            records.insert(code, Some(record));
        }
        for delta in outcome.deltas {
            *deltas.entry((delta.day, delta.dims, delta.metric)).or_insert(0) += delta.amount;
        }
    }
    for (code, record) in &records {
        if let Some(record) = record {
            write_tracked(transaction, tables, code, record).await?;
        }
    }
    for ((day, dims, metric), amount) in deltas {
        if amount == 0 {
            continue;
        }
        let sql = format!(
            "INSERT INTO {table} (day, branch_code, procedure_code, level, channel, metric, value) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (day, branch_code, procedure_code, level, channel, metric) \
             DO UPDATE SET value = {table}.value + excluded.value",
            table = tables.rollups
        );
        execute(
            transaction,
            &sql,
            vec![
                day.to_string().into(),
                dims.branch_code.into(),
                dims.procedure_code.into(),
                dims.level.into(),
                dims.channel.into(),
                metric.into(),
                amount.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn read_tracked(connection: &impl ConnectionTrait, tables: Tables, code: &str) -> Result<Option<Tracked>, DbErr> {
    let sql = format!(
        "SELECT branch_code, procedure_code, level, channel, received_day, status, appointment_ms, \
         filed_components, digitized_components, reused_components, flagged FROM {} WHERE dossier_code = $1",
        tables.tracked
    );
    let Some(row) = query(connection, &sql, vec![code.into()]).await?.into_iter().next() else { return Ok(None) };
    let received_day: Option<String> = row.try_get("", "received_day")?;
    let flagged: i32 = row.try_get("", "flagged")?;
    Ok(Some(Tracked {
        dims: Dims {
            branch_code: row.try_get("", "branch_code")?,
            procedure_code: row.try_get("", "procedure_code")?,
            level: row.try_get("", "level")?,
            channel: row.try_get("", "channel")?,
        },
        received_day: received_day.and_then(|day| day.parse().ok()),
        status: row.try_get("", "status")?,
        appointment_ms: row.try_get("", "appointment_ms")?,
        components: Components {
            filed: row.try_get("", "filed_components")?,
            digitized: row.try_get("", "digitized_components")?,
            reused: row.try_get("", "reused_components")?,
        },
        flagged: flagged != 0,
    }))
}

async fn write_tracked(
    connection: &impl ConnectionTrait,
    tables: Tables,
    code: &str,
    record: &Tracked,
) -> Result<(), DbErr> {
    let sql = format!(
        "INSERT INTO {} (dossier_code, branch_code, procedure_code, level, channel, received_day, status, is_open, \
         appointment_ms, filed_components, digitized_components, reused_components, flagged) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (dossier_code) DO UPDATE SET received_day = excluded.received_day, status = excluded.status, \
         is_open = excluded.is_open, appointment_ms = excluded.appointment_ms, \
         filed_components = excluded.filed_components, digitized_components = excluded.digitized_components, \
         reused_components = excluded.reused_components, flagged = excluded.flagged",
        tables.tracked
    );
    execute(
        connection,
        &sql,
        vec![
            code.into(),
            record.dims.branch_code.clone().into(),
            record.dims.procedure_code.clone().into(),
            record.dims.level.into(),
            record.dims.channel.into(),
            record.received_day.map(|day| day.to_string()).into(),
            record.status.into(),
            i32::from(record.is_open()).into(),
            record.appointment_ms.into(),
            record.components.filed.into(),
            record.components.digitized.into(),
            record.components.reused.into(),
            i32::from(record.flagged).into(),
        ],
    )
    .await?;
    Ok(())
}

/// The dimensions a query is restricted to; `None` means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub branch_code: Option<String>,
    pub procedure_code: Option<String>,
    pub level: Option<i32>,
    pub channel: Option<i32>,
}

impl Filter {
    /// ` AND ...` conditions from placeholder `$first` on, and their values.
    fn conditions(&self, first: usize) -> (String, Vec<Value>) {
        let mut sql = String::new();
        let mut values: Vec<Value> = Vec::new();
        let mut add = |column: &str, value: Value| {
            sql.push_str(&format!(" AND {column} = ${}", first + values.len()));
            values.push(value);
        };
        if let Some(branch) = &self.branch_code {
            add("branch_code", branch.clone().into());
        }
        if let Some(procedure) = &self.procedure_code {
            add("procedure_code", procedure.clone().into());
        }
        if let Some(level) = self.level {
            add("level", level.into());
        }
        if let Some(channel) = self.channel {
            add("channel", channel.into());
        }
        (sql, values)
    }
}

/// The counters over `first..=last` under `filter`, grouped by branch (one entry per branch with any
/// data), with the stock counters as of `now_ms`.
pub async fn totals_by_branch(
    db: &impl ConnectionTrait,
    first: NaiveDate,
    last: NaiveDate,
    filter: &Filter,
    now_ms: i64,
) -> Result<BTreeMap<String, Totals>, DbErr> {
    let mut by_branch: BTreeMap<String, Totals> = BTreeMap::new();
    let (conditions, filter_values) = filter.conditions(3);
    let mut values: Vec<Value> = vec![first.to_string().into(), last.to_string().into()];
    values.extend(filter_values.clone());
    let sql = format!(
        "SELECT branch_code, metric, CAST(SUM(value) AS BIGINT) AS total FROM rollups \
         WHERE day >= $1 AND day <= $2{conditions} GROUP BY branch_code, metric"
    );
    for row in query(db, &sql, values).await? {
        let branch: String = row.try_get("", "branch_code")?;
        let total: i64 = row.try_get("", "total")?;
        by_branch.entry(branch).or_default().flows.insert(row.try_get("", "metric")?, total);
    }
    let (conditions, filter_values) = filter.conditions(4);
    let mut values: Vec<Value> = vec![now_ms.into(), first.to_string().into(), last.to_string().into()];
    values.extend(filter_values);
    let sql = format!(
        "SELECT branch_code, COUNT(*) AS open_count, \
         CAST(SUM(CASE WHEN appointment_ms IS NOT NULL AND appointment_ms < $1 THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
         FROM tracked_dossiers WHERE is_open = 1 AND received_day >= $2 AND received_day <= $3{conditions} \
         GROUP BY branch_code"
    );
    for row in query(db, &sql, values).await? {
        let branch: String = row.try_get("", "branch_code")?;
        let totals = by_branch.entry(branch).or_default();
        totals.in_processing_now = row.try_get("", "open_count")?;
        totals.overdue_now = row.try_get::<Option<i64>>("", "overdue")?.unwrap_or(0);
    }
    Ok(by_branch)
}

/// The counters over `first..=last` under `filter`, summed over every branch.
pub async fn totals(
    db: &impl ConnectionTrait,
    first: NaiveDate,
    last: NaiveDate,
    filter: &Filter,
    now_ms: i64,
) -> Result<Totals, DbErr> {
    let mut sum = Totals::default();
    for totals in totals_by_branch(db, first, last, filter, now_ms).await?.values() {
        sum.add(totals);
    }
    Ok(sum)
}

/// One rollup row of a day, pivoted: its dimensions and every metric it has.
pub type DailyRow = (Dims, BTreeMap<String, i64>);

/// The rollup rows of `day` under `filter`, in dimension order.
pub async fn day_rows(db: &impl ConnectionTrait, day: NaiveDate, filter: &Filter) -> Result<Vec<DailyRow>, DbErr> {
    let (conditions, filter_values) = filter.conditions(2);
    let mut values: Vec<Value> = vec![day.to_string().into()];
    values.extend(filter_values);
    let sql = format!(
        "SELECT branch_code, procedure_code, level, channel, metric, value FROM rollups WHERE day = $1{conditions}"
    );
    let mut rows: BTreeMap<Dims, BTreeMap<String, i64>> = BTreeMap::new();
    for row in query(db, &sql, values).await? {
        let dims = Dims {
            branch_code: row.try_get("", "branch_code")?,
            procedure_code: row.try_get("", "procedure_code")?,
            level: row.try_get("", "level")?,
            channel: row.try_get("", "channel")?,
        };
        rows.entry(dims).or_default().insert(row.try_get("", "metric")?, row.try_get("", "value")?);
    }
    Ok(rows.into_iter().collect())
}

/// Replaces the live rollups and records by the shadow ones and empties the shadow, inside the
/// caller's transaction.
pub async fn swap_in_shadow(transaction: &impl ConnectionTrait) -> Result<(), DbErr> {
    for (live, shadow) in [("rollups", "rebuild_rollups"), ("tracked_dossiers", "rebuild_tracked_dossiers")] {
        execute(transaction, &format!("DELETE FROM {live}"), Vec::new()).await?;
        execute(transaction, &format!("INSERT INTO {live} SELECT * FROM {shadow}"), Vec::new()).await?;
        execute(transaction, &format!("DELETE FROM {shadow}"), Vec::new()).await?;
    }
    Ok(())
}

/// Empties the shadow tables, before a rebuild or after a failed one.
pub async fn clear_shadow(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for shadow in ["rebuild_rollups", "rebuild_tracked_dossiers"] {
        execute(db, &format!("DELETE FROM {shadow}"), Vec::new()).await?;
    }
    Ok(())
}
