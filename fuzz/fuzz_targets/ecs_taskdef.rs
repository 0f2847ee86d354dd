//! The ECS task-definition reader. Property: never panics; on success every `secrets` entry of
//! the chosen container is a required reference (secrets win over `environment`): a Secrets
//! Manager or SSM parameter ARN verbatim, any other `valueFrom` a parameter name of the task's
//! region, `ssm:NAME` (as ECS reads it); every other `environment` entry a literal; on failure the error quotes no
//! `value` and no `valueFrom` (people paste secrets into both).
#![no_main]

use envfile_core::config::VarSource;
use envfile_fuzz::ecs_taskdef;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The first byte picks `--container`: none, or the name of the first container.
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    // Task definitions are UTF-8 JSON (serde skips unknown keys without checking their UTF-8).
    if std::str::from_utf8(text).is_err() {
        return;
    }
    let json: Option<Value> = serde_json::from_slice(text).ok();
    let containers: Vec<Value> = json
        .as_ref()
        .and_then(|j| {
            j.get("taskDefinition")
                .and_then(|t| t.get("containerDefinitions"))
                .or_else(|| j.get("containerDefinitions"))
        })
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let first_name = containers
        .first()
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let container = if pick % 2 == 1 {
        first_name.as_deref()
    } else {
        None
    };
    match ecs_taskdef::parse(text, "td.json", container) {
        // serde_json's tree refuses what the typed reader skips unread (a number out of range
        // under an unknown key): nothing to compare with then.
        Ok(_) if json.is_none() => {}
        Ok((name, spec)) => {
            let c = containers
                .iter()
                .find(|c| match container {
                    Some(n) => c.get("name").and_then(Value::as_str) == Some(n),
                    None => true,
                })
                .expect("the chosen container is in the input");
            assert_eq!(
                name,
                c.get("name").and_then(Value::as_str).unwrap_or("task")
            );
            let entries = |key: &str, field: &str| -> Vec<(String, String)> {
                c.get(key)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|e| {
                                (
                                    e["name"].as_str().unwrap().to_owned(),
                                    e[field].as_str().unwrap().to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let secrets = entries("secrets", "valueFrom");
            let env = entries("environment", "value");
            let required: Vec<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(spec.required, required);
            for (n, _) in &env {
                if !secrets.iter().any(|(s, _)| s == n) {
                    let last = env.iter().rev().find(|(m, _)| m == n).unwrap();
                    assert_eq!(
                        spec.vars.get(n),
                        Some(&VarSource::Literal {
                            value: last.1.clone()
                        })
                    );
                }
            }
            for (n, _) in &secrets {
                let last = secrets.iter().rev().find(|(m, _)| m == n).unwrap();
                let from = &last.1;
                let arn_service = from.split(':').nth(2);
                let want = if from.starts_with("arn:") {
                    assert!(
                        matches!(arn_service, Some("secretsmanager" | "ssm")),
                        "accepted an ARN of another service: {from:?}"
                    );
                    from.clone()
                } else {
                    format!("ssm:{from}")
                };
                assert_eq!(spec.vars.get(n), Some(&VarSource::Ref(want)));
            }
        }
        Err(_) => {
            // Judge on the input as serde_json writes it, against the same input with every
            // value masked (same byte lengths, so positions in messages do not move): a value
            // the error shows that the masked input's error does not show is quoted, not part
            // of the message's own words ("arameter" is in "Parameter Store").
            let Ok(mut tree) = serde_json::from_slice::<Value>(text) else {
                return;
            };
            let shown = |t: &Value| -> String {
                let s = serde_json::to_string(t).unwrap();
                match ecs_taskdef::parse(s.as_bytes(), "td.json", container) {
                    Ok(_) => String::new(),
                    Err(e) => format!("{e} {}", e.hint().unwrap_or_default()),
                }
            };
            let plain = shown(&tree);
            let mut named = Vec::new();
            let mut values = Vec::new();
            collect(&mut tree, None, &mut named, &mut values);
            let masked = shown(&tree);
            let mut scrubbed = plain.clone();
            for n in &named {
                scrubbed = scrubbed.replace(n.as_str(), "");
            }
            // The refusal of an ARN of another service names the ARN forms it takes; a value
            // that is part of those words (`arn:aws:sec`) is not quoted. The masked input
            // cannot show this: masking takes the `arn:` away.
            const OWN_WORDS: &str = "ECS valueFrom takes `arn:aws:secretsmanager:…`, \
                                     `arn:aws:ssm:…:parameter/…` or a parameter name";
            for v in values.iter().filter(|v| v.len() >= 8) {
                assert!(
                    !scrubbed.contains(v.as_str())
                        || masked.contains(v.as_str())
                        || OWN_WORDS.contains(v.as_str()),
                    "the error quotes a value: {plain}"
                );
            }
        }
    }
});

/// Strings under a `name` key go to `named`; those under `value`/`valueFrom`, and any string
/// inside an `environment` or `secrets` list that is not a name, go to `values` and are masked
/// in place (every character replaced by as many `Q`s as its UTF-8 length).
fn collect(v: &mut Value, key: Option<&str>, named: &mut Vec<String>, values: &mut Vec<String>) {
    match v {
        Value::String(s) => match key {
            Some("name") => named.push(s.clone()),
            Some("value" | "valueFrom" | "environment" | "secrets") => {
                values.push(s.clone());
                *s = "Q".repeat(s.len());
            }
            _ => {}
        },
        Value::Array(a) => a.iter_mut().for_each(|x| collect(x, key, named, values)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                let k = match key {
                    Some(outer @ ("environment" | "secrets")) if k.as_str() != "name" => outer,
                    _ => k.as_str(),
                };
                collect(x, Some(k), named, values);
            }
        }
        _ => {}
    }
}
