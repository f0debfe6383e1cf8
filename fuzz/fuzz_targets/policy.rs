//! Fuzzes the policy file reader (chassis's `policy::Policy::parse`, YAML), which every service reads
//! at start and again whenever the file changes. A policy it accepts reads the same a second time, and
//! answers for any identity and RPC.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_chassis::policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(policy) = Policy::parse(text) else { return };
    assert_eq!(Policy::parse(text).as_ref(), Ok(&policy));
    let _ = policy.grant_for("agency/so-tu-phap", "motcua.intake.v1.IntakeService/CreateDossier");
});
