//! `docker`: `NAME=value` lines for `docker run --env-file`.
//!
//! Docker's reader (docker/cli `pkg/kvfile`, formerly `opts/envfile.go`) splits the file into
//! lines with Go's `bufio.Scanner`, drops leading whitespace of the line and lines starting with
//! `#`, and cuts at the first `=`; the rest of the line is the value, byte for byte, trailing
//! whitespace included. There is no quoting and no escaping, so:
//! - a value with LF cannot be written, and neither can CR (the scanner drops a CR before the
//!   line end, and editors and other readers treat a lone CR as a line end);
//! - a line may be at most 65535 bytes plus its newline (`bufio.MaxScanTokenSize` is 64 KiB);
//! - a value that starts and ends with the same quote character is refused: newer docker/cli
//!   code strips such quotes (`trimQuotes`), older releases keep them, so it cannot be written in
//!   a way every docker reads the same.
//!
//! Each of these is an error naming the variable: there is no way to write such a value here.

use super::check::{self, NameRule};
use super::sink;
use super::Format;
use crate::error::Result;
use crate::resolver::Var;
use crate::secret::SecretString;

const FORMAT: Format = Format::Docker;

/// Longest line `bufio.Scanner` returns with its default buffer, newline excluded.
const MAX_LINE: usize = 64 * 1024 - 1;

const HINT: &str = "docker --env-file has no quoting or escaping; use `--format dotenv` with \
                    docker compose `env_file`, run the app under `envfile exec`, or store the \
                    value base64-encoded";

pub(super) fn render(vars: &[Var]) -> Result<SecretString> {
    let mut items = Vec::with_capacity(vars.len());
    for var in vars {
        check::name(FORMAT, &var.name, NameRule::Dotted)?;
        let value = check::text(FORMAT, var)?;
        check::no_nul(FORMAT, &var.name, value)?;
        if let Some(at) = value.find(['\n', '\r']) {
            let what = if value.as_bytes()[at] == b'\n' {
                "a newline"
            } else {
                "a carriage return"
            };
            return Err(check::unrepresentable(FORMAT, &var.name, what, at, HINT));
        }
        let bytes = value.as_bytes();
        if bytes.len() >= 2
            && matches!(bytes[0], b'"' | b'\'')
            && bytes[0] == bytes[bytes.len() - 1]
        {
            return Err(check::unrepresentable(
                FORMAT,
                &var.name,
                "matching quotes around the whole value, which some docker versions strip",
                0,
                HINT,
            ));
        }
        let line = var.name.len() + 1 + value.len();
        if line > MAX_LINE {
            return Err(check::unrepresentable(
                FORMAT,
                &var.name,
                &format!(
                    "too much for one line: {line} bytes with its name, docker reads at most {MAX_LINE}"
                ),
                MAX_LINE.saturating_sub(var.name.len() + 1),
                HINT,
            ));
        }
        items.push((var.name.as_str(), value));
    }
    Ok(sink::build(|out| {
        for (name, value) in &items {
            out.text(name);
            out.text("=");
            out.text(value);
            out.text("\n");
        }
    }))
}
