//! `switchboard run` writing into a pipe whose reader goes away: a clean exit (0, nothing on
//! stderr), as `switchboard run ... | head -c1` expects.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use switchboard_tests::Fixture;

/// Far more than a pipe buffer holds (64 KiB on Linux), so the write meets the closed pipe.
const RESPONSE_BYTES: usize = 4 << 20;

/// `switchboard run rust_guest.wasm echo @payload`, stdout piped; the response is the payload.
fn echo_command(dir: &Path) -> Command {
    let payload = dir.join("payload");
    std::fs::write(&payload, vec![b'x'; RESPONSE_BYTES]).expect("write payload");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.arg("run")
        .arg(Fixture::RustGuest.require())
        .arg("echo")
        .arg(format!("@{}", payload.display()))
        .env_remove("RUST_LOG")
        .env("SWITCHBOARD_CACHE_DIR", test_cache_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Where the suite's runs cache compiled guests (under target/, never the user's home).
fn test_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-cache")
}

fn stderr_of(child: std::process::Child) -> (std::process::ExitStatus, String) {
    let out = child.wait_with_output().expect("switchboard finishes");
    (
        out.status,
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

#[test]
fn a_reader_that_stops_after_one_byte_is_a_clean_exit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = echo_command(dir.path())
        .spawn()
        .expect("switchboard starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("the response starts");
    assert_eq!(&first, b"x");
    // `head -c1`: one byte read, then the pipe is closed while the rest is being written.
    drop(stdout);
    let (status, stderr) = stderr_of(child);
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
}

#[test]
fn a_pipe_closed_before_the_response_is_a_clean_exit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = echo_command(dir.path())
        .spawn()
        .expect("switchboard starts");
    // Closed before the guest even ran: the first write meets a pipe without a reader.
    drop(child.stdout.take().expect("piped stdout"));
    let (status, stderr) = stderr_of(child);
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
}

#[test]
fn a_pipe_read_to_the_end_gets_the_whole_response() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = echo_command(dir.path()).output().expect("switchboard runs");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
    assert_eq!(out.stdout.len(), RESPONSE_BYTES);
    assert!(out.stdout.iter().all(|&b| b == b'x'));
}
