//! Receipt's rules, pure: series and their numbers, receipts and their corrections, amounts in words,
//! lookup codes and the canonical XML that is signed. No I/O, no tonic, no sea-orm.

pub mod lookup;
pub mod receipt;
pub mod series;
pub mod words;
pub mod xml;
