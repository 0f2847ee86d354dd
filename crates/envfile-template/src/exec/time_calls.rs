//! Method calls with arguments on Go time values (`{{ $t.Format "2006" }}`,
//! `{{ (sprig_toDate "2006-01-02" "2021-03-04").AddDate 0 1 0 }}`, `{{ sprig_now.Year }}`),
//! evaluated as Go's `evalFieldChain` does: every element but the last is called without
//! arguments, the last with the command's arguments (and the pipeline's value last).

use super::{at, field, Exec, Fail};
use crate::parse::parser::{Arg, Cmd};
use crate::value::Value;

impl<'a> Exec<'a, '_> {
    /// `RECEIVER.A.B ARGS`, where the first argument of `cmd` is a field, variable or
    /// parenthesized pipeline with a chain.
    pub(super) fn method_with_args(
        &mut self,
        dot: &Value,
        cmd: &'a Cmd,
        fin: Option<Value>,
    ) -> Result<Value, Fail> {
        let (base, chain) = match &cmd.args[0] {
            Arg::Field(chain) => (dot.clone(), chain.as_slice()),
            Arg::Var(name, chain) if !chain.is_empty() => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| at(cmd, format!("undefined variable: ${name}")))?;
                (v, chain.as_slice())
            }
            Arg::Sub(p, chain) if !chain.is_empty() => (self.pipe(dot, p)?, chain.as_slice()),
            _ => return Err(at(cmd, "can't give argument to non-function")),
        };
        let mut args = Vec::with_capacity(cmd.args.len());
        for a in &cmd.args[1..] {
            args.push(self.arg(dot, a, cmd)?);
        }
        args.extend(fin);
        self.call_chain(base, chain, args, cmd)
    }

    /// `sprig_now.Year`, `sprig_now.Format "2006"`: the function's time, then its methods.
    pub(super) fn time_func_chain(
        &mut self,
        name: &str,
        chain: &[String],
        args: Vec<Value>,
        cmd: &Cmd,
    ) -> Result<Value, Fail> {
        let base = self.stateful(name, crate::funcs::lookup(name), Vec::new(), cmd)?;
        self.call_chain(base, chain, args, cmd)
    }

    fn call_chain(
        &mut self,
        base: Value,
        chain: &[String],
        args: Vec<Value>,
        cmd: &Cmd,
    ) -> Result<Value, Fail> {
        let Some((last, init)) = chain.split_last() else {
            return Err(at(cmd, "can't give argument to non-function"));
        };
        let missing_key_error = self.secrets.missing_key_error;
        let recv = init.iter().try_fold(base, |v, f| {
            field(&v, f, missing_key_error).map_err(|m| at(cmd, m))
        })?;
        match &recv {
            Value::Time(t) => crate::gotime::call_method(t, last, args).map_err(|m| at(cmd, m)),
            _ if args.is_empty() => field(&recv, last, missing_key_error).map_err(|m| at(cmd, m)),
            _ => Err(at(cmd, "can't give argument to non-function")),
        }
    }
}
