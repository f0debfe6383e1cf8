//! The motcua gRPC contracts: generated messages, clients and servers for the four services, and the
//! encoded descriptor set that every service serves through gRPC reflection.

#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/motcua_includes.rs"));

/// The encoded `FileDescriptorSet` of every motcua contract and its imports, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/motcua_descriptor.bin"));
