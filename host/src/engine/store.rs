//! Per-call store data: a fresh `HostState` for every request, event or job.

use std::sync::Arc;

use anyhow::Context as _;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::app::ComponentDef;
use crate::capabilities::Backends;
use crate::capabilities::outgoing_http::OutgoingHttp;

pub struct HostState {
    /// The component id from the manifest; also the state namespace.
    pub component: Arc<str>,
    pub backends: Backends,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_hooks: OutgoingHttp,
    table: ResourceTable,
    limits: StoreLimits,
}

impl HostState {
    /// Builds a store with this component's memory limit and call deadline,
    /// its `files` mounts, read-only, and its outgoing-HTTP allow-list.
    /// Fails only when a mounted directory cannot be opened (removed since
    /// start-up).
    pub fn new_store(
        engine: &Engine,
        def: &ComponentDef,
        backends: Backends,
        env: &[(String, String)],
    ) -> anyhow::Result<Store<HostState>> {
        let component: Arc<str> = def.id.as_str().into();
        let limits = &def.limits;
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr().inherit_stdout().envs(env);
        // Opened per store, as every other part of an instance's context
        // is fresh per call: one `open` per mount, only for components
        // that have any.
        for mount in &def.files {
            wasi.preopened_dir(&mount.source, &mount.destination, FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("opening {}", mount.source.display()))?;
        }
        let http_hooks = OutgoingHttp {
            component: component.clone(),
            allowed: def.outbound.clone(),
            egress: backends.egress.clone(),
        };
        let state = HostState {
            component,
            backends,
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            http_hooks,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes)
                .instances(64)
                .trap_on_grow_failure(true)
                .build(),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        crate::engine::sandbox::arm_deadline(&mut store, limits);
        Ok(store)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}
