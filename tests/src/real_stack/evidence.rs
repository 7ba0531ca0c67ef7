//! What a failed real-stack test leaves for its post-mortem: every pod's
//! host and sidecar log, and how the shared servers and the machine were
//! doing, copied out of the run directory (which goes when the servers
//! stop) to `/tmp/todo-failed-stacks/<time>/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::RealStack;

impl RealStack {
    pub(super) fn keep_logs(&self) {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let kept = PathBuf::from("/tmp/todo-failed-stacks").join(stamp.to_string());
        for pod in &self.pods {
            let to = kept.join(&pod.name);
            if std::fs::create_dir_all(&to).is_err() {
                return;
            }
            let _ = std::fs::copy(pod.dir.join("host.log"), to.join("host.log"));
            let _ = std::fs::copy(pod.dir.join("daprd/daprd.log"), to.join("daprd.log"));
        }
        keep_servers(&self.infra.work, &self.infra.redis, &kept);
        eprintln!("real stack: the pods' logs are kept in {}", kept.display());
    }
}

/// Redis's log, slow log and latency events, and the machine's load.
fn keep_servers(work: &Path, redis: &str, kept: &Path) {
    let _ = std::fs::copy(work.join("redis/redis.log"), kept.join("redis.log"));
    let (host, port) = redis.rsplit_once(':').unwrap_or((redis, "6379"));
    let mut report = String::new();
    for args in [
        &["SLOWLOG", "GET", "32"][..],
        &["LATENCY", "LATEST"],
        &["INFO", "all"],
    ] {
        report.push_str(&format!("== redis-cli {}\n", args.join(" ")));
        report.push_str(&output(
            Command::new("redis-cli")
                .args(["-h", host, "-p", port])
                .args(args),
        ));
    }
    report.push_str("== load\n");
    report.push_str(&std::fs::read_to_string("/proc/loadavg").unwrap_or_default());
    report.push_str("== ps (by CPU)\n");
    report.push_str(&output(Command::new("ps").args([
        "-eo",
        "pid,pcpu,rss,etime,comm",
        "--sort=-pcpu",
    ])));
    let _ = std::fs::write(kept.join("servers.txt"), report);
}

fn output(cmd: &mut Command) -> String {
    cmd.output().map_or_else(
        |e| format!("(not run: {e})\n"),
        |o| String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}
