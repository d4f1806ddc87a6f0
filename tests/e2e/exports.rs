//! The library exports exactly the entry points of `include/scapi.h` (checked with `nm -D`).

use std::collections::BTreeSet;
use std::process::Command;

use scs_sim::library::{default_library_path, ENTRY_POINTS};

use crate::common::*;

fn header_functions() -> BTreeSet<String> {
    let h = std::fs::read_to_string(repo().join("include/scapi.h")).unwrap();
    h.lines()
        .filter_map(|l| l.trim().strip_prefix("SCAPI_EXPORT "))
        .filter_map(|r| {
            r.split('(')
                .next()?
                .split_whitespace()
                .last()
                .map(String::from)
        })
        .collect()
}

#[test]
fn nm_lists_every_entry_point_of_the_header() {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(default_library_path())
        .output()
        .expect("nm runs (binutils)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let exported: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace();
            let (_addr, kind, name) = (p.next()?, p.next()?, p.next()?);
            (kind == "T").then(|| name.to_string())
        })
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
        .collect();
    let header = header_functions();
    assert_eq!(header.len(), 19, "{header:?}");
    for name in &header {
        assert!(
            exported.contains(name),
            "{name} is not exported: {exported:?}"
        );
    }
    let sim: BTreeSet<String> = ENTRY_POINTS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        sim, header,
        "scs-sim resolves exactly the header's entry points"
    );
    // Nothing of ours beyond the header is exported unmangled.
    let extra: Vec<&String> = exported.difference(&header).collect();
    assert!(extra.is_empty(), "unexpected exports {extra:?}");
}
