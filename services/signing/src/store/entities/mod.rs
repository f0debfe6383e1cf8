//! Signing's tables as sea-orm entities.

pub mod authority;
pub mod certificate;
pub mod checkpoint;
pub mod crl;
pub mod log_head;
pub mod log_key;
pub mod log_leaf;
pub mod signature;
