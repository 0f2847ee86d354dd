//! Property tests: what the `json` and `docker` renderers write reads back as the variables
//! given, or is refused (the `render` fuzz target checks every format on arbitrary input).

use envfile_core::{render, Format, RenderOptions, SecretValue, Var};
use proptest::prelude::*;

fn vars() -> impl Strategy<Value = Vec<Var>> {
    prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,10}", any::<String>(), 0..6).prop_map(
        |m| {
            m.into_iter()
                .map(|(name, v)| Var {
                    name,
                    value: SecretValue::from_string(v),
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn json_reads_back(vars in vars()) {
        let (out, _) = render(Format::Json, &vars, &RenderOptions::default()).unwrap();
        let v: serde_json::Value = serde_json::from_str(out.expose()).unwrap();
        let obj = v.as_object().unwrap();
        prop_assert_eq!(obj.len(), vars.len());
        for var in &vars {
            prop_assert_eq!(obj[&var.name].as_str(), var.value.expose_str());
        }
    }

    /// docker's `--env-file` reader: lines, leading whitespace dropped, cut at the first `=`.
    #[test]
    fn docker_reads_back_or_refuses(vars in vars()) {
        let Ok((out, _)) = render(Format::Docker, &vars, &RenderOptions::default()) else {
            for v in &vars {
                let s = v.value.expose_str().unwrap();
                let quoted = s.len() >= 2 && s.as_bytes()[0] == s.as_bytes()[s.len() - 1] && matches!(s.as_bytes()[0], b'"' | b'\'');
                if !(s.contains(['\n', '\r', '\0']) || quoted || s.len() > 60_000) {
                    continue;
                }
                return Ok(()); // refused for a reason docker's format has
            }
            panic!("refused a value docker can carry");
        };
        let read: Vec<(&str, &str)> = out
            .expose()
            .lines()
            .map(|l| l.trim_start())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split_once('=').unwrap())
            .collect();
        let want: Vec<(&str, &str)> = vars.iter().map(|v| (v.name.as_str(), v.value.expose_str().unwrap())).collect();
        prop_assert_eq!(read, want);
    }
}
