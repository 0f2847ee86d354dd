//! The agent's environment: `env mustEnv envOrDefault file`, and consul-template functions
//! envfile refuses because they reach outside the template (`plugin`, `sockaddr`, `spew_*`).

use super::{strs_n, Def};
use crate::limits::MAX_OUTPUT;
use crate::value::Value;
use std::io::Read;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("env", |a| {
        let [k] = strs_n("env", &a)?;
        Ok(Value::str(std::env::var(k).unwrap_or_default()))
    }),
    Def::new("mustEnv", |a| {
        let [k] = strs_n("mustEnv", &a)?;
        match std::env::var(k) {
            Ok(v) if !v.is_empty() => Ok(Value::str(v)),
            _ => Err(format!("required environment variable {k} is empty")),
        }
    }),
    Def::new("envOrDefault", |a| {
        let [k, default] = strs_n("envOrDefault", &a)?;
        Ok(Value::str(
            std::env::var(k).unwrap_or_else(|_| default.to_owned()),
        ))
    }),
    Def::new("file", |a| {
        let [path] = strs_n("file", &a)?;
        read_file(path).map(Value::str)
    }),
];

/// consul-template functions envfile refuses, and why.
const REFUSED: &[(&str, &str)] = &[
    ("plugin", "runs a program"),
    ("sockaddr", "inspects the host's network interfaces"),
    ("spew_dump", "is a debugging aid that prints Go internals"),
    ("spew_sdump", "is a debugging aid that prints Go internals"),
    ("spew_printf", "is a debugging aid that prints Go internals"),
    (
        "spew_sprintf",
        "is a debugging aid that prints Go internals",
    ),
];

/// Why `name` is refused, if it is.
pub(crate) fn refused(name: &str) -> Option<String> {
    REFUSED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, why)| format!("function \"{n}\" is not supported by envfile: it {why}"))
}

/// The file's text, at most the output limit.
fn read_file(path: &str) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("file: {path}: {e}"))?;
    let mut text = String::new();
    f.take(MAX_OUTPUT as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("file: {path}: {e}"))?;
    if text.len() > MAX_OUTPUT {
        return Err(format!(
            "file: {path}: larger than {} MiB",
            MAX_OUTPUT >> 20
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{run, s};

    #[test]
    fn environment_and_files() {
        let path = std::env::var("CARGO_MANIFEST_DIR").unwrap() + "/Cargo.toml";
        assert!(run("file", vec![s(&path)]).contains("envfile-template"));
        assert!(run("file", vec![s("/nonexistent/x")]).starts_with("ERR: file: /nonexistent/x"));
        assert_eq!(run("env", vec![s("ENVFILE_TEMPLATE_SURELY_UNSET")]), "");
        assert_eq!(
            run(
                "envOrDefault",
                vec![s("ENVFILE_TEMPLATE_SURELY_UNSET"), s("d")]
            ),
            "d"
        );
        assert!(run("mustEnv", vec![s("ENVFILE_TEMPLATE_SURELY_UNSET")]).contains("is empty"));
        assert!(super::refused("plugin").unwrap().contains("runs a program"));
    }
}
