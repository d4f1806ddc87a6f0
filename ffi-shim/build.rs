//! Build-time check of the cdylib: the C header `include/scapi.h` (at the repository root) and
//! the exported functions of `src/lib.rs` must name exactly the same entry points, so the
//! header always describes what the library exports. (Struct layouts are compared by
//! `scapi-types/tests/layout.rs`.)
//!
//! With `SIEBEL_SCAPI_H` naming Oracle's `scapi.h`, it also compiles `c/oracle_adapter.c`
//! against that header (cfg `scapi_oracle_header`): `RequestService` then reads the client
//! interface in Oracle's member order (see `src/client.rs`).

use std::collections::BTreeSet;

fn header_functions(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("SCAPI_EXPORT "))
        .filter_map(|rest| {
            let before_paren = rest.split('(').next()?;
            before_paren
                .split_whitespace()
                .last()
                .map(|s| s.trim_start_matches('*').to_string())
        })
        .collect()
}

fn exported_functions(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut no_mangle = false;
    for line in text.lines() {
        let l = line.trim();
        if l == "#[no_mangle]" {
            no_mangle = true;
            continue;
        }
        if no_mangle && !l.starts_with("///") && !l.starts_with("#[") {
            if let Some(idx) = l.find("extern \"C\" fn ") {
                let name = l[idx + "extern \"C\" fn ".len()..]
                    .split('(')
                    .next()
                    .unwrap_or_default();
                out.insert(name.to_string());
            }
            no_mangle = false;
        }
    }
    out
}

/// Compiles the client-interface adapter against Oracle's header `header`.
fn build_adapter(package: &std::path::Path, header: &std::path::Path) {
    let header = header
        .canonicalize()
        .unwrap_or_else(|e| panic!("SIEBEL_SCAPI_H={}: {e}", header.display()));
    let adapter = package.join("c/oracle_adapter.c");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed={}", adapter.display());
    // Forward slashes work with every C compiler, and need no escaping in a string literal;
    // Windows' verbatim prefix (`\\?\`, from canonicalize) is dropped.
    let shown = header.display().to_string();
    let plain = shown.strip_prefix(r"\\?\").unwrap_or(&shown);
    let quoted = format!("\"{}\"", plain.replace('\\', "/"));
    let mut build = cc::Build::new();
    build
        .file(&adapter)
        .include(header.parent().expect("a file has a parent folder"))
        .define("SIEBEL_SCAPI_H_PATH", quoted.as_str())
        .warnings(true)
        .flag_if_supported("-Werror=incompatible-pointer-types")
        .flag_if_supported("-Werror=implicit-function-declaration");
    build.compile("siebel_cti_oracle_adapter");
    println!("cargo:rustc-cfg=scapi_oracle_header");
    println!(
        "cargo:warning=client interface adapted to Oracle's header {}",
        header.display()
    );
}

fn main() {
    let package = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let header_path = package.join("../include/scapi.h");
    let lib_path = package.join("src/lib.rs");
    println!("cargo:rerun-if-changed={}", header_path.display());
    println!("cargo:rerun-if-changed={}", lib_path.display());
    println!("cargo:rerun-if-env-changed=SIEBEL_SCAPI_H");
    println!("cargo::rustc-check-cfg=cfg(scapi_oracle_header)");
    if let Some(h) = std::env::var_os("SIEBEL_SCAPI_H").filter(|h| !h.is_empty()) {
        build_adapter(&package, std::path::Path::new(&h));
    }
    let header = std::fs::read_to_string(&header_path)
        .unwrap_or_else(|e| panic!("{}: {e}", header_path.display()));
    let lib = std::fs::read_to_string(&lib_path)
        .unwrap_or_else(|e| panic!("{}: {e}", lib_path.display()));
    let declared = header_functions(&header);
    let exported = exported_functions(&lib);
    if declared.is_empty() || declared != exported {
        let missing: Vec<_> = declared.difference(&exported).collect();
        let extra: Vec<_> = exported.difference(&declared).collect();
        panic!(
            "include/scapi.h and ffi-shim/src/lib.rs disagree: declared but not exported {missing:?}, exported but not declared {extra:?}"
        );
    }
}
