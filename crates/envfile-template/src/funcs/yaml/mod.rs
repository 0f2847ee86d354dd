//! `toYAML` and `parseYAML`, as consul-template defines them over gopkg.in/yaml.v2:
//! `toYAML` is `yaml.Marshal` with the result's surrounding white space trimmed; `parseYAML`
//! is `yaml.Unmarshal` into an `interface{}` (an empty string is an empty map).

mod emit;
mod parse;
mod resolve;

use super::{args_n, string_arg, Def};
use crate::value::Value;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("toYAML", |a| {
        let [v] = args_n("toYAML", a)?;
        emit::to_yaml(&v).map(Value::str)
    }),
    Def::new("parseYAML", |a| {
        let [v] = args_n("parseYAML", a)?;
        parse::parse_yaml(string_arg(&v)?)
    }),
];
