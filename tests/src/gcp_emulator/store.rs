//! The emulator's state and the semantics of each Secret Manager method, independent of HTTP.
//!
//! API reference (v1): <https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets>
//! and <https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions>;
//! regional secrets: <https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.locations.secrets>.
//! Each behaviour below cites the page it follows.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// A Google API error: canonical status name and message, rendered by the HTTP layer as
/// `{"error":{"code","message","status"}}` (<https://cloud.google.com/apis/design/errors#http_mapping>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Canonical code name (`NOT_FOUND`, `FAILED_PRECONDITION`, …).
    pub status: &'static str,
    /// Developer-facing message.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The HTTP status for a canonical code (table in <https://cloud.google.com/apis/design/errors#handling_errors>).
    pub fn http_code(&self) -> u16 {
        match self.status {
            "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
            "UNAUTHENTICATED" => 401,
            "PERMISSION_DENIED" => 403,
            "NOT_FOUND" => 404,
            "ABORTED" | "ALREADY_EXISTS" => 409,
            "RESOURCE_EXHAUSTED" => 429,
            "CANCELLED" => 499,
            "UNIMPLEMENTED" => 501,
            "UNAVAILABLE" => 503,
            "DEADLINE_EXCEEDED" => 504,
            _ => 500,
        }
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// SecretVersion.State (<https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions#State>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// May be accessed.
    Enabled,
    /// May not be accessed, but the data is kept and it can be re-enabled.
    Disabled,
    /// The data is irrevocably destroyed.
    Destroyed,
}

impl VersionState {
    fn name(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
            Self::Destroyed => "DESTROYED",
        }
    }
    // Enum numbers from the proto (STATE_UNSPECIFIED = 0), used when the client asks for
    // `$alt=json;enum-encoding=int` (a standard system parameter:
    // <https://cloud.google.com/apis/docs/system-parameters>).
    fn number(self) -> i64 {
        match self {
            Self::Enabled => 1,
            Self::Disabled => 2,
            Self::Destroyed => 3,
        }
    }
}

struct Version {
    number: u64,
    state: VersionState,
    data: Vec<u8>,
    crc32c: u32,
    client_specified_checksum: bool,
    create_time: String,
    destroy_time: Option<String>,
    etag: u64,
}

struct Secret {
    create_seq: u64,
    create_time: String,
    replication: Option<Value>,
    labels: Option<Value>,
    versions: Vec<Version>,
    etag: u64,
}

/// Every secret, keyed by full name (`projects/P/[locations/L/]secrets/S`).
#[derive(Default)]
pub(crate) struct Store {
    secrets: BTreeMap<String, Secret>,
    seq: u64,
}

/// The page size used when a list request has `pageSize` 0 or none: "If set to 0, the server
/// decides the number of results to return" (ListSecretsRequest.pageSize, ListSecretVersionsRequest.pageSize).
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// "If the number is greater than 25000, it is capped at 25000." (same fields)
pub const MAX_PAGE_SIZE: usize = 25_000;
/// "The secret data. Must be no larger than 64KiB." (SecretPayload.data)
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// How enums are written in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnumEncoding {
    Name,
    Int,
}

/// A parsed version reference.
pub(crate) enum VersionSel {
    Latest,
    Number(u64),
}

fn now() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs(), d.subsec_nanos())
}

/// RFC 3339 UTC with nanoseconds, the JSON form of google.protobuf.Timestamp.
fn rfc3339(secs: u64, nanos: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `secretId`: "A secret ID is a string with a maximum length of 255 characters and can contain
/// uppercase and lowercase letters, numerals, and the hyphen (-) and underscore (_) characters."
/// (<https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create>)
fn valid_secret_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn secret_not_found(name: &str) -> ApiError {
    ApiError::new("NOT_FOUND", format!("Secret [{name}] not found."))
}

fn version_not_found(name: &str) -> ApiError {
    ApiError::new("NOT_FOUND", format!("Secret Version [{name}] not found."))
}

impl Store {
    fn secret(&self, name: &str) -> ApiResult<&Secret> {
        self.secrets.get(name).ok_or_else(|| secret_not_found(name))
    }

    fn secret_mut(&mut self, name: &str) -> ApiResult<&mut Secret> {
        self.secrets
            .get_mut(name)
            .ok_or_else(|| secret_not_found(name))
    }

    fn secret_json(name: &str, s: &Secret) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        if let Some(r) = &s.replication {
            m.insert("replication".into(), r.clone());
        }
        if let Some(l) = &s.labels {
            m.insert("labels".into(), l.clone());
        }
        m.insert("createTime".into(), json!(s.create_time));
        m.insert("etag".into(), json!(format!("\"{:x}\"", s.etag)));
        Value::Object(m)
    }

    fn version_json(secret: &str, v: &Version, enc: EnumEncoding) -> Value {
        let mut m = Map::new();
        m.insert(
            "name".into(),
            json!(format!("{secret}/versions/{}", v.number)),
        );
        m.insert("createTime".into(), json!(v.create_time));
        if let Some(t) = &v.destroy_time {
            m.insert("destroyTime".into(), json!(t));
        }
        m.insert(
            "state".into(),
            match enc {
                EnumEncoding::Name => json!(v.state.name()),
                EnumEncoding::Int => json!(v.state.number()),
            },
        );
        m.insert("etag".into(), json!(format!("\"{:x}\"", v.etag)));
        // "Output only. True if payload checksum specified in SecretPayload object has been
        // received by SecretManagerService on SecretManagerService.AddSecretVersion."
        m.insert(
            "clientSpecifiedPayloadChecksum".into(),
            json!(v.client_specified_checksum),
        );
        Value::Object(m)
    }

    /// projects.secrets.create / projects.locations.secrets.create: `POST /v1/{parent}/secrets?secretId=…`
    /// with a Secret body; ALREADY_EXISTS when the id is taken in that parent.
    pub(crate) fn create_secret(
        &mut self,
        parent: &str,
        secret_id: &str,
        body: &Value,
    ) -> ApiResult<Value> {
        if !valid_secret_id(secret_id) {
            return Err(ApiError::new(
                "INVALID_ARGUMENT",
                format!("Invalid secret ID [{secret_id}]: must be 1-255 characters of letters, numerals, `-` and `_`."),
            ));
        }
        let name = format!("{parent}/secrets/{secret_id}");
        if self.secrets.contains_key(&name) {
            return Err(ApiError::new(
                "ALREADY_EXISTS",
                format!("Secret [{name}] already exists."),
            ));
        }
        self.seq += 1;
        let s = Secret {
            create_seq: self.seq,
            create_time: now(),
            replication: body.get("replication").cloned(),
            labels: body.get("labels").cloned(),
            versions: Vec::new(),
            etag: self.seq,
        };
        let out = Self::secret_json(&name, &s);
        self.secrets.insert(name, s);
        Ok(out)
    }

    /// projects.secrets.get: metadata of a secret.
    pub(crate) fn get_secret(&self, name: &str) -> ApiResult<Value> {
        Ok(Self::secret_json(name, self.secret(name)?))
    }

    /// projects.secrets.delete: "Deletes a Secret." — with all its versions.
    pub(crate) fn delete_secret(&mut self, name: &str) -> ApiResult<Value> {
        self.secrets
            .remove(name)
            .ok_or_else(|| secret_not_found(name))?;
        // The response body is google.protobuf.Empty.
        Ok(json!({}))
    }

    /// projects.secrets.list: secrets of a parent, "sorted in reverse by createTime (newest first)",
    /// paged with pageSize/pageToken (ListSecretsResponse).
    pub(crate) fn list_secrets(&self, parent: &str, page: &Paging) -> ApiResult<Value> {
        let prefix = format!("{parent}/secrets/");
        let mut all: Vec<(&String, &Secret)> = self
            .secrets
            .iter()
            .filter(|(n, _)| {
                n.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.contains('/'))
            })
            .collect();
        all.sort_by_key(|(_, s)| std::cmp::Reverse(s.create_seq));
        let total = all.len();
        let items: Vec<Value> = all.iter().map(|(n, s)| Self::secret_json(n, s)).collect();
        page.apply("secrets", items, total)
    }

    /// projects.secrets.addVersion: `POST /v1/{parent}:addVersion` with `{"payload":{"data","dataCrc32c"}}`.
    /// "If specified, SecretManagerService will verify the integrity of the received data … using the
    /// crc32c checksum … If a checksum is not provided …, the SecretManagerService will generate and
    /// store one for you." (SecretPayload.dataCrc32c)
    pub(crate) fn add_version(
        &mut self,
        parent: &str,
        data: Vec<u8>,
        crc: Option<i64>,
    ) -> ApiResult<Value> {
        if data.len() > MAX_PAYLOAD {
            return Err(ApiError::new(
                "INVALID_ARGUMENT",
                format!("Secret payload data exceeds the limit of {MAX_PAYLOAD} bytes."),
            ));
        }
        let actual = crc32c::crc32c(&data);
        if let Some(given) = crc {
            if given != i64::from(actual) {
                return Err(ApiError::new(
                    "INVALID_ARGUMENT",
                    "Checksum mismatch: the data_crc32c of the payload does not match the data received.",
                ));
            }
        }
        self.seq += 1;
        let seq = self.seq;
        let s = self.secret_mut(parent)?;
        // Version ids are sequential numbers starting at 1.
        let number = s.versions.last().map_or(1, |v| v.number + 1);
        s.versions.push(Version {
            number,
            state: VersionState::Enabled,
            data,
            crc32c: actual,
            client_specified_checksum: crc.is_some(),
            create_time: now(),
            destroy_time: None,
            etag: seq,
        });
        let v = s.versions.last().expect("just pushed");
        Ok(Self::version_json(parent, v, EnumEncoding::Name))
    }

    fn version(&self, secret: &str, sel: &VersionSel, full: &str) -> ApiResult<&Version> {
        let s = self.secret(secret)?;
        match sel {
            // "projects/*/secrets/*/versions/latest is an alias to the most recently created
            // SecretVersion" — whatever its state.
            VersionSel::Latest => s.versions.last().ok_or_else(|| {
                ApiError::new(
                    "NOT_FOUND",
                    format!("Secret [{secret}] not found or has no versions."),
                )
            }),
            VersionSel::Number(n) => s
                .versions
                .iter()
                .find(|v| v.number == *n)
                .ok_or_else(|| version_not_found(full)),
        }
    }

    /// projects.secrets.versions.get: metadata, no payload.
    pub(crate) fn get_version(
        &self,
        secret: &str,
        sel: &VersionSel,
        full: &str,
        enc: EnumEncoding,
    ) -> ApiResult<Value> {
        let v = self.version(secret, sel, full)?;
        Ok(Self::version_json(secret, v, enc))
    }

    /// projects.secrets.versions.access: the payload of an ENABLED version, with its name as the
    /// numbered version and `dataCrc32c` (int64, so a JSON string per the proto3 JSON mapping).
    /// A version that is not ENABLED cannot be accessed: FAILED_PRECONDITION.
    pub(crate) fn access(
        &self,
        secret: &str,
        sel: &VersionSel,
        full: &str,
    ) -> ApiResult<(String, Vec<u8>, u32)> {
        let v = self.version(secret, sel, full)?;
        let name = format!("{secret}/versions/{}", v.number);
        if v.state != VersionState::Enabled {
            return Err(ApiError::new(
                "FAILED_PRECONDITION",
                format!("Secret Version [{name}] is in {} state.", v.state.name()),
            ));
        }
        Ok((name, v.data.clone(), v.crc32c))
    }

    /// projects.secrets.versions.list: "sorted in reverse by createTime (newest first)", no payloads.
    pub(crate) fn list_versions(
        &self,
        secret: &str,
        page: &Paging,
        enc: EnumEncoding,
    ) -> ApiResult<Value> {
        let s = self.secret(secret)?;
        let items: Vec<Value> = s
            .versions
            .iter()
            .rev()
            .map(|v| Self::version_json(secret, v, enc))
            .collect();
        let total = items.len();
        page.apply("versions", items, total)
    }

    /// projects.secrets.versions.disable / enable / destroy: state transitions.
    /// disable: "Sets the state of the SecretVersion to DISABLED"; enable: "to ENABLED";
    /// destroy: "to DESTROYED and irrevocably destroys the secret data". A destroyed version
    /// cannot change state again (FAILED_PRECONDITION).
    pub(crate) fn set_state(
        &mut self,
        secret: &str,
        number: u64,
        full: &str,
        to: VersionState,
        enc: EnumEncoding,
    ) -> ApiResult<Value> {
        self.seq += 1;
        let seq = self.seq;
        let s = self.secret_mut(secret)?;
        let v = s
            .versions
            .iter_mut()
            .find(|v| v.number == number)
            .ok_or_else(|| version_not_found(full))?;
        if v.state == VersionState::Destroyed {
            return Err(ApiError::new(
                "FAILED_PRECONDITION",
                format!("Secret Version [{full}] is in DESTROYED state."),
            ));
        }
        v.state = to;
        v.etag = seq;
        if to == VersionState::Destroyed {
            zeroize_vec(&mut v.data);
            v.destroy_time = Some(now());
        }
        let v = &*v;
        Ok(Self::version_json(secret, v, enc))
    }
}

fn zeroize_vec(v: &mut Vec<u8>) {
    v.iter_mut().for_each(|b| *b = 0);
    v.clear();
}

/// pageSize / pageToken of a list call. The token is opaque to clients; here it is the offset.
pub(crate) struct Paging {
    pub size: usize,
    pub offset: usize,
}

impl Paging {
    /// "If set to 0, the server decides the number of results to return. If the number is greater
    /// than 25000, it is capped at 25000." A negative size or a token this server did not issue
    /// is INVALID_ARGUMENT.
    pub(crate) fn parse(page_size: Option<&str>, page_token: Option<&str>) -> ApiResult<Self> {
        let size = match page_size.filter(|s| !s.is_empty()) {
            None => 0,
            Some(s) => s.parse::<i64>().map_err(|_| {
                ApiError::new("INVALID_ARGUMENT", format!("Invalid pageSize [{s}]."))
            })?,
        };
        if size < 0 {
            return Err(ApiError::new(
                "INVALID_ARGUMENT",
                "pageSize must not be negative.",
            ));
        }
        let size = match size as usize {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let offset = match page_token.filter(|t| !t.is_empty()) {
            None => 0,
            Some(t) => t
                .strip_prefix("emu-offset-")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| {
                    ApiError::new("INVALID_ARGUMENT", format!("Invalid page token [{t}]."))
                })?,
        };
        Ok(Self { size, offset })
    }

    /// One page of `items` under `field`, with `nextPageToken` when more remain and `totalSize`.
    fn apply(&self, field: &str, items: Vec<Value>, total: usize) -> ApiResult<Value> {
        let page: Vec<Value> = items
            .into_iter()
            .skip(self.offset)
            .take(self.size)
            .collect();
        let mut m = Map::new();
        let end = self.offset + page.len();
        if !page.is_empty() {
            m.insert(field.into(), Value::Array(page));
        }
        if end < total {
            m.insert("nextPageToken".into(), json!(format!("emu-offset-{end}")));
        }
        m.insert("totalSize".into(), json!(total));
        Ok(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1_735_689_599, 0), "2024-12-31T23:59:59.000000000Z");
    }
}
