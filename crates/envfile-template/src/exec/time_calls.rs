//! Method calls with arguments on Go values with methods: times (`{{ $t.Format "2006" }}`,
//! `{{ (sprig_toDate "2006-01-02" "2021-03-04").AddDate 0 1 0 }}`, `{{ sprig_now.Year }}`) and
//! objects (`{{ $v.LessThan $w }}`),
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
        // Only a field, a variable or a parenthesized pipeline with a chain names a method; Go
        // says so before evaluating anything.
        let named = match &cmd.args[0] {
            Arg::Field(_) => true,
            Arg::Var(_, chain) | Arg::Sub(_, chain) => !chain.is_empty(),
            _ => false,
        };
        if !named {
            return Err(at(cmd, "can't give argument to non-function"));
        }
        let (base, chain) = self.arg_base(dot, &cmd.args[0], cmd)?;
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
            Value::Time(t) => {
                // A `time.Duration` parameter: Go converts an integer constant to it but refuses
                // an `int` variable or pipeline result. The arguments were built from the
                // command's own (`cmd.args[1..]`, then the piped value), so argument i was a
                // constant exactly when `cmd.args[i + 1]` is one.
                if matches!(last.as_str(), "Add" | "Round" | "Truncate")
                    && matches!(args.first(), Some(Value::Int(_)))
                    && !matches!(cmd.args.get(1), Some(Arg::Int(_)))
                {
                    return Err(at(
                        cmd,
                        "wrong type for value; expected time.Duration; got int",
                    ));
                }
                crate::gotime::call_method(t, last, args).map_err(|m| at(cmd, m))
            }
            Value::Object(o) => super::object_call(o, last, args).map_err(|m| at(cmd, m)),
            _ if args.is_empty() => field(&recv, last, missing_key_error).map_err(|m| at(cmd, m)),
            _ => Err(at(cmd, "can't give argument to non-function")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Template;

    fn render(src: &str) -> Result<String, String> {
        let t = Template::parse("t.tmpl", src).map_err(|e| e.to_string())?;
        let mut none = |p: &str| {
            Err(
                envfile_core::Error::new(envfile_core::ErrorKind::NotFound, "no secrets here")
                    .with_reference(p),
            )
        };
        t.render_with(&mut none)
            .map(|s| s.expose().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn methods_chain_take_arguments_and_pipelines() {
        let t = r#"{{ $t := sprig_toDate "2006-01-02 15:04" "2021-03-04 05:06" }}"#;
        for (body, want) in [
            (
                "{{ $t.Year }} {{ $t.Month }} {{ $t.UTC.Weekday }}",
                "2021 March Thursday",
            ),
            (
                r#"{{ $t.Format "Jan 2" }}|{{ "15:04" | $t.Format }}"#,
                "Mar 4|05:06",
            ),
            ("{{ ($t.AddDate 0 1 0).Month }}", "April"),
            (r#"{{ with $t }}{{ .Format "2006" }}{{ end }}"#, "2021"),
            ("{{ ($t.Sub ($t.Add -90000000000)).Minutes }}", "1.5"),
            (
                "{{ sprig_now.IsZero }} {{ sprig_now.After $t }}",
                "false true",
            ),
            ("{{ if eq $t.Month 3 }}march{{ end }}", "march"),
        ] {
            assert_eq!(render(&format!("{t}{body}")).unwrap(), want, "{body}");
        }
    }

    #[test]
    fn method_errors_name_the_place() {
        let t = r#"{{ $t := sprig_toDate "2006" "2021" }}"#;
        for (body, want) in [
            (
                "{{ $t.Nope }}",
                "t.tmpl:1:42: executing `$t.Nope`: can't evaluate field Nope in type time.Time",
            ),
            (
                "{{ $t.Zone }}",
                "can't call method/function \"Zone\" with 2 results",
            ),
            (
                "{{ $t.Format }}",
                "wrong number of args for Format: want 1 got 0",
            ),
            (
                r#"{{ $t.Sub "x" }}"#,
                "wrong type for value; expected time.Time; got string",
            ),
            ("{{ lt $t $t }}", "invalid type for comparison"),
            (
                "{{ $n := 5 }}{{ $t.Add $n }}",
                "wrong type for value; expected time.Duration; got int",
            ),
            (
                "{{ 5 | $t.Round }}",
                "wrong type for value; expected time.Duration; got int",
            ),
            (
                "{{ $t.Add (sprig_int64 5) }}",
                "wrong type for value; expected time.Duration; got int64",
            ),
            (
                r#"{{ $s := "x" }}{{ $s.Len 1 }}"#,
                "can't give argument to non-function",
            ),
        ] {
            let e = render(&format!("{t}{body}")).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
        }
    }
}
