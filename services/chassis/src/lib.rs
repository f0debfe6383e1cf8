//! motcua-chassis: what every motcua service stands on — configuration, telemetry, the database,
//! server start-up and shutdown, errors, paging and the shared test harness.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod coded_enum;
pub mod config;
pub mod db;
pub mod error;
pub mod feed;
pub mod grpc_trace;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod paging;
pub mod party;
pub mod peer;
pub mod policy;
pub mod server;
pub mod service;
pub mod signal;
pub mod telemetry;
pub mod timestamps;
pub mod tls;
pub mod validate;

#[cfg(feature = "testing")]
pub mod testing;

pub use config::{ServiceConfig, ServiceKind};
pub use error::{ApiError, FieldViolation};
pub use service::MotcuaService;
