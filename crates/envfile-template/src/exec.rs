//! Executes a parsed template against already-fetched secrets.
//!
//! Execution is synchronous. A `secret` whose value is not fetched yet is recorded as pending
//! and evaluates to nil (as consul-template does before its first fetch completes); the caller
//! fetches every pending secret at once and executes again, until a pass needs nothing new.

use crate::funcs;
use crate::limits::{MAX_CALL_DEPTH, MAX_DEPTH, MAX_OUTPUT, MAX_RANGE, MAX_STEPS};
use crate::parse::parser::{Arg, Branch, Cmd, Node, Parsed, Pipe};
use crate::value::{fmt_v, Value};
use envfile_core::Error;
use std::collections::{BTreeSet, HashMap};
use zeroize::Zeroizing;

mod time_calls;

/// The secrets a pass may read (`secret` argument → its `.Data`), and those it asked for that
/// are not fetched yet.
/// Answers a `secret` argument with its record, synchronously.
pub(crate) type Lookup<'a> = &'a mut dyn FnMut(&str) -> Result<Value, Error>;

pub(crate) struct Secrets<'a> {
    pub known: &'a HashMap<String, Result<Value, Error>>,
    pub pending: BTreeSet<String>,
    /// Answers a secret synchronously during the pass (`render_with`), so one pass suffices.
    pub lookup: Option<Lookup<'a>>,
    /// What `lookup` answered in this pass.
    pub looked_up: HashMap<String, Result<Value, Error>>,
    /// `error_on_missing_key`: Go's `missingkey=error`.
    pub missing_key_error: bool,
    /// `writeToFile` calls of this pass (with the call's position), done by the caller once
    /// the render has succeeded.
    pub writes: Vec<(usize, usize, funcs::files::FileWrite)>,
    /// The file the output goes to, where `pkiCert` looks for a certificate still good.
    pub destination: Option<&'a std::path::Path>,
}

/// A runtime error in the command at `start..end` of the template.
pub(crate) fn fail_at(start: usize, end: usize, message: String) -> Fail {
    Fail::At {
        start,
        end,
        message,
    }
}

/// Why execution stopped.
pub(crate) enum Fail {
    /// A runtime error in the command at `start..end` of the template.
    At {
        start: usize,
        end: usize,
        message: String,
    },
    /// Fetching a secret failed; the error names the reference and backend.
    Secret(Box<Error>),
    /// The same, with where in the template the secret was asked for.
    SecretAt(Box<Error>, usize),
}

impl Fail {
    /// A secret failure, placed at `pos`.
    fn at(self, pos: usize) -> Fail {
        match self {
            Fail::Secret(e) => Fail::SecretAt(e, pos),
            other => other,
        }
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

struct Exec<'a, 'k> {
    secrets: &'a mut Secrets<'k>,
    defs: &'a HashMap<String, Vec<Node>>,
    /// `{{template}}` calls in progress, against [`MAX_CALL_DEPTH`].
    calls: usize,
    /// consul-template's `scratch`: a per-render key/value store.
    scratch: std::collections::BTreeMap<String, Value>,
    /// Bodies being walked (nested actions across template calls), against [`MAX_DEPTH`] * 2.
    depth: usize,
    /// Variables in scope, named by the template text they were declared in.
    vars: Vec<(&'a str, Value)>,
    out: Zeroizing<String>,
    /// Evaluation steps so far, against [`MAX_STEPS`].
    steps: u64,
}

/// Run `nodes` with an empty root (`.` and `$`). The output is zeroized if execution fails.
pub(crate) fn execute<'a>(
    parsed: &'a Parsed,
    secrets: &'a mut Secrets<'_>,
) -> Result<String, Fail> {
    let mut x = Exec {
        secrets,
        defs: &parsed.defs,
        calls: 0,
        depth: 0,
        scratch: Default::default(),
        vars: vec![("", Value::Invalid)],
        out: Zeroizing::new(String::new()),
        steps: 0,
    };
    x.walk(&Value::Invalid, &parsed.root)?;
    Ok(std::mem::take(&mut *x.out))
}

/// Where a node starts, for errors about it.
fn node_pos(n: &Node) -> usize {
    match n {
        Node::Text(_, pos) | Node::Template { pos, .. } => *pos,
        Node::Action(p) => p.cmds.first().map_or(0, |c| c.start),
        Node::If(b) | Node::With(b) | Node::Range(b) => b.pipe.cmds.first().map_or(0, |c| c.start),
        Node::Break | Node::Continue => 0,
    }
}

fn at_pos(pos: usize, message: impl Into<String>) -> Fail {
    Fail::At {
        start: pos,
        end: pos,
        message: message.into(),
    }
}

fn at(cmd: &Cmd, message: impl Into<String>) -> Fail {
    Fail::At {
        start: cmd.start,
        end: cmd.end,
        message: message.into(),
    }
}

impl<'a> Exec<'a, '_> {
    fn walk(&mut self, dot: &Value, nodes: &'a [Node]) -> Result<Flow, Fail> {
        // Recursive `{{template}}` calls stack bodies beyond what one parse allows.
        if self.depth >= 2 * MAX_DEPTH {
            let pos = nodes.first().map_or(0, node_pos);
            return Err(at_pos(
                pos,
                format!(
                    "actions nest more than {} levels deep (through {{{{template}}}} calls)",
                    2 * MAX_DEPTH
                ),
            ));
        }
        self.depth += 1;
        let flow = self.walk_nodes(dot, nodes);
        self.depth -= 1;
        flow
    }

    fn walk_nodes(&mut self, dot: &Value, nodes: &'a [Node]) -> Result<Flow, Fail> {
        for node in nodes {
            let flow = match node {
                Node::Text(t, pos) => {
                    self.step(*pos)?;
                    self.out.push_str(t);
                    self.check_output(*pos)?;
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let start = pipe.cmds.first().map_or(0, |c| c.start);
                    self.step(start)?;
                    let v = self.pipe(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.print(&v, pipe)?;
                        self.check_output(start)?;
                    }
                    Flow::Normal
                }
                Node::If(b) => self.if_with(dot, b, false)?,
                Node::With(b) => self.if_with(dot, b, true)?,
                Node::Range(b) => self.range(dot, b)?,
                Node::Template { name, pipe, pos } => {
                    self.step(*pos)?;
                    let dot = match pipe {
                        Some(p) => self.pipe(dot, p)?,
                        None => Value::Nil,
                    };
                    self.call_template(name, dot, *pos)?;
                    self.check_output(*pos)?;
                    Flow::Normal
                }
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// Run a `{{define}}`d template with `dot` as its `.` and `$`, writing to the output.
    fn call_template(&mut self, name: &str, dot: Value, pos: usize) -> Result<(), Fail> {
        let defs = self.defs;
        let Some(body) = defs.get(name) else {
            return Err(at_pos(pos, format!("no such template \"{name}\"")));
        };
        if self.calls >= MAX_CALL_DEPTH {
            return Err(at_pos(
                pos,
                format!("{{{{template}}}} calls nest more than {MAX_CALL_DEPTH} deep"),
            ));
        }
        self.calls += 1;
        let vars = std::mem::replace(&mut self.vars, vec![("", dot.clone())]);
        let result = self.walk(&dot, body);
        self.vars = vars;
        self.calls -= 1;
        result.map(drop)
    }

    /// Count what a costly function's call is worth in steps (see [`crate::limits::call_cost`]).
    fn charge(&mut self, name: &str, pos: usize) -> Result<(), Fail> {
        let cost = crate::limits::call_cost(name);
        if cost == 0 {
            return Ok(());
        }
        self.steps = self.steps.saturating_add(cost);
        if self.steps > MAX_STEPS {
            return Err(at_pos(
                pos,
                format!(
                    "the template took more than {MAX_STEPS} evaluation steps \
                     ({name} counts for {cost}: it generates a key or hashes a password)"
                ),
            ));
        }
        Ok(())
    }

    /// Count one step; past [`MAX_STEPS`] the render stops (a template that loops for minutes
    /// would hold a sink or a CLI run hostage).
    fn step(&mut self, pos: usize) -> Result<(), Fail> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(at_pos(
                pos,
                format!("the template took more than {MAX_STEPS} evaluation steps"),
            ));
        }
        Ok(())
    }

    fn check_output(&self, pos: usize) -> Result<(), Fail> {
        if self.out.len() > MAX_OUTPUT {
            return Err(at_pos(
                pos,
                format!("the output exceeds {} MiB", MAX_OUTPUT / (1024 * 1024)),
            ));
        }
        Ok(())
    }

    /// What an action prints: Go's `<no value>` for nil at the top, `fmt`'s `%v` otherwise.
    fn print(&mut self, v: &Value, pipe: &Pipe) -> Result<(), Fail> {
        match v {
            Value::Nil | Value::Invalid => self.out.push_str("<no value>"),
            Value::Secret(_) => {
                let last = pipe.cmds.last().expect("a pipeline has a command");
                return Err(at(
                    last,
                    "printing a whole secret is not supported; print its .Data or a key of it",
                ));
            }
            v => fmt_v(v, &mut self.out),
        }
        Ok(())
    }

    fn if_with(&mut self, dot: &Value, b: &'a Branch, with: bool) -> Result<Flow, Fail> {
        let mark = self.vars.len();
        let v = self.pipe(dot, &b.pipe)?;
        let flow = if v.truthy() {
            self.walk(if with { &v } else { dot }, &b.list)?
        } else if let Some(e) = &b.else_list {
            self.walk(dot, e)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn range(&mut self, dot: &Value, b: &'a Branch) -> Result<Flow, Fail> {
        let mark = self.vars.len();
        let v = self.pipe_value(dot, &b.pipe)?;
        let cmd = b.pipe.cmds.last().expect("a pipeline has a command");
        type Items<'v> = Box<dyn Iterator<Item = (Value, Value)> + 'v>;
        let items: Items<'_> = match &v {
            // A snapshot: the body may change the map (`set`), as Go's range sorts the keys first.
            Value::Map(m) => Box::new(
                m.entries()
                    .iter()
                    .map(|(k, e)| {
                        let key = if m.any_keys {
                            crate::value::key_value(k)
                        } else {
                            Value::str(k.clone())
                        };
                        (key, e.clone())
                    })
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            Value::List(l) | Value::Strings(l) => Box::new(
                l.iter()
                    .enumerate()
                    .map(|(i, e)| (Value::Int(i as i64), e.clone())),
            ),
            Value::Int(n) => {
                if *n > MAX_RANGE {
                    return Err(at(
                        cmd,
                        format!("range over {n}: more than {MAX_RANGE} iterations"),
                    ));
                }
                Box::new((0..*n).map(|i| (Value::Int(i), Value::Int(i))))
            }
            // Go ranges over an integer of any type with elements of that type.
            Value::Typed(t) => {
                let n = t.get();
                if n > i128::from(MAX_RANGE) {
                    return Err(at(
                        cmd,
                        format!("range over {n}: more than {MAX_RANGE} iterations"),
                    ));
                }
                let unsigned = t.is_unsigned();
                Box::new((0..n.max(0) as i64).map(move |i| {
                    let v = if unsigned {
                        Value::uint64(i as u64)
                    } else {
                        Value::int64(i)
                    };
                    (v.clone(), v)
                }))
            }
            Value::Nil | Value::Invalid => Box::new(std::iter::empty()),
            other => {
                return Err(at(
                    cmd,
                    format!(
                        "range can't iterate over a value of type {}",
                        other.type_name()
                    ),
                ));
            }
        };
        let mut items = items.peekable();
        if items.peek().is_none() {
            let flow = match &b.else_list {
                Some(e) => self.walk(dot, e)?,
                None => Flow::Normal,
            };
            self.vars.truncate(mark);
            // break/continue inside a range's else belong to an enclosing range.
            return Ok(flow);
        }
        for (key, elem) in items {
            self.step(cmd.start)?;
            match b.pipe.decl.as_slice() {
                [] => {}
                [v] => self.declare(v, elem.clone(), b.pipe.assign),
                [k, v, ..] => {
                    self.declare(k, key, b.pipe.assign);
                    self.declare(v, elem.clone(), b.pipe.assign);
                }
            }
            let flow = self.walk(&elem, &b.list)?;
            self.vars.truncate(mark);
            if flow == Flow::Break {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    fn declare(&mut self, name: &'a str, v: Value, assign: bool) {
        if assign {
            if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
                slot.1 = v;
                return;
            }
        }
        self.vars.push((name, v));
    }

    fn pipe(&mut self, dot: &Value, p: &'a Pipe) -> Result<Value, Fail> {
        let v = self.pipe_value(dot, p)?;
        for name in &p.decl {
            self.declare(name, v.clone(), p.assign);
        }
        Ok(v)
    }

    fn pipe_value(&mut self, dot: &Value, p: &'a Pipe) -> Result<Value, Fail> {
        let mut prev = None;
        for cmd in &p.cmds {
            prev = Some(self.cmd(dot, cmd, prev)?);
        }
        Ok(prev.unwrap_or(Value::Nil))
    }

    fn cmd(&mut self, dot: &Value, cmd: &'a Cmd, fin: Option<Value>) -> Result<Value, Fail> {
        if let Arg::FuncChain(name, chain) = &cmd.args[0] {
            let mut args = Vec::with_capacity(cmd.args.len());
            for a in &cmd.args[1..] {
                args.push(self.arg(dot, a, cmd)?);
            }
            args.extend(fin);
            return self.method(name, chain, args, cmd);
        }
        let Arg::Func(name, f) = &cmd.args[0] else {
            if cmd.args.len() > 1 || fin.is_some() {
                // `$t.Format "2006"`, `$v.LessThan $w`: a method of a Go value (time, object), with arguments.
                return self.method_with_args(dot, cmd, fin);
            }
            return self.arg(dot, &cmd.args[0], cmd);
        };
        let rest = &cmd.args[1..];
        if name == "and" || name == "or" {
            // Go short-circuits: the result is the first argument that decides it.
            let want = name == "or";
            let n = rest.len() + usize::from(fin.is_some());
            if n == 0 {
                return Err(at(
                    cmd,
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                ));
            }
            for (i, a) in rest.iter().enumerate() {
                let v = self.arg(dot, a, cmd)?;
                if v.truthy() == want || i + 1 == n {
                    return Ok(v);
                }
            }
            return Ok(fin.unwrap_or(Value::Nil));
        }
        let mut args = Vec::with_capacity(rest.len() + 1);
        for a in rest {
            args.push(self.arg(dot, a, cmd)?);
        }
        args.extend(fin);
        for (i, v) in args.iter().enumerate() {
            if let (Some(want), Value::Int(_)) = (constant_only_param(name, i), v) {
                if !matches!(rest.get(i), Some(Arg::Int(_))) {
                    return Err(at(
                        cmd,
                        format!("wrong type for value; expected {want}; got int"),
                    ));
                }
            }
        }
        self.stateful(name, *f, args, cmd)
    }

    /// Functions that need the render's state; every other one goes to the library.
    fn stateful(
        &mut self,
        name: &str,
        f: Option<funcs::Func>,
        args: Vec<Value>,
        cmd: &Cmd,
    ) -> Result<Value, Fail> {
        if let Some(f) = f {
            self.charge(name, cmd.start)?;
            return call(name, f, args, cmd);
        }
        match name {
            // A failed read names where the template asked for it.
            "secret" => self.secret(args, cmd).map_err(|f| f.at(cmd.start)),
            "secrets" => self.secrets_list(args, cmd).map_err(|f| f.at(cmd.start)),
            "pkiCert" => self.pki_cert(args, cmd).map_err(|f| f.at(cmd.start)),
            "executeTemplate" => self.execute_template(args, cmd),
            "writeToFile" => {
                let w = funcs::files::prepare(&args)
                    .map_err(|m| at(cmd, format!("error calling writeToFile: {m}")))?;
                self.secrets.writes.push((cmd.start, cmd.end, w));
                Ok(Value::str(""))
            }
            _ => Err(at(cmd, format!("function \"{name}\" not defined"))),
        }
    }

    fn arg(&mut self, dot: &Value, a: &'a Arg, cmd: &'a Cmd) -> Result<Value, Fail> {
        let (base, chain) = self.arg_base(dot, a, cmd)?;
        chain.iter().try_fold(base, |v, f| {
            field(&v, f, self.secrets.missing_key_error).map_err(|m| at(cmd, m))
        })
    }

    /// An argument before its field chain, and the chain.
    fn arg_base(
        &mut self,
        dot: &Value,
        a: &'a Arg,
        cmd: &'a Cmd,
    ) -> Result<(Value, &'a [String]), Fail> {
        Ok(match a {
            Arg::Dot => (dot.clone(), &[][..]),
            Arg::Nil => (Value::Nil, &[][..]),
            Arg::Bool(b) => (Value::Bool(*b), &[][..]),
            Arg::Int(i) => (Value::Int(*i), &[][..]),
            Arg::Float(f) => (Value::Float(*f), &[][..]),
            Arg::Str(s) => (Value::Str(s.clone()), &[][..]),
            // A function name as an argument is called with no arguments.
            Arg::Func(name, f) => (self.stateful(name, *f, Vec::new(), cmd)?, &[][..]),
            Arg::FuncChain(name, chain) => (self.method(name, chain, Vec::new(), cmd)?, &[][..]),
            Arg::Field(chain) => (dot.clone(), chain.as_slice()),
            Arg::Var(name, chain) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| at(cmd, format!("undefined variable: ${name}")))?;
                (v, chain.as_slice())
            }
            Arg::Sub(p, chain) => (self.pipe(dot, p)?, chain.as_slice()),
        })
    }

    /// `fn.Method ARGS`: only `scratch` returns a value with methods.
    fn method(
        &mut self,
        name: &str,
        chain: &[String],
        args: Vec<Value>,
        cmd: &Cmd,
    ) -> Result<Value, Fail> {
        match (name, chain) {
            ("scratch", [m]) => self
                .scratch_call(m, args)
                .map_err(|e| at(cmd, format!("error calling {m}: {e}"))),
            ("sprig_now", _) => self.time_func_chain(name, chain, args, cmd),
            _ => Err(at(
                cmd,
                format!(
                    "can't evaluate field {} of the result of {name}",
                    chain.join(".")
                ),
            )),
        }
    }

    /// The `*Scratch` methods: `Key Get Set SetX MapSet MapSetX MapValues`.
    fn scratch_call(&mut self, m: &str, args: Vec<Value>) -> Result<Value, String> {
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "wrong number of args for {m}: want {n} got {}",
                    args.len()
                ))
            }
        };
        let key = |v: &Value| funcs::string_arg(v).map(str::to_owned);
        let empty = || Value::str("");
        match m {
            "Key" => {
                want(1)?;
                Ok(Value::Bool(self.scratch.contains_key(&key(&args[0])?)))
            }
            "Get" => {
                want(1)?;
                Ok(self
                    .scratch
                    .get(&key(&args[0])?)
                    .cloned()
                    .unwrap_or(Value::Nil))
            }
            "Set" | "SetX" => {
                want(2)?;
                let k = key(&args[0])?;
                if m == "Set" || !self.scratch.contains_key(&k) {
                    self.scratch.insert(k, args[1].clone());
                }
                Ok(empty())
            }
            "MapSet" | "MapSetX" => {
                want(3)?;
                let (k, mk) = (key(&args[0])?, key(&args[1])?);
                let mut entries = match self.scratch.get(&k) {
                    Some(Value::Map(existing)) => existing.entries().clone(),
                    _ => Default::default(),
                };
                if m == "MapSet" || !entries.contains_key(&mk) {
                    entries.insert(mk, args[2].clone());
                }
                self.scratch.insert(k, Value::map(entries));
                Ok(empty())
            }
            "MapValues" => {
                want(1)?;
                let values = match self.scratch.get(&key(&args[0])?) {
                    Some(Value::Map(mm)) => mm.entries().values().cloned().collect(),
                    _ => Vec::new(),
                };
                Ok(Value::List(std::sync::Arc::new(values)))
            }
            other => Err(format!(
                "can't evaluate field {other} in type *template.Scratch"
            )),
        }
    }

    /// `executeTemplate NAME [DOT]`: a `{{define}}`d template's output as a string.
    fn execute_template(&mut self, args: Vec<Value>, cmd: &Cmd) -> Result<Value, Fail> {
        let mut it = args.into_iter();
        let name = match it.next() {
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => {
                return Err(at(
                    cmd,
                    format!(
                    "error calling executeTemplate: wrong type for value; expected string; got {}",
                    other.type_name()
                ),
                ))
            }
            None => {
                return Err(at(
                    cmd,
                    "wrong number of args for executeTemplate: want at least 1 got 0",
                ))
            }
        };
        let dot = it.next().unwrap_or(Value::Nil);
        if it.next().is_some() {
            return Err(at(
                cmd,
                "error calling executeTemplate: wrong number of arguments, expected 1 or 2",
            ));
        }
        let outer = std::mem::replace(&mut self.out, Zeroizing::new(String::new()));
        let result = self.call_template(&name, dot, cmd.start);
        let inner = std::mem::replace(&mut self.out, outer);
        result?;
        Ok(Value::str(inner.as_str()))
    }

    /// `pkiCert`: the destination's certificate while it is good, else one issued now.
    fn pki_cert(&mut self, args: Vec<Value>, cmd: &Cmd) -> Result<Value, Fail> {
        if args.len() < 2 {
            return Err(at(
                cmd,
                format!(
                    "error calling pkiCert: want the issue path and at least one KEY=VALUE \
                     argument (e.g. \"common_name=…\"), got {} argument(s)",
                    args.len()
                ),
            ));
        }
        if let Some(dest) = self.secrets.destination {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            if let Some(p) = funcs::pki::reuse(dest, now) {
                return Ok(funcs::pki::value(&p));
            }
        }
        match self.secret(args, cmd)? {
            Value::Secret(r) => {
                let data = r.field("Data").map_err(|m| at(cmd, m))?;
                funcs::pki::from_issued(&data)
                    .map(|p| funcs::pki::value(&p))
                    .map_err(|m| at(cmd, format!("error calling pkiCert: {m}")))
            }
            pending => Ok(pending),
        }
    }

    fn secret(&mut self, args: Vec<Value>, cmd: &Cmd) -> Result<Value, Fail> {
        let key;
        let path = match args.as_slice() {
            [Value::Str(p)] => p.as_str(),
            // Write-style: `secret "pki/issue/web" "common_name=…" "ttl=24h"`, as Vault Agent.
            [Value::Str(p), writes @ ..] if !writes.is_empty() => {
                let mut pairs = Vec::with_capacity(writes.len());
                for (i, w) in writes.iter().enumerate() {
                    match w {
                        Value::Str(s) if s.contains('=') && !s.starts_with('=') => {
                            pairs.push(s.as_str())
                        }
                        other => {
                            return Err(at(
                                cmd,
                                format!(
                                "error calling secret: argument {} must be a `KEY=VALUE` string{}",
                                i + 2,
                                match other {
                                    Value::Str(_) => String::new(),
                                    o => format!(", not {}", o.type_name()),
                                }
                            ),
                            ))
                        }
                    }
                }
                key = crate::source::call_key(p, &pairs).ok_or_else(|| {
                    at(
                        cmd,
                        "error calling secret: an argument contains a NUL character",
                    )
                })?;
                key.as_str()
            }
            [other, ..] => {
                return Err(at(
                    cmd,
                    format!(
                        "error calling secret: the path must be a string, not {}",
                        other.type_name()
                    ),
                ))
            }
            [] => return Err(at(cmd, "wrong number of args for secret: want 1 got 0")),
        };
        if let (None, Some(lookup)) = (self.secrets.known.get(path), self.secrets.lookup.as_mut()) {
            if !self.secrets.looked_up.contains_key(path) {
                let v = lookup(path);
                self.secrets.looked_up.insert(path.to_owned(), v);
            }
        }
        let known = self
            .secrets
            .known
            .get(path)
            .or_else(|| self.secrets.looked_up.get(path));
        match known {
            Some(Ok(record)) => Ok(record.clone()),
            Some(Err(e)) => Err(Fail::Secret(Box::new(e.clone()))),
            None => {
                self.secrets.pending.insert(path.to_owned());
                // Invalid rather than nil: its fields are not errors, so the rest of this pass
                // still runs and finds the other secrets it needs.
                Ok(Value::Invalid)
            }
        }
    }
}

impl Exec<'_, '_> {
    /// `secrets "PATH"`: the names in a Vault folder, fetched like a secret (each listing
    /// once per render), under a key `secret` arguments cannot spell.
    fn secrets_list(&mut self, args: Vec<Value>, cmd: &Cmd) -> Result<Value, Fail> {
        let path = match args.as_slice() {
            [Value::Str(p)] => p.to_string(),
            [other] => {
                return Err(at(
                    cmd,
                    format!(
                        "error calling secrets: wrong type for value; expected string; got {}",
                        other.type_name()
                    ),
                ))
            }
            _ => {
                return Err(at(
                    cmd,
                    format!(
                        "wrong number of args for secrets: want 1 got {}",
                        args.len()
                    ),
                ))
            }
        };
        // consul-template: an empty argument lists nothing; one of only spaces and slashes
        // is an invalid path.
        if path.is_empty() {
            return Ok(Value::Strings(std::sync::Arc::new(Vec::new())));
        }
        let trimmed = path.trim().trim_matches('/');
        if trimmed.is_empty() || trimmed.chars().any(char::is_control) {
            return Err(at(
                cmd,
                "error calling secrets: vault.list: invalid format (the path is empty or holds \
                 control characters)",
            ));
        }
        let key = format!("{}{trimmed}", crate::source::LIST_KEY);
        if let (None, Some(lookup)) = (self.secrets.known.get(&key), self.secrets.lookup.as_mut()) {
            if !self.secrets.looked_up.contains_key(&key) {
                let v = lookup(&key);
                self.secrets.looked_up.insert(key.clone(), v);
            }
        }
        let known = self
            .secrets
            .known
            .get(&key)
            .or_else(|| self.secrets.looked_up.get(&key));
        match known {
            Some(Ok(names)) => Ok(names.clone()),
            Some(Err(e)) => Err(Fail::Secret(Box::new(e.clone()))),
            None => {
                self.secrets.pending.insert(key);
                Ok(Value::Strings(std::sync::Arc::new(Vec::new())))
            }
        }
    }
}

/// Call a library function; a string result larger than the output limit is an error, so a
/// loop that doubles a variable cannot exhaust memory without printing it.
/// A function parameter of a Go number type other than `int` (named here): Go converts an
/// integer *constant* to it, but refuses an `int` from a variable or a pipeline. The functions
/// cannot tell the two apart from the value, so the call site checks.
fn constant_only_param(name: &str, i: usize) -> Option<&'static str> {
    match (name, i) {
        ("sprig_derivePassword", 0) => Some("uint32"),
        ("sprig_round", 2) => Some("float64"),
        _ => None,
    }
}

fn call(name: &str, f: funcs::Func, args: Vec<Value>, cmd: &Cmd) -> Result<Value, Fail> {
    let v = f(args).map_err(|m| at(cmd, format!("error calling {name}: {m}")))?;
    if let Value::Str(s) = &v {
        if s.len() > MAX_OUTPUT {
            return Err(at(
                cmd,
                format!(
                    "error calling {name}: the result exceeds {} MiB",
                    MAX_OUTPUT / (1024 * 1024)
                ),
            ));
        }
    }
    Ok(v)
}

/// `.NAME ARGS` on a Go object, with Go's error texts.
fn object_call(
    o: &std::sync::Arc<dyn crate::object::GoObject>,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, String> {
    use crate::object::CallError;
    o.call(name, args).map_err(|e| match e {
        CallError::NoSuchField => format!("can't evaluate field {name} in type {}", o.type_name()),
        CallError::Plain(m) => m,
        CallError::Calling(m) => format!("error calling {name}: {m}"),
    })
}

/// `.name` on a value. A missing key is nil (Go's `<no value>`); a field of nil is Go's
/// "nil pointer" error; any field of the root is the root.
fn field(v: &Value, name: &str, missing_key_error: bool) -> Result<Value, String> {
    match v {
        Value::Map(m) => Ok(match m.entries().get(name) {
            Some(e) => e.clone(),
            None if m.data_alias && name == "data" => v.clone(),
            None if missing_key_error => {
                return Err(format!("map has no entry for key \"{name}\""))
            }
            None => Value::Nil,
        }),
        Value::Secret(r) => r.field(name),
        Value::Time(t) => crate::gotime::call_method(t, name, Vec::new()),
        Value::Object(o) => object_call(o, name, Vec::new()),
        Value::Invalid => Ok(Value::Invalid),
        Value::Nil => Err(format!("nil pointer evaluating interface {{}}.{name}")),
        other => Err(format!(
            "can't evaluate field {name} in type {}",
            other.type_name()
        )),
    }
}
