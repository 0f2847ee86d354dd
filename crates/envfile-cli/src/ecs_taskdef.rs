//! `envfile render --from-ecs-task-definition taskdef.json`: what an ECS task would see.
//!
//! Reads a task definition (the JSON registered with ECS, or `aws ecs describe-task-definition`
//! output with its `taskDefinition` wrapper) and turns one container's `secrets`
//! (`name` + `valueFrom`) into references and its `environment` (`name` + `value`) into literals:
//! an env file spec the resolver renders like any other. `valueFrom` strings are taken verbatim;
//! the reference parser reads the ECS ARN forms (`…:secret:NAME[:json-key:stage:version-id]`,
//! `…:parameter/NAME`); a bare `valueFrom` is a parameter name, read by the backend named `ssm`.

use envfile_core::config::{EnvfileSpec, VarSource};
use envfile_core::Error;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::marker::PhantomData;
use std::path::Path;

/// A JSON object, and only that. serde's derive also reads a struct from an array of its fields
/// in order (`["web"]` as a container named `web`), which no ECS task definition is: such an
/// input is refused, as ECS refuses it. Found by the `ecs_taskdef` fuzz target.
struct Obj<T>(T);

impl<T> std::ops::Deref for Obj<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyMap<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMap<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                let name = std::any::type_name::<T>();
                write!(f, "struct {}", name.rsplit("::").next().unwrap_or(name))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMap(PhantomData)).map(Obj)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wrapper {
    task_definition: Option<Obj<TaskDef>>,
    #[serde(default)]
    container_definitions: Vec<Obj<Container>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskDef {
    #[serde(default)]
    container_definitions: Vec<Obj<Container>>,
}

#[derive(Deserialize)]
struct Container {
    name: Option<String>,
    #[serde(default)]
    secrets: Vec<Obj<SecretRef>>,
    #[serde(default)]
    environment: Vec<Obj<EnvVar>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretRef {
    name: String,
    value_from: String,
}

#[derive(Deserialize)]
struct EnvVar {
    name: String,
    value: String,
}

/// Build the env file spec of `container` (or of the only container) in the task definition at
/// `path`. Every secret becomes `required`, as ECS refuses to start a task with one missing.
pub fn load(path: &Path, container: Option<&str>) -> Result<(String, EnvfileSpec), Error> {
    let what = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| Error::from(e).with_reference(what.clone()))?;
    parse(&text, &what, container)
}

/// [`load`] on the file's bytes; `what` names the file in errors. Errors never quote an
/// `environment` value or a `valueFrom`: people do put secrets there.
pub fn parse(
    text: &[u8],
    what: &str,
    container: Option<&str>,
) -> Result<(String, EnvfileSpec), Error> {
    let Obj(w): Obj<Wrapper> = serde_json::from_slice(text).map_err(|e| {
        Error::config(format!(
            "{what}: not an ECS task definition: {}",
            json_problem(&e)
        ))
        .with_hint("pass the JSON of `aws ecs describe-task-definition --task-definition NAME` or the file you register")
    })?;
    let containers: Vec<Container> = match w.task_definition {
        Some(Obj(td)) => td.container_definitions,
        None => w.container_definitions,
    }
    .into_iter()
    .map(|Obj(c)| c)
    .collect();
    let names = || {
        containers
            .iter()
            .map(|c| c.name.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match container {
        Some(n) => containers
            .iter()
            .find(|c| c.name.as_deref() == Some(n))
            .ok_or_else(|| {
                Error::config(format!("{what}: no container named `{n}`"))
                    .with_hint(format!("containers: {}", names()))
            })?,
        None => match containers.as_slice() {
            [one] => one,
            [] => {
                return Err(Error::config(format!(
                    "{what}: `containerDefinitions` is empty or missing"
                )))
            }
            _ => {
                return Err(Error::config(format!(
                    "{what}: the task has {} containers: pick one",
                    containers.len()
                ))
                .with_hint(format!("pass --container NAME, one of: {}", names())))
            }
        },
    };
    let mut spec = EnvfileSpec::default();
    for e in &chosen.environment {
        spec.vars.insert(
            e.name.clone(),
            VarSource::Literal {
                value: e.value.clone(),
            },
        );
    }
    for s in &chosen.secrets {
        // ECS takes a Secrets Manager ARN, an SSM parameter ARN, or (for a parameter in the
        // task's region) a bare parameter name.
        let reference = match s.value_from.split(':').nth(2) {
            _ if s.value_from.is_empty() => {
                return Err(Error::config(format!(
                    "{what}: secret `{}` has an empty valueFrom",
                    s.name
                )))
            }
            Some("secretsmanager") | Some("ssm") if s.value_from.starts_with("arn:") => {
                s.value_from.clone()
            }
            _ if s.value_from.starts_with("arn:") => {
                // The `valueFrom` is not quoted: a value pasted where the ARN belongs is a secret.
                return Err(Error::config(format!(
                    "{what}: secret `{}`: its `valueFrom` is neither a Secrets Manager nor an SSM parameter ARN",
                    s.name
                ))
                .with_hint("ECS valueFrom takes `arn:aws:secretsmanager:…`, `arn:aws:ssm:…:parameter/…` or a parameter name"));
            }
            // A bare name is an SSM parameter of the task's region: the backend named `ssm`.
            _ => format!("ssm:{}", s.value_from),
        };
        // ECS gives `secrets` precedence over `environment` for the same name.
        spec.vars.insert(s.name.clone(), VarSource::Ref(reference));
        spec.required.push(s.name.clone());
    }
    Ok((chosen.name.clone().unwrap_or_else(|| "task".into()), spec))
}

/// serde_json's message without the input it may quote: `invalid type: string "hunter2",
/// expected a sequence at line 1 column 9` keeps its kinds and position, loses the value.
fn json_problem(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(lead) {
            // `rest` is `UNEXPECTED, expected WHAT at line L column C`; UNEXPECTED may be a
            // quoted value holding anything, but the last `, expected ` is serde's own.
            let found = rest.split(['"', '`', ',']).next().unwrap_or("").trim();
            let expected = rest.rsplit_once(", expected ").map_or("", |(_, x)| x);
            return format!(
                "{}: found {found}, expected {expected}",
                lead.trim_end_matches(": ")
            );
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_secrets_and_environment_of_the_container() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("td.json");
        std::fs::write(
            &p,
            r#"{"taskDefinition":{"containerDefinitions":[{"name":"app",
              "environment":[{"name":"LOG_LEVEL","value":"INFO"}],
              "secrets":[{"name":"GITHUB_TOKEN","valueFrom":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/github:token::"},
                {"name":"DB_PASSWORD","valueFrom":"arn:aws:ssm:eu-central-1:123456789012:parameter/app/db"},
                {"name":"API_KEY","valueFrom":"/app/api_key"}]}]}}"#,
        )
        .unwrap();
        let (name, spec) = load(&p, None).unwrap();
        assert_eq!(name, "app");
        assert_eq!(spec.required, ["GITHUB_TOKEN", "DB_PASSWORD", "API_KEY"]);
        assert!(
            matches!(spec.vars.get("DB_PASSWORD"), Some(VarSource::Ref(r)) if r.starts_with("arn:aws:ssm:"))
        );
        assert!(
            matches!(spec.vars.get("API_KEY"), Some(VarSource::Ref(r)) if r == "ssm:/app/api_key")
        );
        assert!(
            matches!(spec.vars.get("LOG_LEVEL"), Some(VarSource::Literal { value }) if value == "INFO")
        );
        assert!(
            matches!(spec.vars.get("GITHUB_TOKEN"), Some(VarSource::Ref(r)) if r.ends_with("afu9/github:token::"))
        );
        assert!(load(&p, Some("web"))
            .unwrap_err()
            .hint()
            .unwrap()
            .contains("app"));
    }

    /// Found by the `ecs_taskdef` fuzz target: serde's message quoted a string that sat where
    /// a list or object belongs, and a bad `valueFrom` was quoted in full.
    #[test]
    fn errors_never_quote_values() {
        let canary = "hunter2-canary-value";
        for text in [
            format!(r#"{{"containerDefinitions":[{{"environment":["{canary}"]}}]}}"#),
            format!(r#"{{"containerDefinitions":[{{"secrets":"{canary}"}}]}}"#),
            format!(
                r#"{{"containerDefinitions":[{{"environment":[{{"name":"A","value":"{canary}","x":[1,]}}]}}]}}"#
            ),
            // A bare name is an SSM parameter (ECS takes those), so the bad `valueFrom` here is
            // an ARN of another service.
            format!(
                r#"{{"containerDefinitions":[{{"secrets":[{{"name":"A","valueFrom":"arn:aws:s3:::{canary}"}}]}}]}}"#
            ),
        ] {
            let e = parse(text.as_bytes(), "td.json", None).unwrap_err();
            let shown = format!("{e} {}", e.hint().unwrap_or_default());
            assert!(!shown.contains(canary), "{shown}");
            assert!(shown.contains("td.json"), "{shown}");
        }
        let e = parse(
            format!(r#"{{"containerDefinitions":[{{"environment":["{canary}"]}}]}}"#).as_bytes(),
            "td.json",
            None,
        )
        .unwrap_err();
        assert!(
            e.message().contains("found string, expected struct EnvVar"),
            "{e}"
        );
    }

    /// serde's derive reads a struct from an array of its fields; ECS does not, so neither may
    /// envfile (the fuzz target's input: a container `["hunalue}"]` was read as one named so).
    #[test]
    fn arrays_are_not_objects() {
        for text in [
            r#"{"containerDefinitions":[["hunalue}"]]}"#,
            r#"{"containerDefinitions":[{"name":"a","secrets":[["X","ssm:p"]]}]}"#,
            r#"{"containerDefinitions":[{"name":"a","environment":[["X","v"]]}]}"#,
            r#"{"taskDefinition":[[]]}"#,
            r#"[[]]"#,
        ] {
            let e = parse(text.as_bytes(), "td.json", None).unwrap_err();
            assert!(e.message().contains("expected struct"), "{text}: {e}");
        }
    }
}
