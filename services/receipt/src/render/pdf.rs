//! A receipt as an A5 PDF: Vietnamese text in the embedded DejaVu Sans, and a QR code drawn as
//! vector squares carrying the lookup code and the signature's log index. The page layout (lines of
//! text, a QR code in the lower right corner) is shared with result documents (`result.rs`).

use chrono::NaiveDate;
use pdf_writer::{
    Content, Filter, Finish, Name, Pdf, Rect, Ref, Str,
    types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap},
};

use super::{
    qr,
    text::{FONT, FontError, FontUse},
};
use crate::domain::{
    lookup,
    receipt::{Receipt, ReceiptState, Relation, SignatureState},
    series::{ReceiptKind, number_text},
};

/// A page's size, in points.
#[derive(Debug, Clone, Copy)]
pub(super) struct PageSize {
    pub width: f32,
    pub height: f32,
}

/// A5 portrait: a receipt or a slip.
const A5: PageSize = PageSize { width: 419.53, height: 595.28 };
const MARGIN: f32 = 36.0;
const QR_SIZE: f32 = 96.0;

/// Why a receipt could not be rendered: never the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The embedded font is broken.
    #[error(transparent)]
    Font(#[from] FontError),
    /// The QR code could not be made.
    #[error("the QR code cannot be made: {0}")]
    Qr(#[from] qrcode::types::QrError),
}

/// One line of the page: its text and size.
pub(super) struct Line {
    pub text: String,
    pub size: f32,
    pub centred: bool,
}

/// The PDF of `receipt`.
pub fn receipt_pdf(receipt: &Receipt) -> Result<Vec<u8>, RenderError> {
    let signed_index = (receipt.signature.state == SignatureState::Signed).then_some(receipt.signature.log_index);
    let qr_text = qr::payload(&lookup::grouped(&receipt.issued.lookup_code), signed_index);
    page(A5, &lines_of(receipt), &qr_text)
}

/// One page of `size`: `lines` from the top, wrapped to the margins, and the QR code of `qr_text` in
/// the lower right corner.
pub(super) fn page(size: PageSize, lines: &[Line], qr_text: &str) -> Result<Vec<u8>, RenderError> {
    let mut font = FontUse::embedded()?;
    let mut content = Content::new();
    let mut y = size.height - MARGIN;
    let text_width = size.width - 2.0 * MARGIN;
    for line in lines {
        for wrapped in font.wrap(&line.text, line.size, text_width) {
            y -= line.size * 1.45;
            let x = if line.centred { (size.width - font.width(&wrapped, line.size)) / 2.0 } else { MARGIN };
            let glyphs = font.encode(&wrapped);
            content.begin_text();
            content.set_font(Name(b"F1"), line.size);
            content.next_line(x, y);
            content.show(Str(&glyphs));
            content.end_text();
        }
    }
    let (modules, width) = qr::modules(qr_text)?;
    // A quiet zone of four modules on each side, as decoders expect.
    let module = QR_SIZE / (width + 8) as f32;
    let (qr_x, qr_y) = (size.width - MARGIN - QR_SIZE, MARGIN);
    for (index, dark) in modules.iter().enumerate() {
        if *dark {
            let (column, row) = (index % width, index / width);
            let x = qr_x + (column + 4) as f32 * module;
            let y = qr_y + QR_SIZE - (row + 5) as f32 * module;
            content.rect(x, y, module, module);
        }
    }
    content.fill_nonzero();
    Ok(assemble(size, &font, &content.finish()))
}

/// The text of the page, top to bottom.
fn lines_of(receipt: &Receipt) -> Vec<Line> {
    let issued = &receipt.issued;
    let content = &issued.content;
    let mut lines = Vec::new();
    let mut push = |text: String, size: f32, centred: bool| lines.push(Line { text, size, centred });
    push(content.collecting_organisation.clone(), 10.0, false);
    if !content.collecting_tax_code.is_empty() {
        push(format!("Mã số thuế: {}", content.collecting_tax_code), 9.0, false);
    }
    let title = match issued.kind {
        ReceiptKind::FeeReceipt => "BIÊN LAI THU PHÍ, LỆ PHÍ",
        ReceiptKind::AcknowledgementSlip => "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    };
    push(title.to_owned(), 13.0, true);
    push(
        format!(
            "Ký hiệu mẫu: {}   Ký hiệu: {}   Số: {}",
            issued.template_symbol,
            issued.series_symbol,
            number_text(issued.number)
        ),
        9.0,
        true,
    );
    push(date_line(content.issue_date), 9.0, true);
    match issued.relation {
        Relation::Original => {}
        Relation::Replacement => {
            push(format!("Thay thế biên lai khác. Lý do: {}", issued.correction_reason), 9.0, false)
        }
        Relation::Adjustment => {
            push(format!("Điều chỉnh biên lai khác. Lý do: {}", issued.correction_reason), 9.0, false)
        }
    }
    match receipt.state {
        ReceiptState::Cancelled => push("ĐÃ HỦY".to_owned(), 11.0, true),
        ReceiptState::Replaced => push("ĐÃ BỊ THAY THẾ".to_owned(), 11.0, true),
        ReceiptState::Issued | ReceiptState::Adjusted => {}
    }
    let payer_label = if issued.kind == ReceiptKind::FeeReceipt { "Người nộp" } else { "Người nộp hồ sơ" };
    push(format!("{payer_label}: {}", content.payer.display_name()), 10.0, false);
    if !content.payer.address().is_empty() {
        push(format!("Địa chỉ: {}", content.payer.address()), 9.0, false);
    }
    if !content.dossier_code.is_empty() {
        push(format!("Mã hồ sơ: {}", content.dossier_code), 9.0, false);
    }
    if let Some(acknowledgement) = &content.acknowledgement {
        let local = motcua_chassis::timestamps::vietnam();
        push(format!("Thủ tục: {}", acknowledgement.procedure_name), 9.0, false);
        push(
            format!(
                "Tiếp nhận lúc: {}",
                acknowledgement.receive_time.with_timezone(&local).format("%H giờ %M, ngày %d/%m/%Y")
            ),
            9.0,
            false,
        );
        push(
            format!(
                "Hẹn trả kết quả: {}",
                acknowledgement.appointment_time.with_timezone(&local).format("%H giờ %M, ngày %d/%m/%Y")
            ),
            9.0,
            false,
        );
        for (index, component) in acknowledgement.components.iter().enumerate() {
            push(format!("{}. {} ({} bản)", index + 1, component.name, component.copies), 9.0, false);
        }
    }
    for (index, item) in content.items.iter().enumerate() {
        push(format!("{}. {}: {} đồng", index + 1, item.name, grouped_amount(item.amount)), 9.0, false);
    }
    if issued.kind == ReceiptKind::FeeReceipt {
        push(format!("Tổng cộng: {} đồng", grouped_amount(issued.total)), 10.0, false);
        push(format!("Số tiền bằng chữ: {}", issued.total_in_words), 10.0, false);
        push(format!("Hình thức thanh toán: {}", content.payment_method.word()), 9.0, false);
    }
    let collector_label =
        if issued.kind == ReceiptKind::FeeReceipt { "Người thu tiền" } else { "Người tiếp nhận" };
    push(format!("{collector_label}: {}", content.collector.display_name), 9.0, false);
    push(format!("Mã tra cứu: {}", lookup::grouped(&issued.lookup_code)), 10.0, false);
    let signature = match receipt.signature.state {
        SignatureState::Signed => format!("Đã ký số, nhật ký minh bạch số {}", receipt.signature.log_index),
        SignatureState::Pending => "Chữ ký số: đang chờ ký".to_owned(),
        SignatureState::Refused => "Chữ ký số: chưa ký được".to_owned(),
    };
    push(signature, 8.0, false);
    lines
}

/// "Ngày 10 tháng 03 năm 2025".
pub(super) fn date_line(day: NaiveDate) -> String {
    format!("Ngày {} tháng {} năm {}", day.format("%d"), day.format("%m"), day.format("%Y"))
}

/// `1050000` as `1.050.000`, the Vietnamese grouping; a negative difference keeps its sign.
fn grouped_amount(dong: i64) -> String {
    let digits = dong.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    if dong < 0 { format!("-{grouped}") } else { grouped }
}

/// The document: one page, the font as a CID font with its widths and ToUnicode map.
fn assemble(size: PageSize, font: &FontUse<'_>, page_content: &[u8]) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let page_tree_id = Ref::new(2);
    let page_id = Ref::new(3);
    let content_id = Ref::new(4);
    let type0_id = Ref::new(5);
    let cid_font_id = Ref::new(6);
    let descriptor_id = Ref::new(7);
    let font_file_id = Ref::new(8);
    let cmap_id = Ref::new(9);
    let font_name = Name(b"DejaVuSans");
    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, size.width, size.height));
    page.parent(page_tree_id);
    page.contents(content_id);
    page.resources().fonts().pair(Name(b"F1"), type0_id);
    page.finish();
    let compressed_content = miniz_oxide::deflate::compress_to_vec_zlib(page_content, 6);
    pdf.stream(content_id, &compressed_content).filter(Filter::FlateDecode);

    pdf.type0_font(type0_id)
        .base_font(font_name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font_id)
        .to_unicode(cmap_id);
    let mut cid_font = pdf.cid_font(cid_font_id);
    cid_font.subtype(CidFontType::Type2);
    cid_font.base_font(font_name);
    cid_font.system_info(system_info);
    cid_font.font_descriptor(descriptor_id);
    cid_font.default_width(0.0);
    cid_font.cid_to_gid_map_predefined(Name(b"Identity"));
    {
        let mut widths = cid_font.widths();
        for glyph in font.used.keys() {
            widths.consecutive(*glyph, [font.advance(*glyph)]);
        }
    }
    cid_font.finish();

    let face = font.face();
    let scale = 1000.0 / font.units_per_em();
    let bbox = face.global_bounding_box();
    pdf.font_descriptor(descriptor_id)
        .name(font_name)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * scale)
        .descent(f32::from(face.descender()) * scale)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
        .stem_v(80.0)
        .font_file2(font_file_id);
    let compressed_font = miniz_oxide::deflate::compress_to_vec_zlib(FONT, 6);
    pdf.stream(font_file_id, &compressed_font)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), i32::try_from(FONT.len()).unwrap_or(i32::MAX));

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (glyph, character) in &font.used {
        cmap.pair(*glyph, *character);
    }
    let cmap = cmap.finish();
    pdf.cmap(cmap_id, cmap.as_slice());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::grouped_amount;

    #[test]
    fn amounts_print_with_dots_between_thousands() {
        assert_eq!(grouped_amount(0), "0");
        assert_eq!(grouped_amount(150_000), "150.000");
        assert_eq!(grouped_amount(1_050_000), "1.050.000");
        assert_eq!(grouped_amount(-20_000), "-20.000");
    }
}
