//! The dossier: what was filed, where it stands, and every move made on it. Each move goes through
//! [`Dossier::perform`], which applies the lifecycle, the deadline rules and the records the forms ask
//! for (process control slip, supplement rounds, apologies), and returns the history entry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    applicant::Applicant,
    calendar::local_date,
    catalogue::{FeeItem, Level, TimeLimit},
    dossier_code::DossierCode,
    lifecycle::{Move, Status},
};

mod moves;
pub use moves::{Command, MoveError, MoveMeta};

/// An officer acting on a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Officer {
    /// The staff code.
    pub officer_id: String,
    /// The name as shown on forms.
    pub display_name: String,
    /// The officer's unit.
    pub unit: String,
}

/// One component as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedComponent {
    /// The component's code in the procedure version.
    pub component_code: String,
    /// Its name, from the procedure version.
    pub component_name: String,
    /// Original (1), copy (2) or electronic (3), as the contract numbers them.
    pub copy_kind: i32,
    /// How many copies.
    pub copies: u32,
    /// A document of the applicant's data store cited instead of a new upload.
    pub stored_document: Option<String>,
    /// 0 at filing, the supplement round otherwise.
    pub supplement_round: u32,
}

/// A party of a hand-over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HandOverParty {
    /// The unit's code.
    pub unit_code: String,
    /// The unit's name.
    pub unit_name: String,
    /// The officer, when known.
    pub officer: Option<Officer>,
}

motcua_chassis::coded_enum! {
    /// Early, on time or late, against a deadline; the numbers are the contract's.
    #[derive(Serialize, Deserialize)]
    pub enum Timeliness {
        /// Before the due day.
        Early = 1,
        /// On the due day, by its deadline.
        OnTime = 2,
        /// After the deadline.
        Late = 3,
    }
}

impl Timeliness {
    /// How `done` compares with `due`.
    pub fn of(done: DateTime<Utc>, due: DateTime<Utc>) -> Self {
        if done > due {
            Self::Late
        } else if local_date(done) < local_date(due) {
            Self::Early
        } else {
            Self::OnTime
        }
    }
}

/// A row of the process control slip (form 06).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOver {
    /// Its place on the slip, from 1.
    pub sequence: u32,
    /// Who gave.
    pub from: HandOverParty,
    /// Who received.
    pub to: HandOverParty,
    /// When.
    pub time: DateTime<Utc>,
    /// The receiver's step deadline.
    pub step_due_time: DateTime<Utc>,
    /// How the giver's step compared with its deadline.
    pub timeliness: Timeliness,
    /// A note.
    pub note: String,
}

/// A component asked for in a supplement request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedComponent {
    /// The component's code, when it is one of the procedure's.
    pub component_code: String,
    /// What is wrong or missing.
    pub note: String,
}

/// One supplement request and its answer (form 02).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRound {
    /// From 1.
    pub round: u32,
    /// When it was requested.
    pub request_time: DateTime<Utc>,
    /// Who requested it.
    pub requested_by: Officer,
    /// Why.
    pub reason: String,
    /// What was asked for.
    pub requested_components: Vec<RequestedComponent>,
    /// When the applicant supplemented.
    pub supplement_time: Option<DateTime<Utc>>,
}

/// One payment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRound {
    /// From 1.
    pub round: u32,
    /// What is to be paid.
    pub items: Vec<FeeItem>,
    /// When it was requested.
    pub request_time: DateTime<Utc>,
    /// When it was confirmed.
    pub confirm_time: Option<DateTime<Utc>>,
    /// The receipt's resource name, when known.
    pub receipt: String,
}

/// An apology with a new appointment (form 04).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apology {
    /// From 1.
    pub sequence: u32,
    /// When.
    pub time: DateTime<Utc>,
    /// Who apologised.
    pub actor: Officer,
    /// Why the dossier is late.
    pub reason: String,
    /// The appointment before.
    pub previous_appointment: DateTime<Utc>,
    /// The appointment after.
    pub new_appointment: DateTime<Utc>,
}

/// The signed and sealed result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResultRecord {
    /// The result document's resource name.
    pub document: String,
    /// SHA-256 of the result document.
    pub document_sha256: Vec<u8>,
    /// Whether the result is electronic.
    pub electronic: bool,
    /// The officer who signed it.
    pub resolved_by: Option<Officer>,
    /// When.
    pub resolve_time: Option<DateTime<Utc>>,
    /// The officer's signature's resource name.
    pub officer_signature: String,
    /// Its transparency log index.
    pub officer_signature_log_index: i64,
    /// The leader who approved.
    pub approved_by: Option<Officer>,
    /// When.
    pub approve_time: Option<DateTime<Utc>>,
    /// The branch seal's signature's resource name.
    pub seal_signature: String,
    /// Its transparency log index.
    pub seal_log_index: i64,
    /// How the result was returned, as the contract numbers it.
    pub return_method: i32,
    /// When.
    pub return_time: Option<DateTime<Utc>>,
}

/// The applicant's rating of a returned dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// Satisfied (1), neutral (2) or dissatisfied (3), as the contract numbers them.
    pub rating: i32,
    /// A comment.
    pub comment: String,
    /// When.
    pub time: DateTime<Utc>,
}

/// A complaint or suggestion about a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// From 1 within the dossier.
    pub id: u32,
    /// Complaint (1) or suggestion (2), as the contract numbers them.
    pub kind: i32,
    /// What was said.
    pub content: String,
    /// The officer who recorded it, if any.
    pub recorded_by: Option<Officer>,
    /// When.
    pub time: DateTime<Utc>,
}

/// A history entry: one move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// From 1 within the dossier.
    pub sequence: u32,
    /// The move.
    pub dossier_move: Move,
    /// The status before.
    pub from_status: Option<Status>,
    /// The status after.
    pub to_status: Status,
    /// Who made it.
    pub actor: Officer,
    /// Why.
    pub reason: String,
    /// When.
    pub time: DateTime<Utc>,
    /// The request that made it.
    pub request_id: String,
}

/// A dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    /// Its code.
    pub code: DossierCode,
    /// The branch that received it.
    pub branch_code: String,
    /// The procedure.
    pub procedure_code: String,
    /// The procedure version it is pinned to.
    pub procedure_version: i32,
    /// The procedure's name at that version.
    pub procedure_name: String,
    /// The procedure's level.
    pub level: Level,
    /// The procedure's time limit at that version.
    pub time_limit: Option<TimeLimit>,
    /// The procedure's after-15:00 rule at that version.
    pub after_15h_next_working_day: bool,
    /// In person (1), online (2) or postal (3).
    pub channel: i32,
    /// Who filed it. Personal data.
    pub applicant: Applicant,
    /// Who received it.
    pub receiving_officer: Officer,
    /// What was filed.
    pub components: Vec<SubmittedComponent>,
    /// The national status.
    pub status: Status,
    /// The status before a pending supplement request.
    pub status_before_supplement: Option<Status>,
    /// When it was created.
    pub create_time: DateTime<Utc>,
    /// When it was received (accepted, for an online registration).
    pub receive_time: Option<DateTime<Utc>>,
    /// When it counts as received for deadlines.
    pub counted_receive_time: Option<DateTime<Utc>>,
    /// The first appointment.
    pub initial_appointment: Option<DateTime<Utc>>,
    /// The appointment now (moved by supplement waits and apologies).
    pub appointment: Option<DateTime<Utc>>,
    /// The deadline for timeliness: the first appointment moved by supplement waits only.
    pub due_time: Option<DateTime<Utc>>,
    /// When processing ended.
    pub end_time: Option<DateTime<Utc>>,
    /// How the end compared with the deadline.
    pub timeliness: Option<Timeliness>,
    /// Supplement requests so far.
    pub supplement_request_count: u32,
    /// Seconds waited for supplements.
    pub supplement_wait_seconds: i64,
    /// Who holds it now.
    pub current_holder: Option<HandOverParty>,
    /// The result.
    pub result: Option<ResultRecord>,
    /// The process control slip.
    pub hand_overs: Vec<HandOver>,
    /// Supplement rounds.
    pub supplements: Vec<SupplementRound>,
    /// Payment rounds.
    pub payments: Vec<PaymentRound>,
    /// Apologies.
    pub apologies: Vec<Apology>,
    /// The applicant's rating.
    pub rating: Option<Rating>,
    /// Complaints and suggestions.
    pub feedback: Vec<Feedback>,
    /// The caller identity that filed it.
    pub submitter_identity: String,
    /// When it last changed.
    pub update_time: DateTime<Utc>,
    /// Moves made so far: the next history entry's sequence minus one.
    pub moves_made: u32,
}
