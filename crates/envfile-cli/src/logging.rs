//! Logging to stderr: the filter (`--log-level` / `ENVFILE_LOG`), the format (`--log-format` /
//! `ENVFILE_LOG_FORMAT`: `text` or `json`), and colour.
//!
//! - Colour codes only when stderr is a terminal and `NO_COLOR` is unset or empty
//!   (<https://no-color.org>): in CloudWatch, `kubectl logs` or a file they are noise.
//! - `json` writes one object per line, `{"timestamp", "level", "target", "message", "fields"}`,
//!   for log pipelines that parse lines (the daemon modes: `serve`, `run --watch`).
//! - The AWS SDK logs each credential provider that failed as a multi-line warning with a debug
//!   dump of the HTTP response, before envfile reports the one error that matters (which already
//!   names every provider tried). Unless the filter asks for more than `info`, the SDK's crates
//!   log errors only; `--log-level debug` (or naming an SDK target) shows the detail again.

use std::fmt;
use std::io::IsTerminal;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIMESTAMP LEVEL target: message key=value…`, for people.
    Text,
    /// One JSON object per line: timestamp, level, target, message, fields.
    Json,
}

/// The SDK crates whose credential-chain and retry chatter envfile's own error summarises.
const SDK_TARGETS: &[&str] = &[
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sdk_secretsmanager",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
    "aws_sdk_sts",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
];

/// The filter directives for `spec`: the spec itself, plus `SDK=error` for each SDK crate when
/// the spec is a bare level of `warn` or `info` (the default case). A spec that asks for
/// `debug`/`trace`, names any target, or is `error`/`off` is used exactly as written.
pub fn filter_directives(spec: &str) -> String {
    let spec = spec.trim();
    let bare = matches!(
        spec.to_ascii_lowercase().as_str(),
        "warn" | "warning" | "info"
    );
    if !bare {
        return spec.to_owned();
    }
    let mut out = spec.to_owned();
    for t in SDK_TARGETS {
        out.push(',');
        out.push_str(t);
        out.push_str("=error");
    }
    out
}

/// Whether to write colour codes: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn use_colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Install the global subscriber. `level` is `--log-level` (else `ENVFILE_LOG`, else `warn`);
/// `format` is `--log-format` (clap already applied `ENVFILE_LOG_FORMAT`).
pub fn init(level: Option<&str>, format: LogFormat) {
    let spec = level
        .map(str::to_owned)
        .or_else(|| std::env::var("ENVFILE_LOG").ok())
        .unwrap_or_else(|| "warn".to_owned());
    let filter = EnvFilter::try_new(filter_directives(&spec)).unwrap_or_else(|_| {
        eprintln!("envfile: warning: invalid log filter `{spec}`, using `warn`");
        EnvFilter::new(filter_directives("warn"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // When stderr cannot be written the subscriber would report that on stderr with
        // `eprintln!`, which panics: a log line that cannot be shown is dropped instead.
        .log_internal_errors(false);
    // A second init (tests) is harmless, so the result is ignored.
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(use_colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .with_target(true)
            .try_init(),
        LogFormat::Json => builder.with_ansi(false).event_format(JsonLines).try_init(),
    };
}

/// One JSON object per event: `timestamp` (RFC 3339, UTC), `level`, `target`, `message`, and
/// the event's other fields under `fields` (numbers and booleans stay JSON numbers and booleans).
struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let mut visitor = JsonVisitor::default();
        event.record(&mut visitor);
        let meta = event.metadata();
        // Written key by key: a serde_json map would sort the keys, and people reading the raw
        // lines expect the time first.
        let s = |v: &str| serde_json::Value::from(v).to_string();
        writeln!(
            writer,
            "{{\"timestamp\":{},\"level\":{},\"target\":{},\"message\":{},\"fields\":{}}}",
            s(&timestamp),
            s(meta.level().as_str()),
            s(meta.target()),
            s(&visitor.message.unwrap_or_default()),
            serde_json::Value::Object(visitor.fields),
        )
    }
}

#[derive(Default)]
struct JsonVisitor {
    message: Option<String>,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn sdk_chatter_is_quieted_only_at_plain_warn_and_info() {
        let d = filter_directives("warn");
        assert!(d.starts_with("warn,"));
        assert!(d.contains("aws_config=error"));
        assert!(d.contains("aws_smithy_runtime=error"));
        assert!(filter_directives(" INFO ").contains("aws_config=error"));
        for kept in [
            "debug",
            "trace",
            "error",
            "off",
            "info,aws_config=warn",
            "envfile=debug",
        ] {
            assert_eq!(filter_directives(kept), kept);
        }
        // Every produced filter parses.
        EnvFilter::try_new(filter_directives("info")).unwrap();
    }

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
    }
}
