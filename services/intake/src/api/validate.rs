//! Intake's own request rules (officers, dossier names, applicants) on the chassis's validation kit;
//! each check adds a field violation and never quotes the offending value (it may be personal data).

use motcua_chassis::validate;
use motcua_proto::motcua::{common::v1 as common, intake::v1 as pb};

use super::convert;
use crate::domain::{
    applicant::Applicant,
    dossier::Officer,
    dossier_code::{CodeFormat, DossierCode},
};

motcua_chassis::service_violations! {
    /// Intake's request checks: the chassis's kit ([`validate::Violations`]: fields, text, codes, dates,
    /// the error) plus intake's own rules (officers, dossier names, applicants).
    pub struct Violations;
}

impl Violations {
    /// The officer in `field`, which must name a staff code (the code signing knows the officer by).
    pub fn officer(&mut self, field: &str, officer: Option<pb::Officer>) -> Officer {
        let officer = officer.unwrap_or_default();
        self.code(&format!("{field}.officer_id"), &officer.officer_id, validate::MAX_STAFF_CODE, true);
        convert::officer_from_proto(officer)
    }

    /// The dossier code of a resource name in `field`, read in the deployment's `format`.
    pub fn dossier_name(&mut self, field: &str, name: &str, format: &CodeFormat) -> Option<DossierCode> {
        let code = format.parse_name(name);
        if code.is_none() {
            let example = format.code("000.00.12.H26", chrono::NaiveDate::default(), 1).text;
            self.add(field, format!("expected dossiers/{{dossier_code}}, a code in the form of dossiers/{example}"));
        }
        code
    }

    /// The applicant of a new dossier.
    pub fn applicant(&mut self, applicant: Option<common::Applicant>) -> Option<Applicant> {
        self.party("applicant", applicant)
    }
}
