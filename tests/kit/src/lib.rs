//! The test kit every motcua crate's tests share, so that a test body reads as the specification it
//! is: request ids, connected clients, citizens and officers, a filed dossier, certificate authorities
//! in signing, a throw-away PKI for mutual TLS, policy files, the reasons of refusals, and an
//! outsider's checks of signatures, proofs and checkpoints. It re-exports the chassis's harness
//! (throw-away databases, services on ephemeral ports, the OTLP receiver, the audit-trail reader) so
//! that a test imports one crate.

pub mod authorities;
pub mod binaries;
pub mod calendar;
pub mod clients;
pub mod dossiers;
pub mod ids;
pub mod people;
pub mod pki;
pub mod policy;
pub mod series;
pub mod services;
pub mod status;
pub mod verify;
pub mod wait;

pub use ids::{request_id, request_id_for};
pub use motcua_chassis::testing::*;
