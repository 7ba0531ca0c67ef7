//! Generated bindings for the `websocket` world. The shared glue macros in
//! `todo_domain` expect them at `crate::bindings`.

wit_bindgen::generate!({
    world: "websocket",
    path: "../../wit",
    generate_all,
});
