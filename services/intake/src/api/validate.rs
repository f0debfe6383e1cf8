//! Request validation shared by intake's handlers: each check adds a field violation and never quotes
//! the offending value (it may be personal data).

use motcua_chassis::{ApiError, FieldViolation};
use motcua_proto::motcua::{common::v1 as common, intake::v1 as pb};

use super::convert;
use crate::domain::{
    applicant::{self, Applicant},
    dossier::Officer,
    dossier_code::{CodeFormat, DossierCode},
};

/// The longest free text (reasons, comments, notes) a request may carry, in characters.
pub const MAX_TEXT: usize = 2000;

/// Collects the violations of one request, and the ErrorInfo reason of the first specific one.
#[derive(Default)]
pub struct Violations {
    violations: Vec<FieldViolation>,
    reason: Option<&'static str>,
}

impl Violations {
    /// Adds a violation of `field`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation::new(field, description));
    }

    /// Adds a violation whose kind has a reason of its own (`INVALID_APPLICANT`, `MISSING_COMPONENTS`).
    pub fn add_with_reason(&mut self, reason: &'static str, field: impl Into<String>, description: impl Into<String>) {
        self.reason.get_or_insert(reason);
        self.add(field, description);
    }

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

    /// Free text in `field`: required or not, and at most [`MAX_TEXT`] characters.
    pub fn text(&mut self, field: &str, text: &str, required: bool) {
        if required && text.trim().is_empty() {
            self.add(field, "required");
        } else if text.chars().count() > MAX_TEXT {
            self.add(field, format!("at most {MAX_TEXT} characters"));
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
                let date_of_birth = match citizen.date_of_birth {
                    None => None,
                    Some(date) => {
                        let parsed = chrono::NaiveDate::from_ymd_opt(date.year, date.month as u32, date.day as u32);
                        if parsed.is_none() {
                            self.add("applicant.citizen.date_of_birth", "not a calendar date");
                        }
                        parsed
                    }
                };
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
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidArgument {
                reason: self.reason.unwrap_or("INVALID_ARGUMENT"),
                violations: self.violations,
            })
        }
    }
}
