//! How guests are confined: one engine (pooling allocator where the address
//! space allows it), epoch-based deadlines and per-store memory limits.
//! Outgoing HTTP is `capabilities/outgoing_http`, behind each component's
//! allow-list.

use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// One epoch tick: the longest a guest runs before it gives its worker
/// back to the async runtime (and the granularity of its deadline). Guests
/// run on the same tokio workers as the listener, `/healthz` and every
/// other request: a CPU-bound guest (a password hash) that never yielded
/// would hold a worker for its whole call.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

pub use crate::app::Limits;

/// Arms `store` for one call under `limits`: at every epoch tick while
/// the guest runs it yields to the executor (after the runtime has polled
/// for I/O, so a waiting `/healthz` gets its turn), and once the call's
/// wall-clock deadline has passed it traps with an interrupt.
pub fn arm_deadline<T: 'static>(store: &mut wasmtime::Store<T>, limits: &Limits) {
    let started = std::time::Instant::now();
    let timeout = limits.timeout;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(if started.elapsed() >= timeout {
            wasmtime::UpdateDeadline::Interrupt
        } else {
            wasmtime::UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now()))
        })
    });
}

/// Largest linear memory any instance may reserve; per-store limits are
/// lower and configurable per component.
const MAX_MEMORY: usize = 1 << 30;

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

/// Bytes of each linear memory reset with memset rather than madvise.
const KEEP_RESIDENT: usize = 128 << 10;

/// Builds the engine. The pooling allocator needs a large virtual address
/// reservation; where that is refused (ulimit -v, small VMs) the host falls
/// back to on-demand allocation instead of refusing to start.
pub fn build_engine() -> anyhow::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(1000)
        .total_core_instances(4000)
        .total_memories(2000)
        .total_tables(4000)
        .max_core_instances_per_component(32)
        .max_memories_per_component(8)
        .max_tables_per_component(32)
        .max_memory_size(MAX_MEMORY)
        .max_unused_warm_slots(200)
        // A fresh instance per event: resetting a slot with memset keeps
        // its pages mapped, where madvise would unmap them (a TLB
        // shootdown across cores) only for the next instance to fault
        // them back in; measured with `cargo xtask bench --only realtime`.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10)
        .decommit_batch_size(16);
    let mut pooled = base_config();
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&pooled) {
        Ok(engine) => {
            tracing::debug!("engine uses the pooling allocator");
            Ok(engine)
        }
        Err(e) => {
            tracing::warn!("pooling allocator unavailable ({e}); using on-demand allocation");
            Ok(Engine::new(&base_config())?)
        }
    }
}

/// Advances the engine's epoch so that deadlines fire. Runs for the life of
/// the process on its own thread, so a guest that never yields cannot
/// starve it.
pub fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("todo-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}
