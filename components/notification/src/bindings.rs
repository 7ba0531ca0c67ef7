//! Generated bindings for the `notification` world. The shared glue macros
//! in `todo_domain` expect them at `crate::bindings`.

wit_bindgen::generate!({
    world: "notification",
    path: "../../wit",
    generate_all,
});
