//! A C program built by gcc against `include/scapi.h` drives the library end to end
//! (through the real broker and a scripted peer) under valgrind: no leak, no invalid access.
//! The same program built against a header whose `ISC_CLIENT_INTERFACE` has its members in
//! another order (`tests/c/shuffled/scapi.h`, standing in for Oracle's header) works with the
//! library built with `SIEBEL_SCAPI_H` naming that header, and is refused by the default one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use scs_sim::library::default_library_path;

use crate::common::*;

/// Compiles `tests/c/host.c` against the header in `include_dir` into `dir/host`.
fn compile_host(include_dir: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let exe = dir.join("host");
    let gcc = Command::new("gcc")
        .args([
            "-std=c99",
            "-D_POSIX_C_SOURCE=200809L",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-g",
            "-I",
        ])
        .arg(include_dir)
        .arg(repo().join("tests/c/host.c"))
        .arg("-o")
        .arg(&exe)
        .args(["-ldl", "-lpthread"])
        .output()
        .expect("gcc runs (scripts/deps.sh installs it)");
    assert!(
        gcc.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&gcc.stderr)
    );
    exe
}

/// The host's extra `Driver:NAME=VALUE` arguments: how it reaches the suite's broker
/// (credentials, TLS with the test CA, the secure-password key), as [`BrokerAccess`] gives
/// them, less the ones the host sets itself.
pub fn host_params(queue: &str) -> Vec<String> {
    let own = [
        "BrokerPort",
        "RequestQueue",
        "ClientId",
        "HeartbeatMs",
        "BrokerHost",
    ];
    BrokerAccess::shared()
        .driver_params(queue)
        .into_iter()
        .filter(|(k, _)| k.starts_with("Driver:Broker") || k.starts_with("Driver:Secure"))
        .filter(|(k, _)| !own.iter().any(|o| k.strip_prefix("Driver:") == Some(*o)))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// Runs the host under valgrind against `library`, with a scripted peer on the broker.
fn run_host(exe: &Path, library: &Path) -> Output {
    let (_peer, queue) = peer();
    let access = BrokerAccess::shared();
    Command::new("valgrind")
        .args([
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
            "--error-exitcode=99",
        ])
        // ring's AES-GCM tag looks uninitialised to memcheck (tests/c/valgrind-tls.supp).
        .arg(format!(
            "--suppressions={}",
            repo().join("tests/c/valgrind-tls.supp").display()
        ))
        .arg(exe)
        .arg(library)
        .arg(access.addr.port().to_string())
        .arg(&queue)
        .arg(access.client_id("c-host"))
        .args(host_params(&queue))
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("valgrind runs (scripts/deps.sh installs it)")
}

/// The host logged in and out, cleanly, every callback with its client handle.
fn assert_clean_session(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    assert!(
        stdout.contains(
            "commands: LogIn LogOut ChangeReadyState ChangeNotReadyState ChangeWorkReadyState"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("CacheCommandInformation LogIn="),
        "{stdout}"
    );
    assert!(stdout.contains("ShowStatusText "), "{stdout}");
    assert!(
        stdout.contains("HandleEvent EventAgentLogin AgentId=1001"),
        "{stdout}"
    );
    assert!(stdout.contains("HandleEvent EventAgentLogout"), "{stdout}");
    assert!(stdout.contains("C host: OK"), "{stdout}");
    assert!(
        !stderr.contains("Invalid read") && !stderr.contains("Invalid write"),
        "{stderr}"
    );
}

#[test]
fn c_host_logs_an_agent_in_and_out_under_valgrind() {
    let dir = std::env::temp_dir().join(unique("c-host"));
    let exe = compile_host(&repo().join("include"), &dir);
    assert_clean_session(&run_host(&exe, &default_library_path()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Builds the library with `SIEBEL_SCAPI_H` naming the shuffled header, in its own target
/// folder (`target/scapi-shuffled`, kept between runs so that a rerun is incremental).
fn library_built_against_the_shuffled_header() -> PathBuf {
    let target = repo().join("target/scapi-shuffled");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .current_dir(repo())
        .args(["build", "--quiet", "-p", "siebel-cti", "--target-dir"])
        .arg(&target)
        .env("SIEBEL_SCAPI_H", repo().join("tests/c/shuffled/scapi.h"))
        .output()
        .expect("cargo runs");
    assert!(
        build.status.success(),
        "cargo build with SIEBEL_SCAPI_H failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let name = default_library_path();
    target.join("debug").join(name.file_name().unwrap())
}

#[test]
fn with_siebel_scapi_h_the_client_interface_follows_that_headers_member_order() {
    let dir = std::env::temp_dir().join(unique("c-host-shuffled"));
    let exe = compile_host(&repo().join("tests/c/shuffled"), &dir);

    // The default library reads the interface in include/scapi.h's order: where it expects
    // HandleEvent, the shuffled struct has BeginBatch, which the host leaves NULL.
    let refused = run_host(&exe, &default_library_path());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{refused:?}");
    assert!(stderr.contains("RequestService failed"), "{stderr}");

    // Built against the shuffled header, the adapter copies the members by name.
    let adapted = library_built_against_the_shuffled_header();
    assert_clean_session(&run_host(&exe, &adapted));
    let _ = std::fs::remove_dir_all(&dir);
}
