//! Dossier codes: the receiving agency's electronic identifier, the receiving day (Asia/Ho_Chi_Minh)
//! and the day's running number per agency, `000.00.12.H26-250301-0001` by default. The printed form
//! is configuration (`CodeFormat`), since Circular 03/2025's exact form must be checked and may change.

use chrono::NaiveDate;

/// A dossier code: its parts, and the form it was printed in when the dossier was received (a later
/// change of the template leaves the codes already given as they are).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DossierCode {
    /// The receiving agency's electronic identifier.
    pub agency_code: String,
    /// The receiving day.
    pub day: NaiveDate,
    /// The running number of the day for the agency, from 1.
    pub number: u32,
    /// The printed code; empty in dossiers stored before the form was configurable, which were all
    /// printed in the default form.
    #[serde(default)]
    pub text: String,
}

impl DossierCode {
    /// The code as printed.
    pub fn printed(&self) -> String {
        if self.text.is_empty() { CodeFormat::default().format(self) } else { self.text.clone() }
    }
}

/// The default printed form: `{agency}-{yymmdd}-{number, at least four digits}`.
pub const DEFAULT_TEMPLATE: &str = "{agency}-{date:%y%m%d}-{number:4}";

/// One piece of a code template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Agency,
    /// The day in a chrono format made of `%Y`, `%y`, `%m` and `%d` (and literal characters).
    Date(String),
    /// The number, zero-padded to at least this many digits.
    Number(usize),
}

/// How codes are printed and read back: a template with `{agency}`, `{date:FORMAT}` and
/// `{number:DIGITS}` once each, for example `{agency}-{date:%y%m%d}-{number:4}`.
#[derive(Debug, Clone)]
pub struct CodeFormat {
    segments: Vec<Segment>,
    pattern: regex::Regex,
}

/// Why a code template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template must name {{agency}}, {{date:...}} and {{number:...}} exactly once each")]
    MissingOrRepeatedField,
    #[error("unknown field {{{0}}}: the fields are agency, date:FORMAT and number:DIGITS")]
    UnknownField(String),
    #[error("the date format may use only %Y, %y, %m and %d, and must use the month and the day")]
    BadDateFormat,
    #[error("the number needs 1 to 9 digits")]
    BadDigits,
    #[error("fields must be separated by literal text, so that a code can be read back")]
    AdjacentFields,
    #[error("an unclosed {{")]
    Unclosed,
}

impl Default for CodeFormat {
    fn default() -> Self {
        // The built-in template is valid: the unit tests parse it.
        Self::parse_template(DEFAULT_TEMPLATE).expect("the default dossier code template is valid")
    }
}

impl CodeFormat {
    /// Reads a template.
    pub fn parse_template(template: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or(TemplateError::Unclosed)?;
                    let field = &rest[1..end];
                    segments.push(match field.split_once(':') {
                        None if field == "agency" => Segment::Agency,
                        Some(("date", format)) => Segment::Date(check_date_format(format)?),
                        Some(("number", digits)) => {
                            let digits: usize = digits.parse().map_err(|_| TemplateError::BadDigits)?;
                            if !(1..=9).contains(&digits) {
                                return Err(TemplateError::BadDigits);
                            }
                            Segment::Number(digits)
                        }
                        _ => return Err(TemplateError::UnknownField(field.to_owned())),
                    });
                    rest = &rest[end + 1..];
                }
                Some(start) => {
                    segments.push(Segment::Literal(rest[..start].to_owned()));
                    rest = &rest[start..];
                }
                None => {
                    segments.push(Segment::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        let count = |wanted: fn(&Segment) -> bool| segments.iter().filter(|segment| wanted(segment)).count();
        if count(|s| matches!(s, Segment::Agency)) != 1
            || count(|s| matches!(s, Segment::Date(_))) != 1
            || count(|s| matches!(s, Segment::Number(_))) != 1
        {
            return Err(TemplateError::MissingOrRepeatedField);
        }
        if segments
            .windows(2)
            .any(|pair| !matches!(pair[0], Segment::Literal(_)) && !matches!(pair[1], Segment::Literal(_)))
        {
            return Err(TemplateError::AdjacentFields);
        }
        let mut pattern = String::from("^");
        for segment in &segments {
            match segment {
                Segment::Literal(text) => pattern.push_str(&regex::escape(text)),
                Segment::Agency => pattern.push_str("(?P<agency>[A-Za-z0-9.]{1,40})"),
                Segment::Date(format) => {
                    pattern.push_str("(?P<date>");
                    let mut characters = format.chars();
                    while let Some(character) = characters.next() {
                        match (character, character == '%') {
                            (_, true) => pattern.push_str(match characters.next() {
                                Some('Y') => "[0-9]{4}",
                                _ => "[0-9]{2}",
                            }),
                            (other, false) => pattern.push_str(&regex::escape(&other.to_string())),
                        }
                    }
                    pattern.push(')');
                }
                Segment::Number(digits) => pattern.push_str(&format!("(?P<number>[0-9]{{{digits},10}})")),
            }
        }
        pattern.push('$');
        let pattern = regex::Regex::new(&pattern).map_err(|_| TemplateError::BadDateFormat)?;
        Ok(Self { segments, pattern })
    }

    /// The code of `agency_code`'s `number` of `day`, printed in this form.
    pub fn code(&self, agency_code: &str, day: NaiveDate, number: u32) -> DossierCode {
        let mut code = DossierCode { agency_code: agency_code.to_owned(), day, number, text: String::new() };
        code.text = self.format(&code);
        code
    }

    /// The parts printed in this form.
    pub fn format(&self, code: &DossierCode) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => text.clone(),
                Segment::Agency => code.agency_code.clone(),
                Segment::Date(format) => code.day.format(format).to_string(),
                Segment::Number(digits) => format!("{:0width$}", code.number, width = *digits),
            })
            .collect()
    }

    /// Reads a printed code back; `None` for anything this format did not print.
    pub fn parse(&self, text: &str) -> Option<DossierCode> {
        let captures = self.pattern.captures(text)?;
        let format = self.segments.iter().find_map(|segment| match segment {
            Segment::Date(format) => Some(format.as_str()),
            _ => None,
        })?;
        let day_text = captures.name("date")?.as_str();
        // `%y` alone reads years 1970-2069 in chrono; dossiers are of this century.
        let day = NaiveDate::parse_from_str(day_text, format).ok()?;
        let number: u32 = captures.name("number")?.as_str().parse().ok().filter(|number| *number > 0)?;
        let code = self.code(captures.name("agency")?.as_str(), day, number);
        // Only the one printed form of each code: no extra zero-padding, no other spelling.
        (code.text == text).then_some(code)
    }

    /// The dossier code in a resource name `dossiers/{dossier_code}`.
    pub fn parse_name(&self, name: &str) -> Option<DossierCode> {
        name.strip_prefix("dossiers/").and_then(|code| self.parse(code))
    }
}

fn check_date_format(format: &str) -> Result<String, TemplateError> {
    let mut characters = format.chars();
    let (mut month, mut day) = (false, false);
    while let Some(character) = characters.next() {
        if character == '%' {
            match characters.next() {
                Some('Y' | 'y') => {}
                Some('m') => month = true,
                Some('d') => day = true,
                _ => return Err(TemplateError::BadDateFormat),
            }
        } else if character.is_ascii_digit() || character == '{' || character == '}' {
            return Err(TemplateError::BadDateFormat);
        }
    }
    if !(month && day && (format.contains("%Y") || format.contains("%y"))) {
        return Err(TemplateError::BadDateFormat);
    }
    Ok(format.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(format: &CodeFormat, agency: &str, y: i32, m: u32, d: u32, number: u32) -> DossierCode {
        format.code(agency, NaiveDate::from_ymd_opt(y, m, d).expect("date"), number)
    }

    #[test]
    fn codes_format_and_parse_back() {
        let format = CodeFormat::default();
        let code = code(&format, "000.00.12.H26", 2025, 3, 1, 1);
        assert_eq!(format.format(&code), "000.00.12.H26-250301-0001");
        assert_eq!(format.parse("000.00.12.H26-250301-0001"), Some(code));
    }

    #[test]
    fn busy_days_get_longer_numbers() {
        let format = CodeFormat::default();
        let parsed = format.parse("000.01.12.H26-251231-12345").expect("parses");
        assert_eq!(parsed.number, 12_345);
        assert_eq!(format.format(&parsed), "000.01.12.H26-251231-12345");
    }

    #[test]
    fn junk_is_not_a_code() {
        let format = CodeFormat::default();
        for junk in [
            "",
            "000.00.12.H26-250301",
            "000.00.12.H26-251301-0001",
            "x-250301-0000",
            "a b-250301-0001",
            "-250301-0001",
            "000.00.12.H26-250301-00001",
            "000.00.12.H26-250301-0001-",
        ] {
            assert_eq!(format.parse(junk), None, "{junk:?}");
        }
        assert!(format.parse_name("dossiers/000.00.12.H26-250301-0001").is_some());
        assert!(format.parse_name("procedures/000.00.12.H26-250301-0001").is_none());
    }

    #[test]
    fn another_template_prints_and_reads_its_own_form_only() {
        let format = CodeFormat::parse_template("HS/{date:%Y%m%d}/{agency}/{number:5}").expect("a valid template");
        let code = code(&format, "000.00.12.H26", 2026, 12, 1, 42);
        assert_eq!(format.format(&code), "HS/20261201/000.00.12.H26/00042");
        assert_eq!(format.parse("HS/20261201/000.00.12.H26/00042"), Some(code.clone()));
        assert_eq!(code.printed(), "HS/20261201/000.00.12.H26/00042");
        assert_eq!(format.parse("000.00.12.H26-261201-0042"), None);
    }

    #[test]
    fn a_code_stored_before_the_form_was_kept_prints_in_the_default_form() {
        let legacy: DossierCode =
            serde_json::from_str(r#"{"agency_code":"000.00.12.H26","day":"2025-03-01","number":7}"#).expect("old JSON");
        assert_eq!(legacy.printed(), "000.00.12.H26-250301-0007");
    }

    #[test]
    fn templates_without_every_field_or_with_fields_run_together_are_refused() {
        assert_eq!(
            CodeFormat::parse_template("{agency}-{number:4}").err(),
            Some(TemplateError::MissingOrRepeatedField)
        );
        assert_eq!(
            CodeFormat::parse_template("{agency}{date:%y%m%d}-{number:4}").err(),
            Some(TemplateError::AdjacentFields)
        );
        assert_eq!(
            CodeFormat::parse_template("{agency}-{date:%H}-{number:4}").err(),
            Some(TemplateError::BadDateFormat)
        );
        assert_eq!(
            CodeFormat::parse_template("{agency}-{date:%y%m%d}-{number:0}").err(),
            Some(TemplateError::BadDigits)
        );
        assert_eq!(
            CodeFormat::parse_template("{agency}-{day}-{number:4}").err(),
            Some(TemplateError::UnknownField("day".to_owned()))
        );
        assert!(CodeFormat::parse_template("{agency-{date:%y%m%d}").is_err());
    }

    mod properties {
        use proptest::{
            prelude::*,
            test_runner::{Config, TestRunner},
        };

        use super::*;

        /// A bounded run with no failure file: a failure prints its minimal input, which becomes a unit test.
        fn runner(cases: u32) -> TestRunner {
            TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
        }

        /// Text near codes and templates as well as anything at all: the parts, digits, braces and
        /// percent signs, shuffled.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[0-9A-Za-z.\\-/]{0,40}",
                "(dossiers/)?[0-9.A-Z]{1,14}-[0-9]{6}-[0-9]{1,11}",
                "[{}%:a-zYymd0-9\\-]{0,40}",
                "(\\{(agency|date:[%Yymd/ -]{0,8}|number:[0-9-]{0,3}|[a-z]{0,6})\\}?[-/Đ]{0,2}){0,5}",
            ]
        }

        #[test]
        fn no_text_panics_the_readers() {
            let format = CodeFormat::default();
            let other = CodeFormat::parse_template("HS/{date:%Y%m%d}/{agency}/{number:5}").expect("a valid template");
            runner(512)
                .run(&text(), |text| {
                    for format in [&format, &other] {
                        if let Some(code) = format.parse(&text) {
                            prop_assert_eq!(format.format(&code), text.clone());
                        }
                        let _ = format.parse_name(&text);
                    }
                    if let Ok(template) = CodeFormat::parse_template(&text) {
                        let _ = template.parse(&text);
                    }
                    Ok(())
                })
                .expect("the readers return for any text");
        }

        /// Templates an operator might write, from separators the agency code cannot contain.
        fn template() -> impl Strategy<Value = String> {
            let separator = prop::sample::select(vec!["-", "/", "_", " ", "/HS-", "–"]);
            let date = prop::sample::select(vec!["%y%m%d", "%Y%m%d", "%d%m%Y", "%Y-%m-%d", "%d/%m/%y"]);
            let field = (date, 1usize..=9).prop_flat_map(|(date, digits)| {
                Just(vec!["{agency}".to_owned(), format!("{{date:{date}}}"), format!("{{number:{digits}}}")])
                    .prop_shuffle()
            });
            (prop::sample::select(vec!["", "HS/", "Đ-"]), field, separator.clone(), separator, any::<bool>()).prop_map(
                |(prefix, fields, first, second, suffix)| {
                    let suffix = if suffix { "/MC" } else { "" };
                    format!("{prefix}{}{first}{}{second}{}{suffix}", fields[0], fields[1], fields[2])
                },
            )
        }

        #[test]
        fn every_printed_code_reads_back_as_the_same_code() {
            let code = (template(), "[A-Za-z0-9.]{1,40}", (2000i32..=2069, 1u32..=12, 1u32..=28), 1u32..=u32::MAX);
            runner(256)
                .run(&code, |(template, agency, (year, month, day), number)| {
                    let format = CodeFormat::parse_template(&template)
                        .map_err(|error| TestCaseError::fail(format!("{template:?}: {error}")))?;
                    let day = NaiveDate::from_ymd_opt(year, month, day).expect("days 1 to 28 are in every month");
                    let code = format.code(&agency, day, number);
                    prop_assert_eq!(format.parse(&code.text), Some(code.clone()), "{}", template);
                    prop_assert_eq!(format.parse_name(&format!("dossiers/{}", code.text)), Some(code));
                    Ok(())
                })
                .expect("every code a template prints reads back");
        }
    }
}
