//! Compiles every `.proto` under `motcua/` with protox (pure Rust, no protoc) into Rust code and a
//! descriptor set that the services embed for gRPC reflection.
use std::{
    env, fs, io,
    path::{Path, PathBuf},
};

use prost::Message;

fn main() -> io::Result<()> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?);
    let mut protos = Vec::new();
    collect_protos(&root.join("motcua"), &mut protos)?;
    protos.sort();

    let descriptors = protox::compile(&protos, [&root]).map_err(|error| io::Error::other(format!("{error:?}")))?;
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?);
    fs::write(out_dir.join("motcua_descriptor.bin"), descriptors.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Every RPC without a handler yet answers UNIMPLEMENTED, as the contract promises.
        .generate_default_stubs(true)
        .include_file("motcua_includes.rs")
        .compile_fds(descriptors)?;

    println!("cargo:rerun-if-changed=motcua");
    println!("cargo:rerun-if-changed=google");
    Ok(())
}

fn collect_protos(dir: &Path, protos: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, protos)?;
        } else if path.extension().is_some_and(|extension| extension == "proto") {
            protos.push(path);
        }
    }
    Ok(())
}
