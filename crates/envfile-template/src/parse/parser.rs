//! Builds the syntax tree from tokens, with Go's checks done at parse time: unknown functions,
//! undefined variables, `else`/`end` without a matching action, `break` outside `range`.

use super::lexer::{Tok, Token};
use super::SyntaxError;
use crate::funcs;
use crate::limits::MAX_DEPTH;

/// A node of the template body.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Text and where it starts.
    Text(String, usize),
    /// `{{ pipeline }}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    Break,
    Continue,
    /// `{{template "name" pipeline}}` (and the call half of `{{block}}`).
    Template {
        name: String,
        pipe: Option<Pipe>,
        pos: usize,
    },
}

/// A parsed template: the main body and the `{{define}}`d (and `{{block}}`) templates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Parsed {
    pub root: Vec<Node>,
    pub defs: std::collections::HashMap<String, Vec<Node>>,
}

impl Parsed {
    /// Whether any action (in the body or a `define`) calls one of `names`.
    pub(crate) fn calls_any(&self, names: &[&str]) -> bool {
        fn pipe(p: &Pipe, names: &[&str]) -> bool {
            p.cmds.iter().any(|c| {
                c.args.iter().any(|a| match a {
                    Arg::Func(n, _) | Arg::FuncChain(n, _) => names.contains(&n.as_str()),
                    Arg::Sub(p, _) => pipe(p, names),
                    _ => false,
                })
            })
        }
        fn nodes(list: &[Node], names: &[&str]) -> bool {
            list.iter().any(|n| match n {
                Node::Action(p) => pipe(p, names),
                Node::If(b) | Node::With(b) | Node::Range(b) => {
                    pipe(&b.pipe, names)
                        || nodes(&b.list, names)
                        || b.else_list.as_deref().is_some_and(|e| nodes(e, names))
                }
                Node::Template { pipe: Some(p), .. } => pipe(p, names),
                _ => false,
            })
        }
        nodes(&self.root, names) || self.defs.values().any(|d| nodes(d, names))
    }
}

/// `if`/`with`/`range`: the pipeline, the body, and the `else` body.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// `[$a[, $b] :=|=] cmd | cmd …`
#[derive(Debug, Clone)]
pub(crate) struct Pipe {
    pub decl: Vec<String>,
    /// `=` (assign to existing variables) rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

/// One command of a pipeline: a function call or a single operand.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    /// Byte range of the command in the template, for error messages.
    pub start: usize,
    pub end: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Dot,
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string constant, shared so that evaluating it does not allocate.
    Str(crate::value::SecretText),
    /// A function name, and its implementation looked up once at parse time (None for the
    /// ones `exec` evaluates itself).
    Func(String, Option<funcs::Func>),
    /// `$name` (`$` is the root) followed by fields.
    Var(String, Vec<String>),
    /// `.a.b` — fields of dot.
    Field(Vec<String>),
    /// `(pipeline).a.b`
    Sub(Box<Pipe>, Vec<String>),
    /// `fn.Method` — a method of what a function returns (`scratch.Set "k" "v"`).
    FuncChain(String, Vec<String>),
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    /// Variables in scope (Go checks these at parse time).
    vars: Vec<String>,
    range_depth: usize,
    /// Nesting of control bodies and parentheses, bounded so that a template of 10,000 `(` or
    /// `{{if}}` is an error rather than a stack overflow (here or in the evaluator).
    depth: usize,
    defs: std::collections::HashMap<String, Vec<Node>>,
}

/// What ended a list.
enum Stop {
    Eof,
    End,
    Else,
}

pub(crate) fn parse(toks: Vec<Token>) -> Result<Parsed, SyntaxError> {
    let mut p = Parser {
        toks,
        i: 0,
        vars: vec![String::new()],
        range_depth: 0,
        depth: 0,
        defs: Default::default(),
    };
    let (list, end) = p.list()?;
    match end {
        (Stop::Eof, _) => Ok(Parsed {
            root: list,
            defs: p.defs,
        }),
        (Stop::End, pos) => Err(SyntaxError::new(pos, "unexpected {{end}}")),
        (Stop::Else, pos) => Err(SyntaxError::new(pos, "unexpected {{else}}")),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.i + n).min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn expect_close(&mut self, context: &str) -> Result<(), SyntaxError> {
        let t = self.next();
        if t.kind == Tok::Close {
            Ok(())
        } else {
            Err(SyntaxError::new(
                t.pos,
                format!("unexpected {} in {context}", describe(&t.kind)),
            ))
        }
    }

    /// Nodes up to `{{end}}`, `{{else…`, or the end of input. After `Else` the `else` keyword
    /// has been consumed and the rest of that action is left to the caller.
    fn list(&mut self) -> Result<(Vec<Node>, (Stop, usize)), SyntaxError> {
        let mut nodes = Vec::new();
        loop {
            let t = self.next();
            match t.kind {
                Tok::Eof => return Ok((nodes, (Stop::Eof, t.pos))),
                Tok::Text(s) => nodes.push(Node::Text(s, t.pos)),
                Tok::Open => {
                    let kw = match &self.peek().kind {
                        Tok::Ident(s) => s.clone(),
                        _ => String::new(),
                    };
                    match kw.as_str() {
                        "end" => {
                            self.next();
                            self.expect_close("end")?;
                            return Ok((nodes, (Stop::End, t.pos)));
                        }
                        "else" => {
                            self.next();
                            return Ok((nodes, (Stop::Else, t.pos)));
                        }
                        "if" | "with" | "range" => {
                            self.next();
                            nodes.push(self.control(&kw, t.pos)?);
                        }
                        "break" | "continue" => {
                            self.next();
                            if self.range_depth == 0 {
                                return Err(SyntaxError::new(
                                    t.pos,
                                    format!("{{{{{kw}}}}} outside {{{{range}}}}"),
                                ));
                            }
                            self.expect_close(&kw)?;
                            nodes.push(if kw == "break" {
                                Node::Break
                            } else {
                                Node::Continue
                            });
                        }
                        "define" | "block" => {
                            self.next();
                            if let Some(call) = self.definition(&kw, t.pos)? {
                                nodes.push(call);
                            }
                        }
                        "template" => {
                            self.next();
                            let (name, pipe) = self.template_head("template", true)?;
                            nodes.push(Node::Template {
                                name,
                                pipe,
                                pos: t.pos,
                            });
                        }
                        _ => {
                            let pipe = self.pipeline("command", false)?;
                            nodes.push(Node::Action(pipe));
                        }
                    }
                }
                other => {
                    return Err(SyntaxError::new(
                        t.pos,
                        format!("unexpected {}", describe(&other)),
                    ))
                }
            }
        }
    }

    /// `if`/`with`/`range` after the keyword, through the matching `{{end}}`. `{{else if …}}` and
    /// `{{else with …}}` nest a new control in the else branch that shares this `{{end}}`.
    fn control(&mut self, kw: &str, pos: usize) -> Result<Node, SyntaxError> {
        self.enter(pos)?;
        let node = self.control_body(kw, pos);
        self.depth -= 1;
        node
    }

    /// One level deeper, or an error past [`MAX_DEPTH`].
    fn enter(&mut self, pos: usize) -> Result<(), SyntaxError> {
        if self.depth >= MAX_DEPTH {
            return Err(SyntaxError::new(
                pos,
                format!("actions and parentheses nest more than {MAX_DEPTH} levels deep"),
            )
            .with_hint("flatten the template: split it with variables or {{define}}"));
        }
        self.depth += 1;
        Ok(())
    }

    fn control_body(&mut self, kw: &str, pos: usize) -> Result<Node, SyntaxError> {
        let mark = self.vars.len();
        let pipe = self.pipeline(kw, kw == "range")?;
        if kw == "range" {
            self.range_depth += 1;
        }
        let listed = self.list();
        if kw == "range" {
            self.range_depth -= 1;
        }
        let (list, end) = listed?;
        let else_list = match end {
            (Stop::End, _) => None,
            (Stop::Eof, _) => {
                return Err(SyntaxError::new(
                    pos,
                    format!("unexpected EOF: {{{{{kw}}}}} has no {{{{end}}}}"),
                ))
            }
            (Stop::Else, else_pos) => {
                let chained = match &self.peek().kind {
                    Tok::Ident(s) if (s == "if" && kw == "if") || (s == "with" && kw == "with") => {
                        Some(s.clone())
                    }
                    _ => None,
                };
                if let Some(inner) = chained {
                    self.next();
                    Some(vec![self.control(&inner, else_pos)?])
                } else {
                    self.expect_close("else")?;
                    let (else_list, end) = self.list()?;
                    match end {
                        (Stop::End, _) => Some(else_list),
                        (Stop::Else, p) => {
                            return Err(SyntaxError::new(p, "expected {{end}}; found {{else}}"))
                        }
                        (Stop::Eof, _) => {
                            return Err(SyntaxError::new(
                                pos,
                                format!("unexpected EOF: {{{{{kw}}}}} has no {{{{end}}}}"),
                            ))
                        }
                    }
                }
            }
        };
        self.vars.truncate(mark);
        let branch = Branch {
            pipe,
            list,
            else_list,
        };
        Ok(match kw {
            "if" => Node::If(branch),
            "with" => Node::With(branch),
            _ => Node::Range(branch),
        })
    }

    /// `{{define "name"}}…{{end}}` or `{{block "name" pipeline}}…{{end}}` after the keyword; a
    /// block also returns its call. Kept out of `list` so the recursive frames stay small.
    #[inline(never)]
    fn definition(&mut self, kw: &str, pos: usize) -> Result<Option<Node>, SyntaxError> {
        if self.depth > 0 && kw == "define" {
            return Err(SyntaxError::new(
                pos,
                "{{define}} is only allowed at the top level",
            ));
        }
        let (name, pipe) = self.template_head(kw, kw == "block")?;
        self.enter(pos)?;
        // A definition sees only `$` (its dot) and is no loop body.
        let vars = std::mem::replace(&mut self.vars, vec![String::new()]);
        let ranges = std::mem::take(&mut self.range_depth);
        let body = self.list();
        self.vars = vars;
        self.range_depth = ranges;
        self.depth -= 1;
        let (body, end) = body?;
        match end {
            (Stop::End, _) => {}
            (Stop::Else, p) => {
                return Err(SyntaxError::new(
                    p,
                    format!("unexpected {{{{else}}}} in {kw}"),
                ))
            }
            (Stop::Eof, _) => {
                return Err(SyntaxError::new(
                    pos,
                    format!("unexpected EOF: {{{{{kw}}}}} has no {{{{end}}}}"),
                ))
            }
        }
        self.defs.insert(name.clone(), body);
        Ok((kw == "block").then_some(Node::Template { name, pipe, pos }))
    }

    /// `"name" [pipeline]}}` after `define`, `template` or `block`.
    fn template_head(
        &mut self,
        kw: &str,
        pipe_allowed: bool,
    ) -> Result<(String, Option<Pipe>), SyntaxError> {
        let t = self.next();
        let Tok::Str(name) = t.kind else {
            return Err(SyntaxError::new(
                t.pos,
                format!("unexpected {} in {kw} clause", describe(&t.kind)),
            ));
        };
        if self.peek().kind == Tok::Close {
            self.next();
            return Ok((name, None));
        }
        if !pipe_allowed {
            let t = self.peek();
            return Err(SyntaxError::new(
                t.pos,
                format!("unexpected {} in {kw} clause", describe(&t.kind)),
            ));
        }
        let pipe = self.pipeline(&format!("{kw} clause"), false)?;
        Ok((name, Some(pipe)))
    }

    /// A pipeline through its closing `}}` (or `)` when `context` is "parenthesized pipeline").
    fn pipeline(&mut self, context: &str, range: bool) -> Result<Pipe, SyntaxError> {
        let mut decl = Vec::new();
        let mut assign = false;
        // `$x :=`, `$x =`, and in range `$k, $v :=`.
        if let Tok::Var(_) = self.peek().kind {
            let after = &self.peek_at(1).kind;
            let two = range
                && *after == Tok::Comma
                && matches!(self.peek_at(2).kind, Tok::Var(_))
                && matches!(self.peek_at(3).kind, Tok::Declare | Tok::Assign);
            if matches!(after, Tok::Declare | Tok::Assign) || two {
                let n = if two { 2 } else { 1 };
                let mut seen = Vec::new();
                for k in 0..n {
                    let t = self.next();
                    if let Tok::Var(name) = t.kind {
                        if name.is_empty() {
                            return Err(SyntaxError::new(t.pos, "cannot assign to `$`"));
                        }
                        seen.push(t.pos);
                        decl.push(name);
                    }
                    if k + 1 < n {
                        self.next(); // the comma
                    }
                }
                assign = self.next().kind == Tok::Assign;
                if assign {
                    for (name, pos) in decl.iter().zip(seen) {
                        if !self.vars.contains(name) {
                            return Err(SyntaxError::new(
                                pos,
                                format!("undefined variable \"${name}\""),
                            ));
                        }
                    }
                }
            }
        }
        let close = if context == "parenthesized pipeline" {
            Tok::RParen
        } else {
            Tok::Close
        };
        let mut cmds = Vec::new();
        loop {
            let t = self.peek().clone();
            if t.kind == close {
                self.next();
                break;
            }
            if t.kind == Tok::Pipe && !cmds.is_empty() {
                self.next();
                continue;
            }
            cmds.push(self.command(&close)?);
            let t = self.peek();
            if t.kind != Tok::Pipe && t.kind != close {
                return Err(SyntaxError::new(
                    t.pos,
                    format!("unexpected {} in {context}", describe(&t.kind)),
                ));
            }
        }
        if cmds.is_empty() {
            return Err(SyntaxError::new(
                self.toks[self.i - 1].pos,
                format!("missing value for {context}"),
            ));
        }
        if !assign {
            self.vars.extend(decl.iter().cloned());
        }
        Ok(Pipe { decl, assign, cmds })
    }

    fn command(&mut self, close: &Tok) -> Result<Cmd, SyntaxError> {
        let start = self.peek().pos;
        let mut args = Vec::new();
        loop {
            let t = self.peek();
            if t.kind == *close || t.kind == Tok::Pipe {
                break;
            }
            if !args.is_empty() && !t.space_before && !matches!(t.kind, Tok::LParen) {
                return Err(SyntaxError::new(
                    t.pos,
                    format!("missing space before {}", describe(&t.kind)),
                ));
            }
            args.push(self.operand()?);
        }
        let end = self.peek().pos;
        if args.is_empty() {
            return Err(SyntaxError::new(start, "empty command"));
        }
        if let Arg::Nil = args[0] {
            return Err(SyntaxError::new(start, "nil is not a command"));
        }
        Ok(Cmd { start, end, args })
    }

    fn operand(&mut self) -> Result<Arg, SyntaxError> {
        let t = self.next();
        let base = match t.kind {
            Tok::Dot => Arg::Dot,
            Tok::Str(s) => Arg::Str(std::sync::Arc::new(zeroize::Zeroizing::new(s))),
            Tok::Number(n) => number(&n)
                .ok_or_else(|| SyntaxError::new(t.pos, format!("bad number syntax: {n:?}")))?,
            Tok::Field(f) => Arg::Field(vec![f]),
            Tok::Var(name) => {
                if !self.vars.contains(&name) {
                    return Err(SyntaxError::new(
                        t.pos,
                        format!("undefined variable \"${name}\""),
                    ));
                }
                Arg::Var(name, Vec::new())
            }
            Tok::LParen => {
                self.enter(t.pos)?;
                let pipe = self.pipeline("parenthesized pipeline", false);
                self.depth -= 1;
                Arg::Sub(Box::new(pipe?), Vec::new())
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "nil" => Arg::Nil,
                _ if funcs::exists(&name) => {
                    let f = funcs::lookup(&name);
                    Arg::Func(name, f)
                }
                _ => {
                    if let Some(why) = funcs::unsupported(&name) {
                        return Err(SyntaxError::new(t.pos, why).with_hint(
                            "envfile renders the Vault parts of Vault Agent templates; \
                             move Consul/Nomad reads to a consul-template of their own",
                        ));
                    }
                    return Err(SyntaxError::new(
                        t.pos,
                        format!("function \"{name}\" not defined"),
                    )
                    .with_hint(
                        "`envfile render --template-functions` lists the functions envfile supports",
                    ));
                }
            },
            other => {
                return Err(SyntaxError::new(
                    t.pos,
                    format!("unexpected {} in operand", describe(&other)),
                ))
            }
        };
        // Adjacent fields chain onto the operand: `.a.b`, `$x.a`, `(…).a`.
        let mut chain = Vec::new();
        while let Tok::Field(f) = &self.peek().kind {
            if self.peek().space_before {
                break;
            }
            chain.push(f.clone());
            self.next();
        }
        if chain.is_empty() {
            return Ok(base);
        }
        Ok(match base {
            Arg::Field(mut fs) => {
                fs.extend(chain);
                Arg::Field(fs)
            }
            Arg::Var(n, _) => Arg::Var(n, chain),
            Arg::Sub(p, _) => Arg::Sub(p, chain),
            Arg::Func(name, _) => Arg::FuncChain(name, chain),
            _ => return Err(SyntaxError::new(t.pos, "unexpected . after term")),
        })
    }
}

fn number(s: &str) -> Option<Arg> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = digits.replace('_', "");
    let int = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        i64::from_str_radix(b, 2).ok()
    } else {
        digits.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Some(Arg::Int(if neg { -i } else { i }));
    }
    let f: f64 = digits.parse().ok()?;
    f.is_finite()
        .then_some(Arg::Float(if neg { -f } else { f }))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Text(_) => "text".into(),
        Tok::Open => "{{".into(),
        Tok::Close => "}}".into(),
        Tok::Dot => "\".\"".into(),
        Tok::Field(f) => format!("field .{f}"),
        Tok::Var(v) => format!("variable ${v}"),
        Tok::Ident(i) => format!("\"{i}\""),
        Tok::Str(_) => "string".into(),
        Tok::Number(n) => format!("number {n}"),
        Tok::Pipe => "\"|\"".into(),
        Tok::LParen => "\"(\"".into(),
        Tok::RParen => "\")\"".into(),
        Tok::Declare => "\":=\"".into(),
        Tok::Assign => "\"=\"".into(),
        Tok::Comma => "\",\"".into(),
        Tok::Eof => "end of template".into(),
    }
}
