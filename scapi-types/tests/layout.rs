//! This crate's types against `include/scapi.h` as gcc compiles it: the size and alignment of
//! every struct of the header and the offset of each member, the basic types and enums, and
//! the result codes. A member reordered, added, dropped or retyped on either side fails here
//! (`build.rs` of the library compares the entry points' names only).
//!
//! Built for i686 (`cargo test -p scapi-types --target i686-unknown-linux-gnu`, as
//! `scripts/windows.sh` does), it compiles the C side with `gcc -m32`, comparing the 32-bit
//! layouts. For Windows, where this test runs under Wine and cannot run gcc, `scripts/windows.sh`
//! keeps the C program of a Linux run (`SCAPI_LAYOUT_KEEP_C=FILE`), builds it with mingw, runs
//! it under Wine and hands its output to the Windows build of this test
//! (`SCAPI_LAYOUT_C_VALUES=FILE`).

use std::collections::BTreeSet;
use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use scapi_types::*;

/// `(C expression, value in Rust)` for each struct: `sizeof`, `_Alignof` and the `offsetof`
/// of each listed member, in the order of the header. Also returns the struct names.
macro_rules! structs {
    ($($t:ident { $($m:ident),* $(,)? })*) => {{
        let mut checks: Vec<(String, i64)> = Vec::new();
        let mut names: BTreeSet<String> = BTreeSet::new();
        $(
            let t = stringify!($t);
            names.insert(t.to_string());
            checks.push((format!("sizeof(struct {t})"), size_of::<$t>() as i64));
            checks.push((format!("_Alignof(struct {t})"), align_of::<$t>() as i64));
            $(
                checks.push((
                    format!("offsetof(struct {t}, {})", stringify!($m)),
                    offset_of!($t, $m) as i64,
                ));
            )*
        )*
        (checks, names)
    }};
}

/// `(C expression, value in Rust)` for `sizeof` of each type.
macro_rules! sizes {
    ($($c:literal => $t:ty),* $(,)?) => {
        vec![$((format!("sizeof({})", $c), size_of::<$t>() as i64)),*]
    };
}

/// `(SC_EC_NAME, value in Rust)` for each result code of `ec`.
macro_rules! codes {
    ($($n:ident),* $(,)?) => {
        vec![$((format!("SC_EC_{}", stringify!($n)), ec::$n as i64)),*]
    };
}

/// Every check, and the names of the structs covered.
// `c_long` is `i64` here but 32 bits on Windows: the casts to `i64` are needed there.
#[allow(clippy::unnecessary_cast)]
fn rust_side() -> (Vec<(String, i64)>, BTreeSet<String>) {
    let (mut checks, names) = structs! {
        ISC_KeyValue { paramName, paramValue }
        ISC_KVParamList { len, dataItems }
        ISC_StrParamList { len, dataItems }
        ISC_LongParamList { len, dataItems }
        ISC_CLIENT_INTERFACE {
            clientHandle,
            BeginBatch,
            CacheCommandInformation,
            CleanAllWorkItem,
            EndBatch,
            HandleError,
            HandleEvent,
            IndicateNewWorkItem,
            ShowStatusText,
            UpdateObjectInformation,
            WorkItemReleased,
            WorkItemResumed,
            WorkItemStarted,
            WorkItemSuspended,
        }
    };
    checks.extend(sizes! {
        "ISC_CHAR" => ISC_CHAR,
        "ISC_STRING" => ISC_STRING,
        "ISC_RESULT" => ISC_RESULT,
        "ISC_BOOLEAN" => ISC_BOOLEAN,
        "ISC_DRIVER_HANDLE" => ISC_DRIVER_HANDLE,
        "ISC_SERVICE_HANDLE" => ISC_SERVICE_HANDLE,
        "ISC_CLIENT_HANDLE" => ISC_CLIENT_HANDLE,
        "ISC_HANDLE" => ISC_HANDLE,
        "time_t" => TimeT,
        "enum SCCommandTypeEx" => SCCommandTypeEx,
        "enum SCWorkItemMode" => SCWorkItemMode,
    });
    checks.push(("(ISC_RESULT)-1 < 0".into(), (ISC_RESULT::MIN < 0) as i64));
    checks.push(("(time_t)-1 < 0".into(), (TimeT::MIN < 0) as i64));
    checks.push(("SCAPI_VERSION".into(), SCAPI_VERSION as i64));
    checks.extend(codes!(
        OK,
        ERROR,
        CMD_NOT_SUPPORTED,
        MEDIA_TYPE_NOT_SUPPORTED,
        INVALID_HANDLE,
        OUT_OF_MEMORY,
        NETWORK_ERROR,
        DRIVER_CREATION_ERR,
        DRIVER_RELEASE_ERR,
        SERVICE_CREATION_ERR,
        SERVICE_RELEASE_ERR,
        INVALID_ITEM_TRACKING_ID,
        CLIENT_INTERFACE_ERR,
        IMPOBJ_CREATE_ERR,
        WORK_ITEM_WRONG_STATE,
    ));
    (checks, names)
}

/// gcc's flags for the target this test was built for (its sizes are the Rust side's).
const C_TARGET_FLAGS: &[&str] = if cfg!(all(target_arch = "x86", target_os = "linux")) {
    &["-m32"]
} else if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
    &["-m64"]
} else {
    &[]
};

fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../include")
}

/// The structs the header defines (`struct NAME {` at the start of a line).
fn header_structs() -> BTreeSet<String> {
    let h = std::fs::read_to_string(include_dir().join("scapi.h")).unwrap();
    h.lines()
        .filter_map(|l| l.strip_prefix("struct ")?.strip_suffix('{'))
        .map(|n| n.trim().to_string())
        .collect()
}

/// Compiles a program printing each expression against the header, runs it, and returns
/// `(expression, value)` as C sees them.
fn c_side(exprs: &[&str]) -> Vec<(String, i64)> {
    if let Some(values) = std::env::var_os("SCAPI_LAYOUT_C_VALUES") {
        return parse_values(&std::fs::read_to_string(&values).unwrap_or_else(|e| {
            panic!("SCAPI_LAYOUT_C_VALUES={}: {e}", values.to_string_lossy())
        }));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scapi-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut src = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"scapi.h\"\n\nint main(void) {\n",
    );
    for e in exprs {
        src.push_str(&format!(
            "    printf(\"%s\\t%lld\\n\", \"{e}\", (long long)({e}));\n"
        ));
    }
    src.push_str("    return 0;\n}\n");
    if let Some(keep) = std::env::var_os("SCAPI_LAYOUT_KEEP_C") {
        std::fs::write(&keep, &src).unwrap();
    }
    let (c, exe) = (dir.join("layout.c"), dir.join("layout"));
    std::fs::write(&c, src).unwrap();
    let gcc = Command::new("gcc")
        .args(C_TARGET_FLAGS)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(include_dir())
        .arg(&c)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("gcc runs (scripts/deps.sh installs it; gcc-multilib for -m32)");
    assert!(
        gcc.status.success(),
        "gcc failed on {}:\n{}",
        c.display(),
        String::from_utf8_lossy(&gcc.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{} failed", exe.display());
    let _ = std::fs::remove_dir_all(&dir);
    parse_values(&String::from_utf8(run.stdout).unwrap())
}

/// The C program's output: `expression<TAB>value` lines.
fn parse_values(text: &str) -> Vec<(String, i64)> {
    text.lines()
        .map(|l| {
            let (e, v) = l.trim_end().split_once('\t').unwrap();
            (e.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn every_struct_of_the_header_is_checked() {
    assert_eq!(header_structs(), rust_side().1);
}

#[test]
fn sizes_offsets_and_codes_match_the_header_as_gcc_compiles_it() {
    let (rust, _) = rust_side();
    let exprs: Vec<&str> = rust.iter().map(|(e, _)| e.as_str()).collect();
    let c = c_side(&exprs);
    assert_eq!(c.len(), rust.len(), "{c:?}");
    let differ: Vec<String> = rust
        .iter()
        .zip(&c)
        .filter(|((e, r), (ce, c))| r != c || e != ce)
        .map(|((e, r), (ce, c))| format!("{e}: C {c} ({ce}), Rust {r}"))
        .collect();
    assert!(differ.is_empty(), "layouts differ:\n{}", differ.join("\n"));
    // The table is not trivially empty: 5 structs and their 22 members at least.
    assert!(rust.len() >= 5 * 2 + 22, "{}", rust.len());
}
