//! The canonical XML of a receipt: the exact bytes that are signed. One element order, no
//! insignificant whitespace, UTF-8, times in UTC to the second, so that the same receipt always gives
//! the same bytes. The bytes are stored when the receipt is issued, so a later change here never
//! breaks an old signature.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::{
    receipt::{Issued, Payer, Relation},
    series::{ReceiptKind, number_text},
};

/// The namespace of the receipt document.
pub const NAMESPACE: &str = "urn:motcua:receipt:v1";

/// The canonical XML of `issued`.
pub fn canonical_xml(issued: &Issued) -> Vec<u8> {
    let mut xml = Xml::default();
    xml.text.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = write!(xml.text, "<Receipt xmlns=\"{NAMESPACE}\">");
    xml.element("ReceiptId", &issued.receipt_id);
    xml.element(
        "Kind",
        match issued.kind {
            ReceiptKind::FeeReceipt => "FEE_RECEIPT",
            ReceiptKind::AcknowledgementSlip => "ACKNOWLEDGEMENT_SLIP",
        },
    );
    xml.element("BranchCode", &issued.branch_code);
    xml.element("TemplateSymbol", &issued.template_symbol);
    xml.element("SeriesSymbol", &issued.series_symbol);
    xml.element("Number", &number_text(issued.number));
    xml.element("IssueDate", &issued.content.issue_date.format("%Y-%m-%d").to_string());
    xml.element("IssueTime", &time(issued.issue_time));
    xml.element("LookupCode", &issued.lookup_code);
    let content = &issued.content;
    xml.open("Collecting");
    xml.element("Organisation", &content.collecting_organisation);
    xml.element("TaxCode", &content.collecting_tax_code);
    xml.close("Collecting");
    xml.open("Payer");
    match &content.payer {
        Payer::Citizen { identity_number, full_name, date_of_birth, phone, address } => {
            xml.element("Kind", "CITIZEN");
            xml.element("IdentityNumber", identity_number);
            xml.element("Name", full_name);
            xml.element(
                "DateOfBirth",
                &date_of_birth.map(|date| date.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            );
            xml.element("Phone", phone);
            xml.element("Address", address);
        }
        Payer::Organisation { tax_code, name, address, phone } => {
            xml.element("Kind", "ORGANISATION");
            xml.element("TaxCode", tax_code);
            xml.element("Name", name);
            xml.element("Phone", phone);
            xml.element("Address", address);
        }
    }
    xml.close("Payer");
    xml.element("DossierCode", &content.dossier_code);
    xml.element("ProcedureCode", &content.procedure_code);
    xml.open("Items");
    for item in &content.items {
        xml.open("Item");
        xml.element("Name", &item.name);
        xml.element("Amount", &item.amount.to_string());
        xml.close("Item");
    }
    xml.close("Items");
    xml.element("Total", &issued.total.to_string());
    xml.element("TotalInWords", &issued.total_in_words);
    xml.element("PaymentMethod", &(content.payment_method as i32).to_string());
    xml.open("Collector");
    xml.element("OfficerId", &content.collector.officer_id);
    xml.element("Name", &content.collector.display_name);
    xml.close("Collector");
    if let Some(acknowledgement) = &content.acknowledgement {
        xml.open("Acknowledgement");
        xml.element("ProcedureName", &acknowledgement.procedure_name);
        xml.element("ReceiveTime", &time(acknowledgement.receive_time));
        xml.element("AppointmentTime", &time(acknowledgement.appointment_time));
        for component in &acknowledgement.components {
            xml.open("Component");
            xml.element("Name", &component.name);
            xml.element("CopyKind", &component.copy_kind.to_string());
            xml.element("Copies", &component.copies.to_string());
            xml.close("Component");
        }
        xml.close("Acknowledgement");
    }
    xml.element(
        "Relation",
        match issued.relation {
            Relation::Original => "ORIGINAL",
            Relation::Replacement => "REPLACEMENT",
            Relation::Adjustment => "ADJUSTMENT",
        },
    );
    xml.element("OriginalReceiptId", issued.original_receipt_id.as_deref().unwrap_or_default());
    xml.element("CorrectionReason", &issued.correction_reason);
    xml.close("Receipt");
    xml.text.into_bytes()
}

fn time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Default)]
struct Xml {
    text: String,
}

impl Xml {
    fn open(&mut self, name: &str) {
        let _ = write!(self.text, "<{name}>");
    }

    fn close(&mut self, name: &str) {
        let _ = write!(self.text, "</{name}>");
    }

    fn element(&mut self, name: &str, value: &str) {
        self.open(name);
        for character in value.chars() {
            match character {
                '&' => self.text.push_str("&amp;"),
                '<' => self.text.push_str("&lt;"),
                '>' => self.text.push_str("&gt;"),
                '"' => self.text.push_str("&quot;"),
                '\'' => self.text.push_str("&apos;"),
                // Control characters have no place in XML 1.0 text; they are dropped, never signed.
                control if control.is_control() && !matches!(control, '\t' | '\n' | '\r') => {}
                other => self.text.push(other),
            }
        }
        self.close(name);
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::receipt::{Collector, Content, Item, PaymentMethod};

    fn issued() -> Issued {
        Issued {
            receipt_id: "4b1e".to_owned(),
            series_id: "cn01-2025-bl".to_owned(),
            kind: ReceiptKind::FeeReceipt,
            branch_code: "CN01".to_owned(),
            template_symbol: "01BLP0-001".to_owned(),
            series_symbol: "AB-25E".to_owned(),
            number: 123,
            content: Content {
                collecting_organisation: "Sở Tư pháp <Hà Nội> & co".to_owned(),
                collecting_tax_code: "0101234567".to_owned(),
                payer: Payer::Organisation {
                    tax_code: "0100109106".to_owned(),
                    name: "Công ty \"Bình An\"".to_owned(),
                    address: String::new(),
                    phone: String::new(),
                },
                dossier_code: String::new(),
                procedure_code: String::new(),
                items: vec![Item { name: "Lệ phí".to_owned(), amount: 150_000 }],
                payment_method: PaymentMethod::Cash,
                issue_date: NaiveDate::from_ymd_opt(2025, 3, 10).expect("a calendar date"),
                collector: Collector { officer_id: "CB001".to_owned(), display_name: "Lê Thu".to_owned() },
                acknowledgement: None,
            },
            total: 150_000,
            total_in_words: "Một trăm năm mươi nghìn đồng".to_owned(),
            lookup_code: "7K2M9QXD4HFT0BWZ".to_owned(),
            relation: Relation::Original,
            original_receipt_id: None,
            correction_reason: String::new(),
            issue_time: DateTime::from_timestamp(1_741_600_000, 123_456).expect("in range"),
        }
    }

    #[test]
    fn the_same_receipt_always_gives_the_same_escaped_bytes() {
        let xml = String::from_utf8(canonical_xml(&issued())).expect("UTF-8");
        assert_eq!(canonical_xml(&issued()), xml.as_bytes());
        assert!(xml.contains("<Number>0000123</Number>"));
        assert!(xml.contains("Sở Tư pháp &lt;Hà Nội&gt; &amp; co"));
        assert!(xml.contains("Công ty &quot;Bình An&quot;"));
        assert!(xml.contains("<IssueTime>2025-03-10T09:46:40Z</IssueTime>"));
        assert!(!xml.contains("\n"));
    }
}
