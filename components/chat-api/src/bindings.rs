//! Generated bindings for the `chat-api` world. The shared glue macros in
//! `todo_domain` expect them at `crate::bindings`.

wit_bindgen::generate!({
    world: "chat-api",
    path: "../../wit",
    generate_all,
});
