//! Engine tests: parse and execute templates against in-memory secrets.

use super::Template;
use envfile_core::{Error, ErrorKind};
use serde_json::json;

fn render(src: &str, data: serde_json::Value) -> Result<String, Error> {
    let t = Template::parse("t.tmpl", src)?;
    let mut lookup = |p: &str| {
        data.get(p)
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such secret").with_reference(p))
    };
    t.render_with(&mut lookup).map(|s| s.expose().to_owned())
}

fn ok(src: &str, data: serde_json::Value) -> String {
    match render(src, data) {
        Ok(s) => s,
        Err(e) => panic!("{src:?}: {e}"),
    }
}

fn err(src: &str, data: serde_json::Value) -> String {
    match render(src, data) {
        Ok(_) => panic!("{src:?} rendered, expected an error"),
        Err(e) => e.to_string(),
    }
}

fn kv2() -> serde_json::Value {
    json!({ "kv/data/app": {
        "data": { "user": "alice", "pass": "p\"w$`\\", "port": 5432, "none": null, "empty": "" },
        "metadata": { "version": 3 }
    }})
}

#[test]
fn runbook_template_renders_export_lines() {
    let src = "{{- with secret \"kv/data/app\" -}}\nexport USER=\"{{ .Data.data.user }}\"\nexport PORT=\"{{ .Data.data.port }}\"\n{{- end }}\n";
    assert_eq!(
        ok(src, kv2()),
        "export USER=\"alice\"\nexport PORT=\"5432\"\n"
    );
}

#[test]
fn trim_markers_need_a_space_and_trim_newlines() {
    assert_eq!(ok("a\n\n  {{- \"x\" -}}\n\n  b", json!({})), "axb");
    assert_eq!(ok("a {{ \"x\" }} b", json!({})), "a x b");
    assert_eq!(ok("a {{-3}} b", json!({})), "a -3 b");
}

#[test]
fn missing_and_null_print_no_value() {
    let src = "{{ with secret \"kv/data/app\" }}{{ .Data.data.nope }}|{{ .Data.data.none }}|{{ $.Root.deeper }}{{ end }}";
    assert_eq!(ok(src, kv2()), "<no value>|<no value>|<no value>");
    // consul-template's missingkey=zero: a missing key is a nil interface, and a field of nil fails.
    for src in [
        "{{ (secret \"kv/data/app\").Data.data.nope.deeper }}",
        "{{ (secret \"kv/data/app\").Data.data.none.deeper }}",
    ] {
        assert!(
            err(src, kv2()).contains("nil pointer evaluating interface {}.deeper"),
            "{src}"
        );
    }
}

#[test]
fn range_sorts_keys_and_else_runs_only_when_empty() {
    let data = json!({ "s": { "b": "2", "a": "1", "c": [1, "x"] }, "e": {} });
    let src =
        r#"{{ range $k, $v := (secret "s").Data }}{{ $k }}={{ $v }};{{ else }}EMPTY{{ end }}"#;
    assert_eq!(ok(src, data.clone()), "a=1;b=2;c=[1 x];");
    let src = r#"{{ range $v := (secret "s").Data }}{{ $v }},{{ end }}"#;
    assert_eq!(ok(src, data.clone()), "1,2,[1 x],");
    let src = r#"{{ range (secret "e").Data }}x{{ else }}EMPTY{{ end }}"#;
    assert_eq!(ok(src, data.clone()), "EMPTY");
    let src = r#"{{ range (secret "s").Data.nope }}x{{ else }}NIL{{ end }}"#;
    assert_eq!(ok(src, data), "NIL");
}

#[test]
fn break_and_continue_inside_range() {
    let data = json!({ "s": ["a", "b", "c", "d"] });
    let src = r#"{{ range $i, $v := (secret "s").Data }}{{ if eq $v "b" }}{{ continue }}{{ end }}{{ if eq $v "d" }}{{ break }}{{ end }}{{ $i }}{{ $v }}{{ end }}"#;
    assert_eq!(ok(src, data), "0a2c");
}

#[test]
fn nested_with_and_range_rebind_dot() {
    let data = json!({ "s": { "outer": { "inner": ["x", "y"] } } });
    let src = r#"{{ with secret "s" }}{{ with .Data.outer }}{{ range .inner }}[{{ . }}]{{ end }}{{ end }}{{ end }}"#;
    assert_eq!(ok(src, data), "[x][y]");
}

#[test]
fn if_else_if_chains() {
    let src = r#"{{ with secret "kv/data/app" }}{{ if eq .Data.data.user "bob" }}B{{ else if eq .Data.data.user "alice" }}A{{ else }}?{{ end }}{{ end }}"#;
    assert_eq!(ok(src, kv2()), "A");
    let src = r#"{{ if .Data }}x{{ else if false }}y{{ else }}z{{ end }}"#;
    assert_eq!(ok(src, json!({})), "z");
}

#[test]
fn with_else_runs_for_empty_values() {
    let src = r#"{{ with secret "kv/data/app" }}{{ with .Data.data.empty }}full{{ else }}empty{{ end }}{{ with .Data.data.port }}{{ . }}{{ end }}{{ end }}"#;
    assert_eq!(ok(src, kv2()), "empty5432");
}

#[test]
fn variables_scope_and_root() {
    let src = r#"{{ $s := secret "kv/data/app" }}{{ $u := $s.Data.data.user }}{{ with $s.Data.data }}{{ $u }}:{{ .port }}{{ $u = "bob" }}{{ $u }}{{ end }}{{ $u }}"#;
    assert_eq!(ok(src, kv2()), "alice:5432bobbob");
    // `$` is the root: nil at the top of an agent template.
    assert_eq!(ok("{{ $ }}", json!({})), "<no value>");
}

#[test]
fn numbers_are_json_numbers() {
    let src = r#"{{ with secret "kv/data/app" }}{{ if eq .Data.data.port "5432" }}yes{{ end }} {{ printf "%d" .Data.data.port }} {{ len .Data.data.port }} {{ .Data.metadata.version }}{{ end }}"#;
    assert_eq!(ok(src, kv2()), "yes %!d(json.Number=5432) 4 3");
    let e = err(
        r#"{{ with secret "kv/data/app" }}{{ eq .Data.data.port 5432 }}{{ end }}"#,
        kv2(),
    );
    assert!(e.contains("t.tmpl:1:35: executing `eq .Data.data.port 5432`: error calling eq: incompatible types for comparison"), "{e}");
}

#[test]
fn pipelines_and_functions() {
    let src = r#"{{ with secret "kv/data/app" }}{{ .Data.data.user | base64Encode }} {{ .Data.data.user | base64Encode | base64Decode }} {{ printf "%q" .Data.data.pass }} {{ "  x " | trimSpace | printf "[%s]" }}{{ end }}"#;
    assert_eq!(ok(src, kv2()), r#"YWxpY2U= alice "p\"w$`\\" [x]"#);
    let src = r#"{{ with secret "kv/data/app" }}{{ .Data.data | toJSON }}{{ end }}"#;
    assert_eq!(
        ok(src, kv2()),
        r#"{"empty":"","none":null,"pass":"p\"w$`\\","port":5432,"user":"alice"}"#
    );
    assert_eq!(
        ok(
            r#"{{ and 1 0 }} {{ or 0 "" "x" }} {{ not "" }} {{ ne 1 2 }}"#,
            json!({})
        ),
        "0 x true true"
    );
    assert_eq!(
        ok(
            r#"{{ index (secret "s").Data "a-b" }}"#,
            json!({"s": {"a-b": "v"}})
        ),
        "v"
    );
}

#[test]
fn secrets_are_fetched_once_and_nested_paths_resolve() {
    let mut calls = Vec::new();
    let t = Template::parse(
        "t",
        r#"{{ with secret "a" }}{{ with secret (printf "b/%s" .Data.next) }}{{ .Data.v }}{{ end }}{{ end }}{{ (secret "a").Data.next }}"#,
    )
    .unwrap();
    let out = t
        .render_with(&mut |p: &str| {
            calls.push(p.to_owned());
            Ok(match p {
                "a" => json!({ "next": "x" }),
                _ => json!({ "v": "deep" }),
            })
        })
        .unwrap();
    assert_eq!(out.expose(), "deepx");
    assert_eq!(calls, ["a", "b/x"]);
}

#[test]
fn comments_and_raw_strings() {
    assert_eq!(
        ok(
            "a{{/* hidden */}}b{{- /* x */ -}}  c {{ `r\\n` }}",
            json!({})
        ),
        "abc r\\n"
    );
}

#[test]
fn parse_errors_name_file_line_and_column() {
    let e = err("line1\n  {{ nosuch .x }}", json!({}));
    assert!(
        e.contains("template t.tmpl:2:6: function \"nosuch\" not defined"),
        "{e}"
    );
    let e = err("{{ if .x }}\nno end", json!({}));
    assert!(e.contains("t.tmpl:1:1: unexpected EOF"), "{e}");
    let e = err("{{ end }}", json!({}));
    assert!(e.contains("t.tmpl:1:1: unexpected {{end}}"), "{e}");
    let e = err("x\n\n{{ $y }}", json!({}));
    assert!(e.contains("t.tmpl:3:4: undefined variable \"$y\""), "{e}");
    let e = err("{{ .Data.my-key }}", json!({}));
    assert!(e.contains("t.tmpl:1:12: bad character"), "{e}");
    let e = err("{{ break }}", json!({}));
    assert!(e.contains("outside {{range}}"), "{e}");
    let e = err(
        "{{ with secret \"a\" }}{{ .Data.x | .Data.y }}{{ end }}",
        json!({"a": {}}),
    );
    assert!(e.contains("can't give argument to non-function"), "{e}");
}

#[test]
fn errors_never_contain_values() {
    let data = json!({ "s": { "pw": "hunter2-secret" } });
    for src in [
        r#"{{ with secret "s" }}{{ .Data.pw | base64Decode }}{{ end }}"#,
        r#"{{ with secret "s" }}{{ .Data.pw.sub }}{{ end }}"#,
        r#"{{ with secret "s" }}{{ range .Data.pw }}{{ end }}{{ end }}"#,
        r#"{{ with secret "s" }}{{ eq .Data.pw 1 }}{{ end }}"#,
        r#"{{ with secret "s" }}{{ len 3 }}{{ end }}"#,
    ] {
        let e = err(src, data.clone());
        assert!(!e.contains("hunter2"), "value leaked: {src}");
    }
}

#[test]
fn fetch_errors_surface_with_the_reference() {
    let e = err(r#"{{ with secret "missing/path" }}x{{ end }}"#, json!({}));
    assert!(e.contains("missing/path") && e.contains("not_found"), "{e}");
}

#[test]
fn a_secret_record_has_the_agents_fields() {
    // A read without a lease, as the agent shows a KV v2 read.
    let src = r#"{{ with secret "s" }}[{{ .LeaseID }}|{{ .LeaseDuration }}|{{ .Renewable }}|{{ .Warnings }}|{{ .Auth }}|{{ .WrapInfo }}]{{ end }}"#;
    assert_eq!(ok(src, json!({"s": {}})), "[|0|false|[]|<nil>|<nil>]");
    let e = err(r#"{{ (secret "s").RequestID }}"#, json!({"s": {}}));
    assert!(e.contains("request id"), "{e}");
    let e = err(r#"{{ (secret "s").Nope }}"#, json!({"s": {}}));
    assert!(e.contains("can't evaluate field Nope"), "{e}");
}

/// Issue 14, item 9: templates that used to abort, exhaust memory or overflow the stack fail
/// with an error naming the place.
mod limits {
    use super::*;

    #[test]
    fn a_huge_integer_range_is_refused_before_allocating() {
        let e = err("x\n{{range 1000000000000}}{{end}}", json!({}));
        assert!(e.contains("t.tmpl:2:9"), "{e}");
        assert!(e.contains("more than 1000000 iterations"), "{e}");
        let e = err("{{range 30000000}}x{{end}}", json!({}));
        assert!(e.contains("t.tmpl:1:9"), "{e}");
    }

    #[test]
    fn output_is_bounded() {
        let src = format!("{{{{range 1000000}}}}{}{{{{end}}}}", "x".repeat(100));
        let e = err(&src, json!({}));
        assert!(e.contains("the output exceeds 64 MiB"), "{e}");
        assert!(e.contains("t.tmpl:1:18: the output"), "{e}");
    }

    #[test]
    fn strings_built_without_printing_are_bounded() {
        let e = err(
            "{{$x := \"xxxxxxxx\"}}{{range 40}}{{$x = printf \"%s%s\" $x $x}}{{end}}",
            json!({}),
        );
        assert!(
            e.contains("error calling printf: the result exceeds 64 MiB"),
            "{e}"
        );
        // Two wide fields are fine.
        assert_eq!(
            ok("{{printf \"%1000000d%1000000d\" 1 2 | len}}", json!({})),
            "2000000"
        );
    }

    #[test]
    fn costly_calls_count_against_the_step_limit() {
        // ecdsa keys are quick to make, but count as any key generation does.
        let n = crate::limits::MAX_STEPS / crate::limits::call_cost("sprig_genPrivateKey");
        let keys = |k: u64| {
            format!(
                "{{{{range {k}}}}}{{{{sprig_genPrivateKey \"ecdsa\" | len | print}}}}{{{{end}}}}"
            )
        };
        assert!(!ok(&keys(n - 1), json!({})).is_empty());
        let e = err(&format!("\n{}", keys(n + 1)), json!({}));
        assert!(e.contains("t.tmpl:2:"), "{e}");
        assert!(
            e.contains("sprig_genPrivateKey counts for 50000: it generates a key"),
            "{e}"
        );
        // Ordinary functions cost one step.
        assert_eq!(crate::limits::call_cost("sprig_upper"), 0);
    }

    #[test]
    fn deep_nesting_is_a_parse_error_not_a_stack_overflow() {
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(10_000), ")".repeat(10_000));
        let e = err(&parens, json!({}));
        assert!(e.contains("nest more than 100 levels"), "{e}");
        assert!(e.contains("t.tmpl:1:104"), "{e}");
        let ifs = format!("{}x{}", "{{if 1}}".repeat(10_000), "{{end}}".repeat(10_000));
        let e = err(&ifs, json!({}));
        assert!(e.contains("nest more than 100 levels"), "{e}");
        // 90 levels are fine.
        let ok_ifs = format!("{}x{}", "{{if 1}}".repeat(90), "{{end}}".repeat(90));
        assert_eq!(ok(&ok_ifs, json!({})), "x");
    }

    #[test]
    fn recursive_templates_stop_before_the_stack_does() {
        let nest = format!(
            "{}{{{{template \"r\" .}}}}{}",
            "{{if 1}}".repeat(90),
            "{{end}}".repeat(90)
        );
        let src = format!("{{{{define \"r\"}}}}{nest}{{{{end}}}}x{{{{template \"r\" 1}}}}");
        let e = err(&src, json!({}));
        assert!(
            e.contains("levels deep (through {{template}} calls)"),
            "{e}"
        );
        let e = err(
            "{{define \"r\"}}{{template \"r\"}}{{end}}{{template \"r\"}}",
            json!({}),
        );
        assert!(e.contains("calls nest more than"), "{e}");
    }

    #[test]
    fn endless_work_is_cut_off_by_steps() {
        let e = err(
            "{{range 1000000}}{{range 1000000}}{{end}}{{end}}",
            json!({}),
        );
        assert!(e.contains("more than 5000000 evaluation steps"), "{e}");
    }
}

#[test]
fn agent_options_delimiters_and_missing_keys() {
    let opts = crate::Options {
        left_delimiter: "[[".into(),
        right_delimiter: "]]".into(),
        error_on_missing_key: true,
    };
    let t =
        Template::parse_with("t.tmpl", "{{ x }} [[- \" y\" -]] [[/* c */]][[ 1 ]]", &opts).unwrap();
    let out = t.render_with(&mut |_: &str| Ok(json!({}))).unwrap();
    assert_eq!(out.expose(), "{{ x }} y1");
    let t = Template::parse_with("t.tmpl", "[[ (secret \"s\").Data.nope ]]", &opts).unwrap();
    let e = t
        .render_with(&mut |_: &str| Ok(json!({"a": 1})))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("t.tmpl:1:4") && e.contains("map has no entry for key \"nope\""),
        "{e}"
    );
    let empty = crate::Options {
        left_delimiter: String::new(),
        ..Default::default()
    };
    assert!(Template::parse_with("t.tmpl", "x", &empty).is_err());
}

#[test]
fn scratch_methods() {
    let src = "{{ scratch.Set \"a\" 1 }}{{ scratch.SetX \"a\" 2 }}{{ scratch.Get \"a\" }} \
               {{ scratch.MapSet \"m\" \"z\" 26 }}{{ scratch.MapSet \"m\" \"b\" 2 }}{{ scratch.MapValues \"m\" }} \
               {{ scratch.Key \"nope\" }}";
    assert_eq!(ok(src, json!({})), "1 [2 26] false");
    let e = err("{{ scratch.Nope }}", json!({}));
    assert!(e.contains("can't evaluate field Nope"), "{e}");
}

#[test]
fn sprig_set_unset_and_merge_change_the_map_every_variable_holds() {
    let src = r#"{{ $d := sprig_dict "a" 1 }}{{ $e := $d }}{{ $_ := sprig_set $d "k" "v" }}{{ $_ := sprig_unset $e "a" }}{{ $d }} {{ $e.k }}{{ $_ := sprig_merge $d (sprig_dict "m" 2) }} {{ $e }}"#;
    assert_eq!(ok(src, json!({})), "map[k:v] v map[k:v m:2]");
}

#[test]
fn a_map_cannot_be_made_to_hold_itself() {
    // In Go this makes a cycle that recurses forever when printed; envfile refuses it.
    for src in [
        r#"{{ $d := sprig_dict }}{{ $_ := sprig_set $d "self" $d }}"#,
        r#"{{ $d := sprig_dict }}{{ $_ := sprig_set $d "l" (sprig_list 1 (sprig_dict "in" $d)) }}"#,
        r#"{{ $a := sprig_dict }}{{ $b := sprig_dict "a" $a }}{{ $_ := sprig_set $a "b" $b }}"#,
        r#"{{ $a := sprig_dict }}{{ $_ := sprig_merge $a (sprig_dict "x" $a) }}"#,
        r#"{{ $a := sprig_dict "n" (sprig_dict) }}{{ $_ := sprig_merge $a (sprig_dict "n" (sprig_dict "up" $a)) }}"#,
    ] {
        let e = err(src, json!({}));
        assert!(e.contains("itself"), "{src}: {e}");
    }
    // Merging a map into itself changes nothing, as in Go.
    let src = r#"{{ $a := sprig_dict "x" 1 }}{{ sprig_merge $a $a }}"#;
    assert_eq!(ok(src, json!({})), "map[x:1]");
}

/// Found by the template fuzz target (fuzz/findings/template/error-position-inside-a-character):
/// an error whose position fell inside a multi-byte character sliced the source there and
/// panicked while building the message.
#[test]
fn error_positions_inside_a_character_do_not_panic() {
    let src = "ab\u{65e}c";
    assert_eq!(
        super::line_col(src, 3),
        (1, 3),
        "the character's own column"
    );
    assert_eq!(super::line_col(src, 4), (1, 4));
    let src = "{{  'b\"{{ ind{ e&\\\u{65e}0k0000i00if L\\'if LL= 0'n\"b\"{ithd";
    assert!(render(src, json!({})).is_err());
}

mod cached {
    use crate::{SecretData, Template};
    use serde_json::json;

    #[test]
    fn cached_secrets_render_like_fresh_ones_and_never_see_a_templates_changes() {
        let data = SecretData::from_json(json!({"k": "orig", "n": {"x": 1}}));
        let mut lookup = |_: &str| -> envfile_core::Result<SecretData> { Ok(data.clone()) };
        let reader = Template::parse(
            "r",
            r#"{{ with secret "a" }}{{ .Data.k }} {{ .Data.n }}{{ end }}"#,
        )
        .unwrap();
        let fresh = reader
            .render_with(&mut |_: &str| Ok(json!({"k": "orig", "n": {"x": 1}})))
            .unwrap();
        assert_eq!(
            reader.render_cached(&mut lookup).unwrap().expose(),
            fresh.expose()
        );
        // A template that changes the secret's maps in place works on its own copy.
        let writer = Template::parse(
            "w",
            r#"{{ with secret "a" }}{{ $_ := sprig_set .Data "k" "changed" }}{{ $_ := sprig_set .Data.n "y" 2 }}{{ .Data.k }} {{ .Data.n }}{{ end }}"#,
        )
        .unwrap();
        assert_eq!(
            writer.render_cached(&mut lookup).unwrap().expose(),
            "changed map[x:1 y:2]"
        );
        assert_eq!(
            reader.render_cached(&mut lookup).unwrap().expose(),
            "orig map[x:1]"
        );
    }
}

#[test]
fn write_to_file_has_no_effect_outside_a_resolver_render() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never");
    let src = format!(
        r#"{{{{ writeToFile "{}" "" "" "0600" "x" }}}}"#,
        path.display()
    );
    let e = err(&src, json!({}));
    assert!(
        e.contains("written only by a render through a Resolver"),
        "{e}"
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn write_to_file_writes_only_when_the_render_succeeds() {
    use envfile_core::{Backends, Config, Resolver};
    let resolver = Resolver::new(Backends::new(), &Config::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/out");
    let call = format!(
        r#"{{{{ writeToFile "{}" "" "" "0640" "body" }}}}"#,
        path.display()
    );
    // A later action fails: nothing is written.
    let failing = Template::parse("f", format!("{call}{{{{ index 1 2 }}}}")).unwrap();
    assert!(failing.render(&resolver).await.is_err());
    assert!(!path.exists());
    let ok = Template::parse("o", format!("a{call}b")).unwrap();
    assert_eq!(ok.render(&resolver).await.unwrap().expose(), "ab");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "body");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn int_variables_do_not_convert_to_other_number_types() {
    // Go converts a constant to a `uint32`/`float64` parameter but refuses an `int` variable.
    let dp = r#"sprig_derivePassword {} "long" "p" "u" "s""#;
    assert!(!ok(&format!("{{{{ {} }}}}", dp.replace("{}", "1")), json!({})).is_empty());
    let e = err(
        &format!("{{{{ $c := 1 }}}}{{{{ {} }}}}", dp.replace("{}", "$c")),
        json!({}),
    );
    assert!(
        e.contains("wrong type for value; expected uint32; got int"),
        "{e}"
    );
    let e = err(r#"{{ 1 | sprig_round 1.25 1 }}"#, json!({}));
    assert!(e.contains("expected float64; got int"), "{e}");
    assert!(!ok(r#"{{ sprig_round 1.25 1 1 }}"#, json!({})).is_empty());
}
