//! Fuzzes the imports of an outside CA's key material (signing's `keys::import::read`): a PKCS#12 file
//! or PEM certificates and a PKCS#8 key. The first byte picks the form; for PEM the rest is the chain,
//! the key and the password separated by NUL bytes, for PKCS#12 the file, its password being `fuzz`.
//! Accepted material always has a certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_signing::keys::import::{self, KeyMaterialInput};

fuzz_target!(|data: &[u8]| {
    let Some((&form, rest)) = data.split_first() else { return };
    let result = if form % 2 == 0 {
        import::read(KeyMaterialInput::Pkcs12 { data: rest, password: "fuzz" })
    } else {
        let Ok(text) = std::str::from_utf8(rest) else { return };
        let mut parts = text.splitn(3, '\0');
        let certificate_chain_pem = parts.next().unwrap_or_default();
        let private_key_pem = parts.next().unwrap_or_default();
        let private_key_password = parts.next().unwrap_or_default();
        import::read(KeyMaterialInput::Pem { certificate_chain_pem, private_key_pem, private_key_password })
    };
    if let Ok(material) = result {
        assert!(!material.chain.is_empty(), "accepted material has a certificate");
    }
});
