//! Vietnamese text folding for search: a caller types with or without diacritics ("cap giay phep xay
//! dung" or "Cấp giấy phép xây dựng") and both must find the same procedure.

use unicode_normalization::UnicodeNormalization;

/// Folds `text` to lower-case ASCII words separated by single spaces: diacritics removed (đ becomes d),
/// anything but letters, digits and dots read as a separator. The dot is kept so that procedure codes
/// such as "1.001193" stay one word.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in text.nfd() {
        let character = match character {
            'đ' | 'Đ' => 'd',
            // Combining marks (the diacritics once decomposed) are dropped.
            '\u{0300}'..='\u{036f}' => continue,
            other => other,
        };
        if character.is_alphanumeric() || character == '.' {
            if pending_space && !folded.is_empty() {
                folded.push(' ');
            }
            pending_space = false;
            folded.extend(character.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    folded
}

/// The words of a folded search query, each to be found in the folded text.
pub fn query_words(query: &str) -> Vec<String> {
    fold(query).split(' ').filter(|word| !word.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_and_case_fold_away() {
        assert_eq!(fold("Cấp giấy phép xây dựng"), "cap giay phep xay dung");
        assert_eq!(fold("ĐĂNG KÝ KHAI SINH"), "dang ky khai sinh");
        assert_eq!(fold("Hộ tịch"), "ho tich");
    }

    #[test]
    fn precomposed_and_decomposed_input_fold_alike() {
        let precomposed = "Thủ tục";
        let decomposed: String = precomposed.nfd().collect();
        assert_eq!(fold(precomposed), fold(&decomposed));
    }

    #[test]
    fn punctuation_separates_words_but_codes_stay_whole() {
        assert_eq!(fold("  (1.001193) – khai  sinh, "), "1.001193 khai sinh");
        assert_eq!(query_words("giấy   phép%_"), vec!["giay", "phep"]);
    }
}
