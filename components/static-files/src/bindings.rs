//! Generated bindings for the `static-files` world. The shared glue macro
//! in `todo_domain` expects them at `crate::bindings`.

wit_bindgen::generate!({
    world: "static-files",
    path: "../../wit",
    generate_all,
});
