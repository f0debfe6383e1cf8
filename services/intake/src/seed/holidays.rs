//! The holiday table: `holidays-vn.csv` built into the binary, or the same file in the replacement
//! seed folder, read into the working-day calendar.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::calendar::{DayKind, WorkCalendar};

/// The file's name, in the built-in data and in a replacement folder.
pub const HOLIDAYS_FILE: &str = "holidays-vn.csv";

const BUILT_IN: &str = include_str!("../../data/holidays-vn.csv");

#[derive(Deserialize)]
struct Row {
    date: NaiveDate,
    kind: String,
}

/// The calendar of the shipped table (2024-2030).
pub fn built_in() -> anyhow::Result<WorkCalendar> {
    parse(BUILT_IN)
}

/// The calendar of `folder`'s table when it has one, else the shipped one: an operator replaces the
/// table when the government announces a year's swaps.
pub fn from_folder_or_built_in(folder: Option<&Path>) -> anyhow::Result<WorkCalendar> {
    match folder.map(|folder| folder.join(HOLIDAYS_FILE)).filter(|path| path.exists()) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            parse(&text).with_context(|| format!("in {}", path.display()))
        }
        None => built_in(),
    }
}

/// Reads the table's `date` and `kind` columns; other columns are for people.
pub fn parse(text: &str) -> anyhow::Result<WorkCalendar> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut days = Vec::new();
    for (index, row) in reader.deserialize::<Row>().enumerate() {
        let line = index + 2;
        let row = row.with_context(|| format!("{HOLIDAYS_FILE} line {line}"))?;
        let kind = DayKind::from_word(&row.kind)
            .with_context(|| format!("{HOLIDAYS_FILE} line {line}: unknown kind {:?}", row.kind))?;
        days.push((row.date, kind));
    }
    Ok(WorkCalendar::new(days))
}
