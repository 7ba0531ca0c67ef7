//! Prometheus metrics of the host, served at `/metrics` (where: see
//! [`super::metrics_route`]):
//! events in and out, handler latency, delivery latency (event `time` to
//! handling), retries and dead letters.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Deliveries by outcome: success, retry, drop, error.
    pub events_in: IntCounterVec,
    /// Events accepted for publishing, by publishing component and topic.
    pub events_out: IntCounterVec,
    pub dead_letters: IntCounterVec,
    /// Time spent in a component's handler, by kind (http, event, job).
    pub handler_seconds: HistogramVec,
    /// From an event's `time` attribute to the end of its handling.
    pub delivery_seconds: HistogramVec,
    /// WebSocket connections closed by the server, by close code (4008: a
    /// client too far behind; 4001: credentials expired; 1001: no pongs).
    pub ws_closed: IntCounterVec,
    /// Requests answered by the host without reaching a component, by
    /// route and reason (`busy`: every place on a `max_concurrent` route
    /// was taken).
    pub requests_refused: IntCounterVec,
    /// Connections the front door closed, by reason (`idle`,
    /// `connection_cap`, `out_of_files`: the oldest idle one shed to let a
    /// new one in; `refused_at_cap`: every connection was busy).
    pub connections_closed: IntCounterVec,
    /// Responses cut off after their head was sent (the component's call
    /// failed or ran past its deadline, e.g. writing to a client that
    /// stopped reading), by component and reason.
    pub responses_aborted: IntCounterVec,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new_custom(Some("todo".into()), None).expect("metric prefix");
    let counter = |name: &str, help: &str, labels: &[&str]| {
        let c = IntCounterVec::new(Opts::new(name, help), labels).expect("metric definition");
        registry
            .register(Box::new(c.clone()))
            .expect("unique metric");
        c
    };
    let histogram = |name: &str, help: &str, labels: &[&str]| {
        let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
        let h = HistogramVec::new(opts, labels).expect("metric definition");
        registry
            .register(Box::new(h.clone()))
            .expect("unique metric");
        h
    };
    Metrics {
        events_in: counter(
            "events_in_total",
            "Event deliveries to components",
            &["component", "topic", "outcome"],
        ),
        events_out: counter(
            "events_out_total",
            "Events accepted for publishing",
            &["component", "topic"],
        ),
        dead_letters: counter(
            "dead_letters_total",
            "Events sent to a dead-letter topic",
            &["component", "topic"],
        ),
        handler_seconds: histogram(
            "handler_seconds",
            "Time in a component's handler",
            &["component", "kind"],
        ),
        delivery_seconds: histogram(
            "delivery_seconds",
            "From an event's time attribute to the end of its handling",
            &["component", "topic"],
        ),
        ws_closed: counter(
            "ws_closed_total",
            "WebSocket connections closed by the server",
            &["component", "code"],
        ),
        requests_refused: counter(
            "requests_refused_total",
            "Requests the host refused before reaching a component",
            &["route", "reason"],
        ),
        connections_closed: counter(
            "connections_closed_total",
            "Connections the front door closed",
            &["reason"],
        ),
        responses_aborted: counter(
            "responses_aborted_total",
            "Responses cut off after their head was sent",
            &["component", "reason"],
        ),
        registry,
    }
});

impl Metrics {
    pub fn observe_delivery(&self, component: &str, topic: &str, event_time: Option<&str>) {
        let Some(t) = event_time.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) else {
            return;
        };
        let age = chrono::Utc::now().signed_duration_since(t);
        if let Ok(age) = age.to_std() {
            self.delivery_seconds
                .with_label_values(&[component, topic])
                .observe(age.as_secs_f64());
        }
    }

    pub fn observe_handler(&self, component: &str, kind: &str, took: Duration) {
        self.handler_seconds
            .with_label_values(&[component, kind])
            .observe(took.as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding metrics");
        String::from_utf8(out).expect("metrics are UTF-8")
    }
}
