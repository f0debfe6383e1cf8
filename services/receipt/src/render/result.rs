//! A dossier's result document as an A4 PDF: the issuing branch, the title, the dossier and its
//! procedure, the decision, and a QR code of the address where the signed result can be verified.
//! The same fields give the same bytes, so the officer signs what a second rendering would show.

use chrono::NaiveDate;

use super::pdf::{Line, PageSize, RenderError, date_line, page};

/// A4 portrait.
const A4: PageSize = PageSize { width: 595.28, height: 841.89 };

/// What a result document says.
#[derive(Debug, Clone)]
pub struct ResultDocument<'a> {
    /// The dossier's printed code.
    pub dossier_code: &'a str,
    /// The document's title.
    pub title: &'a str,
    /// The procedure's code.
    pub procedure_code: &'a str,
    /// The procedure's name.
    pub procedure_name: &'a str,
    /// The decision, one paragraph per line.
    pub decision_text: &'a str,
    /// The issuing branch's code.
    pub branch_code: &'a str,
    /// The issuing branch's name; its code stands in when empty.
    pub branch_name: &'a str,
    /// The day of the decision.
    pub issue_date: NaiveDate,
    /// Where it can be verified: the QR code's text.
    pub verification_url: &'a str,
}

/// `{base}/verify/result?dossier={code}`: the address the QR code of the result of `dossier_code`
/// carries. Dossier codes are letters, digits, dots and hyphens, which a URL's query takes as they are.
pub fn verification_url(public_base_url: &str, dossier_code: &str) -> String {
    format!("{public_base_url}/verify/result?dossier={dossier_code}")
}

/// The PDF of `document`.
pub fn result_pdf(document: &ResultDocument<'_>) -> Result<Vec<u8>, RenderError> {
    let line = |text: String, size: f32, centred: bool| Line { text, size, centred };
    let issuer = if document.branch_name.is_empty() { document.branch_code } else { document.branch_name };
    let mut lines = vec![
        line(issuer.to_owned(), 11.0, false),
        line(format!("Mã đơn vị: {}", document.branch_code), 9.0, false),
        line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".to_owned(), 11.0, true),
        line("Độc lập - Tự do - Hạnh phúc".to_owned(), 10.0, true),
        line(date_line(document.issue_date), 10.0, true),
        line(String::new(), 10.0, false),
        line(document.title.to_owned(), 15.0, true),
        line(String::new(), 10.0, false),
        line(format!("Mã hồ sơ: {}", document.dossier_code), 11.0, false),
        line(format!("Thủ tục: {} - {}", document.procedure_code, document.procedure_name), 11.0, false),
        line(String::new(), 10.0, false),
    ];
    lines.extend(
        document
            .decision_text
            .lines()
            .filter(|paragraph| !paragraph.trim().is_empty())
            .map(|paragraph| line(paragraph.trim().to_owned(), 11.0, false)),
    );
    lines.push(line(String::new(), 10.0, false));
    lines.push(line(
        "Văn bản điện tử có chữ ký số của cán bộ xử lý và con dấu của đơn vị; tra cứu tại:".to_owned(),
        9.0,
        false,
    ));
    lines.push(line(document.verification_url.to_owned(), 9.0, false));
    page(A4, &lines, document.verification_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document<'a>(decision_text: &'a str, url: &'a str) -> ResultDocument<'a> {
        ResultDocument {
            dossier_code: "000.00.01.H26-250310-0001",
            title: "QUYẾT ĐỊNH",
            procedure_code: "1.012822",
            procedure_name: "Đăng ký khai sinh",
            decision_text,
            branch_code: "CN01",
            branch_name: "Chi nhánh số 1",
            issue_date: NaiveDate::from_ymd_opt(2025, 3, 10).expect("a valid day"),
            verification_url: url,
        }
    }

    #[test]
    fn the_verification_address_names_the_dossier_under_the_public_base() {
        assert_eq!(
            verification_url("https://dichvucong.example.vn", "000.00.01.H26-250310-0001"),
            "https://dichvucong.example.vn/verify/result?dossier=000.00.01.H26-250310-0001"
        );
    }

    #[test]
    fn the_same_result_renders_the_same_bytes_and_another_decision_other_bytes() {
        let url = "https://dichvucong.example.vn/verify/result?dossier=000.00.01.H26-250310-0001";
        let first = result_pdf(&document("Cấp giấy khai sinh.", url)).expect("renders");
        let again = result_pdf(&document("Cấp giấy khai sinh.", url)).expect("renders");
        let other = result_pdf(&document("Từ chối cấp.", url)).expect("renders");
        assert!(first.starts_with(b"%PDF-"));
        assert_eq!(first, again);
        assert_ne!(first, other);
    }
}
