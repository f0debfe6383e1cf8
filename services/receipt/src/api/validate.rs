//! Receipt's own request rules (names, payers, contents) on the chassis's validation kit; each
//! check adds a field violation and never quotes the offending value (it may be personal data).

use chrono::NaiveDate;
use motcua_chassis::{timestamps, validate};
use motcua_proto::motcua::{common::v1 as common, receipt::v1 as pb};

use crate::domain::{
    receipt::{AcknowledgedComponent, Acknowledgement, Collector, Content, Item, PaymentMethod},
    series::ReceiptKind,
};

motcua_chassis::service_violations! {
    /// Receipt's request checks: the chassis's kit ([`validate::Violations`]: fields, text, codes, dates,
    /// the error) plus receipt's own rules (names, payers, contents).
    pub struct Violations;
}

impl Violations {
    /// The id in a resource name `{collection}/{id}` in `field`.
    pub fn name<'a>(&mut self, field: &str, name: &'a str, collection: &str) -> Option<&'a str> {
        let id = name.strip_prefix(collection).and_then(|rest| rest.strip_prefix('/'));
        match id {
            Some(id) if !id.is_empty() && id.len() <= 63 && !id.contains('/') => Some(id),
            _ => {
                self.add(field, format!("expected {collection}/{{id}}"));
                None
            }
        }
    }

    /// The collector in `field`.
    pub fn collector(&mut self, field: &str, collector: Option<pb::Collector>) -> Collector {
        let collector = collector.unwrap_or_default();
        self.code(&format!("{field}.officer_id"), &collector.officer_id, validate::MAX_STAFF_CODE, true);
        self.text(&format!("{field}.display_name"), &collector.display_name, false);
        Collector { officer_id: collector.officer_id, display_name: collector.display_name }
    }

    /// Fee items in `field`: each named, each amount positive, or for an adjustment non-zero.
    pub fn items(&mut self, field: &str, items: Vec<pb::ReceiptItem>, adjustment: bool) -> Vec<Item> {
        items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                self.text(&format!("{field}[{index}].name"), &item.name, true);
                let amount = item.amount.map_or(0, |money| money.dong);
                if adjustment && amount == 0 {
                    self.add(format!("{field}[{index}].amount"), "required: a non-zero difference in đồng");
                } else if !adjustment && amount <= 0 {
                    self.add(format!("{field}[{index}].amount"), "required: a positive amount in đồng");
                }
                Item { name: item.name, amount }
            })
            .collect()
    }

    /// The content of a new receipt of `kind` in `field`; `today` stands for an unset date.
    pub fn content(
        &mut self,
        field: &str,
        kind: ReceiptKind,
        content: Option<pb::ReceiptContent>,
        today: NaiveDate,
    ) -> Option<Content> {
        let Some(content) = content else {
            self.add(field, "required");
            return None;
        };
        let fee = kind == ReceiptKind::FeeReceipt;
        self.text(&format!("{field}.collecting_organisation"), &content.collecting_organisation, true);
        if fee && !is_tax_code(&content.collecting_tax_code) {
            self.add(format!("{field}.collecting_tax_code"), "required on a fee receipt: 10 digits, optionally -NNN");
        } else if !fee {
            self.code(&format!("{field}.collecting_tax_code"), &content.collecting_tax_code, 14, false);
        }
        let payer = self.party(&format!("{field}.payer"), content.payer);
        self.code(&format!("{field}.dossier_code"), &content.dossier_code, 80, !fee);
        self.code(&format!("{field}.procedure_code"), &content.procedure_code, 40, false);
        if fee && content.items.is_empty() {
            self.add(format!("{field}.items"), "a fee receipt needs at least one item");
        } else if !fee && !content.items.is_empty() {
            self.add(format!("{field}.items"), "an acknowledgement slip carries no fee items");
        }
        let items = self.items(&format!("{field}.items"), content.items, false);
        let payment_method = match PaymentMethod::from_code(content.payment_method) {
            Some(PaymentMethod::Unspecified) if fee => {
                self.add(format!("{field}.payment_method"), "required on a fee receipt");
                PaymentMethod::Unspecified
            }
            Some(method) if !fee && method != PaymentMethod::Unspecified => {
                self.add(format!("{field}.payment_method"), "an acknowledgement slip has no payment method");
                method
            }
            Some(method) => method,
            None => {
                self.add(format!("{field}.payment_method"), "not a payment method");
                PaymentMethod::Unspecified
            }
        };
        let issue_date = self.date(&format!("{field}.issue_date"), content.issue_date.as_ref()).unwrap_or(today);
        let collector = self.collector(&format!("{field}.collector"), content.collector);
        let acknowledgement = match (content.acknowledgement, fee) {
            (Some(_), true) => {
                self.add(format!("{field}.acknowledgement"), "not allowed on a fee receipt");
                None
            }
            (None, false) => {
                self.add(format!("{field}.acknowledgement"), "required on an acknowledgement slip");
                None
            }
            (None, true) => None,
            (Some(acknowledgement), false) => {
                self.acknowledgement(&format!("{field}.acknowledgement"), acknowledgement)
            }
        };
        Some(Content {
            collecting_organisation: content.collecting_organisation,
            collecting_tax_code: content.collecting_tax_code,
            payer: payer?,
            dossier_code: content.dossier_code,
            procedure_code: content.procedure_code,
            items,
            payment_method,
            issue_date,
            collector,
            acknowledgement,
        })
    }

    fn acknowledgement(&mut self, field: &str, acknowledgement: pb::Acknowledgement) -> Option<Acknowledgement> {
        self.text(&format!("{field}.procedure_name"), &acknowledgement.procedure_name, true);
        let mut time = |name: &str, value: Option<prost_types::Timestamp>| {
            let parsed = value.as_ref().and_then(timestamps::from_proto);
            if parsed.is_none() {
                self.add(format!("{field}.{name}"), "required: a time");
            }
            parsed
        };
        let receive_time = time("receive_time", acknowledgement.receive_time);
        let appointment_time = time("appointment_time", acknowledgement.appointment_time);
        let mut components = Vec::new();
        for (index, component) in acknowledgement.components.into_iter().enumerate() {
            self.text(&format!("{field}.components[{index}].name"), &component.name, true);
            let copy_kind =
                if component.copy_kind == 0 { common::CopyKind::Original as i32 } else { component.copy_kind };
            if !(1..=3).contains(&copy_kind) {
                self.add(format!("{field}.components[{index}].copy_kind"), "original, copy or electronic");
            }
            if !(0..=100).contains(&component.copies) {
                self.add(format!("{field}.components[{index}].copies"), "0 to 100");
            }
            components.push(AcknowledgedComponent {
                name: component.name,
                copy_kind,
                copies: component.copies.max(1).unsigned_abs(),
            });
        }
        Some(Acknowledgement {
            procedure_name: acknowledgement.procedure_name,
            receive_time: receive_time?,
            appointment_time: appointment_time?,
            components,
        })
    }
}

/// A tax code: 10 digits, or 10 digits, a hyphen and 3 digits.
fn is_tax_code(code: &str) -> bool {
    let digits = |text: &str, count: usize| text.len() == count && text.bytes().all(|byte| byte.is_ascii_digit());
    match code.split_once('-') {
        None => digits(code, 10),
        Some((main, unit)) => digits(main, 10) && digits(unit, 3),
    }
}
