//! Bounded property runs of hostile input against a running service: strategies for what careless or
//! malicious clients send (any text, huge and negative numbers, unknown enum values, bogus names and
//! page tokens, impossible dates and times) and the check that every answer is OK or a clean error.
//!
//! A clean error is one of our own statuses, with its ErrorInfo: INVALID_ARGUMENT with a BadRequest
//! or an ErrorInfo detail, or NOT_FOUND, FAILED_PRECONDITION and their kin for well-formed input.
//! INTERNAL and UNKNOWN never are, and neither is a status without details: that is a transport's (a
//! handler that panicked drops its stream).

use std::future::Future;

use motcua_proto::{
    google::r#type::Date,
    motcua::common::v1::{Applicant, Citizen, Organisation, applicant::Kind},
};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Cases per RPC: enough to reach every validator's branches with the strategies below, few enough
/// that a service's whole run takes seconds.
pub const CASES: u32 = 64;

/// Runs `call` on `CASES` requests from `requests` inside `runtime` and panics, with the smallest
/// failing request, if an answer is not OK or a clean error. No failure file is written: a failure
/// becomes a unit test of the validator.
pub fn check_rpc<S, F, Fut>(runtime: &tokio::runtime::Runtime, rpc: &str, requests: S, call: F)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Fut,
    Fut: Future<Output = Result<(), Status>>,
{
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    if let Err(failure) = runner.run(&requests, |request| clean(rpc, runtime.block_on(call(request)))) {
        panic!("{rpc}: {failure}");
    }
}

/// Whether an answer is OK or a clean error (see the module's comment).
pub fn clean(rpc: &str, outcome: Result<(), Status>) -> Result<(), TestCaseError> {
    let Err(status) = outcome else { return Ok(()) };
    let details = status.get_error_details();
    let described = details.error_info().is_some() || details.bad_request().is_some();
    match status.code() {
        Code::Internal | Code::Unknown | Code::Unimplemented | Code::DataLoss => {
            Err(TestCaseError::fail(format!("{rpc} answered {status:?}")))
        }
        _ if !described => Err(TestCaseError::fail(format!("{rpc} answered without details: {status:?}"))),
        _ => Ok(()),
    }
}

/// Any text: empty, arbitrary Unicode, printable ASCII, digits, combining marks, long runs, and the
/// classics of injection and escaping.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => any::<String>(),
        2 => "[ -~]{0,24}",
        1 => Just(String::new()),
        1 => "[0-9]{1,24}",
        1 => "[a-zA-Z0-9._/-]{1,16}",
        1 => "[\\p{M}\\p{Zs}\u{200b}\u{feff}]{1,8}",
        1 => ("\\PC{1,4}", 200usize..3_000).prop_map(|(piece, times)| piece.repeat(times)),
        1 => prop::sample::select(vec![
            "'; DROP TABLE dossiers; --",
            "%",
            "_",
            "\\",
            "\u{0}",
            "..",
            "../../etc/passwd",
            "Nguye\u{302}\u{303}n Va\u{306}n A",
            "Nguyễn Văn A",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// `valid` three times in four, else a value of `other`: a request of many fields then has most of
/// them valid, so that one bad field at a time meets its validator and whole valid requests reach the
/// store.
pub fn mostly<T: Clone + std::fmt::Debug + 'static>(valid: T, other: BoxedStrategy<T>) -> BoxedStrategy<T> {
    prop_oneof![3 => Just(valid), 1 => other].boxed()
}

/// `known` names (resources that exist, so requests reach past the validators), names of the right
/// collection with bogus ids, and any text.
pub fn name(collection: &'static str, known: Vec<String>) -> BoxedStrategy<String> {
    let known = if known.is_empty() { vec![format!("{collection}/x")] } else { known };
    prop_oneof![
        2 => prop::sample::select(known),
        2 => text().prop_map(move |id| format!("{collection}/{id}")),
        1 => text(),
    ]
    .boxed()
}

/// A page token: mostly none, else any text or base64 of arbitrary bytes (what a forged cursor looks
/// like).
pub fn page_token() -> BoxedStrategy<String> {
    use base64::Engine;
    let forged = prop::collection::vec(any::<u8>(), 0..64)
        .prop_map(|bytes| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    prop_oneof![4 => Just(String::new()), 1 => text(), 1 => forged].boxed()
}

/// A page size: mostly the default, else any `int32`.
pub fn page_size() -> BoxedStrategy<i32> {
    mostly(0, int32())
}

/// An optional text filter: mostly absent, else any text.
pub fn optional_text() -> BoxedStrategy<String> {
    mostly(String::new(), text())
}

/// An `int32`: zero, small, negative, the extremes, anything.
pub fn int32() -> BoxedStrategy<i32> {
    prop_oneof![Just(0), -3..1_100, Just(i32::MIN), Just(i32::MAX), any::<i32>()].boxed()
}

/// An `int64`: zero, small, negative, the extremes, anything.
pub fn int64() -> BoxedStrategy<i64> {
    prop_oneof![Just(0), -3i64..1_100, Just(i64::MIN), Just(i64::MAX), any::<i64>()].boxed()
}

/// An enum's number: unspecified, each of the first values, unknown ones.
pub fn enum_value() -> BoxedStrategy<i32> {
    prop_oneof![3 => 0..8, 1 => any::<i32>()].boxed()
}

/// A `google.type.Date`, absent, plausible or impossible.
pub fn date() -> BoxedStrategy<Option<Date>> {
    let part = prop_oneof![0..32, int32()];
    prop_oneof![
        Just(None),
        (1900..2100, 0..14, 0..33).prop_map(|(year, month, day)| Some(Date { year, month, day })),
        (int32(), part.clone(), part).prop_map(|(year, month, day)| Some(Date { year, month, day })),
    ]
    .boxed()
}

/// A `google.protobuf.Timestamp`, absent, plausible or far outside any calendar.
pub fn timestamp() -> BoxedStrategy<Option<prost_types::Timestamp>> {
    prop_oneof![
        Just(None),
        (1_600_000_000i64..2_000_000_000, 0..1_000_000_000)
            .prop_map(|(seconds, nanos)| Some(prost_types::Timestamp { seconds, nanos })),
        (int64(), int32()).prop_map(|(seconds, nanos)| Some(prost_types::Timestamp { seconds, nanos })),
    ]
    .boxed()
}

/// Bytes: none, a few, or a larger blob.
pub fn bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
        (any::<u8>(), 1usize..200_000).prop_map(|(byte, length)| vec![byte; length]),
    ]
    .boxed()
}

/// A request id: a fresh valid one mostly, sometimes any text.
pub fn request_id() -> BoxedStrategy<String> {
    prop_oneof![3 => Just(()).prop_map(|()| uuid::Uuid::new_v4().to_string()), 1 => text()].boxed()
}

/// Up to `max` values of `element`.
pub fn some<S: Strategy + 'static>(element: S, max: usize) -> BoxedStrategy<Vec<S::Value>>
where
    S::Value: std::fmt::Debug,
{
    prop::collection::vec(element, 0..=max).boxed()
}

/// An applicant (or payer): absent, empty, a well-formed citizen of `identity_number` or
/// organisation, or either with any text in every field.
pub fn applicant(identity_number: &'static str) -> BoxedStrategy<Option<Applicant>> {
    let citizen = |identity_number, full_name, date_of_birth, phone, address| {
        Some(Applicant {
            kind: Some(Kind::Citizen(Citizen { identity_number, full_name, date_of_birth, phone, address })),
        })
    };
    let identity = prop_oneof![Just(identity_number.to_owned()), "[0-9]{11,13}", text()];
    let tax_code = prop_oneof![Just("0101234567".to_owned()), Just("0101234567-001".to_owned()), text()];
    prop_oneof![
        Just(None),
        Just(Some(Applicant { kind: None })),
        Just(citizen(
            identity_number.to_owned(),
            "Trần Văn Bình".to_owned(),
            None,
            "0912345678".to_owned(),
            "Số 1 phố Tràng Tiền, Hà Nội".to_owned()
        )),
        (identity, text(), date(), text(), text())
            .prop_map(move |(identity, name, born, phone, address)| citizen(identity, name, born, phone, address)),
        (tax_code, text(), text(), text()).prop_map(|(tax_code, name, address, phone)| Some(Applicant {
            kind: Some(Kind::Organisation(Organisation { tax_code, name, address, phone })),
        })),
    ]
    .boxed()
}
