//! The audit log: one JSON line per access and per refresh — who, what, which backend and
//! version, the outcome, the error kind and the latency. Never a value: a line is built only
//! from the fields of [`AuditLine`], none of which can hold one.
//!
//! Lines go through a buffer flushed every 200 ms (and at shutdown), so auditing every cached
//! read does not cost a write system call per request.

use crate::config::AuditTarget;
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One audit event.
#[derive(Debug)]
pub struct AuditLine<'a> {
    /// `access` or `refresh`.
    pub event: &'static str,
    /// `token:NAME`, `uid:U gid:G pid:P`, or `broker` for refreshes.
    pub principal: &'a str,
    /// The env file, for env file reads.
    pub envfile: Option<&'a str>,
    /// The secret (`BACKEND:PATH` or the reference as asked).
    pub reference: Option<&'a str>,
    /// The backend instance.
    pub backend: Option<&'a str>,
    /// The version served or read.
    pub version: Option<&'a str>,
    /// `ok`, `not_modified`, `denied`, `error`, `read`, `refreshed`, `unchanged`, …
    pub outcome: &'a str,
    /// The error kind, on failure.
    pub error_kind: Option<&'a str>,
    /// How long it took.
    pub latency: Duration,
}

#[derive(Serialize)]
struct Json<'a> {
    time: String,
    event: &'a str,
    principal: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    envfile: Option<&'a str>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'a str>,
    latency_ms: f64,
}

/// Where audit lines go.
pub struct Audit {
    out: Option<Mutex<BufWriter<Box<dyn Write + Send>>>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("enabled", &self.out.is_some())
            .finish()
    }
}

impl Audit {
    /// Open the target (a file is opened for append and created with mode 0600).
    pub fn open(target: &AuditTarget) -> envfile_core::Result<Self> {
        let out: Option<Box<dyn Write + Send>> = match target {
            AuditTarget::Off => None,
            AuditTarget::Stdout => Some(Box::new(std::io::stdout())),
            AuditTarget::File(p) => {
                use std::os::unix::fs::OpenOptionsExt;
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(p)
                    .map_err(|e| {
                        envfile_core::Error::from(e)
                            .with_hint(format!("broker.audit: cannot open {}", p.display()))
                    })?;
                Some(Box::new(f))
            }
        };
        Ok(Self {
            out: out.map(|w| Mutex::new(BufWriter::with_capacity(64 * 1024, w))),
        })
    }

    /// No audit log.
    pub fn off() -> Self {
        Self { out: None }
    }

    /// Append one line.
    pub fn write(&self, l: &AuditLine<'_>) {
        let Some(out) = &self.out else { return };
        let line = Json {
            time: rfc3339(SystemTime::now()),
            event: l.event,
            principal: l.principal,
            envfile: l.envfile,
            reference: l.reference,
            backend: l.backend,
            version: l.version,
            outcome: l.outcome,
            error_kind: l.error_kind,
            latency_ms: (l.latency.as_secs_f64() * 1e6).round() / 1e3,
        };
        let mut w = out.lock().unwrap_or_else(|p| p.into_inner());
        if serde_json::to_writer(&mut *w, &line).is_ok() {
            let _ = w.write_all(b"\n");
        }
    }

    /// Push buffered lines out.
    pub fn flush(&self) {
        if let Some(out) = &self.out {
            let _ = out.lock().unwrap_or_else(|p| p.into_inner()).flush();
        }
    }
}

/// `2024-05-01T12:00:00.123Z`, without a date crate. The date-and-seconds part is cached per
/// thread: every audited request formats a timestamp, and most share their second.
pub fn rfc3339(t: SystemTime) -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != d.as_secs() {
            *last = (d.as_secs(), seconds(d.as_secs()));
        }
        let mut out = String::with_capacity(24);
        out.push_str(&last.1);
        let ms = d.subsec_millis();
        out.push('.');
        out.push((b'0' + (ms / 100) as u8) as char);
        out.push((b'0' + (ms / 10 % 10) as u8) as char);
        out.push((b'0' + (ms % 10) as u8) as char);
        out.push('Z');
        out
    })
}

fn seconds(secs: u64) -> String {
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, dd) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_714_564_800_123);
        assert_eq!(rfc3339(t), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
