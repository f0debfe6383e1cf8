//! The QR code printed on a receipt: the text a phone reads to look the receipt up and find its
//! signature in the transparency log.

use qrcode::{Color, EcLevel, QrCode};

/// The QR code's text: `motcua:receipt?code={lookup code}`, with `&log={index}` once signed.
pub fn payload(lookup_code: &str, log_index: Option<i64>) -> String {
    match log_index {
        Some(index) => format!("motcua:receipt?code={lookup_code}&log={index}"),
        None => format!("motcua:receipt?code={lookup_code}"),
    }
}

/// The dark modules of the QR code of `text`, row by row, and its width in modules.
pub fn modules(text: &str) -> Result<(Vec<bool>, usize), qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let width = code.width();
    Ok((code.to_colors().into_iter().map(|color| color == Color::Dark).collect(), width))
}
