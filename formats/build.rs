//! Compiles the vendored Kubernetes `.proto` files (`k8s-protos/`, see its README) with the
//! pure-Rust `protox` compiler into a FileDescriptorSet that `src/k8s/proto/schema.rs` embeds.
//!
//! Source info is kept only as far as the decoder uses it: for each field or message whose leading
//! comment carries a `+optional` marker, a location with just that
//! marker as its comment. The rest of the comments (megabytes) is dropped.

use std::path::{Path, PathBuf};

use prost::Message;

const MARKERS: &[&str] = &["+optional"];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("k8s-protos");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect_protos(&root, &root, &mut files);
    files.sort();
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }

    let mut compiler = protox::Compiler::new([&root]).expect("k8s-protos include root");
    compiler.include_imports(true).include_source_info(true);
    compiler
        .open_files(&files)
        .unwrap_or_else(|e| panic!("compiling formats/k8s-protos: {e}"));
    let mut set = compiler.file_descriptor_set();
    for file in &mut set.file {
        if let Some(info) = file.source_code_info.as_mut() {
            info.location.retain_mut(|loc| {
                let comment = loc.leading_comments.as_deref().unwrap_or("");
                let markers: Vec<&str> = MARKERS
                    .iter()
                    .copied()
                    .filter(|m| comment.lines().any(|l| l.trim() == *m))
                    .collect();
                loc.leading_comments = Some(markers.join("\n"));
                loc.trailing_comments = None;
                loc.leading_detached_comments.clear();
                !markers.is_empty()
            });
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("k8s_descriptors.bin");
    std::fs::write(&out, set.encode_to_vec()).expect("writing k8s_descriptors.bin");
}

fn collect_protos(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("reading k8s-protos") {
        let path = entry.expect("reading k8s-protos").path();
        if path.is_dir() {
            collect_protos(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            let rel = path.strip_prefix(root).unwrap();
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}
