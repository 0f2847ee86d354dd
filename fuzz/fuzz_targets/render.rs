//! The renderers. Property: for every format, what the renderer writes, that format's reader
//! reads back as exactly the variables given (names and values, in order where the format has
//! one), or the renderer refuses it with an error that does not contain a value.
//!
//! Readers: `dotenv` — the python-dotenv reader `envfile import` uses; `json` — serde_json;
//! `yaml`/`k8s-secret` — yaml-rust2 (a YAML 1.2 reader, independent of the renderer);
//! `shell`/`systemd`/`docker` — the strict readers in `envfile_fuzz::readers`; `dotenv-node`
//! and `dotenv-compose` — models of npm dotenv + `node --env-file` and of compose-go in
//! `envfile_fuzz::readers` (JavaScript and Go programs, which cannot run per input).
#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use envfile_core::{render, Format, RenderOptions, SecretValue, Var};
use envfile_fuzz::{dotenv_read, readers};
use libfuzzer_sys::fuzz_target;
use yaml_rust2::{Yaml, YamlLoader};

#[derive(Arbitrary, Debug)]
struct Input {
    format: u8,
    vars: Vec<(Name, Vec<u8>)>,
    name: Option<String>,
    namespace: Option<String>,
}

/// Mostly names a format accepts (so values get exercised), sometimes anything.
#[derive(Arbitrary, Debug)]
enum Name {
    Plain(Vec<u8>),
    Any(String),
}

impl Name {
    fn text(&self) -> String {
        match self {
            Name::Plain(b) if b.is_empty() => "A".into(),
            Name::Plain(b) => {
                const ALPHA: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789.-";
                let mut s: String = b
                    .iter()
                    .map(|c| ALPHA[*c as usize % ALPHA.len()] as char)
                    .collect();
                if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                    s.insert(0, 'V');
                }
                s
            }
            Name::Any(s) => s.clone(),
        }
    }
}

fuzz_target!(|input: Input| {
    let format = Format::ALL[input.format as usize % Format::ALL.len()];
    let vars: Vec<Var> = input
        .vars
        .iter()
        .map(|(n, v)| Var {
            name: n.text(),
            value: SecretValue::new(v.clone()),
        })
        .collect();
    let opts = RenderOptions {
        name: input.name.clone(),
        namespace: input.namespace.clone(),
    };
    let (out, _warnings) = match render(format, &vars, &opts) {
        Ok(r) => r,
        Err(e) => {
            let mut shown = format!("{e} {}", e.hint().unwrap_or_default());
            // A name (a variable's, the Secret's, its namespace's) is shown escaped, cut short and
            // between backticks: take each name out of the message first, so a value that merely
            // continues a name into its closing backtick (`aaa` + "`") is not taken for a quoted
            // value.
            let names = vars.iter().map(|v| v.name.as_str());
            let meta = [&input.name, &input.namespace].into_iter().flatten();
            for n in names.chain(meta.map(String::as_str)) {
                shown = shown.replace(
                    &format!("`{}`", envfile_core::render::shown_name(n)),
                    "`NAME`",
                );
            }
            // Errors name variables (shortened and escaped), so only a value that is no part of
            // a name (or of the Secret's name/namespace) counts as quoted, as written or as
            // escaped in the message (`\0` for NUL: a value `0qqq` is then part of a name).
            let has = |n: &str, t: &str| {
                n.contains(t)
                    || n.escape_debug().to_string().contains(t)
                    || n.escape_default().to_string().contains(t)
            };
            let named = |t: &str| {
                vars.iter().any(|v| has(&v.name, t))
                    || [&input.name, &input.namespace]
                        .into_iter()
                        .flatten()
                        .any(|n| has(n, t))
            };
            for v in &vars {
                if let Some(text) = v.value.expose_str() {
                    if text.len() >= 8 && !named(text) {
                        assert!(
                            !shown.contains(text),
                            "{format}: the error quotes a value: {shown}"
                        );
                    }
                }
            }
            return;
        }
    };
    let text = out.expose();
    let expected: Vec<(String, Vec<u8>)> = vars
        .iter()
        .map(|v| (v.name.clone(), v.value.expose_bytes().to_vec()))
        .collect();
    let read: Vec<(String, Vec<u8>)> = match format {
        Format::Dotenv => dotenv_read::parse(text, "fuzz.env")
            .unwrap_or_else(|e| panic!("dotenv output does not read back: {e}\n{text}"))
            .into_iter()
            .map(|b| {
                let v = b.value.expect("every rendered line has a value");
                (b.key, v.expose_bytes().to_vec())
            })
            .collect(),
        Format::Shell => bytes(readers::shell(text)),
        Format::Systemd => bytes(readers::systemd(text)),
        Format::Docker => bytes(readers::docker(text)),
        // Models of npm dotenv + `node --env-file` and of compose-go (see `readers`): neither
        // reader can run in-process per input. The renderer's own tests and tests/ compare
        // with the real programs.
        Format::DotenvNode => bytes(readers::dotenv_node(text)),
        Format::DotenvCompose => bytes(readers::dotenv_compose(text)),
        Format::Json => {
            let v: serde_json::Value = serde_json::from_str(text).expect("json output is JSON");
            let obj = v.as_object().expect("json output is an object");
            let mut got: Vec<(String, Vec<u8>)> = obj
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().expect("string values").as_bytes().to_vec(),
                    )
                })
                .collect();
            got.sort();
            let mut want = expected.clone();
            want.sort();
            assert_eq!(got, want, "json round trip\n{text}");
            return;
        }
        Format::Yaml => {
            let docs =
                YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("yaml: {e}\n{text}"));
            assert_eq!(docs.len(), 1, "{text}");
            yaml_pairs(&docs[0], text)
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect()
        }
        Format::K8sSecret => {
            let docs =
                YamlLoader::load_from_str(text).unwrap_or_else(|e| panic!("k8s: {e}\n{text}"));
            assert_eq!(docs.len(), 1, "{text}");
            let doc = &docs[0];
            assert_eq!(doc["kind"].as_str(), Some("Secret"), "{text}");
            assert_eq!(
                doc["metadata"]["name"].as_str(),
                input.name.as_deref(),
                "{text}"
            );
            assert_eq!(
                doc["metadata"]["namespace"].as_str(),
                input.namespace.as_deref(),
                "{text}"
            );
            yaml_pairs(&doc["data"], text)
                .into_iter()
                .map(|(k, v)| {
                    let b = base64::engine::general_purpose::STANDARD
                        .decode(&v)
                        .unwrap_or_else(|e| panic!("k8s data is not base64: {e}\n{text}"));
                    (k, b)
                })
                .collect()
        }
    };
    assert_eq!(read, expected, "{format} round trip\n{text}");
});

fn bytes(pairs: Option<Vec<(String, String)>>) -> Vec<(String, Vec<u8>)> {
    pairs
        .expect("the output does not read back")
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect()
}

fn yaml_pairs(y: &Yaml, text: &str) -> Vec<(String, String)> {
    let map = y
        .as_hash()
        .unwrap_or_else(|| panic!("not a mapping: {y:?}\n{text}"));
    map.iter()
        .map(|(k, v)| {
            let k = k
                .as_str()
                .unwrap_or_else(|| panic!("key {k:?} is not a string\n{text}"));
            let v = v
                .as_str()
                .unwrap_or_else(|| panic!("value {v:?} is not a string\n{text}"));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}
