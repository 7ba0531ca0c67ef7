//! Reads the hosts' Prometheus `/metrics`: what the publisher's host
//! accepted (`todo_events_out_total`), what the subscriber's host handled
//! (`todo_events_in_total`) and how long after its `time` each event was
//! handled (`todo_delivery_seconds`). The figures come from the hosts
//! themselves, so they count exactly what the path carried.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

/// One line of the text exposition format.
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, labels(rest.strip_suffix('}')?)),
                None => (series, BTreeMap::new()),
            };
            Some(Sample {
                name: name.to_owned(),
                labels,
                value,
            })
        })
        .collect()
}

/// `a="x",b="y"`; our label values never contain quotes or commas.
fn labels(text: &str) -> BTreeMap<String, String> {
    text.split("\",")
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((k.trim().to_owned(), v.trim_matches('"').to_owned()))
        })
        .collect()
}

/// Where to read: the publishing and the subscribing pod, and the topic.
#[derive(Clone)]
pub struct Target {
    pub publisher_port: u16,
    pub publisher: String,
    pub subscriber_port: u16,
    pub subscriber: String,
    pub topic: String,
}

/// Cumulative counts at one instant; subtract two for a phase.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub published: f64,
    pub delivered: f64,
    /// Deliveries that ended in retry, drop or error.
    pub not_ok: f64,
    /// `(upper bound, cumulative count)`, ascending, the last one `+Inf`.
    pub buckets: Vec<(f64, f64)>,
}

async fn scrape(http: &reqwest::Client, port: u16) -> Result<Vec<Sample>> {
    let text = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .with_context(|| format!("GET /metrics on port {port}"))?
        .text()
        .await?;
    Ok(parse(&text))
}

impl Target {
    pub async fn snapshot(&self, http: &reqwest::Client) -> Result<Snapshot> {
        let (out, inn) = tokio::try_join!(
            scrape(http, self.publisher_port),
            scrape(http, self.subscriber_port)
        )?;
        let of = |s: &Sample, name: &str, component: &str| {
            s.name == name
                && s.labels.get("component").map(String::as_str) == Some(component)
                && s.labels.get("topic") == Some(&self.topic)
        };
        let mut snap = Snapshot::default();
        for s in &out {
            if of(s, "todo_events_out_total", &self.publisher) {
                snap.published += s.value;
            }
        }
        for s in &inn {
            if of(s, "todo_events_in_total", &self.subscriber) {
                match s.labels.get("outcome").map(String::as_str) {
                    Some("success") => snap.delivered += s.value,
                    _ => snap.not_ok += s.value,
                }
            } else if of(s, "todo_delivery_seconds_bucket", &self.subscriber) {
                let le = match s.labels.get("le").map(String::as_str) {
                    Some("+Inf") => f64::INFINITY,
                    Some(le) => le.parse().unwrap_or(f64::INFINITY),
                    None => continue,
                };
                snap.buckets.push((le, s.value));
            }
        }
        snap.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(snap)
    }
}

impl Snapshot {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let before = |le: f64| {
            earlier
                .buckets
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, c)| *c)
        };
        Snapshot {
            published: self.published - earlier.published,
            delivered: self.delivered - earlier.delivered,
            not_ok: self.not_ok - earlier.not_ok,
            buckets: self
                .buckets
                .iter()
                .map(|&(le, c)| (le, c - before(le)))
                .collect(),
        }
    }

    /// The `q` quantile of delivery latency in seconds, interpolated
    /// linearly inside its bucket as Prometheus' `histogram_quantile` does:
    /// only as fine as the bucket bounds. `INFINITY` if it falls past the
    /// last finite bound, `None` without observations.
    pub fn latency_quantile(&self, q: f64) -> Option<f64> {
        let total = self.buckets.last()?.1;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(le, count) in &self.buckets {
            if count >= rank {
                if le.is_infinite() {
                    return Some(f64::INFINITY);
                }
                let (lo, below) = lower;
                let within = (rank - below) / (count - below).max(f64::MIN_POSITIVE);
                return Some(lo + (le - lo) * within);
            }
            lower = (le, count);
        }
        Some(f64::INFINITY)
    }

    /// The histogram itself, for the eye: share of events handled within
    /// each bound, from the first bound that holds any to the first that
    /// holds all.
    pub fn shares(&self) -> String {
        let total = self.observed();
        if total <= 0.0 {
            return "no observations".to_owned();
        }
        let mut parts = Vec::new();
        for &(le, count) in &self.buckets {
            if count <= 0.0 || le.is_infinite() {
                continue;
            }
            parts.push(format!("<={} ms {:.1}%", le * 1e3, count / total * 100.0));
            if count >= total {
                break;
            }
        }
        parts.join(", ")
    }

    /// Observations in the histogram (handled successfully with a `time`).
    pub fn observed(&self) -> f64 {
        self.buckets.last().map_or(0.0, |b| b.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labelled_series() {
        let text = "# HELP x y\n\
            todo_events_in_total{component=\"sub\",outcome=\"success\",topic=\"t\"} 42\n\
            todo_delivery_seconds_bucket{component=\"sub\",topic=\"t\",le=\"0.005\"} 7\n";
        let samples = parse(text);
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].labels["outcome"], "success");
        assert_eq!(samples[0].value, 42.0);
        assert_eq!(samples[1].labels["le"], "0.005");
    }

    #[test]
    fn quantiles_interpolate_within_a_bucket() {
        let snap = Snapshot {
            buckets: vec![
                (0.001, 0.0),
                (0.002, 50.0),
                (0.004, 100.0),
                (f64::INFINITY, 100.0),
            ],
            ..Snapshot::default()
        };
        assert!((snap.latency_quantile(0.5).unwrap() - 0.002).abs() < 1e-12);
        assert!((snap.latency_quantile(0.25).unwrap() - 0.0015).abs() < 1e-12);
        assert!((snap.latency_quantile(0.99).unwrap() - 0.00396).abs() < 1e-12);
        let over = Snapshot {
            buckets: vec![(0.001, 1.0), (f64::INFINITY, 10.0)],
            ..Snapshot::default()
        };
        assert_eq!(over.latency_quantile(0.99), Some(f64::INFINITY));
        assert_eq!(snap.shares(), "<=2 ms 50.0%, <=4 ms 100.0%");
    }

    #[test]
    fn phases_are_differences() {
        let a = Snapshot {
            published: 10.0,
            delivered: 8.0,
            not_ok: 0.0,
            buckets: vec![(0.001, 3.0), (f64::INFINITY, 8.0)],
        };
        let b = Snapshot {
            published: 30.0,
            delivered: 30.0,
            not_ok: 1.0,
            buckets: vec![(0.001, 13.0), (f64::INFINITY, 30.0)],
        };
        let d = b.since(&a);
        assert_eq!((d.published, d.delivered, d.not_ok), (20.0, 22.0, 1.0));
        assert_eq!(d.buckets, vec![(0.001, 10.0), (f64::INFINITY, 22.0)]);
    }
}
