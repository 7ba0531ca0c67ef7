//! CPU use of each process on the path during a phase, from `/proc`: on a
//! 2-core machine that is what tells which hop limits the throughput.

use std::path::Path;
use std::time::Instant;

/// A process to watch, found by its command line.
pub struct Watched {
    pub label: String,
    pub pid: u32,
}

fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `flag value` adjacent on the command line.
fn has_arg(args: &[String], flag: &str, value: &str) -> bool {
    args.windows(2).any(|w| w[0] == flag && w[1] == value)
}

/// The `todo-host serve` and `daprd` of the pod whose app listens on
/// `app_port`.
pub fn pod(component: &str, app_port: u16) -> Vec<Watched> {
    let listen = format!("127.0.0.1:{app_port}");
    let port = app_port.to_string();
    let mut found = Vec::new();
    for pid in pids() {
        let args = cmdline(pid);
        let Some(exe) = args.first() else { continue };
        if exe.ends_with("todo-host") && has_arg(&args, "--listen", &listen) {
            found.push(Watched {
                label: format!("todo-host {component}"),
                pid,
            });
        } else if exe.ends_with("daprd") && has_arg(&args, "--app-port", &port) {
            found.push(Watched {
                label: format!("daprd {component}"),
                pid,
            });
        }
    }
    found
}

/// A process whose pid a start script wrote to `pid_file`.
pub fn from_pid_file(label: &str, pid_file: &Path) -> Option<Watched> {
    let pid = std::fs::read_to_string(pid_file)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Watched {
        label: label.to_owned(),
        pid,
    })
}

pub fn this_process() -> Watched {
    Watched {
        label: "bench client".to_owned(),
        pid: std::process::id(),
    }
}

/// utime + stime of `pid`, in clock ticks.
fn ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
}

/// Ticks of the whole machine from `/proc/stat`: busy, of which
/// interrupt handling (loopback TCP is mostly softirq, which no process
/// is charged for), and total.
#[derive(Clone, Copy, Default)]
struct Machine {
    busy: u64,
    irq: u64,
    total: u64,
}

fn machine() -> Machine {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return Machine::default();
    };
    // user nice system idle iowait irq softirq steal
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .chain(std::iter::repeat(0))
        .take(8)
        .collect();
    let total: u64 = v.iter().sum();
    Machine {
        busy: total - v[3] - v[4],
        irq: v[5] + v[6],
        total,
    }
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub struct Sample {
    at: Instant,
    per_process: Vec<Option<u64>>,
    machine: Machine,
}

pub fn sample(watched: &[Watched]) -> Sample {
    Sample {
        at: Instant::now(),
        per_process: watched.iter().map(|w| ticks(w.pid)).collect(),
        machine: machine(),
    }
}

/// One line: each process' share of one core between two samples, then
/// the whole machine's (all cores, so 200% is a saturated 2-core box) and
/// what other processes took of it.
pub fn report(watched: &[Watched], from: &Sample, to: &Sample) -> String {
    let hz = clock_ticks_per_second();
    let secs = to.at.duration_since(from.at).as_secs_f64().max(1e-9);
    let mut ours = 0.0;
    let mut parts = Vec::new();
    for (i, w) in watched.iter().enumerate() {
        if let (Some(a), Some(b)) = (from.per_process[i], to.per_process[i]) {
            let pct = (b - a) as f64 / hz / secs * 100.0;
            ours += pct;
            parts.push(format!("{} {pct:.0}%", w.label));
        }
    }
    let (m0, m1) = (from.machine, to.machine);
    let total = (m1.total - m0.total).max(1) as f64;
    let cores = std::fs::read_to_string("/proc/stat")
        .map_or(1, |s| {
            s.lines()
                .filter(|l| l.starts_with("cpu") && !l.starts_with("cpu "))
                .count()
        })
        .max(1) as f64;
    let share = |ticks: u64| ticks as f64 / total * cores * 100.0;
    let (busy, irq) = (share(m1.busy - m0.busy), share(m1.irq - m0.irq));
    format!(
        "{}; machine {busy:.0}% of {:.0}% (irq/softirq {irq:.0}%, other processes {:.0}%)",
        parts.join(", "),
        cores * 100.0,
        (busy - irq - ours).max(0.0)
    )
}
