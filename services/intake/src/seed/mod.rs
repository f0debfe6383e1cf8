//! The seed catalogue: the procedure and branch files shipped in `services/intake/data/` (built into the
//! binary) or an operator's replacement folder, and a generator of synthetic catalogues of any size for
//! load tests.

use std::{collections::HashMap, path::Path};

pub mod holidays;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::domain::catalogue::{
    Branch, Component, FeeItem, FeeMoment, FeeStatus, Level, ProcedureSpec, TimeLimit, TimeUnit,
};

/// The seed files' names, the same in the built-in data and in a replacement folder.
pub const PROCEDURES_FILE: &str = "procedures.csv";
/// Fee items, one row each.
pub const FEES_FILE: &str = "procedure_fees.csv";
/// Document components, one row each.
pub const COMPONENTS_FILE: &str = "procedure_components.csv";
/// Branches.
pub const BRANCHES_FILE: &str = "branches.csv";

const BUILT_IN_PROCEDURES: &str = include_str!("../../data/procedures.csv");
const BUILT_IN_FEES: &str = include_str!("../../data/procedure_fees.csv");
const BUILT_IN_COMPONENTS: &str = include_str!("../../data/procedure_components.csv");
const BUILT_IN_BRANCHES: &str = include_str!("../../data/branches.csv");

/// A whole seed: the procedures at their wanted content and the branches.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Every procedure, in file order.
    pub procedures: Vec<ProcedureSpec>,
    /// Every branch.
    pub branches: Vec<Branch>,
}

impl Seed {
    /// The seed built into the binary: Hanoi's branches and the real procedures of the sample.
    pub fn built_in() -> anyhow::Result<Self> {
        Self::parse(BUILT_IN_PROCEDURES, BUILT_IN_FEES, BUILT_IN_COMPONENTS, BUILT_IN_BRANCHES)
    }

    /// The seed in `folder`, which holds the four files under their usual names.
    pub fn from_folder(folder: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| {
            let path = folder.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading seed file {}", path.display()))
        };
        Self::parse(&read(PROCEDURES_FILE)?, &read(FEES_FILE)?, &read(COMPONENTS_FILE)?, &read(BRANCHES_FILE)?)
    }

    /// Parses the four files' contents. Any invalid row refuses the whole seed, naming the row.
    pub fn parse(procedures: &str, fees: &str, components: &str, branches: &str) -> anyhow::Result<Self> {
        let mut fees_by_code: HashMap<String, Vec<FeeItem>> = HashMap::new();
        for (line, row) in rows::<FeeRow>(fees, FEES_FILE)? {
            let moment = FeeMoment::from_word(&row.moment)
                .with_context(|| format!("{FEES_FILE} line {line}: unknown moment {:?}", row.moment))?;
            fees_by_code.entry(row.procedure_code).or_default().push(FeeItem {
                name: row.name_vi,
                amount_dong: row.amount_vnd,
                moment,
            });
        }
        let mut components_by_code: HashMap<String, Vec<Component>> = HashMap::new();
        for (_, row) in rows::<ComponentRow>(components, COMPONENTS_FILE)? {
            components_by_code.entry(row.procedure_code).or_default().push(Component {
                code: row.component_code,
                name: row.name_vi,
                required: row.required,
            });
        }

        let mut specs = Vec::new();
        for (line, row) in rows::<ProcedureRow>(procedures, PROCEDURES_FILE)? {
            let context = || format!("{PROCEDURES_FILE} line {line} ({})", row.procedure_code);
            let spec = ProcedureSpec {
                national_code: Some(row.national_code.clone()).filter(|code| !code.is_empty()),
                display_name: row.name_vi.clone(),
                level: Level::from_word(&row.level)
                    .with_context(|| format!("{}: unknown level {:?}", context(), row.level))?,
                sector: row.sector_vi.clone(),
                time_limit: time_limit(row.time_limit, &row.time_unit).with_context(context)?,
                after_15h_next_working_day: row.after_15h_next_working_day,
                fee_status: FeeStatus::from_word(&row.fee_status)
                    .with_context(|| format!("{}: unknown fee status {:?}", context(), row.fee_status))?,
                fee_items: fees_by_code.remove(&row.procedure_code).unwrap_or_default(),
                fee_note: row.fee_note.clone(),
                components: components_by_code.remove(&row.procedure_code).unwrap_or_default(),
                source: row.source.clone(),
                procedure_code: row.procedure_code.clone(),
            };
            let problems = spec.problems();
            if !problems.is_empty() {
                bail!("{}: {}", context(), problems.join("; "));
            }
            specs.push(spec);
        }
        if let Some(code) = fees_by_code.keys().chain(components_by_code.keys()).next() {
            bail!("fee or component rows name procedure {code:?}, which {PROCEDURES_FILE} does not have");
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(duplicate) = specs.iter().find(|spec| !seen.insert(spec.procedure_code.clone())) {
            bail!("{PROCEDURES_FILE} has procedure {:?} twice", duplicate.procedure_code);
        }

        let branches = rows::<BranchRow>(branches, BRANCHES_FILE)?
            .into_iter()
            .map(|(_, row)| Branch {
                branch_code: row.branch_code,
                display_name: row.name_vi,
                agency_code: row.agency_code,
                service_area: row.service_area_vi,
                address: row.address_vi,
                source: row.source,
            })
            .collect();
        Ok(Self { procedures: specs, branches })
    }
}

fn time_limit(value: Option<u32>, unit: &str) -> anyhow::Result<Option<TimeLimit>> {
    match (value, unit) {
        (None, "") => Ok(None),
        (Some(value), unit) => {
            let unit = TimeUnit::from_word(unit).with_context(|| format!("unknown time unit {unit:?}"))?;
            Ok(Some(TimeLimit { value, unit }))
        }
        (None, unit) => bail!("time unit {unit:?} without a time limit"),
    }
}

fn rows<T: for<'de> Deserialize<'de>>(text: &str, file: &str) -> anyhow::Result<Vec<(u64, T)>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .deserialize()
        .enumerate()
        .map(|(index, row)| {
            // Line 1 is the header.
            let line = index as u64 + 2;
            row.map(|row| (line, row)).with_context(|| format!("{file} line {line}"))
        })
        .collect()
}

#[derive(Deserialize)]
struct ProcedureRow {
    procedure_code: String,
    national_code: String,
    name_vi: String,
    level: String,
    sector_vi: String,
    time_limit: Option<u32>,
    time_unit: String,
    after_15h_next_working_day: bool,
    fee_status: String,
    fee_note: String,
    source: String,
}

#[derive(Deserialize)]
struct FeeRow {
    procedure_code: String,
    name_vi: String,
    amount_vnd: i64,
    moment: String,
}

#[derive(Deserialize)]
struct ComponentRow {
    procedure_code: String,
    component_code: String,
    name_vi: String,
    required: bool,
}

#[derive(Deserialize)]
struct BranchRow {
    branch_code: String,
    name_vi: String,
    agency_code: String,
    service_area_vi: String,
    address_vi: String,
    source: String,
}

/// A synthetic catalogue of `count` procedures (codes `SYN.000001` ...), varied over levels, sectors,
/// time limits and fees the way the real one is, plus the built-in branches. For load tests only:
/// every row says it is synthetic.
pub fn synthetic(count: usize) -> anyhow::Result<Seed> {
    const SECTORS: [&str; 8] =
        ["Hộ tịch", "Đất đai", "Xây dựng", "Đăng ký kinh doanh", "Tư pháp", "Giáo dục", "Y tế", "Lao động"];
    const ACTIONS: [&str; 6] = ["Cấp", "Cấp lại", "Điều chỉnh", "Gia hạn", "Đăng ký", "Xác nhận"];
    const OBJECTS: [&str; 5] = ["giấy phép", "giấy chứng nhận", "văn bản xác nhận", "chứng chỉ", "giấy đăng ký"];
    let built_in = Seed::built_in()?;
    let procedures = (1..=count)
        .map(|number| {
            let sector = SECTORS[number % SECTORS.len()];
            let level = if number % 3 == 0 { Level::Province } else { Level::Commune };
            let fee_status = [FeeStatus::Known, FeeStatus::Free, FeeStatus::Unknown][number % 3];
            let fee_items = match fee_status {
                FeeStatus::Known => vec![FeeItem {
                    name: "Lệ phí".to_owned(),
                    amount_dong: 10_000 * (1 + (number % 50) as i64),
                    moment: FeeMoment::AtIntake,
                }],
                _ => Vec::new(),
            };
            ProcedureSpec {
                procedure_code: format!("SYN.{number:06}"),
                national_code: None,
                display_name: format!(
                    "{} {} {} số {number}",
                    ACTIONS[number % ACTIONS.len()],
                    OBJECTS[(number / ACTIONS.len()) % OBJECTS.len()],
                    sector.to_lowercase()
                ),
                level,
                sector: sector.to_owned(),
                time_limit: Some(TimeLimit {
                    value: [1, 3, 5, 7, 10, 15, 20, 30][number % 8],
                    unit: if number % 4 == 0 { TimeUnit::Days } else { TimeUnit::WorkingDays },
                }),
                after_15h_next_working_day: number % 5 == 0,
                fee_status,
                fee_items,
                fee_note: String::new(),
                components: (1..=1 + number % 4)
                    .map(|index| Component {
                        code: format!("TP{index:02}"),
                        name: format!("Thành phần hồ sơ {index}"),
                        required: index == 1 || index % 2 == 0,
                    })
                    .collect(),
                source: "synthetic (motcua catalogue generator), for load tests only".to_owned(),
            }
        })
        .collect();
    Ok(Seed { procedures, branches: built_in.branches })
}

/// Writes `seed` as the four files into `folder`, in the format [`Seed::from_folder`] reads.
pub fn write_folder(seed: &Seed, folder: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let open = |name: &str| {
        let path = folder.join(name);
        csv::Writer::from_path(&path).with_context(|| format!("creating {}", path.display()))
    };
    let mut procedures = open(PROCEDURES_FILE)?;
    let mut fees = open(FEES_FILE)?;
    let mut components = open(COMPONENTS_FILE)?;
    procedures.write_record([
        "procedure_code",
        "national_code",
        "name_vi",
        "level",
        "sector_vi",
        "time_limit",
        "time_unit",
        "after_15h_next_working_day",
        "fee_status",
        "fee_note",
        "source",
    ])?;
    fees.write_record(["procedure_code", "name_vi", "amount_vnd", "moment", "source"])?;
    components.write_record(["procedure_code", "component_code", "name_vi", "required"])?;
    for spec in &seed.procedures {
        procedures.write_record([
            spec.procedure_code.as_str(),
            spec.national_code.as_deref().unwrap_or_default(),
            &spec.display_name,
            spec.level.word(),
            &spec.sector,
            &spec.time_limit.map(|limit| limit.value.to_string()).unwrap_or_default(),
            spec.time_limit.map(|limit| limit.unit.word()).unwrap_or_default(),
            if spec.after_15h_next_working_day { "true" } else { "false" },
            spec.fee_status.word(),
            &spec.fee_note,
            &spec.source,
        ])?;
        for item in &spec.fee_items {
            fees.write_record([
                spec.procedure_code.as_str(),
                &item.name,
                &item.amount_dong.to_string(),
                item.moment.word(),
                &spec.source,
            ])?;
        }
        for component in &spec.components {
            components.write_record([
                spec.procedure_code.as_str(),
                &component.code,
                &component.name,
                if component.required { "true" } else { "false" },
            ])?;
        }
    }
    let mut branches = open(BRANCHES_FILE)?;
    branches.write_record(["branch_code", "name_vi", "agency_code", "service_area_vi", "address_vi", "source"])?;
    for branch in &seed.branches {
        branches.write_record([
            branch.branch_code.as_str(),
            &branch.display_name,
            &branch.agency_code,
            &branch.service_area,
            &branch.address,
            &branch.source,
        ])?;
    }
    for writer in [&mut procedures, &mut fees, &mut components, &mut branches] {
        writer.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_seed_has_hanoi_branches_and_real_procedures() {
        let seed = Seed::built_in().expect("the shipped seed is valid");
        assert_eq!(seed.branches.len(), 30);
        assert!(seed.procedures.len() >= 60);
        let birth = seed.procedures.iter().find(|spec| spec.procedure_code == "1.001193").expect("birth registration");
        assert_eq!(birth.level, Level::Commune);
        assert!(!birth.components.is_empty());
        assert!(seed.procedures.iter().any(|spec| spec.fee_status == FeeStatus::Known && !spec.fee_items.is_empty()));
    }

    #[test]
    fn synthetic_catalogue_round_trips_through_files() {
        let seed = synthetic(2_500).expect("synthetic seed");
        assert_eq!(seed.procedures.len(), 2_500);
        let folder = std::env::temp_dir().join(format!("motcua-seed-{}", std::process::id()));
        write_folder(&seed, &folder).expect("written");
        let read = Seed::from_folder(&folder).expect("read back");
        let _ = std::fs::remove_dir_all(&folder);
        assert_eq!(read.procedures, seed.procedures);
        assert_eq!(read.branches, seed.branches);
    }

    #[test]
    fn a_row_with_an_unknown_level_refuses_the_seed_and_names_the_line() {
        let procedures = "procedure_code,national_code,name_vi,level,sector_vi,time_limit,time_unit,after_15h_next_working_day,fee_status,fee_note,source\n\
                          X.1,,Tên,galaxy,Hộ tịch,1,days,false,free,,test\n";
        let error = Seed::parse(
            procedures,
            "procedure_code,name_vi,amount_vnd,moment,source\n",
            "procedure_code,component_code,name_vi,required\n",
            "branch_code,name_vi,agency_code,service_area_vi,address_vi,source\n",
        )
        .expect_err("galaxy is no level");
        assert!(format!("{error:#}").contains("line 2"), "{error:#}");
    }
}
