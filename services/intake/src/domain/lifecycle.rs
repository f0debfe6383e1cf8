//! The dossier lifecycle on the national status codes 1-10: every allowed move, and no other.

motcua_chassis::coded_enum! {
    /// A national dossier status; the numbers are the national codes.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum Status {
        /// 1: registered online, not yet accepted.
        Registered = 1,
        /// 2: received.
        Received = 2,
        /// 3: refused at intake.
        Refused = 3,
        /// 4: in processing.
        Processing = 4,
        /// 5: supplement requested.
        SupplementRequested = 5,
        /// 6: payment requested.
        PaymentRequested = 6,
        /// 7: withdrawn by the applicant.
        Withdrawn = 7,
        /// 8: processing stopped.
        Stopped = 8,
        /// 9: resolved, signed and sealed.
        Resolved = 9,
        /// 10: result returned.
        Returned = 10,
    }
}

impl Status {
    /// Whether the dossier is still being handled: it can become overdue.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Registered | Self::Received | Self::Processing | Self::SupplementRequested | Self::PaymentRequested
        )
    }
}

motcua_chassis::coded_enum! {
    /// A move of the lifecycle; the numbers are the contract's `DossierMove`.
    #[derive(serde::Serialize, serde::Deserialize)]
    pub enum Move {
        /// The dossier is filed.
        Create = 1,
        /// An online registration is accepted.
        Accept = 2,
        /// The dossier is refused at intake (form 03).
        Refuse = 3,
        /// Processing starts.
        StartProcessing = 4,
        /// A hand-over between units or agencies (form 06).
        Transfer = 5,
        /// A supplement is requested (form 02); the clock stops.
        RequestSupplement = 6,
        /// The applicant supplements; the clock restarts.
        Supplement = 7,
        /// A payment is requested.
        RequestPayment = 8,
        /// The payment is confirmed.
        ConfirmPayment = 9,
        /// Processing stops (form 05).
        Stop = 10,
        /// The applicant withdraws the dossier.
        Withdraw = 11,
        /// The officer signs the result.
        Resolve = 12,
        /// The branch leader approves and seals the result.
        Approve = 13,
        /// The result is returned.
        Return = 14,
        /// An apology with a new appointment (form 04).
        Apologize = 15,
    }
}

/// What the state machine needs to know of a dossier besides its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MoveContext {
    /// The status before the pending supplement request, to return to when supplemented.
    pub status_before_supplement: Option<Status>,
    /// Whether the officer has signed the result.
    pub result_signed: bool,
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveRefusal {
    /// The move is not allowed from this status.
    NotFromStatus {
        /// The dossier's status.
        status: Status,
        /// The move asked for.
        attempted: Move,
    },
    /// Approval needs the officer's signed result first.
    ResultNotSigned,
}

impl MoveRefusal {
    /// A sentence for the caller, naming national codes, never personal data.
    pub fn describe(self) -> String {
        match self {
            Self::NotFromStatus { status, attempted } => {
                format!("{attempted:?} is not allowed from status {} ({status:?})", status as i32)
            }
            Self::ResultNotSigned => {
                "the result must be signed by the officer (ResolveDossier) before approval".to_owned()
            }
        }
    }
}

/// The statuses a move may start from.
pub fn allowed_from(attempted: Move) -> &'static [Status] {
    use Status::*;
    match attempted {
        Move::Create => &[],
        Move::Accept => &[Registered],
        Move::Refuse => &[Registered, Received],
        Move::StartProcessing => &[Received],
        Move::Transfer | Move::RequestPayment | Move::Resolve | Move::Approve => &[Processing],
        Move::RequestSupplement => &[Registered, Received, Processing],
        Move::Supplement => &[SupplementRequested],
        Move::ConfirmPayment => &[PaymentRequested],
        Move::Stop | Move::Apologize => &[Received, Processing, SupplementRequested, PaymentRequested],
        Move::Withdraw => &[Registered, Received, Processing, SupplementRequested, PaymentRequested],
        Move::Return => &[Resolved],
    }
}

/// The status after `attempted` from `status`, or why it is refused.
pub fn apply(status: Status, attempted: Move, context: MoveContext) -> Result<Status, MoveRefusal> {
    if !allowed_from(attempted).contains(&status) {
        return Err(MoveRefusal::NotFromStatus { status, attempted });
    }
    Ok(match attempted {
        Move::Create => status,
        Move::Accept => Status::Received,
        Move::Refuse => Status::Refused,
        Move::StartProcessing | Move::ConfirmPayment => Status::Processing,
        Move::Transfer | Move::Resolve | Move::Apologize => status,
        Move::RequestSupplement => Status::SupplementRequested,
        Move::Supplement => context.status_before_supplement.unwrap_or(Status::Processing),
        Move::RequestPayment => Status::PaymentRequested,
        Move::Stop => Status::Stopped,
        Move::Withdraw => Status::Withdrawn,
        Move::Approve if !context.result_signed => return Err(MoveRefusal::ResultNotSigned),
        Move::Approve => Status::Resolved,
        Move::Return => Status::Returned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVES: [Move; 14] = [
        Move::Accept,
        Move::Refuse,
        Move::StartProcessing,
        Move::Transfer,
        Move::RequestSupplement,
        Move::Supplement,
        Move::RequestPayment,
        Move::ConfirmPayment,
        Move::Stop,
        Move::Withdraw,
        Move::Resolve,
        Move::Approve,
        Move::Return,
        Move::Apologize,
    ];

    #[test]
    fn the_move_table_is_exactly_the_documented_one() {
        let signed = MoveContext { status_before_supplement: Some(Status::Processing), result_signed: true };
        let mut allowed = Vec::new();
        for status in Status::ALL {
            for attempted in MOVES {
                if let Ok(next) = apply(status, attempted, signed) {
                    allowed.push((status as i32, attempted, next as i32));
                }
            }
        }
        use Move::*;
        let expected = vec![
            (1, Accept, 2),
            (1, Refuse, 3),
            (1, RequestSupplement, 5),
            (1, Withdraw, 7),
            (2, Refuse, 3),
            (2, StartProcessing, 4),
            (2, RequestSupplement, 5),
            (2, Stop, 8),
            (2, Withdraw, 7),
            (2, Apologize, 2),
            (4, Transfer, 4),
            (4, RequestSupplement, 5),
            (4, RequestPayment, 6),
            (4, Stop, 8),
            (4, Withdraw, 7),
            (4, Resolve, 4),
            (4, Approve, 9),
            (4, Apologize, 4),
            (5, Supplement, 4),
            (5, Stop, 8),
            (5, Withdraw, 7),
            (5, Apologize, 5),
            (6, ConfirmPayment, 4),
            (6, Stop, 8),
            (6, Withdraw, 7),
            (6, Apologize, 6),
            (9, Return, 10),
        ];
        assert_eq!(allowed, expected);
    }

    #[test]
    fn closed_dossiers_allow_no_move_but_return_of_a_resolved_one() {
        for status in [Status::Refused, Status::Withdrawn, Status::Stopped, Status::Returned] {
            for attempted in MOVES {
                assert!(apply(status, attempted, MoveContext::default()).is_err(), "{status:?} {attempted:?}");
            }
        }
    }

    #[test]
    fn supplement_returns_to_the_status_before_the_request() {
        let context = MoveContext { status_before_supplement: Some(Status::Received), result_signed: false };
        assert_eq!(apply(Status::SupplementRequested, Move::Supplement, context), Ok(Status::Received));
    }

    #[test]
    fn approval_before_the_officer_signed_is_refused() {
        assert_eq!(apply(Status::Processing, Move::Approve, MoveContext::default()), Err(MoveRefusal::ResultNotSigned));
    }
}
