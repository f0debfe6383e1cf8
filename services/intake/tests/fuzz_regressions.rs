//! The inputs that once crashed the fuzz target of intake's dossier code reading
//! (fuzz/regressions/dossier_code/, see docs/testing.md), fed to the parsers as the target does on every
//! `cargo test`: a template line, then the code. Each must return instead of panicking, and a code read
//! back prints as the text read. A crash `make fuzz` finds is fixed and its input dropped there.

use std::path::{Path, PathBuf};

use motcua_intake::domain::dossier_code::CodeFormat;

#[test]
fn dossier_codes_and_templates_that_crashed_the_fuzzer_are_read() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/dossier_code");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{} cannot be read: {error}", folder.display()))
        .map(|entry| entry.expect("a folder entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no input", folder.display());
    for path in files {
        let Ok(text) = String::from_utf8(std::fs::read(&path).expect("a readable input")) else { continue };
        let (template, code_text) = text.split_once('\n').unwrap_or((&text, &text));
        let format = CodeFormat::parse_template(template).unwrap_or_default();
        if let Some(code) = format.parse(code_text) {
            assert_eq!(format.format(&code), code_text, "{path:?}");
        }
        let _ = format.parse_name(code_text);
    }
}
