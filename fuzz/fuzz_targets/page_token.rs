//! Fuzzes the page token reader of every List RPC (chassis's `paging::decode_token`). The input is the
//! token, then after a newline the request's filter text. Every key and filter round-trips through a
//! token made by `encode_token`, and a token read with its own filter gives back its key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_chassis::paging;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (token, filter) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(Some(key)) = paging::decode_token(token, filter) {
        let again = paging::encode_token(&key, filter);
        assert_eq!(paging::decode_token(&again, filter).ok(), Some(Some(key)));
    }
    let made = paging::encode_token(token, filter);
    assert_eq!(paging::decode_token(&made, filter).ok(), Some(Some(token.to_owned())));
});
