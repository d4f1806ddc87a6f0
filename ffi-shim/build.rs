//! Build-time check of the cdylib: the C header `include/scapi.h` (at the repository root) and
//! the exported functions of `src/lib.rs` must name exactly the same entry points, so the
//! header always describes what the library exports. (Struct layouts are compared by
//! `scapi-types/tests/layout.rs`.)

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

fn main() {
    let package = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let header_path = package.join("../include/scapi.h");
    let lib_path = package.join("src/lib.rs");
    println!("cargo:rerun-if-changed={}", header_path.display());
    println!("cargo:rerun-if-changed={}", lib_path.display());
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
