//! `coded_enum!`, the one way a service writes an enum whose variants carry contract numbers (a proto
//! enum's codes, a stored column's numbers) or words (a seed file's, a log line's, a printed label):
//! each number and word is written once, beside its variant, and the conversions both ways follow
//! from it, so no service keeps a `match` of its own that could drift from the enum.

/// Declares an enum whose variants carry contract numbers and, if given, words, with the conversions.
///
/// A variant is written `Name = code`, or `Name = code => "word"` when it also has a word; either
/// every variant of an enum has a word or none has. An enum of words without numbers (a file's
/// vocabulary that no contract numbers) writes `Name => "word"`. The doc comment and any further
/// attributes and derives (serde's, `PartialOrd`) go above `enum`, as on any enum.
///
/// The enum derives `Debug, Clone, Copy, PartialEq, Eq, Hash`, and gets:
/// - `ALL`, every variant in declaration order;
/// - with numbers: `from_code(i32) -> Option<Self>` and `code(self) -> i32`. The numbers are also the
///   discriminants, so `as i16` gives a stored column's value;
/// - with words: `word(self) -> &'static str` and `from_word(&str) -> Option<Self>`.
///
/// ```
/// motcua_chassis::coded_enum! {
///     /// How a dossier was filed; the numbers are the contract's.
///     pub enum Channel {
///         /// At a counter.
///         Counter = 1 => "counter",
///         /// Online.
///         Online = 2 => "online",
///     }
/// }
/// assert_eq!(Channel::from_code(2), Some(Channel::Online));
/// assert_eq!(Channel::Counter.code(), 1);
/// assert_eq!(Channel::from_word(Channel::Online.word()), Some(Channel::Online));
/// assert_eq!(Channel::ALL, [Channel::Counter, Channel::Online]);
/// ```
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$attribute:meta])*
        $visibility:vis enum $name:ident {
            $( $(#[$variant_attribute:meta])* $variant:ident = $code:literal => $word:literal ),+ $(,)?
        }
    ) => {
        $crate::coded_enum! {
            @enum [$(#[$attribute])*] $visibility $name [$( [$(#[$variant_attribute])*] $variant = $code ),+]
        }
        $crate::coded_enum! { @codes $name [$( $variant = $code ),+] }
        $crate::coded_enum! { @words $name [$( $variant => $word ),+] }
    };
    (
        $(#[$attribute:meta])*
        $visibility:vis enum $name:ident {
            $( $(#[$variant_attribute:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $crate::coded_enum! {
            @enum [$(#[$attribute])*] $visibility $name [$( [$(#[$variant_attribute])*] $variant = $code ),+]
        }
        $crate::coded_enum! { @codes $name [$( $variant = $code ),+] }
    };
    (
        $(#[$attribute:meta])*
        $visibility:vis enum $name:ident {
            $( $(#[$variant_attribute:meta])* $variant:ident => $word:literal ),+ $(,)?
        }
    ) => {
        $crate::coded_enum! { @enum [$(#[$attribute])*] $visibility $name [$( [$(#[$variant_attribute])*] $variant ),+] }
        $crate::coded_enum! { @words $name [$( $variant => $word ),+] }
    };
    (
        @enum [$(#[$attribute:meta])*] $visibility:vis $name:ident
        [$( [$(#[$variant_attribute:meta])*] $variant:ident $(= $code:literal)? ),+]
    ) => {
        $(#[$attribute])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $visibility enum $name {
            $( $(#[$variant_attribute])* $variant $(= $code)?, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$( stringify!($variant) ),+].len()] = [$( Self::$variant ),+];
        }
    };
    (@codes $name:ident [$( $variant:ident = $code:literal ),+]) => {
        impl $name {
            /// The variant of contract number `code`, if it is one.
            pub fn from_code(code: i32) -> Option<Self> {
                match code {
                    $( $code => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The contract number.
            pub const fn code(self) -> i32 {
                self as i32
            }
        }
    };
    (@words $name:ident [$( $variant:ident => $word:literal ),+]) => {
        impl $name {
            /// The variant of `word`, if it is one.
            pub fn from_word(word: &str) -> Option<Self> {
                match word {
                    $( $word => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The word.
            pub const fn word(self) -> &'static str {
                match self {
                    $( Self::$variant => $word, )+
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    coded_enum! {
        /// Numbers with gaps, and a zero, as contracts have them.
        #[derive(PartialOrd, Ord)]
        enum Numbered {
            /// None given.
            Unspecified = 0,
            /// The first.
            First = 1,
            /// After a retired number.
            Fourth = 4,
        }
    }

    coded_enum! {
        /// Numbers and the words of a file.
        pub enum Worded {
            /// One.
            One = 1 => "one",
            /// Two.
            Two = 2 => "two_words",
        }
    }

    coded_enum! {
        /// Words that no contract numbers.
        enum WordsOnly {
            /// Yes.
            Yes => "yes",
            /// No.
            No => "no",
        }
    }

    #[test]
    fn every_number_gives_back_its_variant_and_unknown_numbers_give_none() {
        assert_eq!(Numbered::ALL, [Numbered::Unspecified, Numbered::First, Numbered::Fourth]);
        for variant in Numbered::ALL {
            assert_eq!(Numbered::from_code(variant.code()), Some(variant));
        }
        assert_eq!(Numbered::Fourth.code(), 4);
        assert_eq!(Numbered::Fourth as i16, 4, "the number is the discriminant, for stored columns");
        assert_eq!(Numbered::from_code(2), None);
        assert_eq!(Numbered::from_code(-1), None);
        assert!(Numbered::First < Numbered::Fourth, "further derives are kept");
    }

    #[test]
    fn numbers_and_words_both_round_trip() {
        assert_eq!(Worded::ALL.map(Worded::word), ["one", "two_words"]);
        for variant in Worded::ALL {
            assert_eq!(Worded::from_code(variant.code()), Some(variant));
            assert_eq!(Worded::from_word(variant.word()), Some(variant));
        }
        assert_eq!(Worded::from_code(0), None);
        assert_eq!(Worded::from_word("two"), None);
        assert_eq!(Worded::from_word("One"), None, "words are matched exactly");
    }

    #[test]
    fn words_round_trip_without_numbers() {
        assert_eq!(WordsOnly::ALL, [WordsOnly::Yes, WordsOnly::No]);
        for variant in WordsOnly::ALL {
            assert_eq!(WordsOnly::from_word(variant.word()), Some(variant));
        }
        assert_eq!(WordsOnly::from_word(""), None);
    }
}
