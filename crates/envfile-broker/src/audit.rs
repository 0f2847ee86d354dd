//! The audit log: one JSON line per access and per refresh — who, what, which backend and
//! version, the outcome, the error kind and the latency. Never a value: a line is built only
//! from the fields of [`AuditLine`], none of which can hold one.
//!
//! Requests only append to an in-memory buffer; a writer thread of its own moves it to the
//! target every 200 ms, sooner when 256 KiB are pending, and at shutdown. So no request waits
//! on a write system call, and no async worker either. Should the writer fall far behind
//! (4 MiB pending), the request that finds it so writes the batch itself: lines are never
//! dropped, and memory stays bounded. Two buffers take turns (one filling while the writer
//! empties the other), so a busy broker does not regrow a buffer for every batch.
//!
//! A memoized secret read logs the same reference, backend, version and outcome every time: its
//! [`AuditLine::tail`] is encoded once, the principal is escaped once ([`Escaped`]), and
//! [`Audit::write_repeat`] only adds the time and the latency.

use crate::config::AuditTarget;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the writer thread moves lines out.
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// Pending bytes that wake the writer early. Measured on a busy broker sharing one core with
/// its writer: 32 KiB batches cost twice the writer CPU of 256 KiB ones (a wake-up, two context
/// switches and a system call per batch) and preempted the request thread four times as often.
const WAKE_AT: usize = 256 * 1024;
/// Pending bytes at which a request writes the batch itself.
const MAX_PENDING: usize = 4 * 1024 * 1024;

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

/// Where audit lines go.
pub struct Audit {
    out: Option<Arc<Target>>,
}

struct Target {
    pending: Mutex<Pending>,
    wake: Condvar,
    file: Mutex<Box<dyn Write + Send>>,
}

#[derive(Default)]
struct Pending {
    buf: Vec<u8>,
    /// The buffer the writer emptied last, handed back for the next turn.
    spare: Option<Vec<u8>>,
    closed: bool,
}

impl Target {
    /// Write out what is pending (under the file lock, so batches keep their order).
    fn drain(&self) {
        let mut file = lock(&self.file);
        let mut batch = {
            let mut p = lock(&self.pending);
            if p.buf.is_empty() {
                return;
            }
            let next = p
                .spare
                .take()
                .unwrap_or_else(|| Vec::with_capacity(p.buf.capacity().min(2 * WAKE_AT)));
            std::mem::replace(&mut p.buf, next)
        };
        if let Err(e) = file.write_all(&batch).and_then(|_| file.flush()) {
            tracing::warn!(error = %e, "cannot write the audit log");
        }
        // Keep a buffer of the usual batch size for the next turn; one that a stalled writer
        // let grow towards MAX_PENDING is given back to the allocator.
        if batch.capacity() <= 2 * WAKE_AT {
            batch.clear();
            lock(&self.pending).spare.get_or_insert(batch);
        }
    }

    /// Add one line to the pending buffer (`line` encodes it), then wake the writer when this
    /// line crossed the mark, or write the batch here when the writer is far behind.
    fn append(&self, line: impl FnOnce(&mut Vec<u8>)) {
        let (before, len) = {
            let mut p = lock(&self.pending);
            let before = p.buf.len();
            line(&mut p.buf);
            (before, p.buf.len())
        };
        if len >= MAX_PENDING {
            self.drain();
        } else if before < WAKE_AT && len >= WAKE_AT {
            // Only the line that crosses the mark wakes the writer: a wake is a system call.
            self.wake.notify_one();
        }
    }

    fn run_writer(&self) {
        let mut pending = lock(&self.pending);
        loop {
            if pending.closed {
                return;
            }
            if pending.buf.len() < WAKE_AT {
                pending = self
                    .wake
                    .wait_timeout(pending, FLUSH_EVERY)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            drop(pending);
            self.drain();
            pending = lock(&self.pending);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
        let Some(file) = out else {
            return Ok(Self::off());
        };
        let target = Arc::new(Target {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            file: Mutex::new(file),
        });
        let writer = target.clone();
        std::thread::Builder::new()
            .name("envfile-audit".into())
            .stack_size(64 * 1024)
            .spawn(move || writer.run_writer())
            .map_err(|e| {
                envfile_core::Error::from(e).with_hint("broker.audit: cannot start the writer")
            })?;
        Ok(Self { out: Some(target) })
    }

    /// No audit log.
    pub fn off() -> Self {
        Self { out: None }
    }

    /// Append one line.
    pub fn write(&self, l: &AuditLine<'_>) {
        let Some(out) = &self.out else { return };
        let now = SystemTime::now();
        out.append(|buf| encode(buf, now, l));
    }

    /// Append an access line whose principal and tail were encoded before (a memoized read):
    /// the same bytes [`Audit::write`] would produce for those fields. `now` ends the latency
    /// that began at `started` and dates the line.
    pub fn write_repeat(&self, principal: &Escaped, tail: &[u8], started: Instant, now: Instant) {
        let Some(out) = &self.out else { return };
        out.append(|buf| {
            push_head(buf, wall_clock(now), "access");
            buf.extend_from_slice(&principal.0);
            buf.extend_from_slice(tail);
            push_latency(buf, now.saturating_duration_since(started));
        });
    }

    /// Write pending lines out now.
    pub fn flush(&self) {
        if let Some(out) = &self.out {
            out.drain();
        }
    }

    /// Write pending lines out and stop the writer thread (lines written later are still
    /// buffered and go out at the next `flush`).
    pub fn close(&self) {
        if let Some(out) = &self.out {
            lock(&out.pending).closed = true;
            out.wake.notify_one();
            out.drain();
        }
    }
}

/// One audit line as JSON, written by hand: every audited request pays for it, and a derived
/// serializer plus a `String` per timestamp cost more than the rest of a cached read's user
/// time. The fields and their order are the ones docs/broker.md documents.
fn encode(buf: &mut Vec<u8>, now: SystemTime, l: &AuditLine<'_>) {
    push_head(buf, now, l.event);
    push_field(buf, "principal", l.principal);
    l.push_tail(buf);
    push_latency(buf, l.latency);
}

impl AuditLine<'_> {
    /// The encoded fields between `principal` and `latency_ms` (those that can be absent, and
    /// the outcome), for lines that repeat them: see [`Audit::write_repeat`].
    pub fn tail(&self) -> Box<[u8]> {
        let mut buf = Vec::with_capacity(128);
        self.push_tail(&mut buf);
        buf.into_boxed_slice()
    }

    fn push_tail(&self, buf: &mut Vec<u8>) {
        let fields = [
            ("envfile", self.envfile),
            ("ref", self.reference),
            ("backend", self.backend),
            ("version", self.version),
            ("outcome", Some(self.outcome)),
            ("error_kind", self.error_kind),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                push_field(buf, name, v);
            }
        }
    }
}

/// A principal's `,"principal":"…"` field, escaped once: it repeats on every line of a client.
#[derive(Clone)]
pub struct Escaped(Arc<[u8]>);

impl Escaped {
    /// The field for principal `label`.
    pub fn principal(label: &str) -> Self {
        let mut buf = Vec::with_capacity(label.len() + 16);
        push_field(&mut buf, "principal", label);
        Self(buf.into())
    }
}

impl std::fmt::Debug for Escaped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// `{"time":"…","event":"…"`.
fn push_head(buf: &mut Vec<u8>, now: SystemTime, event: &str) {
    buf.extend_from_slice(b"{\"time\":\"");
    push_time(buf, now);
    buf.extend_from_slice(b"\",\"event\":\"");
    buf.extend_from_slice(event.as_bytes());
    buf.push(b'"');
}

/// `,"latency_ms":N.NNN}` and the newline: milliseconds with three decimals, from whole
/// microseconds, so exact, unlike a float.
fn push_latency(buf: &mut Vec<u8>, latency: Duration) {
    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    buf.extend_from_slice(b",\"latency_ms\":");
    push_u64(buf, us / 1000);
    push_thousandths(buf, (us % 1000) as u32);
    buf.extend_from_slice(b"}\n");
}

/// The wall-clock time at monotonic instant `now`, from an anchor (a reading of both clocks)
/// renewed once a second per thread: a memoized read already reads the monotonic clock for its
/// latency, and a second clock read per request is a measurable share of it. A step of the
/// wall clock shows in the log within a second.
fn wall_clock(now: Instant) -> SystemTime {
    use std::cell::Cell;
    const RENEW: Duration = Duration::from_secs(1);
    thread_local! {
        static ANCHOR: Cell<Option<(Instant, SystemTime)>> = const { Cell::new(None) };
    }
    if let Some((at, wall)) = ANCHOR.get() {
        if let Some(since) = now.checked_duration_since(at).filter(|d| *d < RENEW) {
            return wall + since;
        }
    }
    let wall = SystemTime::now();
    ANCHOR.set(Some((now, wall)));
    wall
}

/// `.NNN` for `n` < 1000, leading zeros kept (timestamps' milliseconds, latencies' microseconds).
fn push_thousandths(buf: &mut Vec<u8>, n: u32) {
    buf.extend_from_slice(&[
        b'.',
        b'0' + (n / 100) as u8,
        b'0' + (n / 10 % 10) as u8,
        b'0' + (n % 10) as u8,
    ]);
}

/// `,"name":"value"` (names are ours and need no escaping).
fn push_field(buf: &mut Vec<u8>, name: &str, value: &str) {
    buf.extend_from_slice(b",\"");
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"\":\"");
    push_escaped(buf, value);
    buf.push(b'"');
}

/// A JSON string's contents (RFC 8259 §7): quote, backslash and control characters escaped,
/// everything else — UTF-8 included — as is.
fn push_escaped(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        } else {
            buf.extend_from_slice(esc);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// `2024-05-01T12:00:00.123Z`, without a date crate. The date-and-seconds part is cached per
/// thread: every audited request formats a timestamp, and most share their second.
fn push_time(buf: &mut Vec<u8>, t: SystemTime) {
    use std::cell::Cell;
    thread_local! {
        static LAST: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
    }
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut last = LAST.get();
    if last.0 != d.as_secs() {
        last = (d.as_secs(), seconds(d.as_secs()));
        LAST.set(last);
    }
    buf.extend_from_slice(&last.1);
    push_thousandths(buf, d.subsec_millis());
    buf.push(b'Z');
}

/// `2024-05-01T12:00:00.123Z` (used for `fetched_at` in responses, too).
pub fn rfc3339(t: SystemTime) -> String {
    let mut buf = Vec::with_capacity(24);
    push_time(&mut buf, t);
    String::from_utf8(buf).unwrap_or_default()
}

fn seconds(secs: u64) -> [u8; 19] {
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, dd) = civil_from_days(days);
    let text = format!(
        "{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    // Years past 9999 do not fit the format; they are not a broker's concern.
    let mut out = [b'0'; 19];
    let n = text.len().min(19);
    out[..n].copy_from_slice(&text.as_bytes()[..n]);
    out
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

    /// An access line for env file `app`.
    fn app_line(outcome: &'static str, latency: Duration) -> AuditLine<'static> {
        AuditLine {
            event: "access",
            principal: "broker",
            envfile: Some("app"),
            reference: None,
            backend: None,
            version: None,
            outcome,
            error_kind: None,
            latency,
        }
    }

    #[test]
    fn lines_reach_the_file_without_a_flush_and_all_of_them_at_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let audit = Audit::open(&AuditTarget::File(path.clone())).unwrap();
        let line = |i: usize| {
            let outcome = if i.is_multiple_of(2) { "ok" } else { "denied" };
            app_line(outcome, Duration::from_micros(i as u64))
        };
        audit.write(&line(0));
        // The writer thread moves it out by itself within its period.
        let start = std::time::Instant::now();
        while std::fs::read_to_string(&path).unwrap().lines().count() < 1 {
            assert!(start.elapsed() < Duration::from_secs(5), "never written");
            std::thread::sleep(Duration::from_millis(20));
        }
        for i in 1..5000 {
            audit.write(&line(i));
        }
        audit.close();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 5000);
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["envfile"], "app");
        }
    }

    #[test]
    fn lines_are_json_whatever_the_fields_hold() {
        let awkward = "token:\"quoted\" back\\slash\nnew\tline \u{1} \u{1f} ünï ✓";
        let mut buf = Vec::new();
        let t = UNIX_EPOCH + Duration::from_millis(1_714_564_800_123);
        encode(
            &mut buf,
            t,
            &AuditLine {
                event: "access",
                principal: awkward,
                envfile: None,
                reference: Some("aws:app/db#pass\"word"),
                backend: Some("aws"),
                version: None,
                outcome: "error",
                error_kind: Some("not_found"),
                latency: Duration::from_micros(12_345_678),
            },
        );
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.ends_with("}\n") && text.matches('\n').count() == 1,
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "time",
            "event",
            "principal",
            "ref",
            "backend",
            "outcome",
            "error_kind",
            "latency_ms",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected, "absent fields are left out, not null");
        assert_eq!(v["time"], "2024-05-01T12:00:00.123Z");
        assert_eq!(v["principal"], awkward);
        assert_eq!(v["ref"], "aws:app/db#pass\"word");
        assert_eq!(v["error_kind"], "not_found");
        assert_eq!(v["latency_ms"].as_f64(), Some(12_345.678));
        // Sub-millisecond latencies keep their leading zeros.
        let mut buf = Vec::new();
        let short = AuditLine {
            event: "refresh",
            principal: "broker",
            envfile: Some("app"),
            reference: None,
            backend: None,
            version: Some("v1"),
            outcome: "ok",
            error_kind: None,
            latency: Duration::from_micros(7),
        };
        encode(&mut buf, t, &short);
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["latency_ms"].as_f64(), Some(0.007));
        assert_eq!(
            (v["envfile"].as_str(), v["version"].as_str()),
            (Some("app"), Some("v1"))
        );
    }

    #[test]
    fn a_repeated_line_is_the_line_written_in_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let audit = Audit::open(&AuditTarget::File(path.clone())).unwrap();
        let label = "token:\"odd\" name";
        let line = AuditLine {
            event: "access",
            principal: label,
            envfile: None,
            reference: Some("aws:app/db#pass\\word"),
            backend: Some("aws"),
            version: Some("v-1"),
            outcome: "ok",
            error_kind: None,
            latency: Duration::from_micros(1_234),
        };
        audit.write(&line);
        let started = Instant::now();
        let now = started + Duration::from_micros(1_234);
        audit.write_repeat(&Escaped::principal(label), &line.tail(), started, now);
        audit.close();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let mut full = lines[0].clone();
        let mut repeat = lines[1].clone();
        for v in [&full, &repeat] {
            assert_eq!(v["principal"], label);
            assert_eq!(v["latency_ms"].as_f64(), Some(1.234));
            let time = v["time"].as_str().unwrap();
            assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
        }
        // Apart from when they were written, the two lines are the same line.
        full.as_object_mut().unwrap().remove("time");
        repeat.as_object_mut().unwrap().remove("time");
        assert_eq!(full, repeat);
        let keys = |v: &str| -> Vec<String> {
            let v: serde_json::Value = serde_json::from_str(v).unwrap();
            v.as_object().unwrap().keys().cloned().collect()
        };
        let raw: Vec<&str> = text.lines().collect();
        assert_eq!(keys(raw[0]), keys(raw[1]));
    }

    #[test]
    fn the_wall_clock_follows_the_monotonic_one_and_renews_its_anchor() {
        let t0 = Instant::now();
        let before = SystemTime::now();
        let w0 = wall_clock(t0);
        let w1 = wall_clock(t0 + Duration::from_millis(250));
        assert_eq!(w1.duration_since(w0).unwrap(), Duration::from_millis(250));
        let d = w0.duration_since(before).unwrap_or_default();
        assert!(d < Duration::from_secs(1), "anchor is the current time");
        // Past a second the anchor is read again (here: an instant in the future gets the
        // wall clock's present, not a value a minute ahead).
        let far = wall_clock(t0 + Duration::from_secs(60));
        let ahead = far.duration_since(SystemTime::now()).unwrap_or_default();
        assert!(ahead < Duration::from_secs(1), "re-anchored: {ahead:?}");
    }

    #[test]
    fn writer_and_requests_take_turns_with_two_buffers() {
        // No writer thread here, so the test decides when batches are written.
        let target = Arc::new(Target {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            file: Mutex::new(Box::new(std::io::sink())),
        });
        let audit = Audit {
            out: Some(target.clone()),
        };
        let line = app_line("ok", Duration::ZERO);
        // A batch below the writer's wake mark, as on a broker under steady load.
        let fill = || {
            for _ in 0..100 {
                audit.write(&line);
            }
        };
        let buffers = || {
            let p = lock(&target.pending);
            (
                p.buf.as_ptr(),
                p.buf.capacity(),
                p.spare.as_ref().map(Vec::as_ptr),
            )
        };
        fill();
        let (first, cap, _) = buffers();
        audit.flush();
        let (second, cap2, spare) = buffers();
        assert_eq!(
            cap2, cap,
            "the next turn's buffer is allocated at the batch size"
        );
        assert_eq!(
            spare,
            Some(first),
            "the written buffer came back as the spare"
        );
        fill();
        audit.flush();
        assert_eq!(
            buffers(),
            (first, cap, Some(second)),
            "the two buffers alternate"
        );
        fill();
        assert_eq!(buffers().1, cap, "a batch fits without regrowing");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = UNIX_EPOCH + Duration::from_millis(1_714_564_800_123);
        assert_eq!(rfc3339(t), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
