//! The known test citizens, each with data no log line or span could hold by chance, and the forms in
//! which a careless line would show each datum.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// One test citizen: an applicant, or someone paying for one.
pub struct Person {
    pub identity_number: &'static str,
    pub full_name: &'static str,
    /// Year, month, day.
    pub date_of_birth: (i32, i32, i32),
    pub phone: &'static str,
    pub address: &'static str,
    /// Text found only inside this person's documents: the content of their files and the values read
    /// from them.
    pub document_marker: &'static str,
    /// A value read from one of their documents (an extracted field).
    pub extracted_value: &'static str,
    /// What they say in their own words (a rating comment, a feedback, a reason an officer copies).
    pub own_words: &'static str,
}

/// Files in person, has the result signed and sealed, pays a fee, gets a slip, rates and complains.
pub const UYEN: Person = Person {
    identity_number: "079187004213",
    full_name: "Tôn Thất Ngữ Uyên",
    date_of_birth: (1987, 3, 14),
    phone: "0916482537",
    address: "Số 17 ngõ Quỳnh Lôi, phường Bạch Mai, Hà Nội",
    document_marker: "PDMARK-UYEN-7Q2X",
    extracted_value: "KS-0417/1987-QLOI",
    own_words: "Ngữ Uyên rất hài lòng, gọi lại cho tôi PDSAY-UYEN-41",
};

/// Registers online, supplements, pays through a relative, then withdraws.
pub const THUY: Person = Person {
    identity_number: "031195008764",
    full_name: "Âu Dương Khánh Thủy",
    date_of_birth: (1995, 11, 2),
    phone: "+84383920471",
    address: "Thôn Đông Xuyên, xã Ứng Hòa, Hà Nội",
    document_marker: "PDMARK-THUY-K9W3",
    extracted_value: "GP-2211/1995-DXUY",
    own_words: "Khánh Thủy xin rút hồ sơ PDSAY-THUY-77",
};

/// Pays THUY's fee; the receipt carries her as payer.
pub const MAI: Person = Person {
    identity_number: "036164001592",
    full_name: "Lều Thị Xuân Mai",
    date_of_birth: (1964, 6, 30),
    phone: "0862039145",
    address: "Số 5 phố Hàng Chĩnh, phường Hoàn Kiếm, Hà Nội",
    document_marker: "PDMARK-MAI-Z3V8",
    extracted_value: "HC-0630/1964-HCHI",
    own_words: "Xuân Mai nộp thay PDSAY-MAI-19",
};

/// Keeps documents in her data store, files citing one, is refused, has a paper signed for an agency.
pub const QUYNH_HOA: Person = Person {
    identity_number: "001302009318",
    full_name: "Mạc Đăng Quỳnh Hoa",
    date_of_birth: (2002, 8, 19),
    phone: "0977150264",
    address: "Số 9 ngách 3 phố Đội Cấn, phường Ba Đình, Hà Nội",
    document_marker: "PDMARK-HOA-R5T1",
    extracted_value: "BT-0819/2002-DCAN",
    own_words: "Quỳnh Hoa cần bản sao gấp PDSAY-HOA-63",
};

pub const PEOPLE: [&Person; 4] = [&UYEN, &THUY, &MAI, &QUYNH_HOA];

/// Wrong identifiers the test citizens type into requests that are then refused: personal data all
/// the same, and an error message must not echo them.
pub const MISTYPED_IDENTITY_NUMBER: &str = "07918700421";
pub const MISTYPED_PHONE: &str = "09164x82537";
pub const MISTYPED_TAX_CODE: &str = "0312849175";

/// One datum and what it is, for the failure message.
pub struct Datum {
    pub label: String,
    pub value: String,
    pub kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Digits: identity numbers, tax codes.
    Number,
    Phone,
    /// Names, addresses, free text.
    Text,
    Date,
}

impl Person {
    pub fn data(&self) -> Vec<Datum> {
        let who = self.full_name;
        let (year, month, day) = self.date_of_birth;
        let given_names = self.full_name.split(' ').skip(2).collect::<Vec<_>>().join(" ");
        let street = self.address.split(',').next().unwrap_or(self.address);
        let datum =
            |what: &str, value: &str, kind| Datum { label: format!("{who}'s {what}"), value: value.to_owned(), kind };
        vec![
            datum("identity number", self.identity_number, Kind::Number),
            datum("full name", self.full_name, Kind::Text),
            datum("given names", &given_names, Kind::Text),
            datum("date of birth", &format!("{year:04}-{month:02}-{day:02}"), Kind::Date),
            datum("date of birth", &format!("{day:02}/{month:02}/{year:04}"), Kind::Date),
            datum("phone", self.phone, Kind::Phone),
            datum("address", self.address, Kind::Text),
            datum("street", street, Kind::Text),
            datum("document text", self.document_marker, Kind::Text),
            datum("extracted field", self.extracted_value, Kind::Text),
            datum("own words", self.own_words, Kind::Text),
        ]
    }
}

/// Every datum of every test citizen, and the mistyped ones.
pub fn all_data() -> Vec<Datum> {
    let mut data: Vec<Datum> = PEOPLE.iter().flat_map(|person| person.data()).collect();
    for (label, value, kind) in [
        ("a mistyped identity number", MISTYPED_IDENTITY_NUMBER, Kind::Number),
        ("a mistyped phone", MISTYPED_PHONE, Kind::Text),
        ("a mistyped tax code", MISTYPED_TAX_CODE, Kind::Number),
    ] {
        data.push(Datum { label: label.to_owned(), value: value.to_owned(), kind });
    }
    data
}

/// The forms a datum takes in a line that leaks it: as given, in another case, without diacritics
/// (what an ASCII-only sink makes of a name, and a file name's slug), decomposed (NFD), digits alone and without
/// the national prefix (phones), and as the bytes a `{:?}` of a `Vec<u8>` or a hex dump prints (text
/// inside a document's content).
pub fn forms(datum: &Datum) -> Vec<String> {
    let value = datum.value.as_str();
    let mut forms = vec![value.to_owned()];
    match datum.kind {
        Kind::Number | Kind::Date => {}
        Kind::Phone => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            let national = digits.strip_prefix("84").map(|rest| format!("0{rest}")).unwrap_or_else(|| digits.clone());
            let subscriber = national.trim_start_matches('0').to_owned();
            forms.extend([digits, national.clone(), format!("+84{subscriber}"), subscriber]);
        }
        Kind::Text => {
            let folded = without_diacritics(value);
            forms.extend([
                value.to_lowercase(),
                value.to_uppercase(),
                value.nfd().collect(),
                folded.to_lowercase(),
                folded.to_lowercase().replace(' ', "-"),
                folded,
                value.bytes().map(|byte| byte.to_string()).collect::<Vec<_>>().join(", "),
                value.bytes().map(|byte| format!("{byte:02x}")).collect(),
            ]);
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

fn without_diacritics(text: &str) -> String {
    text.nfd()
        .filter(|character| !is_combining_mark(*character))
        .map(|character| match character {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .collect()
}
