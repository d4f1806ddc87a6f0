//! A C program built by gcc against `include/scapi.h` drives the library end to end
//! (through the real broker and a scripted peer) under valgrind: no leak, no invalid access.

use std::process::Command;

use scs_sim::library::default_library_path;

use crate::common::*;

#[test]
fn c_host_logs_an_agent_in_and_out_under_valgrind() {
    let out_dir = std::env::temp_dir().join(unique("c-host"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join("host");
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
        .arg(repo().join("include"))
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

    let (_peer, queue) = peer();
    let valgrind = Command::new("valgrind")
        .args([
            "--quiet",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
            "--error-exitcode=99",
        ])
        .arg(&exe)
        .arg(default_library_path())
        .arg(broker().port().to_string())
        .arg(&queue)
        .arg(unique("c-host"))
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("valgrind runs (scripts/deps.sh installs it)");
    let stdout = String::from_utf8_lossy(&valgrind.stdout);
    let stderr = String::from_utf8_lossy(&valgrind.stderr);
    assert!(
        valgrind.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        valgrind.status.code()
    );
    assert!(
        stdout.contains(
            "commands: LogIn LogOut ChangeReadyState ChangeNotReadyState ChangeWorkReadyState"
        ),
        "{stdout}"
    );
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
    let _ = std::fs::remove_dir_all(&out_dir);
}
