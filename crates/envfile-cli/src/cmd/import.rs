//! `envfile import FILE.env --to BACKEND:PREFIX/`: move a `.env` file into a backend.
//!
//! Shows a plan first (create / update / unchanged per secret, never a value) and writes only
//! with `--apply`. Each key becomes the secret `PREFIX` + `KEY`, or with `--as-json NAME` every
//! key goes into one JSON secret `PREFIX` + `NAME` (the credentials + config layout of the
//! migration spec: import one file per secret, then `expand` them in the config).

use crate::context::GlobalArgs;
use crate::dotenv_read;
use crate::exit::Failure;
use crate::progress::Progress;
use envfile_core::{Backend, Error, ErrorKind, Locator, PutOutcome, SecretJson, SecretValue};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `envfile import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  envfile import .env --to aws:afu9/prod/            # plan: one secret per key
  envfile import .env --to aws:afu9/prod/ --apply    # write
  envfile import creds.env --to aws:benchling-webhook/ --as-json credentials --apply")]
pub struct Args {
    /// The `.env` file to read (python-dotenv syntax, no interpolation).
    #[arg(value_name = "FILE.env")]
    pub file: PathBuf,
    /// Where to write: a backend name from the config, `:`, and a secret name prefix.
    #[arg(long, value_name = "BACKEND:PREFIX")]
    pub to: String,
    /// Store every key in one JSON secret named PREFIX + NAME instead of one secret per key.
    #[arg(long, value_name = "NAME")]
    pub as_json: Option<String>,
    /// Write the plan; without it nothing is written.
    #[arg(long)]
    pub apply: bool,
}

/// What the plan does to one secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    Update,
    Unchanged,
}

impl Step {
    fn word(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Update => "update",
            Step::Unchanged => "unchanged",
        }
    }
}

/// Run `envfile import`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let (backend_name, prefix) = args.to.split_once(':').ok_or_else(|| {
        Error::config(format!("--to `{}`: expected BACKEND:PREFIX", args.to))
            .with_hint("for example `--to aws:myapp/prod/` (the prefix may be empty: `--to aws:`)")
    })?;
    let what = args.file.display().to_string();
    let text = std::fs::read(&args.file).map_err(|e| {
        Error::from(e)
            .with_reference(what.clone())
            .with_hint("pass the path of a .env file")
    })?;
    let text = zeroize_string(text, &what)?;
    let bindings = dotenv_read::parse(&text, &what)?;
    drop(text);

    let mut items: Vec<(String, SecretValue)> = Vec::new();
    // Key -> index in `items`: a file with many keys must not make this quadratic.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for b in bindings {
        let Some(value) = b.value else {
            eprintln!(
                "envfile: warning: {what}: line {}: `{}` has no `=value`: skipped",
                b.line, b.key
            );
            continue;
        };
        if let Some(&at) = seen.get(&b.key) {
            eprintln!(
                "envfile: warning: {what}: line {}: `{}` is set again; the last value wins",
                b.line, b.key
            );
            items[at].1 = value;
        } else {
            seen.insert(b.key.clone(), items.len());
            items.push((b.key, value));
        }
    }
    if items.is_empty() {
        return Err(Error::config(format!("{what}: no KEY=value lines to import")).into());
    }
    let targets: Vec<(String, SecretValue, bool)> = match &args.as_json {
        None => items
            .into_iter()
            .map(|(k, v)| (format!("{prefix}{k}"), v, false))
            .collect(),
        Some(name) => {
            let mut map = serde_json::Map::new();
            for (k, v) in &items {
                let s = v.expose_str().ok_or_else(|| {
                    Error::new(
                        ErrorKind::NotUtf8,
                        format!("{what}: the value of `{k}` is not UTF-8"),
                    )
                })?;
                map.insert(k.clone(), serde_json::Value::String(s.to_owned()));
            }
            let json = SecretJson::from_value(serde_json::Value::Object(map));
            let text = serde_json::to_string(json.expose())
                .map_err(|_| Error::new(ErrorKind::Other, "JSON encoding failed"))?;
            vec![(
                format!("{prefix}{name}"),
                SecretValue::from_string(text),
                true,
            )]
        }
    };

    let cfg = global.load_config()?;
    let backends = crate::wiring::build_backends(&cfg).await?;
    let backend: Arc<dyn Backend> =
        backends.select(&envfile_core::BackendSel::Named(backend_name.to_owned()))?;
    if !backend.capabilities().write {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "backend `{backend_name}` (kind `{}`) cannot write secrets",
                backend.kind()
            ),
        )
        .into());
    }
    if backend.capabilities().json_only && args.as_json.is_none() {
        // Refused at plan time: a plan of one secret per key could never be applied.
        return Err(Error::new(
            ErrorKind::NotJson,
            format!(
                "backend `{backend_name}` (kind `{}`) stores each secret as a JSON object, \
                 not one value per key",
                backend.kind()
            ),
        )
        .with_hint(format!(
            "add `--as-json NAME` to store every key of the file in one secret \
             `{prefix}NAME` (read keys back as `{backend_name}:{prefix}NAME#KEY`)"
        ))
        .into());
    }

    refuse_empty_values(backend.as_ref(), backend_name, &targets)?;

    let mut plan = Vec::with_capacity(targets.len());
    let mut progress = Progress::stderr("comparing", "secrets", targets.len());
    progress.show();
    for (path, value, is_json) in &targets {
        let step = match backend.get(&Locator::new(path)).await {
            Ok(cur) if same(&cur.value, value, *is_json) => Step::Unchanged,
            Ok(_) => Step::Update,
            Err(e)
                if e.kind() == ErrorKind::NotFound
                    && !e.message().contains("scheduled for deletion") =>
            {
                Step::Create
            }
            Err(e) => return Err(e.or_reference(path.clone()).into()),
        };
        plan.push(step);
        progress.step();
    }
    drop(progress);

    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::from(Error::from(e));
    writeln!(
        out,
        "{} `{what}` into backend `{backend_name}`:",
        if args.apply {
            "importing"
        } else {
            "plan for importing"
        }
    )
    .map_err(io)?;
    let mut counts = [0usize; 3];
    let writes = plan.iter().filter(|s| **s != Step::Unchanged).count();
    let mut progress = Progress::stderr("writing", "secrets", if args.apply { writes } else { 0 });
    for ((path, value, _), step) in targets.iter().zip(&plan) {
        let word = if args.apply && *step != Step::Unchanged {
            let done = backend
                .put(path, value)
                .await
                .map_err(|e| e.or_reference(path.clone()))?;
            if value.is_empty() {
                check_empty_stored(backend.as_ref(), backend_name, path).await?;
            }
            progress.step();
            match done {
                PutOutcome::Created => "created",
                PutOutcome::Updated => "updated",
                PutOutcome::Unchanged => "unchanged",
            }
        } else {
            step.word()
        };
        counts[*step as usize] += 1;
        // The line goes to stdout, which may be the same terminal: erase the counter first
        // (the next step draws it again).
        progress.clear();
        writeln!(out, "  {word:<10} {path}").map_err(io)?;
        progress.show();
    }
    let [c, u, n] = counts;
    if args.apply {
        writeln!(
            out,
            "{} secret(s): {c} created, {u} updated, {n} unchanged.",
            targets.len()
        )
        .map_err(io)?;
    } else {
        writeln!(
            out,
            "{} secret(s): {c} to create, {u} to update, {n} unchanged. Nothing was written: run again with --apply.",
            targets.len()
        )
        .map_err(io)?;
    }
    Ok(())
}

/// Backends that cannot hold an empty value, refused before anything is written: AWS Secrets
/// Manager needs a non-empty SecretString (moto, which emulates it, creates the secret with no
/// version at all, so the next plan would want to create it again).
fn refuse_empty_values(
    backend: &dyn Backend,
    backend_name: &str,
    targets: &[(String, SecretValue, bool)],
) -> Result<(), Error> {
    if backend.kind() != "aws" {
        return Ok(());
    }
    let empty: Vec<&str> = targets
        .iter()
        .filter(|(_, v, json)| !json && v.is_empty())
        .map(|(path, _, _)| path.as_str())
        .collect();
    if empty.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Unsupported,
        format!(
            "backend `{backend_name}` (kind `aws`) cannot store an empty value (AWS Secrets \
             Manager needs a non-empty SecretString), and {} key(s) of the file are empty: `{}`",
            empty.len(),
            empty.join("`, `")
        ),
    )
    .with_hint(
        "give those keys a value or remove their lines, or add `--as-json NAME` to store every \
         key in one JSON secret (which holds empty strings)",
    ))
}

/// After writing an empty value, read it back: a backend that accepted the write but holds
/// nothing readable as empty must not be reported as `created`.
async fn check_empty_stored(
    backend: &dyn Backend,
    backend_name: &str,
    path: &str,
) -> Result<(), Error> {
    match backend.get(&Locator::new(path)).await {
        Ok(cur) if cur.value.is_empty() => Ok(()),
        _ => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "`{path}`: backend `{backend_name}` (kind `{}`) accepted an empty value but \
                 does not read it back as empty",
                backend.kind()
            ),
        )
        .with_reference(path)
        .with_hint(
            "give the key a value, or add `--as-json NAME` to store the file as one JSON secret",
        )),
    }
}

/// JSON secrets compare as JSON (a backend may reformat them); others byte for byte.
fn same(current: &SecretValue, new: &SecretValue, json: bool) -> bool {
    if json {
        if let (Ok(a), Ok(b)) = (current.parse_json(), new.parse_json()) {
            return a == b;
        }
    }
    current == new
}

fn zeroize_string(bytes: Vec<u8>, what: &str) -> Result<zeroize_wrapper::Text, Error> {
    zeroize_wrapper::Text::new(bytes)
        .ok_or_else(|| Error::new(ErrorKind::NotUtf8, format!("{what}: the file is not UTF-8")))
}

/// The file's text, wiped when dropped (it holds every value).
mod zeroize_wrapper {
    use envfile_core::SecretValue;

    pub struct Text(SecretValue);

    impl Text {
        pub fn new(bytes: Vec<u8>) -> Option<Self> {
            let v = SecretValue::new(bytes);
            v.expose_str().is_some().then_some(Text(v))
        }
    }

    impl std::ops::Deref for Text {
        type Target = str;
        fn deref(&self) -> &str {
            self.0.expose_str().unwrap_or_default()
        }
    }
}
