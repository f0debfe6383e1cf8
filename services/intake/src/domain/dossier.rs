//! The dossier: what was filed, where it stands, and every move made on it. Each move goes through
//! [`Dossier::perform`], which applies the lifecycle, the deadline rules and the records the forms ask
//! for (process control slip, supplement rounds, apologies), and returns the history entry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    applicant::Applicant,
    calendar::{WorkCalendar, local_date},
    catalogue::{FeeItem, Level, TimeLimit},
    dossier_code::DossierCode,
    lifecycle::{self, Move, MoveContext, MoveRefusal, Status},
};

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

/// Early, on time or late, against a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timeliness {
    /// Before the due day.
    Early = 1,
    /// On the due day, by its deadline.
    OnTime = 2,
    /// After the deadline.
    Late = 3,
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

/// A move to make, with what it needs.
#[derive(Debug, Clone)]
pub enum Command {
    /// Accept an online registration.
    Accept,
    /// Refuse at intake.
    Refuse,
    /// Start processing, optionally handing over to a processing unit.
    StartProcessing {
        /// The processing unit.
        unit: Option<HandOverParty>,
        /// Its step deadline.
        step_due: Option<DateTime<Utc>>,
    },
    /// Hand over to another unit.
    Transfer {
        /// The receiver.
        to: HandOverParty,
        /// Its step deadline.
        step_due: Option<DateTime<Utc>>,
    },
    /// Ask the applicant for a supplement.
    RequestSupplement {
        /// What to supplement.
        requested: Vec<RequestedComponent>,
    },
    /// The applicant supplements.
    Supplement {
        /// What was supplemented.
        components: Vec<SubmittedComponent>,
    },
    /// Ask for payment.
    RequestPayment {
        /// What to pay.
        items: Vec<FeeItem>,
    },
    /// The payment arrived.
    ConfirmPayment {
        /// The receipt, if known.
        receipt: String,
    },
    /// Stop processing.
    Stop,
    /// The applicant withdraws.
    Withdraw,
    /// Apologise with a new appointment.
    Apologize {
        /// The new appointment.
        new_appointment: DateTime<Utc>,
    },
    /// The officer has signed the result.
    Resolve {
        /// The result document's resource name, if it is stored.
        document: String,
        /// Its SHA-256.
        document_sha256: Vec<u8>,
        /// Whether the result is electronic.
        electronic: bool,
        /// The officer's signature.
        signature: String,
        /// Its transparency log index.
        log_index: i64,
    },
    /// The branch leader has approved, and the seal is applied.
    Approve {
        /// The seal's signature.
        seal: String,
        /// Its transparency log index.
        log_index: i64,
    },
    /// The result is returned.
    Return {
        /// How, as the contract numbers it.
        method: i32,
    },
}

impl Command {
    fn dossier_move(&self) -> Move {
        match self {
            Self::Accept => Move::Accept,
            Self::Refuse => Move::Refuse,
            Self::StartProcessing { .. } => Move::StartProcessing,
            Self::Transfer { .. } => Move::Transfer,
            Self::RequestSupplement { .. } => Move::RequestSupplement,
            Self::Supplement { .. } => Move::Supplement,
            Self::RequestPayment { .. } => Move::RequestPayment,
            Self::ConfirmPayment { .. } => Move::ConfirmPayment,
            Self::Stop => Move::Stop,
            Self::Withdraw => Move::Withdraw,
            Self::Apologize { .. } => Move::Apologize,
            Self::Resolve { .. } => Move::Resolve,
            Self::Approve { .. } => Move::Approve,
            Self::Return { .. } => Move::Return,
        }
    }
}

/// Why a move could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveError {
    /// The lifecycle forbids it.
    Refused(MoveRefusal),
    /// The new appointment of an apology must be later than the current one.
    AppointmentNotLater,
}

/// Who makes a move, why, when and through which request.
#[derive(Debug, Clone)]
pub struct MoveMeta {
    /// The officer.
    pub actor: Officer,
    /// The reason.
    pub reason: String,
    /// When.
    pub now: DateTime<Utc>,
    /// The request id.
    pub request_id: String,
}

impl Dossier {
    /// Whether it is open and past its appointment at `now`.
    pub fn overdue_at(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.appointment.is_some_and(|appointment| appointment < now)
    }

    /// Sets receipt time, counted receipt and appointments as of `received`.
    pub fn receive(&mut self, received: DateTime<Utc>, calendar: &WorkCalendar) {
        let counted = calendar.counted_receipt(received, self.after_15h_next_working_day);
        let appointment = self.time_limit.map(|limit| calendar.appointment(counted, limit));
        self.receive_time = Some(received);
        self.counted_receive_time = Some(counted);
        self.initial_appointment = appointment;
        self.appointment = appointment;
        self.due_time = appointment;
    }

    /// The history entry of the dossier's creation.
    pub fn creation_entry(&mut self, request_id: &str) -> HistoryEntry {
        self.record(Move::Create, None, self.receiving_officer.clone(), String::new(), self.create_time, request_id)
    }

    /// Makes `command`, or says why not. On success the dossier has changed and the returned entry
    /// is its history.
    pub fn perform(
        &mut self,
        command: Command,
        meta: MoveMeta,
        calendar: &WorkCalendar,
    ) -> Result<HistoryEntry, MoveError> {
        let dossier_move = command.dossier_move();
        let context = MoveContext {
            status_before_supplement: self.status_before_supplement,
            result_signed: self.result.as_ref().is_some_and(|result| !result.officer_signature.is_empty()),
        };
        let from = self.status;
        let to = lifecycle::apply(from, dossier_move, context).map_err(MoveError::Refused)?;
        let now = meta.now;
        match command {
            Command::Accept => self.receive(now, calendar),
            Command::Refuse | Command::Stop => self.end(now, true),
            Command::Withdraw => self.end(now, false),
            Command::StartProcessing { unit, step_due } => {
                if let Some(unit) = unit {
                    let from_party = HandOverParty {
                        unit_code: String::new(),
                        unit_name: "Bộ phận một cửa".to_owned(),
                        officer: Some(meta.actor.clone()),
                    };
                    self.hand_over(from_party, unit, step_due, now, &meta.reason);
                }
            }
            Command::Transfer { to: receiver, step_due } => {
                let giver = self.current_holder.clone().unwrap_or_default();
                let giver = HandOverParty { officer: Some(meta.actor.clone()), ..giver };
                self.hand_over(giver, receiver, step_due, now, &meta.reason);
            }
            Command::RequestSupplement { requested } => {
                self.supplement_request_count += 1;
                self.status_before_supplement = Some(from);
                self.supplements.push(SupplementRound {
                    round: self.supplement_request_count,
                    request_time: now,
                    requested_by: meta.actor.clone(),
                    reason: meta.reason.clone(),
                    requested_components: requested,
                    supplement_time: None,
                });
            }
            Command::Supplement { components } => {
                let round = self.supplement_request_count;
                if let Some(pending) = self.supplements.iter_mut().rev().find(|round| round.supplement_time.is_none()) {
                    pending.supplement_time = Some(now);
                    self.supplement_wait_seconds += (now - pending.request_time).num_seconds().max(0);
                    // The clock stopped while the applicant supplemented.
                    if let (Some(appointment), Some(due)) = (self.appointment, self.due_time) {
                        self.appointment = Some(calendar.extend_by_wait(appointment, pending.request_time, now));
                        self.due_time = Some(calendar.extend_by_wait(due, pending.request_time, now));
                    }
                }
                self.status_before_supplement = None;
                self.components.extend(
                    components.into_iter().map(|component| SubmittedComponent { supplement_round: round, ..component }),
                );
            }
            Command::RequestPayment { items } => {
                let round = self.payments.len() as u32 + 1;
                self.payments.push(PaymentRound {
                    round,
                    items,
                    request_time: now,
                    confirm_time: None,
                    receipt: String::new(),
                });
            }
            Command::ConfirmPayment { receipt } => {
                if let Some(pending) = self.payments.iter_mut().rev().find(|round| round.confirm_time.is_none()) {
                    pending.confirm_time = Some(now);
                    pending.receipt = receipt;
                }
            }
            Command::Apologize { new_appointment } => {
                let previous = self.appointment.unwrap_or(now);
                if new_appointment <= previous {
                    return Err(MoveError::AppointmentNotLater);
                }
                self.appointment = Some(new_appointment);
                self.apologies.push(Apology {
                    sequence: self.apologies.len() as u32 + 1,
                    time: now,
                    actor: meta.actor.clone(),
                    reason: meta.reason.clone(),
                    previous_appointment: previous,
                    new_appointment,
                });
            }
            Command::Resolve { document, document_sha256, electronic, signature, log_index } => {
                self.result = Some(ResultRecord {
                    document,
                    document_sha256,
                    electronic,
                    resolved_by: Some(meta.actor.clone()),
                    resolve_time: Some(now),
                    officer_signature: signature,
                    officer_signature_log_index: log_index,
                    ..ResultRecord::default()
                });
            }
            Command::Approve { seal, log_index } => {
                if let Some(result) = &mut self.result {
                    result.approved_by = Some(meta.actor.clone());
                    result.approve_time = Some(now);
                    result.seal_signature = seal;
                    result.seal_log_index = log_index;
                }
                self.end(now, true);
            }
            Command::Return { method } => {
                if let Some(result) = &mut self.result {
                    result.return_method = method;
                    result.return_time = Some(now);
                }
            }
        }
        self.status = to;
        Ok(self.record(dossier_move, Some(from), meta.actor, meta.reason, now, &meta.request_id))
    }

    fn hand_over(
        &mut self,
        from: HandOverParty,
        to: HandOverParty,
        step_due: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        note: &str,
    ) {
        let previous_due =
            self.hand_overs.last().map(|previous| previous.step_due_time).or(self.appointment).unwrap_or(now);
        let step_due_time = step_due.or(self.appointment).unwrap_or(now);
        self.hand_overs.push(HandOver {
            sequence: self.hand_overs.len() as u32 + 1,
            from,
            to: to.clone(),
            time: now,
            step_due_time,
            timeliness: Timeliness::of(now, previous_due),
            note: note.to_owned(),
        });
        self.current_holder = Some(to);
    }

    /// Ends processing; `judged` says whether the end counts for the on-time rate.
    fn end(&mut self, now: DateTime<Utc>, judged: bool) {
        self.end_time = Some(now);
        if judged {
            self.timeliness = Some(self.timeliness_at(now));
        }
    }

    /// Late when ended after the deadline (supplement waits excluded) or after more than one
    /// supplement request; early or on time otherwise.
    pub fn timeliness_at(&self, end: DateTime<Utc>) -> Timeliness {
        match self.due_time {
            _ if self.supplement_request_count > 1 => Timeliness::Late,
            Some(due) => Timeliness::of(end, due),
            None => Timeliness::OnTime,
        }
    }

    fn record(
        &mut self,
        dossier_move: Move,
        from_status: Option<Status>,
        actor: Officer,
        reason: String,
        time: DateTime<Utc>,
        request_id: &str,
    ) -> HistoryEntry {
        self.moves_made += 1;
        self.update_time = time;
        HistoryEntry {
            sequence: self.moves_made,
            dossier_move,
            from_status,
            to_status: self.status,
            actor,
            reason,
            time,
            request_id: request_id.to_owned(),
        }
    }
}
