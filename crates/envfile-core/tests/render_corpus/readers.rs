//! The real dotenv readers, each run once over a whole rendered file: every python-dotenv
//! release `scripts/test` installs, every npm `dotenv` major, `node --env-file`, and Docker
//! Compose v2. Each returns what it read as name -> bytes in the reader's own order; a reader
//! that fails is reported by exit status and stderr size only (parsers quote the input).

use super::{run_python, unhex};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one reader read: `(name, value)` in the reader's order (`None`: no value).
pub type Read = Vec<(String, Option<Vec<u8>>)>;

fn installed(var: &str) -> Vec<(String, PathBuf)> {
    let list = std::env::var(var).unwrap_or_default();
    let found: Vec<(String, PathBuf)> = list
        .split_whitespace()
        .filter_map(|e| e.split_once('='))
        .map(|(v, p)| (v.to_owned(), PathBuf::from(p)))
        .collect();
    assert!(
        !found.is_empty(),
        "{var} is not set: run these tests through `scripts/test` (scripts/lib/tools.sh \
         ensure_dotenv_readers installs the readers and sets it)"
    );
    found
}

fn tool(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!("{var} is not set: run these tests through `scripts/test`"),
    }
}

/// `(release, dir)` for each python-dotenv release installed side by side.
pub fn python_dotenv_releases() -> Vec<(String, PathBuf)> {
    installed("ENVFILE_TEST_PY_DOTENV")
}

fn pairs(v: &serde_json::Value) -> Read {
    v.as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            (
                p[0].as_str().expect("name").to_owned(),
                p[1].as_str().map(unhex),
            )
        })
        .collect()
}

/// `dotenv_values(file, interpolate=False)` of one python-dotenv release, and whether it
/// complained on stderr (it logs every statement it could not parse).
pub fn python_dotenv(dir: &Path, file: &Path) -> (Read, bool) {
    let script = format!(
        "sys.path.insert(0, {dir:?})\n\
         import dotenv\n\
         assert dotenv.__file__.startswith({dir:?}), dotenv.__file__\n\
         values = dotenv.dotenv_values(sys.argv[1], interpolate=False)\n\
         pairs = [[k, None if v is None else v.encode('utf-8').hex()] for k, v in values.items()]\n\
         json.dump({{'pairs': pairs}}, open(sys.argv[2], 'w'))",
        dir = dir.display().to_string()
    );
    let result = run_python(&script, file);
    (
        pairs(&result["pairs"]),
        result.get("__stderr_bytes__").is_some(),
    )
}

fn run_json(cmd: &mut Command, what: &str) -> serde_json::Value {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}, {} bytes on stderr)",
        out.status,
        out.stderr.len()
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{what} printed no JSON"))
}

/// `require('dotenv').parse(file)` for every installed npm `dotenv` major, in one node process.
pub fn npm_dotenv(file: &Path) -> Vec<(String, Read)> {
    const SCRIPT: &str = "
const fs = require('fs');
const [file, ...majors] = process.argv.slice(1);
const out = {};
for (const m of majors) {
  const [major, dir] = m.split('=');
  const parsed = require(dir).parse(fs.readFileSync(file));
  out[major] = Object.entries(parsed).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('hex')]);
}
process.stdout.write(JSON.stringify(out));";
    let majors = installed("ENVFILE_TEST_NPM_DOTENV");
    let mut cmd = Command::new(tool("ENVFILE_TEST_NODE"));
    cmd.arg("-e").arg(SCRIPT).arg(file);
    for (m, dir) in &majors {
        cmd.arg(format!("{m}={}", dir.display()));
    }
    let result = run_json(&mut cmd, "node (npm dotenv)");
    majors
        .iter()
        .map(|(m, _)| (format!("npm dotenv {m}"), pairs(&result[m])))
        .collect()
}

/// The environment `node --env-file=FILE` starts a script with (nothing else inherited).
pub fn node_env_file(file: &Path) -> Read {
    const SCRIPT: &str = "process.stdout.write(JSON.stringify(Object.entries(process.env)\
        .map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('hex')])))";
    let mut cmd = Command::new(tool("ENVFILE_TEST_NODE"));
    cmd.env_clear()
        .arg(format!("--env-file={}", file.display()))
        .arg("-e")
        .arg(SCRIPT);
    pairs(&run_json(&mut cmd, "node --env-file"))
}

/// The `environment` Docker Compose v2 gives a service whose `env_file` is FILE
/// (`docker-compose config`, which needs no engine). Compose prints a literal `$` as `$$`.
pub fn compose(file: &Path) -> Read {
    let dir = file.parent().expect("file has a directory");
    let project = dir.join("compose.yaml");
    std::fs::write(
        &project,
        format!(
            "services:\n  s:\n    image: scratch\n    env_file: [{:?}]\n",
            file.display().to_string()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(tool("ENVFILE_TEST_COMPOSE"));
    cmd.env_clear()
        .env("HOME", dir)
        .arg("-f")
        .arg(&project)
        .arg("config")
        .arg("--format")
        .arg("json");
    let result = run_json(&mut cmd, "docker-compose config");
    let env = result["services"]["s"]["environment"]
        .as_object()
        .expect("the service has an environment");
    env.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map(|s| s.replace("$$", "$").into_bytes()),
            )
        })
        .collect()
}
