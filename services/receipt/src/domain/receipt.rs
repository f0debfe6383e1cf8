//! Receipts and slips: what the issuer writes, what receipt adds (number, totals, lookup code), and
//! the rules of correction. A receipt is never deleted: it is cancelled, replaced or adjusted by a new
//! receipt that refers to it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::series::ReceiptKind;

motcua_chassis::coded_enum! {
    /// How a fee was paid; the codes are the contract's `PaymentMethod`, the words as printed on a
    /// receipt.
    #[derive(Serialize, Deserialize)]
    pub enum PaymentMethod {
        /// None: the value of a slip.
        Unspecified = 0 => "",
        /// Cash at the counter.
        Cash = 1 => "Tiền mặt",
        /// A bank card at the counter.
        Card = 2 => "Thẻ ngân hàng",
        /// A bank transfer.
        BankTransfer = 3 => "Chuyển khoản",
        /// Online through the national public service portal.
        NationalPortal = 4 => "Trực tuyến qua Cổng Dịch vụ công quốc gia",
    }
}

motcua_chassis::coded_enum! {
    /// Where a receipt stands; the codes are the contract's `ReceiptState`.
    #[derive(Serialize, Deserialize)]
    pub enum ReceiptState {
        /// Issued and valid.
        Issued = 1,
        /// Cancelled: keeps its number, no longer valid.
        Cancelled = 2,
        /// Replaced by a new receipt, no longer valid.
        Replaced = 3,
        /// Valid, with adjustment receipts to add to it.
        Adjusted = 4,
    }
}

impl ReceiptState {
    /// Whether the receipt still counts: issued or adjusted.
    pub fn is_valid(self) -> bool {
        matches!(self, Self::Issued | Self::Adjusted)
    }
}

motcua_chassis::coded_enum! {
    /// How a receipt relates to an earlier one; the codes are the contract's `ReceiptRelation`.
    #[derive(Serialize, Deserialize)]
    pub enum Relation {
        /// A receipt of its own.
        Original = 1,
        /// It replaces the original in full.
        Replacement = 2,
        /// It adjusts the original by the differences in its items.
        Adjustment = 3,
    }
}

motcua_chassis::coded_enum! {
    /// Where a receipt's signature stands; the codes are the contract's `SignatureState`.
    #[derive(Serialize, Deserialize)]
    pub enum SignatureState {
        /// Not signed yet; retried while signing is down.
        Pending = 1,
        /// Signed.
        Signed = 2,
        /// Refused for good; needs an operator.
        Refused = 3,
    }
}

/// Who pays (for a slip, the applicant): the chassis's [`Party`]. Personal data: never in events, logs
/// or spans.
pub use motcua_chassis::party::Party as Payer;

/// One fee or charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// What is collected, in Vietnamese.
    pub name: String,
    /// The amount in đồng; on an adjustment, the difference, which may be negative.
    pub amount: i64,
}

/// The officer who collects and signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collector {
    /// Staff code, the signer id in signing.
    pub officer_id: String,
    /// Full name as printed. Personal data.
    pub display_name: String,
}

/// A component listed on a slip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcknowledgedComponent {
    /// Its name.
    pub name: String,
    /// The contract's `CopyKind` code: 1 original, 2 copy, 3 electronic.
    pub copy_kind: i32,
    /// How many copies.
    pub copies: u32,
}

/// What a slip says beyond the common content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The procedure's name.
    pub procedure_name: String,
    /// When the dossier was received.
    pub receive_time: DateTime<Utc>,
    /// The appointment for the result.
    pub appointment_time: DateTime<Utc>,
    /// The components received.
    pub components: Vec<AcknowledgedComponent>,
}

/// What the issuer writes on a receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    /// The collecting organisation.
    pub collecting_organisation: String,
    /// Its tax code.
    pub collecting_tax_code: String,
    /// Who pays.
    pub payer: Payer,
    /// The dossier, when any.
    pub dossier_code: String,
    /// The dossier's procedure code, when given.
    pub procedure_code: String,
    /// The fees.
    pub items: Vec<Item>,
    /// How it was paid.
    pub payment_method: PaymentMethod,
    /// The receipt's date (Asia/Ho_Chi_Minh).
    pub issue_date: NaiveDate,
    /// Who collects and signs.
    pub collector: Collector,
    /// A slip's own content.
    pub acknowledgement: Option<Acknowledgement>,
}

impl Content {
    /// The sum of the items, or `None` if it overflows.
    pub fn total(&self) -> Option<i64> {
        self.items.iter().try_fold(0_i64, |total, item| total.checked_add(item.amount))
    }
}

/// The cancellation of a receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cancellation {
    /// Why.
    pub reason: String,
    /// When.
    pub cancel_time: DateTime<Utc>,
    /// Who, by staff code.
    pub officer_id: String,
}

/// The collector's signature, made through signing after the number is taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// Pending, signed or refused.
    pub state: SignatureState,
    /// `signatures/{id}` once signed.
    pub name: String,
    /// Its leaf in signing's transparency log.
    pub log_index: i64,
    /// When signed.
    pub sign_time: Option<DateTime<Utc>>,
    /// How many times signing was asked.
    pub attempts: i32,
    /// The reason of the last failure.
    pub last_error_reason: String,
}

/// The fixed part of a receipt, as issued: it never changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issued {
    /// The id in `receipts/{receipt_id}`, a UUID.
    pub receipt_id: String,
    /// The series' id.
    pub series_id: String,
    /// From the series.
    pub kind: ReceiptKind,
    /// From the series.
    pub branch_code: String,
    /// From the series.
    pub template_symbol: String,
    /// From the series.
    pub series_symbol: String,
    /// The number in the series.
    pub number: i64,
    /// What the issuer wrote.
    pub content: Content,
    /// The sum of the items.
    pub total: i64,
    /// The total in words (of its absolute value).
    pub total_in_words: String,
    /// The lookup code, normalised.
    pub lookup_code: String,
    /// Original, replacement or adjustment.
    pub relation: Relation,
    /// For a correction, the receipt it corrects.
    pub original_receipt_id: Option<String>,
    /// For a correction, why.
    pub correction_reason: String,
    /// When the number was taken.
    pub issue_time: DateTime<Utc>,
}

/// What has happened to a receipt since it was issued.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Corrections {
    /// The receipt that replaces it.
    pub replaced_by: Option<String>,
    /// Its adjustment receipts, oldest first.
    pub adjustments: Vec<String>,
    /// Its cancellation.
    pub cancellation: Option<Cancellation>,
}

/// A receipt as stored: issued content, state, corrections, signature.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// What was issued.
    pub issued: Issued,
    /// Issued, cancelled, replaced or adjusted.
    pub state: ReceiptState,
    /// What happened to it.
    pub corrections: Corrections,
    /// The SHA-256 of its canonical XML.
    pub xml_sha256: Vec<u8>,
    /// The collector's signature.
    pub signature: Signature,
}

/// Why a receipt cannot be corrected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotCorrectable(pub String);

impl Receipt {
    /// Whether the receipt may be cancelled, replaced or adjusted: only while it is valid, and an
    /// adjustment only of a fee receipt.
    pub fn check_correctable(&self, adjusting: bool) -> Result<(), NotCorrectable> {
        if !self.state.is_valid() {
            return Err(NotCorrectable(format!("the receipt is {:?} already", self.state).to_lowercase()));
        }
        if adjusting && self.issued.kind != ReceiptKind::FeeReceipt {
            return Err(NotCorrectable("only a fee receipt can be adjusted".to_owned()));
        }
        Ok(())
    }
}

/// How much a receipt counts toward the amount collected: its total while valid (an adjustment's
/// total is its difference), nothing once cancelled or replaced.
pub fn collected(state: ReceiptState, total: i64) -> i64 {
    if state.is_valid() { total } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_issued_or_adjusted_receipts_count_and_can_be_corrected() {
        assert_eq!(collected(ReceiptState::Issued, 150_000), 150_000);
        assert_eq!(collected(ReceiptState::Adjusted, -20_000), -20_000);
        assert_eq!(collected(ReceiptState::Cancelled, 150_000), 0);
        assert_eq!(collected(ReceiptState::Replaced, 150_000), 0);
    }

    #[test]
    fn totals_that_overflow_are_refused() {
        let item = |amount| Item { name: "Lệ phí".to_owned(), amount };
        let content = |items| Content {
            collecting_organisation: String::new(),
            collecting_tax_code: String::new(),
            payer: Payer::Organisation {
                tax_code: String::new(),
                name: String::new(),
                address: String::new(),
                phone: String::new(),
            },
            dossier_code: String::new(),
            procedure_code: String::new(),
            items,
            payment_method: PaymentMethod::Cash,
            issue_date: NaiveDate::MIN,
            collector: Collector { officer_id: String::new(), display_name: String::new() },
            acknowledgement: None,
        };
        assert_eq!(content(vec![item(100_000), item(50_000)]).total(), Some(150_000));
        assert_eq!(content(vec![item(i64::MAX), item(1)]).total(), None);
    }
}
