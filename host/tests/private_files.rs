//! What the host keeps on disk is its user's only: the data dir (password
//! hashes, every user's data) is 0700 and its files 0600, also when a
//! previous version left them open; the cache of compiled components,
//! loaded as native code, is refused when others may write to it.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::ProbeHost;
use todo_tests::{Scratch, run_host};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn the_data_dir_and_its_files_are_the_users_only() {
    let mut p = ProbeHost::start();
    let data = p.scratch.path("data");
    let check = |when: &str| {
        assert_eq!(mode(&data), 0o700, "{when}: the data dir");
        for file in ["todo.redb", "secrets.json"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{when}: {file}");
        }
        let cache = std::env::var_os("TODO_CACHE_DIR")
            .map_or_else(|| data.join("compiled"), std::path::PathBuf::from);
        assert_eq!(mode(&cache), 0o700, "{when}: the compiled-code cache");
    };
    check("a new data dir");

    // As the version before this one left them: world-readable.
    p.host.kill9();
    chmod(&data, 0o755);
    chmod(&data.join("todo.redb"), 0o644);
    p.host.restart().expect("the host starts again on its data");
    check("after a restart on an open data dir");
}

fn up_with_cache(cache: &Path) -> (Option<i32>, String) {
    let s = Scratch::new();
    let source = s.install(&todo_tests::wasm("fixtures/probe.wasm"), "probe.wasm");
    let manifest = s.write("spin.toml", &common::manifest(&source, 3, 50));
    let bin = Path::new(env!("CARGO_BIN_EXE_todo-host"));
    let (data, manifest, cache) = (
        s.path("data"),
        manifest.display().to_string(),
        cache.display().to_string(),
    );
    run_host(
        bin,
        &[
            "up",
            "--manifest",
            &manifest,
            "--data-dir",
            &data.display().to_string(),
            "--cache-dir",
            &cache,
            "--listen",
            "127.0.0.1:0",
        ],
    )
}

#[test]
fn a_compiled_code_cache_others_can_write_is_refused() {
    let s = Scratch::new();
    let shared = s.path("shared-cache");
    std::fs::create_dir_all(&shared).unwrap();
    chmod(&shared, 0o777);
    // A planted artifact is never loaded: the host does not start at all.
    std::fs::write(shared.join("planted.cwasm"), b"native code").unwrap();
    let (code, out) = up_with_cache(&shared);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("cache of compiled components"), "{out}");
    assert!(out.contains("writable by other users"), "{out}");

    // Nor through a symlink to a directory of ours.
    let real = s.path("real-cache");
    std::fs::create_dir_all(&real).unwrap();
    let link = s.path("link-cache");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, out) = up_with_cache(&link);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is not a directory"), "{out}");
}
