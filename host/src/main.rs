//! `todo-host`: the command line of the host.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use todo_host::modes::serve::{ServeOptions, serve};
use todo_host::modes::up::{UpOptions, up};
use todo_host::ops::listener::ConnLimits;
use todo_host::triggers::http::{ClientAddress, ShareLimits};

#[derive(Parser)]
#[command(
    name = "todo-host",
    version,
    about = "Runs the todo platform's WebAssembly components"
)]
struct Cli {
    /// Log format: text for people, json for log pipelines (default: json
    /// in pod mode, text otherwise).
    #[arg(long, env = "TODO_LOG_FORMAT", value_enum, global = true)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// In-process mode: every component in this process, embedded backends.
    Up(UpArgs),
    /// Appends CloudEvents (JSON: one object or an array, from FILE or
    /// stdin) to a topic of a stopped in-process host; they are delivered
    /// when it starts again.
    Publish(PublishArgs),
    /// Pod mode: one component beside a Dapr sidecar.
    Serve(ServeArgs),
}

/// What both serving modes take.
#[derive(Args)]
struct AppArgs {
    /// The application manifest.
    #[arg(long, env = "TODO_MANIFEST", default_value = "spin.toml")]
    manifest: PathBuf,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "TODO_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Do not watch `.wasm` files for hot swap.
    #[arg(long)]
    no_hot_swap: bool,
    /// Milliseconds a client has to send a request's head (from its first
    /// byte, or from the end of the previous response).
    #[arg(long, env = "TODO_HEADER_TIMEOUT_MS", default_value_t = 5_000)]
    header_timeout_ms: u64,
    /// Milliseconds a keep-alive connection may sit with no request.
    #[arg(long, env = "TODO_IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    idle_timeout_ms: u64,
    /// Open HTTP connections at most; past it the one idle longest is
    /// closed [default: 3/4 of the open-file limit].
    #[arg(long, env = "TODO_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// The header a trusted reverse proxy puts the client's address in
    /// (its last entry counts, e.g. `X-Forwarded-For`); without it the
    /// socket's peer is the client. Sign-in throttling keys on it.
    #[arg(long, env = "TODO_CLIENT_ADDRESS_HEADER")]
    client_address_header: Option<String>,
    /// Serve `/metrics` on a listener of its own at this address (and not
    /// on the app port). Without it, `/metrics` is on the app port only
    /// for `up` bound to a loopback address; pods then serve none.
    #[arg(long, env = "TODO_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Component calls one caller (a credential, or an address without
    /// one) runs at once; more wait their turn.
    #[arg(long, env = "TODO_MAX_RUNNING_PER_CALLER", default_value_t = 8)]
    max_running_per_caller: usize,
    /// Calls of one caller that may wait for a place (each up to 10 s);
    /// past them the caller gets 429.
    #[arg(long, env = "TODO_MAX_WAITING_PER_CALLER", default_value_t = 256)]
    max_waiting_per_caller: usize,
}

impl AppArgs {
    fn client_address(&self) -> anyhow::Result<ClientAddress> {
        ClientAddress::from_header_name(self.client_address_header.as_deref())
            .context("--client-address-header is not a header name")
    }

    fn shares(&self) -> ShareLimits {
        ShareLimits {
            running: self.max_running_per_caller.max(1),
            waiting: self.max_waiting_per_caller,
            ..ShareLimits::default()
        }
    }

    fn connections(&self) -> ConnLimits {
        ConnLimits {
            header_timeout: Duration::from_millis(self.header_timeout_ms.max(1)),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms.max(1)),
            max_connections: self
                .max_connections
                .unwrap_or_else(ConnLimits::default_max_connections)
                .max(1),
        }
    }
}

#[derive(Args)]
struct DataDirArg {
    /// Where all durable data lives.
    #[arg(long, env = "TODO_DATA_DIR", default_value = ".todo-data")]
    data_dir: PathBuf,
}

#[derive(Args)]
struct UpArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Address of the one HTTP port (API, WebSocket, health).
    #[arg(long, env = "TODO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataDirArg,
    /// JSON file of secret name -> value (after TODO_SECRET_* variables).
    #[arg(long, env = "TODO_SECRETS_FILE")]
    secrets_file: Option<PathBuf>,
    /// Cache of compiled components [default: <data-dir>/compiled]. Hosts
    /// may share one: entries are keyed by the component and the engine.
    #[arg(long, env = "TODO_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Args)]
struct PublishArgs {
    #[command(flatten)]
    data: DataDirArg,
    #[arg(long)]
    topic: String,
    /// A JSON file; `-` or none reads stdin.
    file: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// The component (and Dapr app id) this pod runs.
    #[arg(long, env = "TODO_COMPONENT")]
    component: String,
    #[command(flatten)]
    app: AppArgs,
    /// The app port Dapr calls.
    #[arg(long, env = "TODO_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    #[arg(long, env = "DAPR_HTTP_PORT", default_value_t = 3500)]
    dapr_http_port: u16,
    /// Sent to the sidecar on every call (Dapr API token).
    #[arg(long, env = "DAPR_API_TOKEN", hide_env_values = true)]
    dapr_api_token: Option<String>,
    /// Required from the sidecar on /events, /job and invocations.
    #[arg(long, env = "APP_API_TOKEN", hide_env_values = true)]
    app_api_token: Option<String>,
    /// Run without APP_API_TOKEN: only the sidecar can reach the app port.
    #[arg(long, env = "TODO_TRUSTED_NETWORK")]
    trusted_network: bool,
    /// Cache of compiled components.
    #[arg(long, env = "TODO_CACHE_DIR", default_value = "/tmp/todo-compiled")]
    cache_dir: PathBuf,
}

fn init_tracing(format: LogFormat, pod: bool) {
    // Pods log a line per request, event and job (the access target); a
    // developer's `todo-host up` does not, unless RUST_LOG asks.
    let default = if pod {
        "info,cranelift=warn,wasmtime=warn"
    } else {
        "info,cranelift=warn,wasmtime=warn,todo_host::access=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Pods log JSON for the cluster's log pipeline unless told otherwise.
    let format = cli.log_format.unwrap_or(match cli.command {
        Command::Serve(_) => LogFormat::Json,
        Command::Up(_) | Command::Publish(_) => LogFormat::Text,
    });
    init_tracing(format, matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up(a) => {
                up(UpOptions {
                    client_address: a.app.client_address()?,
                    connections: a.app.connections(),
                    shares: a.app.shares(),
                    metrics_listen: a.app.metrics_listen,
                    manifest: a.app.manifest,
                    listen: a.listen,
                    data_dir: a.data.data_dir,
                    cache_dir: a.cache_dir,
                    max_body_bytes: a.app.max_body_bytes,
                    secrets_file: a.secrets_file,
                    hot_swap: !a.app.no_hot_swap,
                })
                .await
            }
            Command::Publish(a) => {
                publish_command(&a.data.data_dir, &a.topic, a.file.as_deref()).await
            }
            Command::Serve(a) => {
                serve(ServeOptions {
                    client_address: a.app.client_address()?,
                    connections: a.app.connections(),
                    shares: a.app.shares(),
                    metrics_listen: a.app.metrics_listen,
                    manifest: a.app.manifest,
                    component: a.component,
                    listen: a.listen,
                    dapr_http_port: a.dapr_http_port,
                    dapr_api_token: a.dapr_api_token,
                    app_api_token: a.app_api_token,
                    cache_dir: a.cache_dir,
                    max_body_bytes: a.app.max_body_bytes,
                    hot_swap: !a.app.no_hot_swap,
                    trusted_network: a.trusted_network,
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn publish_command(
    data_dir: &std::path::Path,
    topic: &str,
    file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use std::io::Read as _;
    let input = match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => std::fs::read(path)?,
        None => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf)?;
            buf
        }
    };
    let events = todo_host::modes::publish::parse_events(&input)?;
    let count = todo_host::modes::publish::publish(data_dir, topic, events).await?;
    eprintln!("appended {count} event(s) to `{topic}`");
    Ok(())
}
