//! A broken manifest, a missing `.wasm` or an unsafe setting stops
//! start-up with one clear message naming the problem: no panic, no
//! backtrace.

use todo_tests::{Scratch, run_host};

fn up(manifest: &std::path::Path, data: &std::path::Path) -> (Option<i32>, String) {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_todo-host"));
    run_host(
        bin,
        &[
            "up",
            "--manifest",
            &manifest.display().to_string(),
            "--data-dir",
            &data.display().to_string(),
            "--listen",
            "127.0.0.1:0",
        ],
    )
}

const BASE: &str = r#"
spin_manifest_version = 2
[application]
name = "broken"
[[trigger.http]]
route = "/..."
component = "svc"
[component.svc]
source = "missing.wasm"
"#;

fn assert_clean_failure(code: Option<i32>, out: &str) {
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    assert!(!out.contains("RUST_BACKTRACE"), "{out}");
    assert!(out.starts_with("error: "), "{out}");
}

#[test]
fn a_misspelled_field_names_the_field_and_the_component() {
    let s = Scratch::new();
    let m = s.write("spin.toml", &BASE.replace("source =", "sorce ="));
    let (code, out) = up(&m, &s.path("data"));
    assert_clean_failure(code, &out);
    assert!(out.contains("sorce"), "{out}");
    assert!(out.contains("component `svc`"), "{out}");
}

#[test]
fn a_bad_outbound_host_names_the_entry_and_the_component() {
    let s = Scratch::new();
    let m = s.write(
        "spin.toml",
        &format!("{BASE}allowed_outbound_hosts = [\"https://hooks.example.com/path\"]\n"),
    );
    let (code, out) = up(&m, &s.path("data"));
    assert_clean_failure(code, &out);
    assert!(out.contains("component `svc`"), "{out}");
    assert!(out.contains("`https://hooks.example.com/path`"), "{out}");
    assert!(out.contains("paths are not supported"), "{out}");
}

#[test]
fn a_trigger_for_an_unknown_component_is_rejected() {
    let s = Scratch::new();
    let m = s.write(
        "spin.toml",
        &BASE.replace("component = \"svc\"", "component = \"nope\""),
    );
    let (code, out) = up(&m, &s.path("data"));
    assert_clean_failure(code, &out);
    assert!(out.contains("unknown component `nope`"), "{out}");
}

#[test]
fn a_missing_wasm_is_one_clear_message() {
    let s = Scratch::new();
    let m = s.write("spin.toml", BASE);
    let (code, out) = up(&m, &s.path("data"));
    assert_clean_failure(code, &out);
    assert!(out.contains("component `svc`"), "{out}");
    assert!(out.contains("missing.wasm"), "{out}");
    assert_eq!(out.trim().lines().count(), 1, "{out}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused_at_start() {
    let s = Scratch::new();
    s.write("missing.wasm", "garbage");
    let m = s.write("spin.toml", BASE);
    let (code, out) = up(&m, &s.path("data"));
    assert_clean_failure(code, &out);
    assert!(out.contains("component `svc`"), "{out}");
}

#[test]
fn invalid_toml_is_reported_with_its_position() {
    let s = Scratch::new();
    let m = s.write("spin.toml", "spin_manifest_version = 2\n[application\n");
    let (code, out) = up(&m, &s.path("data"));
    assert_clean_failure(code, &out);
    assert!(out.contains("spin.toml"), "{out}");
    assert!(out.contains("line 2"), "{out}");
}

#[test]
fn a_pod_without_an_app_token_refuses_to_start_unless_told_its_network_is_trusted() {
    let s = Scratch::new();
    let m = s.write("spin.toml", BASE);
    let serve = |trusted: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_todo-host"));
        cmd.args([
            "serve",
            "--component",
            "svc",
            "--listen",
            "127.0.0.1:0",
            "--manifest",
        ])
        .arg(&m)
        .arg("--cache-dir")
        .arg(s.path("cache"))
        .env_remove("APP_API_TOKEN")
        .env_remove("TODO_TRUSTED_NETWORK");
        if trusted {
            cmd.arg("--trusted-network");
        }
        let out = cmd.output().expect("running todo-host");
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), text)
    };
    let (code, out) = serve(false);
    assert_clean_failure(code, &out);
    assert!(out.contains("APP_API_TOKEN is not set"), "{out}");
    assert!(out.contains("--trusted-network"), "{out}");
    // Told so, it goes on to the next problem: the missing `.wasm`.
    let (code, out) = serve(true);
    assert_clean_failure(code, &out);
    assert!(!out.contains("APP_API_TOKEN"), "{out}");
    assert!(out.contains("missing.wasm"), "{out}");
}
