//! Amounts in Vietnamese words, as a receipt prints its total: "Một triệu không trăm năm mươi nghìn
//! đồng". Northern usage: "linh" for a zero tens digit ("một trăm linh năm"), "mốt", "tư" and "lăm"
//! after a tens digit, and "không trăm" for the zero hundreds of an inner group.

const DIGITS: [&str; 10] = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];
const BILLION: u64 = 1_000_000_000;

/// The amount of đồng in words, capitalised, ending in "đồng": `150_000` is "Một trăm năm mươi nghìn
/// đồng". Every `u64` has words: above a billion, the count of billions is read the same way ("một
/// nghìn tỷ", "một triệu tỷ").
pub fn amount_in_words(dong: u64) -> String {
    let mut words = Vec::new();
    if dong == 0 {
        words.push("không");
    } else {
        read(dong, false, &mut words);
    }
    words.push("đồng");
    capitalise(&words.join(" "))
}

/// Reads `number` (non-zero); `inner` when a higher part was read, so that zero hundreds are said.
fn read(number: u64, inner: bool, words: &mut Vec<&'static str>) {
    if number >= BILLION {
        read(number / BILLION, inner, words);
        words.push("tỷ");
        let rest = number % BILLION;
        if rest > 0 {
            read_below_billion(rest, true, words);
        }
    } else {
        read_below_billion(number, inner, words);
    }
}

fn read_below_billion(number: u64, inner: bool, words: &mut Vec<&'static str>) {
    let groups =
        [(number / 1_000_000, Some("triệu")), ((number / 1_000) % 1_000, Some("nghìn")), (number % 1_000, None)];
    let mut started = inner;
    for (group, scale) in groups {
        if group == 0 {
            continue;
        }
        read_group(group, started, words);
        words.extend(scale);
        started = true;
    }
}

/// Reads one group of three digits (1 to 999).
fn read_group(group: u64, inner: bool, words: &mut Vec<&'static str>) {
    let (hundreds, tens, units) = ((group / 100) as usize, ((group / 10) % 10) as usize, (group % 10) as usize);
    let hundreds_said = inner || hundreds > 0;
    if hundreds_said {
        words.extend([DIGITS[hundreds], "trăm"]);
    }
    match tens {
        0 if units > 0 => {
            if hundreds_said {
                words.push("linh");
            }
            words.push(DIGITS[units]);
        }
        0 => {}
        1 => {
            words.push("mười");
            match units {
                0 => {}
                5 => words.push("lăm"),
                _ => words.push(DIGITS[units]),
            }
        }
        _ => {
            words.extend([DIGITS[tens], "mươi"]);
            match units {
                0 => {}
                1 => words.push("mốt"),
                4 => words.push("tư"),
                5 => words.push("lăm"),
                _ => words.push(DIGITS[units]),
            }
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::amount_in_words;

    #[test]
    fn the_examples_of_the_receipt_rules_read_as_printed() {
        assert_eq!(amount_in_words(1_050_000), "Một triệu không trăm năm mươi nghìn đồng");
        assert_eq!(amount_in_words(150_000), "Một trăm năm mươi nghìn đồng");
    }

    #[test]
    fn small_amounts_use_muoi_muoi_mot_tu_lam_and_linh() {
        for (dong, words) in [
            (0, "Không đồng"),
            (5, "Năm đồng"),
            (10, "Mười đồng"),
            (11, "Mười một đồng"),
            (14, "Mười bốn đồng"),
            (15, "Mười lăm đồng"),
            (20, "Hai mươi đồng"),
            (21, "Hai mươi mốt đồng"),
            (24, "Hai mươi tư đồng"),
            (25, "Hai mươi lăm đồng"),
            (55, "Năm mươi lăm đồng"),
            (99, "Chín mươi chín đồng"),
            (100, "Một trăm đồng"),
            (101, "Một trăm linh một đồng"),
            (104, "Một trăm linh bốn đồng"),
            (105, "Một trăm linh năm đồng"),
            (110, "Một trăm mười đồng"),
            (115, "Một trăm mười lăm đồng"),
            (121, "Một trăm hai mươi mốt đồng"),
            (999, "Chín trăm chín mươi chín đồng"),
        ] {
            assert_eq!(amount_in_words(dong), words, "{dong}");
        }
    }

    #[test]
    fn inner_groups_say_their_zero_hundreds_and_empty_groups_are_silent() {
        for (dong, words) in [
            (1_000, "Một nghìn đồng"),
            (1_001, "Một nghìn không trăm linh một đồng"),
            (1_010, "Một nghìn không trăm mười đồng"),
            (1_015, "Một nghìn không trăm mười lăm đồng"),
            (1_100, "Một nghìn một trăm đồng"),
            (10_000, "Mười nghìn đồng"),
            (25_000, "Hai mươi lăm nghìn đồng"),
            (50_000, "Năm mươi nghìn đồng"),
            (100_000, "Một trăm nghìn đồng"),
            (105_000, "Một trăm linh năm nghìn đồng"),
            (1_000_000, "Một triệu đồng"),
            (1_000_005, "Một triệu không trăm linh năm đồng"),
            (2_021_000, "Hai triệu không trăm hai mươi mốt nghìn đồng"),
            (15_500_000, "Mười lăm triệu năm trăm nghìn đồng"),
        ] {
            assert_eq!(amount_in_words(dong), words, "{dong}");
        }
    }

    #[test]
    fn billions_and_beyond_read_the_count_of_billions() {
        for (dong, words) in [
            (1_000_000_000, "Một tỷ đồng"),
            (1_000_000_001, "Một tỷ không trăm linh một đồng"),
            (2_500_000_000, "Hai tỷ năm trăm triệu đồng"),
            (1_050_000_000, "Một tỷ không trăm năm mươi triệu đồng"),
            (1_000_000_000_000, "Một nghìn tỷ đồng"),
            (5_003_000_000_000, "Năm nghìn không trăm linh ba tỷ đồng"),
            (1_000_000_000_000_000, "Một triệu tỷ đồng"),
        ] {
            assert_eq!(amount_in_words(dong), words, "{dong}");
        }
    }

    #[test]
    fn every_amount_up_to_ten_to_the_fifteenth_has_words_without_panic() {
        // A bounded walk over the range with an irregular stride, plus every amount below 100,000.
        let mut dong: u64 = 0;
        let mut stride: u64 = 1;
        while dong <= 1_000_000_000_000_000 {
            let words = amount_in_words(dong);
            assert!(words.ends_with(" đồng"), "{dong}: {words}");
            assert!(!words.contains("  "), "{dong}: {words}");
            dong += stride;
            stride = if dong < 100_000 { 1 } else { stride.wrapping_mul(7).wrapping_add(13) % 1_000_000_000_007 + 1 };
        }
        assert!(amount_in_words(u64::MAX).ends_with(" đồng"));
    }

    /// Reads words back into the amount, independently of how they were made: digits wait for the
    /// word that places them (`mươi`, `trăm`), `nghìn` and `triệu` close a group, `tỷ` multiplies
    /// everything read so far.
    fn read_back(words: &str) -> Option<u128> {
        let (mut billions, mut below_billion, mut group, mut digit) = (0u128, 0u128, 0u128, 0u128);
        for word in words.strip_suffix(" đồng")?.to_lowercase().split(' ') {
            match word {
                "không" => digit = 0,
                "một" | "mốt" => digit = 1,
                "hai" => digit = 2,
                "ba" => digit = 3,
                "bốn" | "tư" => digit = 4,
                "năm" | "lăm" => digit = 5,
                "sáu" => digit = 6,
                "bảy" => digit = 7,
                "tám" => digit = 8,
                "chín" => digit = 9,
                "linh" => {}
                "mười" => group += 10,
                "mươi" => group += std::mem::take(&mut digit) * 10,
                "trăm" => group += std::mem::take(&mut digit) * 100,
                "nghìn" => below_billion += (std::mem::take(&mut group) + std::mem::take(&mut digit)) * 1_000,
                "triệu" => below_billion += (std::mem::take(&mut group) + std::mem::take(&mut digit)) * 1_000_000,
                "tỷ" => {
                    let read =
                        std::mem::take(&mut below_billion) + std::mem::take(&mut group) + std::mem::take(&mut digit);
                    billions = (billions + read) * 1_000_000_000;
                }
                _ => return None,
            }
        }
        Some(billions + below_billion + group + digit)
    }

    #[test]
    fn every_amount_reads_capitalised_ends_in_dong_and_reads_back_to_itself() {
        use proptest::{
            prelude::*,
            test_runner::{Config, TestRunner},
        };
        // Receipts print the words of a total's magnitude (an adjustment's may be negative): every i64's
        // magnitude, every u64, and the round amounts receipts carry.
        let amount = prop_oneof![
            any::<i64>().prop_map(i64::unsigned_abs),
            any::<u64>(),
            (0u64..1_000, 0u32..=18).prop_map(|(digits, zeros)| digits.saturating_mul(10u64.pow(zeros))),
            Just(i64::MIN.unsigned_abs()),
            Just(u64::MAX),
        ];
        TestRunner::new(Config { cases: 512, failure_persistence: None, ..Config::default() })
            .run(&amount, |dong| {
                let words = amount_in_words(dong);
                prop_assert!(words.chars().next().is_some_and(char::is_uppercase), "{}", words);
                prop_assert!(words.ends_with(" đồng"), "{}", words);
                prop_assert!(!words.contains("  "), "{}", words);
                prop_assert_eq!(read_back(&words), Some(u128::from(dong)), "{}", words);
                Ok(())
            })
            .expect("every amount has words that say it");
    }

    #[test]
    fn the_words_read_back_for_the_known_amounts() {
        for dong in [0, 5, 15, 21, 105, 1_001, 1_050_000, 2_021_000, 1_000_000_001, 5_003_000_000_000, u64::MAX] {
            assert_eq!(read_back(&amount_in_words(dong)), Some(u128::from(dong)), "{dong}");
        }
    }
}
