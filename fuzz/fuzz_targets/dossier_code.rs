//! Fuzzes intake's dossier code reading (`domain::dossier_code`): the template of the configuration
//! (`CodeFormat::parse_template`), and the codes and resource names of requests (`CodeFormat::parse`,
//! `parse_name`). The input is a template line, then the code; a line that is no template leaves the
//! default one. A code read back prints as the text read, and reads the same from its resource name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_intake::domain::dossier_code::CodeFormat;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (template, code_text) = text.split_once('\n').unwrap_or((text, text));
    let format = CodeFormat::parse_template(template).unwrap_or_default();
    let code = format.parse(code_text);
    if let Some(code) = &code {
        assert_eq!(code.text, code_text);
        assert_eq!(format.format(code), code_text);
        assert!(code.number > 0);
    }
    assert_eq!(format.parse_name(&format!("dossiers/{code_text}")), code);
    let _ = format.parse_name(code_text);
});
