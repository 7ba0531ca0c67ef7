//! Static files: serves the web app (a Next.js static export) from the
//! directory the manifest's `files` mapping mounts at `/`, read-only.
//! Logic in plain modules working on any root directory (native tests
//! against a temp dir); WIT glue in `component`, wasm only.

pub mod csp;
pub mod headers;
pub mod path;
pub mod serve;

#[cfg(target_arch = "wasm32")]
mod component;
