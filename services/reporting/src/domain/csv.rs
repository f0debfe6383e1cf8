//! CSV as spreadsheet software reads Vietnamese: UTF-8 with a byte order mark, RFC 4180 quoting, CRLF.

/// The byte order mark that starts every export.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One CSV record of `fields`, quoted where needed, ending in CRLF.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = String::new();
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            line.push(',');
        }
        let field = field.as_ref();
        if field.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::record;

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted() {
        assert_eq!(
            record(&["CN01", "Chi nhánh số 1, Hà Nội", "say \"hi\""]),
            "CN01,\"Chi nhánh số 1, Hà Nội\",\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(record(&["a", "b"]), "a,b\r\n");
    }
}
