//! `k8s-secret` output is a v1 Opaque Secret whose base64 `data` decodes (PyYAML + base64) to
//! every value byte-exact, binary included.

mod render_corpus;

use envfile_core::{render, ErrorKind, Format, RenderOptions};
use render_corpus::*;

const READ: &str = "\
import base64, yaml
doc = yaml.safe_load(open(sys.argv[1], 'rb'))
data = doc.pop('data')
pairs = [[k, base64.b64decode(v, validate=True).hex()] for k, v in data.items()]
json.dump({'doc': doc, 'pairs': pairs}, open(sys.argv[2], 'w'))";

fn opts(name: &str, namespace: Option<&str>) -> RenderOptions {
    RenderOptions {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
    }
}

#[test]
fn every_value_decodes_back_byte_exact() {
    let mut vars = vars_where(|_| true);
    vars.push(var("V_BINARY", &[0, 0xff, 0xfe, 0x80, b'\n', 0]));
    vars.push(var("true", b"key that YAML would type"));
    vars.push(var(".env", b"dotfile"));
    // Long keys take YAML's explicit `? key` form.
    vars.push(var(&"k".repeat(253), b"long key"));
    let (out, warnings) = render(Format::K8sSecret, &vars, &opts("123", Some("prod-1"))).unwrap();
    assert!(warnings.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.yaml");
    std::fs::write(&path, out.expose()).unwrap();

    let result = run_python(READ, &path);
    assert_eq!(
        result["doc"],
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "123", "namespace": "prod-1"},
            "type": "Opaque",
        })
    );
    assert_pairs_read_back("k8s-secret", &vars, &result["pairs"]);
}

#[test]
fn exact_shape_without_namespace_and_without_data() {
    let (out, _) = render(
        Format::K8sSecret,
        &[var("A", b"hi")],
        &opts("api-env", None),
    )
    .unwrap();
    assert_eq!(
        out.expose(),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"api-env\"\ntype: Opaque\ndata:\n  \"A\": \"aGk=\"\n"
    );
    let (out, _) = render(Format::K8sSecret, &[], &opts("x", None)).unwrap();
    assert!(out.expose().ends_with("type: Opaque\ndata: {}\n"));
}

#[test]
fn names_kubernetes_rejects_are_errors() {
    let ok = [var("A", b"1")];
    let err = render(Format::K8sSecret, &ok, &RenderOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    for bad in ["API", "a_b", "-a", "a.", "", &"a".repeat(254)] {
        let err = render(Format::K8sSecret, &ok, &opts(bad, None)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{bad:?}");
    }
    for bad in ["a.b", "A", &"a".repeat(64)] {
        let err = render(Format::K8sSecret, &ok, &opts("x", Some(bad))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{bad:?}");
    }
    for bad in ["A B", "a/b", ".", "..", "..x", "ä", &"a".repeat(254)] {
        let err = render(Format::K8sSecret, &[var(bad, b"1")], &opts("x", None)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{bad:?}");
    }
}

#[test]
fn more_than_one_mib_is_refused_naming_the_variable() {
    let half = vec![b'x'; 600 * 1024];
    let vars = [var("FIRST", &half), var("SECOND", &half)];
    let err = render(Format::K8sSecret, &vars, &opts("x", None)).unwrap_err();
    assert_refused(&err, ErrorKind::Unrepresentable, "SECOND");
}
