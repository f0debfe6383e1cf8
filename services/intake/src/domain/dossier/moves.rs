//! The moves on a dossier: the commands an officer or applicant gives, and how [`Dossier::perform`]
//! applies each to the dossier's records (hand-overs, supplement and payment rounds, apologies, the
//! result) after the lifecycle allows it.

use chrono::{DateTime, Utc};

use super::{
    Apology, Dossier, HandOver, HandOverParty, HistoryEntry, Officer, PaymentRound, RequestedComponent, ResultRecord,
    SubmittedComponent, SupplementRound, Timeliness,
};
use crate::domain::{
    calendar::WorkCalendar,
    catalogue::FeeItem,
    lifecycle::{self, Move, MoveContext, MoveRefusal, Status},
};

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
