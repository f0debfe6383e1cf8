//! Signing's rules, pure: algorithms, certificate profiles, CMS signatures and their verification, the
//! log's leaves, its Merkle tree, checkpoints and tiles. No I/O, no tonic, no sea-orm.

pub mod algorithms;
pub mod certificates;
pub mod checkpoint;
pub mod cms;
pub mod crl;
pub mod log_entry;
pub mod merkle;
pub mod roles;
pub mod tiles;
pub mod verification;
