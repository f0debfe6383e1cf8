//! Signing's tables as sea-orm entities.

pub mod authority;
pub mod certificate;
pub mod certificate_chain;
pub mod checkpoint;
pub mod cosignature;
pub mod crl;
pub mod log_audit;
pub mod log_head;
pub mod log_integration;
pub mod log_key;
pub mod log_leaf;
pub mod log_tile;
pub mod signature;
pub mod witness_key;
pub mod witnessed_log;
