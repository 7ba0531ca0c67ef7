//! The baseline: Kafka's own tools on the same broker in the same run,
//! started from the jars `xtask/stack/kafka.sh` fetched (same cache layout,
//! same log4j config) but with the JIT fully on, as a measurement wants.
//!
//! - `ProducerPerformance` (kafka-producer-perf-test): producer throughput,
//!   acks=all like Dapr's producer.
//! - `EndToEndLatency`: one record at a time, produce → fetch by a consumer;
//!   it reports percentiles in whole milliseconds (truncated) and the mean
//!   with four decimals.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub struct Kafka {
    pub bootstrap: String,
    /// The broker's state dir, `<TODO_STACK_DIR>/kafka`.
    pub dir: PathBuf,
}

fn lib_dir() -> PathBuf {
    let cache = std::env::var_os("TODO_STACK_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/todo-stack")
        });
    let version = std::env::var("KAFKA_VERSION").unwrap_or_else(|_| "4.4.0".into());
    cache.join(format!("kafka-{version}/lib"))
}

impl Kafka {
    fn tool(&self, class: &str, args: &[String]) -> Result<String> {
        let lib = lib_dir();
        if !lib.join(".complete").is_file() {
            bail!(
                "{} has no Kafka jars (kafka.sh fetches them)",
                lib.display()
            );
        }
        let mut cmd = Command::new("java");
        cmd.args(["-Xmx512m", "-Djava.awt.headless=true"]);
        let log4j = self.dir.join("log4j2-tools.properties");
        if log4j.is_file() {
            cmd.arg(format!("-Dlog4j2.configurationFile={}", log4j.display()));
        }
        let out = cmd
            .arg("-cp")
            .arg(format!("{}/*", lib.display()))
            .arg(class)
            .args(args)
            .output()
            .with_context(|| format!("running {class}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "{class} failed ({}):\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }

    /// `kafka-topics --create`, through the stack's own script.
    pub fn create_topic(&self, root: &Path, topic: &str, partitions: u32) -> Result<()> {
        let status = Command::new("bash")
            .arg(root.join("xtask/stack/kafka.sh"))
            .arg("topics")
            .arg(&self.dir)
            .args(["--create", "--if-not-exists", "--topic", topic])
            .args(["--partitions", &partitions.to_string()])
            .args(["--replication-factor", "1"])
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            bail!("creating topic {topic} failed with {status}");
        }
        Ok(())
    }

    pub fn producer_perf(&self, topic: &str, records: u64, size: u64) -> Result<ProducerPerf> {
        let args: Vec<String> = [
            "--bootstrap-server",
            &self.bootstrap,
            "--topic",
            topic,
            "--num-records",
            &records.to_string(),
            "--record-size",
            &size.to_string(),
            "--throughput",
            "-1",
            "--command-property",
            "acks=all",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = self.tool("org.apache.kafka.tools.ProducerPerformance", &args)?;
        ProducerPerf::parse(&out).with_context(|| format!("ProducerPerformance printed:\n{out}"))
    }

    pub fn end_to_end(&self, topic: &str, records: u64, size: u64) -> Result<EndToEnd> {
        let args: Vec<String> = [
            "--bootstrap-server",
            &self.bootstrap,
            "--topic",
            topic,
            "--num-records",
            &records.to_string(),
            "--producer-acks",
            "all",
            "--record-size",
            &size.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = self.tool("org.apache.kafka.tools.EndToEndLatency", &args)?;
        EndToEnd::parse(&out).with_context(|| format!("EndToEndLatency printed:\n{out}"))
    }
}

/// The number right before `unit` in `line`.
fn number_before(line: &str, unit: &str) -> Option<f64> {
    let head = &line[..line.find(unit)?];
    head.split([' ', '(', ','])
        .rfind(|s| !s.is_empty())?
        .parse()
        .ok()
}

#[derive(Debug, PartialEq)]
pub struct ProducerPerf {
    pub records_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl ProducerPerf {
    /// The summary line: `N records sent, R records/sec (M MB/sec), …,
    /// A ms 50th, B ms 95th, C ms 99th, D ms 99.9th.`
    fn parse(out: &str) -> Option<Self> {
        let line = out.lines().rev().find(|l| l.contains(" 50th"))?;
        Some(ProducerPerf {
            records_per_sec: number_before(line, " records/sec")?,
            p50_ms: number_before(line, " ms 50th")?,
            p99_ms: number_before(line, " ms 99th")?,
        })
    }
}

#[derive(Debug, PartialEq)]
pub struct EndToEnd {
    pub avg_ms: f64,
    /// Whole milliseconds, truncated by the tool.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl EndToEnd {
    /// `Avg latency: 1.2345 ms` and `Percentiles: 50th = 1, 99th = 3, 99.9th = 5`.
    fn parse(out: &str) -> Option<Self> {
        let avg = out.lines().find(|l| l.starts_with("Avg latency:"))?;
        let pct = out.lines().find(|l| l.starts_with("Percentiles:"))?;
        let after = |key: &str| -> Option<f64> {
            let rest = &pct[pct.find(key)? + key.len()..];
            rest.split(',').next()?.trim().parse().ok()
        };
        Some(EndToEnd {
            avg_ms: number_before(avg, " ms")?,
            p50_ms: after("50th =")?,
            p99_ms: after("99th =")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_producer_performance_summary() {
        let out = "1000 records sent, 200.0 records/sec (0.08 MB/sec), 3.1 ms avg latency, 9.0 ms max latency.\n\
            200000 records sent, 84745.762712 records/sec (32.33 MB/sec), 592.41 ms avg latency, \
            1021.00 ms max latency, 603 ms 50th, 947 ms 95th, 1004 ms 99th, 1018 ms 99.9th.\n";
        assert_eq!(
            ProducerPerf::parse(out),
            Some(ProducerPerf {
                records_per_sec: 84745.762712,
                p50_ms: 603.0,
                p99_ms: 1004.0
            })
        );
    }

    #[test]
    fn parses_end_to_end_latency() {
        let out = "0\t12.5\n1000\t0.9\nAvg latency: 1.2345 ms\n\
            Percentiles: 50th = 1, 99th = 3, 99.9th = 7\n";
        assert_eq!(
            EndToEnd::parse(out),
            Some(EndToEnd {
                avg_ms: 1.2345,
                p50_ms: 1.0,
                p99_ms: 3.0
            })
        );
    }
}
