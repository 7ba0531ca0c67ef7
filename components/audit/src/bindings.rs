//! Generated bindings for the `audit` world. The shared glue macros in
//! `todo_domain` expect them at `crate::bindings`.

wit_bindgen::generate!({
    world: "audit",
    path: "../../wit",
    generate_all,
});
