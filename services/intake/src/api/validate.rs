//! Intake's own request rules (officers, dossier names, applicants) on the chassis's validation kit;
//! each check adds a field violation and never quotes the offending value (it may be personal data).

use motcua_chassis::{ApiError, validate};
use motcua_proto::motcua::{common::v1 as common, intake::v1 as pb};

use super::convert;
use crate::domain::{
    applicant::{self, Applicant},
    dossier::Officer,
    dossier_code::{CodeFormat, DossierCode},
};

/// Intake's request checks: the chassis's kit ([`validate::Violations`]: fields, text, dates, the
/// error) plus intake's own rules (officers, dossier names, applicants).
#[derive(Default)]
pub struct Violations(validate::Violations);

impl std::ops::Deref for Violations {
    type Target = validate::Violations;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Violations {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Violations {
    /// The officer in `field`, which must name a staff code.
    pub fn officer(&mut self, field: &str, officer: Option<pb::Officer>) -> Officer {
        match officer {
            Some(officer) if !officer.officer_id.trim().is_empty() && officer.officer_id.len() <= 64 => {
                convert::officer_from_proto(officer)
            }
            _ => {
                self.add(format!("{field}.officer_id"), "required: the officer's staff code, at most 64 characters");
                Officer::default()
            }
        }
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
        use common::applicant::Kind;
        match applicant.and_then(|applicant| applicant.kind) {
            Some(Kind::Citizen(citizen)) => {
                if !applicant::is_valid_identity_number(&citizen.identity_number) {
                    self.add_with_reason(
                        "INVALID_APPLICANT",
                        "applicant.citizen.identity_number",
                        "must be a 12-digit citizen identity number",
                    );
                }
                self.text("applicant.citizen.full_name", &citizen.full_name, true);
                if !citizen.phone.is_empty() && !applicant::is_valid_phone(&citizen.phone) {
                    self.add("applicant.citizen.phone", "must be 8 to 15 digits with an optional leading +");
                }
                self.text("applicant.citizen.address", &citizen.address, false);
                let date_of_birth = self.date("applicant.citizen.date_of_birth", citizen.date_of_birth.as_ref());
                Some(Applicant::Citizen {
                    identity_number: citizen.identity_number,
                    full_name: citizen.full_name,
                    date_of_birth,
                    phone: citizen.phone,
                    address: citizen.address,
                })
            }
            Some(Kind::Organisation(organisation)) => {
                if !applicant::is_valid_tax_code(&organisation.tax_code) {
                    self.add_with_reason(
                        "INVALID_APPLICANT",
                        "applicant.organisation.tax_code",
                        "must be a tax code: 10 digits with a valid check digit, optionally -NNN",
                    );
                }
                self.text("applicant.organisation.name", &organisation.name, true);
                if !organisation.phone.is_empty() && !applicant::is_valid_phone(&organisation.phone) {
                    self.add("applicant.organisation.phone", "must be 8 to 15 digits with an optional leading +");
                }
                self.text("applicant.organisation.address", &organisation.address, false);
                Some(Applicant::Organisation {
                    tax_code: organisation.tax_code,
                    name: organisation.name,
                    address: organisation.address,
                    phone: organisation.phone,
                })
            }
            None => {
                self.add("applicant", "required: a citizen or an organisation");
                None
            }
        }
    }

    /// INVALID_ARGUMENT with every violation, if there is any.
    pub fn finish(self) -> Result<(), ApiError> {
        self.0.finish()
    }
}
