//! Each built component imports and exports what its world in
//! `wit/worlds.wit` says, no more and no less: the worlds are the
//! documentation of what each service may call, and components are built
//! from one SDK that can import everything (`wit/sdk.wit`), so only this
//! check keeps the two in step. Interfaces that hold only types
//! (`todo:platform/types`) and the WASI a Rust program's standard library
//! imports are not part of the comparison.

use std::collections::BTreeSet;
use std::path::Path;

use todo_host::app::Manifest;
use todo_tests::{build_dir, workspace_root};
use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Resolve, WorldId, WorldItem};

/// Interfaces a world's author chooses: the platform's own and outgoing HTTP.
fn chosen(name: &str) -> bool {
    name.starts_with("todo:platform/") || name.starts_with("wasi:http/outgoing-handler")
}

/// Names of the interfaces among `items` that have functions (all of
/// them, or only the [`chosen`] ones).
fn names<'a>(
    resolve: &Resolve,
    items: impl Iterator<Item = &'a WorldItem>,
    all: bool,
) -> BTreeSet<String> {
    items
        .filter_map(|item| match item {
            WorldItem::Interface { id, .. } => {
                let name = resolve.id_of(*id)?;
                let has_functions = !resolve.interfaces[*id].functions.is_empty();
                (has_functions && (all || chosen(&name))).then_some(name)
            }
            _ => None,
        })
        .collect()
}

/// `(imports, exports)` of `world`, compared as described above.
fn surface(resolve: &Resolve, world: WorldId) -> (BTreeSet<String>, BTreeSet<String>) {
    let w = &resolve.worlds[world];
    (
        names(resolve, w.imports.values(), false),
        names(resolve, w.exports.values(), true),
    )
}

#[test]
fn every_component_matches_its_world() {
    let mut declared = Resolve::default();
    let (package, _) = declared
        .push_dir(workspace_root().join("wit"))
        .expect("wit/ parses");
    let manifest = Manifest::load(&workspace_root().join("spin.toml")).expect("spin.toml loads");
    let mut checked = 0;
    for def in manifest.components.values() {
        // The world is named after the component's crate folder.
        let workdir = def
            .build_workdir
            .as_deref()
            .expect("every component says how it is built");
        let world_name = workdir.file_name().unwrap().to_string_lossy().into_owned();
        let world = declared
            .select_world(&[package], Some(&world_name))
            .unwrap_or_else(|e| panic!("{}: no world {world_name} in wit/worlds.wit: {e}", def.id));
        let file = def.source.file_name().unwrap();
        let built = build_dir().join("components").join(file);
        let (imports, exports) = built_surface(&built);
        let (want_imports, want_exports) = surface(&declared, world);
        assert_eq!(
            imports,
            want_imports,
            "{}: imports of {}",
            def.id,
            built.display()
        );
        assert_eq!(
            exports,
            want_exports,
            "{}: exports of {}",
            def.id,
            built.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 6,
        "spin.toml lists our six services, checked {checked}"
    );
}

fn built_surface(path: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `cargo xtask test`)", path.display()));
    match decode(&bytes).unwrap_or_else(|e| panic!("{}: {e:#}", path.display())) {
        DecodedWasm::Component(resolve, world) => surface(&resolve, world),
        DecodedWasm::WitPackage(..) => {
            panic!("{} is a WIT package, not a component", path.display())
        }
    }
}
