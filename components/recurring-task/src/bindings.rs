//! Generated bindings for the `recurring-task` world. The shared glue
//! macros in `todo_domain` expect them at `crate::bindings`.

wit_bindgen::generate!({
    world: "recurring-task",
    path: "../../wit",
    generate_all,
});
