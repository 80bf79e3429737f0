//! Metrics, served at `GET /metrics` in the Prometheus text format (the `metrics` crate,
//! rendered by `metrics-exporter-prometheus`). Counters come from the audit's events
//! (`audit::count`, as `Audit::record` writes each), so they always agree with the audit
//! trail; latencies are timed where the work happens (directory operations, mail
//! delivery, HTTP requests by route). Every metric is described here.
//!
//! No label carries a login, an address or anything a person typed: labels are method
//! kinds, fixed reasons and scopes, the configured directories' names, route templates
//! and status codes.

use std::time::Instant;

use metrics::{describe_counter, describe_histogram, histogram, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Seconds: from a millisecond (a loopback request) to half a minute (a slow directory).
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process's recorder (once; a second call, as in a test process that builds
/// two servers, gets None and records nothing more) and describes every metric.
pub fn install() -> Option<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .ok()?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).ok()?;
    describe();
    Some(handle)
}

fn describe() {
    describe_counter!("sspr_flows_started_total", "Flows started at kiosks, by intent; decoy=\"true\" for logins that get a decoy (unknown, disabled, out of scope, not registered)");
    describe_counter!(
        "sspr_flows_refused_total",
        "Flows refused at identify, by reason"
    );
    describe_counter!(
        "sspr_flows_verified_total",
        "Flows whose last required method was verified, by that method"
    );
    describe_counter!(
        "sspr_flows_completed_total",
        "Directories that took a flow's change, by intent and directory"
    );
    describe_counter!(
        "sspr_challenges_sent_total",
        "Challenges issued (codes sent, authenticator codes asked for, approvals shown), by method"
    );
    describe_counter!(
        "sspr_code_deliveries_total",
        "Codes by text message or call (channel text or call) a gateway took (delivered) or every gateway failed (failed), by method; decoys' are not counted"
    );
    describe_counter!(
        "sspr_challenges_refused_total",
        "Challenges refused (rate limits), by method and reason"
    );
    describe_counter!(
        "sspr_verifications_total",
        "Answers to challenges, by method, result and reason"
    );
    describe_histogram!(
        "sspr_sms_delivery_duration_seconds",
        Unit::Seconds,
        "Handing a text message to a gateway, by gateway and result"
    );
    describe_counter!("sspr_writebacks_total", "Directory writes of flows that didn't simply succeed (failed, in doubt, confirmed, partial), by directory and result");
    describe_counter!(
        "sspr_throttle_blocks_total",
        "Blocks set by the throttles, by scope"
    );
    describe_counter!(
        "sspr_kiosk_requests_refused_total",
        "Kiosk requests refused at the signature gate, by reason"
    );
    describe_counter!(
        "sspr_notifications_total",
        "Notification emails, by kind and result (sent counts recipients)"
    );
    describe_counter!(
        "sspr_security_info_sign_ins_total",
        "Sign-in steps on My security info, by step and result"
    );
    describe_counter!(
        "sspr_methods_total",
        "Methods registered and removed, by method and change"
    );
    describe_histogram!(
        "sspr_directory_operation_duration_seconds",
        Unit::Seconds,
        "Directory operations, by directory, operation and result"
    );
    describe_histogram!(
        "sspr_mail_delivery_duration_seconds",
        Unit::Seconds,
        "Handing one message to the mail relay, by result"
    );
    describe_histogram!(
        "sspr_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP requests, by method, route template and status"
    );
}

/// How long a directory operation took (`directory` is its configured name).
pub fn directory(directory: &str, operation: &'static str, started: Instant, ok: bool) {
    histogram!(
        "sspr_directory_operation_duration_seconds",
        "directory" => directory.to_string(),
        "operation" => operation,
        "result" => if ok { "ok" } else { "error" }
    )
    .record(started.elapsed().as_secs_f64());
}

/// How long handing one message to the relay took.
pub fn mail(started: Instant, ok: bool) {
    histogram!(
        "sspr_mail_delivery_duration_seconds",
        "result" => if ok { "ok" } else { "error" }
    )
    .record(started.elapsed().as_secs_f64());
}

/// How long handing one text message to a gateway took, by gateway (configured names).
pub fn sms(provider: &str, started: Instant, ok: bool) {
    histogram!(
        "sspr_sms_delivery_duration_seconds",
        "provider" => provider.to_string(),
        "result" => if ok { "ok" } else { "error" }
    )
    .record(started.elapsed().as_secs_f64());
}

/// How long a request took, by its route's template ("unmatched" for none).
pub fn http(method: &str, route: &str, status: u16, started: Instant) {
    // A method is what a caller sent: one outside HTTP's usual few counts as "other", so
    // nobody can add series by inventing methods.
    let method = match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    histogram!(
        "sspr_http_request_duration_seconds",
        "method" => method,
        "route" => route.to_string(),
        "status" => status.to_string()
    )
    .record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    /// Every metric the Grafana dashboard (docs/grafana/sspr-kiosk.json) queries is one
    /// the server describes, so the dashboard shows no empty panel for a misspelt name.
    #[test]
    fn the_dashboard_queries_only_metrics_the_server_has() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dashboard = std::fs::read_to_string(here.join("../../docs/grafana/sspr-kiosk.json"))
            .expect("the dashboard");
        let dashboard: serde_json::Value = serde_json::from_str(&dashboard).expect("JSON");
        let source = std::fs::read_to_string(here.join("src/telemetry.rs")).expect("source");
        let described: Vec<&str> = source
            .split("describe_")
            .skip(1)
            .filter_map(|s| s.split('"').nth(1))
            .collect();
        assert!(described.len() >= 10, "{described:?}");
        let mut queried = 0;
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().expect("targets") {
                let expr = target["expr"].as_str().expect("expr");
                for word in expr.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                    if let Some(base) = word.strip_prefix("sspr_") {
                        let name = format!("sspr_{base}");
                        let base = ["_bucket", "_count", "_sum"]
                            .iter()
                            .find_map(|s| name.strip_suffix(s))
                            .unwrap_or(&name);
                        assert!(described.contains(&base), "{base} in {expr:?}");
                        queried += 1;
                    }
                }
            }
        }
        assert!(queried >= 15, "{queried}");
    }
}
