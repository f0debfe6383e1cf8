//! The catalogue's queries: keyset-paged listings of current procedures, one procedure at any version,
//! branches, and applying a seed so that every changed procedure gets a new version.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};

use super::entities::{branch, procedure};
use crate::{
    domain::{
        catalogue::{Branch, FeeStatus, Level, ProcedureSpec, TimeLimit, TimeUnit},
        text,
    },
    seed::Seed,
};

/// Rows inserted per statement when seeding: well under SQLite's and PostgreSQL's parameter limits.
const INSERT_CHUNK: usize = 200;

/// One version of a procedure as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProcedure {
    /// Its content.
    pub spec: ProcedureSpec,
    /// Its version number, from 1.
    pub version: i32,
    /// Whether it is the current version.
    pub is_current: bool,
    /// When it entered the catalogue.
    pub created_at: DateTime<Utc>,
    /// When a later version replaced it.
    pub superseded_at: Option<DateTime<Utc>>,
}

/// The filters of a procedure listing, already validated and folded.
#[derive(Debug, Clone, Default)]
pub struct ProcedureFilter {
    /// Only this level.
    pub level: Option<Level>,
    /// Only this sector, folded.
    pub sector_key: Option<String>,
    /// Every word must occur in the folded search text.
    pub words: Vec<String>,
}

/// What applying a seed changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Procedures new to the catalogue.
    pub added: usize,
    /// Procedures whose content changed, now at a new version.
    pub new_versions: usize,
    /// Procedures already as the seed says.
    pub unchanged: usize,
}

/// Current procedures matching `filter` with a code after `after`, in code order, at most `limit`.
pub async fn list_current(
    db: &DatabaseConnection,
    filter: &ProcedureFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<StoredProcedure>, DbErr> {
    let mut condition = Condition::all().add(procedure::Column::IsCurrent.eq(true));
    if let Some(after) = after {
        condition = condition.add(procedure::Column::ProcedureCode.gt(after));
    }
    if let Some(level) = filter.level {
        condition = condition.add(procedure::Column::Level.eq(level as i16));
    }
    if let Some(sector_key) = &filter.sector_key {
        condition = condition.add(procedure::Column::SectorKey.eq(sector_key.as_str()));
    }
    for word in &filter.words {
        // Folded words hold only letters, digits and dots, so they need no LIKE escaping.
        condition = condition.add(procedure::Column::SearchText.contains(word.as_str()));
    }
    procedure::Entity::find()
        .filter(condition)
        .order_by_asc(procedure::Column::ProcedureCode)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// One procedure at `version`, or at its current version when `version` is `None`.
pub async fn get(
    db: &impl ConnectionTrait,
    code: &str,
    version: Option<i32>,
) -> Result<Option<StoredProcedure>, DbErr> {
    let query = procedure::Entity::find().filter(procedure::Column::ProcedureCode.eq(code));
    let query = match version {
        Some(version) => query.filter(procedure::Column::Version.eq(version)),
        None => query.filter(procedure::Column::IsCurrent.eq(true)),
    };
    query.one(db).await?.map(from_row).transpose()
}

/// Every version of one procedure, newest first.
pub async fn versions(db: &DatabaseConnection, code: &str) -> Result<Vec<StoredProcedure>, DbErr> {
    procedure::Entity::find()
        .filter(procedure::Column::ProcedureCode.eq(code))
        .order_by_desc(procedure::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Branches with a code after `after`, in code order, at most `limit`.
pub async fn list_branches(db: &DatabaseConnection, after: Option<&str>, limit: u64) -> Result<Vec<Branch>, DbErr> {
    let mut query = branch::Entity::find().order_by_asc(branch::Column::BranchCode).limit(limit);
    if let Some(after) = after {
        query = query.filter(branch::Column::BranchCode.gt(after));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|row| Branch {
            branch_code: row.branch_code,
            display_name: row.display_name,
            agency_code: row.agency_code,
            service_area: row.service_area,
            address: row.address,
            source: row.source,
        })
        .collect())
}

/// Brings the catalogue to `seed` in one transaction: a new procedure is inserted at version 1; a
/// changed one gets a new version and the old one is kept, marked superseded; an unchanged one is left
/// alone, so applying the same seed twice changes nothing. Procedures absent from the seed stay.
pub async fn apply_seed(db: &DatabaseConnection, seed: &Seed, now: DateTime<Utc>) -> Result<SeedReport, DbErr> {
    let transaction = motcua_chassis::db::begin_write(db).await?;
    let mut current: HashMap<String, StoredProcedure> = HashMap::new();
    for row in procedure::Entity::find().filter(procedure::Column::IsCurrent.eq(true)).all(&transaction).await? {
        let stored = from_row(row)?;
        current.insert(stored.spec.procedure_code.clone(), stored);
    }

    let mut report = SeedReport::default();
    let mut inserts = Vec::new();
    let mut superseded = Vec::new();
    for spec in &seed.procedures {
        let version = match current.get(&spec.procedure_code) {
            None => {
                report.added += 1;
                1
            }
            Some(stored) if stored.spec == *spec => {
                report.unchanged += 1;
                continue;
            }
            Some(stored) => {
                report.new_versions += 1;
                superseded.push(spec.procedure_code.clone());
                stored.version + 1
            }
        };
        inserts.push(to_row(spec, version, now)?);
    }

    if !superseded.is_empty() {
        for codes in superseded.chunks(INSERT_CHUNK) {
            procedure::Entity::update_many()
                .col_expr(procedure::Column::IsCurrent, false.into())
                .col_expr(procedure::Column::SupersededAt, Some(now).into())
                .filter(procedure::Column::IsCurrent.eq(true))
                .filter(procedure::Column::ProcedureCode.is_in(codes.iter().map(String::as_str)))
                .exec(&transaction)
                .await?;
        }
    }
    for chunk in inserts.chunks(INSERT_CHUNK) {
        procedure::Entity::insert_many(chunk.to_vec()).exec(&transaction).await?;
    }
    upsert_branches(&transaction, &seed.branches).await?;
    transaction.commit().await?;
    Ok(report)
}

async fn upsert_branches(db: &impl ConnectionTrait, branches: &[Branch]) -> Result<(), DbErr> {
    let rows: Vec<branch::ActiveModel> = branches
        .iter()
        .map(|branch| branch::ActiveModel {
            branch_code: Set(branch.branch_code.clone()),
            display_name: Set(branch.display_name.clone()),
            agency_code: Set(branch.agency_code.clone()),
            service_area: Set(branch.service_area.clone()),
            address: Set(branch.address.clone()),
            source: Set(branch.source.clone()),
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        branch::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(branch::Column::BranchCode)
                    .update_columns([
                        branch::Column::DisplayName,
                        branch::Column::AgencyCode,
                        branch::Column::ServiceArea,
                        branch::Column::Address,
                        branch::Column::Source,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
    }
    Ok(())
}

fn to_row(spec: &ProcedureSpec, version: i32, now: DateTime<Utc>) -> Result<procedure::ActiveModel, DbErr> {
    let json = |value: serde_json::Result<String>| {
        value.map_err(|error| DbErr::Custom(format!("encoding procedure JSON: {error}")))
    };
    Ok(procedure::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        procedure_code: Set(spec.procedure_code.clone()),
        version: Set(version),
        is_current: Set(true),
        national_code: Set(spec.national_code.clone()),
        display_name: Set(spec.display_name.clone()),
        level: Set(spec.level as i16),
        sector: Set(spec.sector.clone()),
        sector_key: Set(text::fold(&spec.sector)),
        search_text: Set(spec.search_text()),
        time_limit_value: Set(spec.time_limit.map(|limit| limit.value as i32)),
        time_limit_unit: Set(spec.time_limit.map(|limit| limit.unit as i16)),
        after_15h_next_working_day: Set(spec.after_15h_next_working_day),
        fee_status: Set(spec.fee_status as i16),
        fee_items: Set(json(serde_json::to_string(&spec.fee_items))?),
        fee_note: Set(spec.fee_note.clone()),
        components: Set(json(serde_json::to_string(&spec.components))?),
        source: Set(spec.source.clone()),
        created_at: Set(now),
        superseded_at: Set(None),
    })
}

fn from_row(row: procedure::Model) -> Result<StoredProcedure, DbErr> {
    let corrupt = |what: &str| {
        DbErr::Custom(format!("procedure {} version {}: stored {what} is not valid", row.procedure_code, row.version))
    };
    let level = Level::from_code(i32::from(row.level)).ok_or_else(|| corrupt("level"))?;
    let fee_status = FeeStatus::from_code(i32::from(row.fee_status)).ok_or_else(|| corrupt("fee status"))?;
    let time_limit = match (row.time_limit_value, row.time_limit_unit) {
        (Some(value), Some(unit)) => Some(TimeLimit {
            value: u32::try_from(value).map_err(|_| corrupt("time limit"))?,
            unit: TimeUnit::from_code(i32::from(unit)).ok_or_else(|| corrupt("time unit"))?,
        }),
        _ => None,
    };
    let fee_items = serde_json::from_str(&row.fee_items).map_err(|_| corrupt("fee items"))?;
    let components = serde_json::from_str(&row.components).map_err(|_| corrupt("components"))?;
    Ok(StoredProcedure {
        spec: ProcedureSpec {
            procedure_code: row.procedure_code,
            national_code: row.national_code,
            display_name: row.display_name,
            level,
            sector: row.sector,
            time_limit,
            after_15h_next_working_day: row.after_15h_next_working_day,
            fee_status,
            fee_items,
            fee_note: row.fee_note,
            components,
            source: row.source,
        },
        version: row.version,
        is_current: row.is_current,
        created_at: row.created_at,
        superseded_at: row.superseded_at,
    })
}

/// The branch `branch_code`, if it exists.
pub async fn get_branch(db: &DatabaseConnection, branch_code: &str) -> Result<Option<Branch>, DbErr> {
    Ok(list_branches_from(db, branch_code).await?.into_iter().next())
}

async fn list_branches_from(db: &DatabaseConnection, branch_code: &str) -> Result<Vec<Branch>, DbErr> {
    Ok(branch::Entity::find_by_id(branch_code.to_owned())
        .all(db)
        .await?
        .into_iter()
        .map(|row| Branch {
            branch_code: row.branch_code,
            display_name: row.display_name,
            agency_code: row.agency_code,
            service_area: row.service_area,
            address: row.address,
            source: row.source,
        })
        .collect())
}
