//! The inputs that once crashed the fuzz target of intake's dossier code reading
//! (fuzz/regressions/dossier_code/, see docs/testing.md), fed to the parsers as the target does on every
//! `cargo test`: a template line, then the code. Each must return instead of panicking, and a code read
//! back prints as the text read. A crash `make fuzz` finds is fixed and its input dropped there.

use motcua_chassis::testing::fuzz_regressions::texts;
use motcua_intake::domain::dossier_code::CodeFormat;

#[test]
fn dossier_codes_and_templates_that_crashed_the_fuzzer_are_read() {
    for (path, text) in texts("dossier_code") {
        let (template, code_text) = text.split_once('\n').unwrap_or((&text, &text));
        let format = CodeFormat::parse_template(template).unwrap_or_default();
        if let Some(code) = format.parse(code_text) {
            assert_eq!(format.format(&code), code_text, "{path:?}");
        }
        let _ = format.parse_name(code_text);
    }
}
