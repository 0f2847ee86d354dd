//! The `.env` reader against every python-dotenv release `scripts/test` installs, on ~1,500
//! generated hostile inputs (Unicode whitespace, quotes, backslashes, `#`, CR/LF, `export`,
//! quoted keys). Each release reads all inputs in one Python process through its own
//! `parse_stream`, as `dotenv_values` does. For each input: when every release reads it alike
//! and without a parse error, ours must give exactly those bindings; otherwise ours must refuse
//! it (an import must neither drop a line nor guess which release the application runs).

use super::parse;
use std::path::PathBuf;
use std::process::Command;

const TOKENS: &[&str] = &[
    "A", "B", "KEY", "export", " ", "  ", "\t", "\u{b}", "\u{c}", "\u{a0}", "\u{85}", "\u{2028}",
    "\u{3000}", "\u{1c}", "\u{1f}", "\u{200b}", "\u{feff}", "=", "#", " #", "'", "\"", "\\",
    "\\\\", "\\'", "\\\"", "\\n", "\n", "\r", "\r\n", "x", "é", "😀", "$", "${A}", ":",
];
const LEADS: &[&str] = &[
    "A=",
    "A =",
    "A= ",
    "export A=",
    "export\tA=",
    "'A'=",
    "\"A\"=",
    "'A' = ",
    "A",
    "# c\nA=",
    "B=1\nA=",
    "A=\"",
    "A='",
    "A= '",
    "A=\"x\\\\\"",
    "",
];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn inputs() -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    while out.len() < 1500 {
        let mut s = String::from(LEADS[rng.next(LEADS.len())]);
        for _ in 0..rng.next(9) {
            s.push_str(TOKENS[rng.next(TOKENS.len())]);
        }
        if rng.next(3) == 0 {
            s.push_str(["\nB=", "\nB='y'", "\nC=\"z\"", "\n"][rng.next(4)]);
            for _ in 0..rng.next(4) {
                s.push_str(TOKENS[rng.next(TOKENS.len())]);
            }
        }
        // A leading BOM is where releases differ on purpose (1.2.3+ drop it, earlier keep it in
        // the key) and ours drops it: tested on its own.
        if !s.starts_with('\u{feff}') {
            out.push(s);
        }
    }
    out
}

const SCRIPT: &str = "
import json, sys
sys.path.insert(0, sys.argv[1])
from dotenv.parser import parse_stream
import dotenv
assert dotenv.__file__.startswith(sys.argv[1]), dotenv.__file__
out = []
for path in json.load(open(sys.argv[2])):
    with open(path, encoding='utf-8') as f:
        bs = list(parse_stream(f))
    out.append({'error': any(b.error for b in bs),
                'pairs': [[b.key.encode('utf-8').hex(), None if b.value is None else b.value.encode('utf-8').hex()]
                          for b in bs if b.key is not None]})
json.dump(out, open(sys.argv[3], 'w'))
";

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn reads_like_every_python_dotenv_release_or_refuses_where_they_disagree() {
    let python = std::env::var("ENVFILE_TEST_PYTHON").unwrap_or_default();
    let releases = std::env::var("ENVFILE_TEST_PY_DOTENV").unwrap_or_default();
    assert!(
        !python.is_empty() && !releases.is_empty(),
        "ENVFILE_TEST_PYTHON / ENVFILE_TEST_PY_DOTENV are not set: run through `scripts/test` \
         (scripts/lib/tools.sh installs the python-dotenv releases)"
    );
    let inputs = inputs();
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let p = dir.path().join(format!("{i}.env"));
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(&manifest, serde_json::to_string(&paths).unwrap()).unwrap();

    let mut per_release = Vec::new();
    for entry in releases.split_whitespace() {
        let (release, rdir) = entry.split_once('=').expect("RELEASE=DIR");
        let out = dir.path().join(format!("{release}.json"));
        let status = Command::new(&python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(rdir)
            .arg(&manifest)
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run python");
        assert!(status.success(), "python-dotenv {release} failed");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        per_release.push((release.to_owned(), v));
    }

    let (mut agreed, mut refused, mut problems) = (0, 0, Vec::new());
    for (i, text) in inputs.iter().enumerate() {
        let first = &per_release[0].1[i];
        let alike = per_release.iter().all(|(_, v)| v[i] == *first);
        let ours = parse(text, "t.env");
        if alike && first["error"] == false {
            agreed += 1;
            let want = &first["pairs"];
            match ours {
                Ok(bindings) => {
                    let got: Vec<serde_json::Value> = bindings
                        .iter()
                        .map(|b| {
                            serde_json::json!([
                                hex(&b.key),
                                b.value.as_ref().map(|v| hex(v.expose_str().unwrap()))
                            ])
                        })
                        .collect();
                    if serde_json::Value::from(got) != *want {
                        problems.push(format!("{text:?}: read differently"));
                    }
                }
                Err(e) => problems.push(format!("{text:?}: refused ({e})")),
            }
        } else {
            refused += 1;
            if ours.is_ok() {
                let how: Vec<String> = per_release
                    .iter()
                    .map(|(r, v)| format!("{r}: error={}", v[i]["error"]))
                    .collect();
                problems.push(format!(
                    "{text:?}: accepted, but releases {} ({})",
                    if alike {
                        "report a parse error"
                    } else {
                        "disagree"
                    },
                    how.join(", ")
                ));
            }
        }
    }
    eprintln!(
        "{} inputs: {agreed} read alike by every release, {refused} refused",
        inputs.len()
    );
    assert!(
        problems.is_empty(),
        "{} of {} inputs differ:\n  {}",
        problems.len(),
        inputs.len(),
        problems[..problems.len().min(15)].join("\n  ")
    );
    assert!(
        agreed > inputs.len() / 3,
        "too few readable inputs to mean anything"
    );
}
