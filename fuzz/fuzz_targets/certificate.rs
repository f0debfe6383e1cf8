//! Fuzzes the X.509 DER certificate reader as signing uses it on certificates it did not make
//! (`Certificate::from_der`, as verification and the imports read them), then what signing reads of a
//! certificate: its validity, whether it is an authority, its key identifier, its fingerprint. A
//! certificate it accepts encodes back to DER that reads back the same.
#![no_main]

use std::time::{Duration, SystemTime};

use der::{Decode, Encode};
use libfuzzer_sys::fuzz_target;
use motcua_signing::domain::{certificates, verification};
use x509_cert::Certificate;

fuzz_target!(|data: &[u8]| {
    let Ok(certificate) = Certificate::from_der(data) else { return };
    let moment = SystemTime::UNIX_EPOCH + Duration::from_secs(1_765_000_000);
    let _ = verification::valid_at(&certificate, moment);
    let _ = certificates::is_authority(&certificate);
    let _ = certificates::subject_key_identifier(&certificate);
    let _ = certificates::fingerprint(data);
    if let Ok(encoded) = certificate.to_der() {
        assert_eq!(Certificate::from_der(&encoded).as_ref(), Ok(&certificate));
    }
});
