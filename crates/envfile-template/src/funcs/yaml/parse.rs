//! `parseYAML`: the value gopkg.in/yaml.v2 decodes into an `interface{}` — mappings are
//! `map[interface {}]interface {}`, sequences `[]interface {}`, plain scalars resolve by YAML 1.1
//! rules (see `resolve`), timestamps stay text, `<<` merges maps, aliases repeat their anchor.
//! Only the first document is read; an empty string is an empty map.
//!
//! The syntax is read by the `yaml-rust2` event parser; the meaning is yaml.v2's. Keys that are
//! not strings (`1:`, `on:` — a boolean in YAML 1.1 —, `~:`) are kept typed (see
//! `value::encode_key`): `.on` does not find them, as in Go.

use super::resolve::{resolve, Resolved};
use crate::value::{Map, TypedInt, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

/// The deepest nesting read (the template engine's nesting limit).
const MAX_DEPTH: usize = crate::limits::MAX_DEPTH;
/// How many nodes a document may expand to through aliases (yaml.v2 refuses "excessive
/// aliasing" too): aliases share their anchor's value, but printing one expands it.
const MAX_EXPANDED: usize = 1_000_000;

/// A finished node: its value, whether it is the merge key `<<`, and its expanded size.
struct Done {
    value: Value,
    merge: bool,
    size: usize,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        size: usize,
    },
    Map {
        entries: BTreeMap<String, Value>,
        key: Option<Done>,
        anchor: usize,
        size: usize,
        line: usize,
    },
}

pub(crate) fn parse_yaml(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Ok(Value::map(BTreeMap::new()));
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut root: Option<Value> = None;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            // The scanner quotes an unexpected character: it may be part of a secret.
            let info = e.info();
            let info = if info.starts_with("unexpected character") {
                "unexpected character"
            } else {
                info
            };
            format!("yaml: line {}: {info}", e.marker().line())
        })?;
        let line = mark.line();
        let done = match event {
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::Scalar(text, style, anchor, tag) => {
                let (value, merge) = scalar(text, style, tag.as_ref(), line)?;
                if anchor > 0 {
                    anchors.insert(anchor, (value.clone(), 1));
                }
                Done {
                    value,
                    merge,
                    size: 1,
                }
            }
            Event::Alias(id) => {
                let (value, size) = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| format!("yaml: line {line}: unknown anchor referenced"))?;
                Done {
                    value,
                    merge: false,
                    size,
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "yaml: line {line}: the document nests more than {MAX_DEPTH} deep"
                    ));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        size: 1,
                    }
                } else {
                    Frame::Map {
                        entries: BTreeMap::new(),
                        key: None,
                        anchor,
                        size: 1,
                        line,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor, size) = match stack.pop() {
                    Some(Frame::Seq {
                        items,
                        anchor,
                        size,
                    }) => (Value::List(Arc::new(items)), anchor, size),
                    Some(Frame::Map {
                        entries,
                        anchor,
                        size,
                        ..
                    }) => (Value::Map(Arc::new(Map::any_keyed(entries))), anchor, size),
                    None => return Err(format!("yaml: line {line}: unbalanced document")),
                };
                if anchor > 0 {
                    anchors.insert(anchor, (value.clone(), size));
                }
                Done {
                    value,
                    merge: false,
                    size,
                }
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => {
                root = Some(done.value);
            }
            Some(Frame::Seq { items, size, .. }) => {
                *size = grow(*size, done.size, line)?;
                items.push(done.value);
            }
            Some(Frame::Map {
                entries,
                key,
                size,
                line: map_line,
                ..
            }) => {
                *size = grow(*size, done.size, line)?;
                match key.take() {
                    None => *key = Some(done),
                    Some(k) if k.merge => merge(entries, &done.value, *map_line)?,
                    Some(k) => {
                        let name = crate::value::encode_key(&k.value)
                            .ok_or_else(|| format!("yaml: line {line}: invalid map key"))?;
                        entries.insert(name, done.value);
                    }
                }
            }
        }
    }
    Ok(root.unwrap_or(Value::Nil))
}

fn grow(size: usize, add: usize, line: usize) -> Result<usize, String> {
    let total = size.saturating_add(add);
    if total > MAX_EXPANDED {
        return Err(format!(
            "yaml: line {line}: document contains excessive aliasing (more than \
             {MAX_EXPANDED} nodes)"
        ));
    }
    Ok(total)
}

/// A scalar's value, and whether it is the merge key.
fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    line: usize,
) -> Result<(Value, bool), String> {
    let core = tag.and_then(|t| {
        (t.handle == "tag:yaml.org,2002:" || t.handle == "!!").then_some(t.suffix.as_str())
    });
    if tag.is_some() && core.is_none() {
        // A local tag (`!foo`): yaml.v2 leaves the text as a string.
        return Ok((Value::str(text), false));
    }
    let plain = style == TScalarStyle::Plain;
    match core {
        None if !plain => return Ok((Value::str(text), false)),
        Some("str") => return Ok((Value::str(text), false)),
        Some("binary") => {
            use base64::Engine;
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| "yaml: !!binary value contains invalid base64 data".to_owned())?;
            let s = String::from_utf8(bytes).map_err(|_| {
                "yaml: !!binary value is not text; envfile values are UTF-8".to_owned()
            })?;
            return Ok((Value::str(s), false));
        }
        _ => {}
    }
    let resolved = resolve(&text);
    let value = match (&resolved, core) {
        (Resolved::Merge, None) => return Ok((Value::str(text), true)),
        (Resolved::Null, None | Some("null")) => Value::Nil,
        (Resolved::Bool(b), None | Some("bool")) => Value::Bool(*b),
        (Resolved::Int(i), None | Some("int")) => Value::Int(*i),
        (Resolved::Int(i), Some("float")) => Value::Float(*i as f64),
        (Resolved::Uint(u), None | Some("int")) => Value::Typed(TypedInt::Uint64(*u)),
        (Resolved::Uint(u), Some("float")) => Value::Float(*u as f64),
        (Resolved::Float(f), None | Some("float")) => Value::Float(*f),
        (Resolved::Timestamp, None | Some("timestamp")) => Value::str(text),
        (Resolved::Str, None) => Value::str(text),
        (_, Some(other)) => {
            // The scalar's text is not repeated: it may come from a secret.
            return Err(format!(
                "yaml: line {line}: cannot decode a {} as a !!{other}",
                match resolved {
                    Resolved::Null => "null",
                    Resolved::Bool(_) => "bool",
                    Resolved::Int(_) | Resolved::Uint(_) => "int",
                    Resolved::Float(_) => "float",
                    _ => "string",
                }
            ));
        }
    };
    Ok((value, false))
}

/// yaml.v2's merge: the value's entries are set into the map (over keys set before it); from
/// a sequence of maps, the earlier maps win.
fn merge(entries: &mut BTreeMap<String, Value>, v: &Value, line: usize) -> Result<(), String> {
    let want =
        || format!("yaml: line {line}: map merge requires map or sequence of maps as the value");
    match v {
        Value::Map(m) => {
            for (k, e) in m.entries().iter() {
                entries.insert(k.clone(), e.clone());
            }
            Ok(())
        }
        Value::List(l) => {
            if !l.iter().all(|e| matches!(e, Value::Map(_))) {
                return Err(want());
            }
            for e in l.iter().rev() {
                merge(entries, e, line)?;
            }
            Ok(())
        }
        _ => Err(want()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::fmt_v;

    fn p(s: &str) -> String {
        match parse_yaml(s) {
            Ok(v) => {
                let mut out = String::new();
                fmt_v(&v, &mut out);
                format!("{} {out}", v.type_name())
            }
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn documents_decode_as_yaml_v2_does() {
        assert_eq!(
            p("a: 1\nb: yes\nc: ~\nd: 1.5\ne: '1'\nf: 2024-01-02\ng: [x, 0x10]\n"),
            "map[interface {}]interface {} map[a:1 b:true c:<nil> d:1.5 e:1 f:2024-01-02 g:[x 16]]"
        );
        assert_eq!(p(""), "map[string]interface {} map[]");
        assert_eq!(p("# nothing"), "<nil> <nil>");
        assert_eq!(p("- a\n- b"), "[]interface {} [a b]");
        assert_eq!(p("plain"), "string plain");
    }

    #[test]
    fn anchors_aliases_and_merges() {
        assert_eq!(
            p("base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n"),
            "map[interface {}]interface {} map[base:map[x:1 z:2] d:map[x:1 z:3]]"
        );
        assert!(p("a: &a [*a]").starts_with("ERR"));
    }

    #[test]
    fn errors_never_repeat_the_documents_text() {
        for doc in [
            "a: !!int Sekr3tValue",
            "a: `Sekr3tValue",
            "a: \"Sekr3tValue",
            "a: [Sekr3tValue",
        ] {
            let e = p(doc);
            assert!(e.starts_with("ERR"), "{doc}: {e}");
            assert!(!e.contains("Sekr3t") && !e.contains('`'), "{doc}: {e}");
        }
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(
            p("b: 1\non: 2\n1: 3\n~: 4\n-1.5: 5\nno: 6"),
            "map[interface {}]interface {} map[<nil>:4 b:1 1:3 -1.5:5 false:6 true:2]"
        );
        assert!(p("[a]: 1").contains("invalid map key"));
        assert!(p("a: [").starts_with("ERR yaml: line"));
        let deep = "[".repeat(200);
        assert!(p(&deep).contains("nests more than"));
        let laughs = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n\
            c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
            e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
        assert!(p(laughs).contains("excessive aliasing"));
    }
}
