//! Conversions between receipt's domain and its protobuf messages.

use chrono::NaiveDate;
use motcua_chassis::timestamps;
use motcua_proto::{
    google::r#type::Date,
    motcua::{common::v1 as common, receipt::v1 as pb},
};

use crate::domain::{
    lookup,
    receipt::{Content, Item, Payer, Receipt},
    series::{Series, number_text},
};

/// The protobuf date of `day`.
pub fn date(day: NaiveDate) -> Date {
    motcua_chassis::validate::date_to_proto(day)
}

/// Money of `dong`.
pub fn money(dong: i64) -> common::Money {
    common::Money { dong }
}

/// A series as the contract has it.
pub fn series(series: &Series) -> pb::Series {
    pb::Series {
        name: format!("series/{}", series.series_id),
        branch_code: series.branch_code.clone(),
        year: series.year,
        kind: series.kind as i32,
        template_symbol: series.template_symbol.clone(),
        series_symbol: series.series_symbol.clone(),
        state: series.state as i32,
        last_number: series.last_number,
        create_time: Some(timestamps::to_proto(series.create_time)),
        close_time: series.close_time.map(timestamps::to_proto),
        close_reason: series.close_reason.clone(),
    }
}

fn items(items: &[Item]) -> Vec<pb::ReceiptItem> {
    items.iter().map(|item| pb::ReceiptItem { name: item.name.clone(), amount: Some(money(item.amount)) }).collect()
}

fn payer(payer: &Payer) -> common::Applicant {
    use common::applicant::Kind;
    let kind = match payer.clone() {
        Payer::Citizen { identity_number, full_name, date_of_birth, phone, address } => {
            Kind::Citizen(common::Citizen {
                identity_number,
                full_name,
                date_of_birth: date_of_birth.map(date),
                phone,
                address,
            })
        }
        Payer::Organisation { tax_code, name, address, phone } => {
            Kind::Organisation(common::Organisation { tax_code, name, address, phone })
        }
    };
    common::Applicant { kind: Some(kind) }
}

/// What the issuer wrote, as the contract has it.
pub fn content(content: &Content) -> pb::ReceiptContent {
    pb::ReceiptContent {
        collecting_organisation: content.collecting_organisation.clone(),
        collecting_tax_code: content.collecting_tax_code.clone(),
        payer: Some(payer(&content.payer)),
        dossier_code: content.dossier_code.clone(),
        procedure_code: content.procedure_code.clone(),
        items: items(&content.items),
        payment_method: content.payment_method as i32,
        issue_date: Some(date(content.issue_date)),
        collector: Some(pb::Collector {
            officer_id: content.collector.officer_id.clone(),
            display_name: content.collector.display_name.clone(),
        }),
        acknowledgement: content.acknowledgement.as_ref().map(|acknowledgement| pb::Acknowledgement {
            procedure_name: acknowledgement.procedure_name.clone(),
            receive_time: Some(timestamps::to_proto(acknowledgement.receive_time)),
            appointment_time: Some(timestamps::to_proto(acknowledgement.appointment_time)),
            components: acknowledgement
                .components
                .iter()
                .map(|component| pb::AcknowledgedComponent {
                    name: component.name.clone(),
                    copy_kind: component.copy_kind,
                    copies: component.copies as i32,
                })
                .collect(),
        }),
    }
}

/// A receipt, with everything on it, as the contract has it.
pub fn receipt(receipt: &Receipt) -> pb::Receipt {
    let issued = &receipt.issued;
    let name = |receipt_id: &String| format!("receipts/{receipt_id}");
    pb::Receipt {
        name: name(&issued.receipt_id),
        series: format!("series/{}", issued.series_id),
        kind: issued.kind as i32,
        branch_code: issued.branch_code.clone(),
        template_symbol: issued.template_symbol.clone(),
        series_symbol: issued.series_symbol.clone(),
        number: issued.number,
        number_text: number_text(issued.number),
        content: Some(content(&issued.content)),
        total: Some(money(issued.total)),
        total_in_words: issued.total_in_words.clone(),
        lookup_code: lookup::grouped(&issued.lookup_code),
        state: receipt.state as i32,
        relation: issued.relation as i32,
        original_receipt: issued.original_receipt_id.as_ref().map(name).unwrap_or_default(),
        correction_reason: issued.correction_reason.clone(),
        replaced_by: receipt.corrections.replaced_by.as_ref().map(name).unwrap_or_default(),
        adjustments: receipt.corrections.adjustments.iter().map(name).collect(),
        cancellation: receipt.corrections.cancellation.as_ref().map(|cancellation| pb::Cancellation {
            reason: cancellation.reason.clone(),
            cancel_time: Some(timestamps::to_proto(cancellation.cancel_time)),
            officer_id: cancellation.officer_id.clone(),
        }),
        xml_sha256: receipt.xml_sha256.clone(),
        signature: Some(pb::ReceiptSignature {
            state: receipt.signature.state as i32,
            signature: receipt.signature.name.clone(),
            log_index: receipt.signature.log_index,
            sign_time: receipt.signature.sign_time.map(timestamps::to_proto),
            attempts: receipt.signature.attempts,
            last_error_reason: receipt.signature.last_error_reason.clone(),
        }),
        issue_time: Some(timestamps::to_proto(issued.issue_time)),
    }
}

/// The printed number of a receipt.
pub fn receipt_number(receipt: &Receipt) -> pb::ReceiptNumber {
    pb::ReceiptNumber {
        template_symbol: receipt.issued.template_symbol.clone(),
        series_symbol: receipt.issued.series_symbol.clone(),
        number_text: number_text(receipt.issued.number),
    }
}

/// What a citizen may see of a receipt: no payer, no collector. `original` and `replacement` are the
/// receipts it corrects and that replace it, when any.
pub fn public_receipt(
    receipt: &Receipt,
    original: Option<&Receipt>,
    replacement: Option<&Receipt>,
) -> pb::PublicReceipt {
    let issued = &receipt.issued;
    let acknowledgement = issued.content.acknowledgement.as_ref();
    pb::PublicReceipt {
        kind: issued.kind as i32,
        number: Some(receipt_number(receipt)),
        issue_date: Some(date(issued.content.issue_date)),
        collecting_organisation: issued.content.collecting_organisation.clone(),
        collecting_tax_code: issued.content.collecting_tax_code.clone(),
        dossier_code: issued.content.dossier_code.clone(),
        items: items(&issued.content.items),
        total: Some(money(issued.total)),
        total_in_words: issued.total_in_words.clone(),
        payment_method: issued.content.payment_method as i32,
        procedure_name: acknowledgement
            .map(|acknowledgement| acknowledgement.procedure_name.clone())
            .unwrap_or_default(),
        appointment_time: acknowledgement.map(|acknowledgement| timestamps::to_proto(acknowledgement.appointment_time)),
        state: receipt.state as i32,
        relation: issued.relation as i32,
        original: original.map(receipt_number),
        replaced_by: replacement.map(receipt_number),
        signature_state: receipt.signature.state as i32,
        signature: receipt.signature.name.clone(),
        log_index: receipt.signature.log_index,
        xml_sha256: receipt.xml_sha256.clone(),
    }
}
