//! consul-template's math: `add subtract multiply divide modulo minimum maximum`. The arguments
//! come reversed so they pipe (`subtract B A` is A - B: `{{ 5 | subtract 2 }}` is 3), integers
//! stay integers (Go's wrapping int64 arithmetic), a float makes the result
//! a float, and anything else — a JSON number included, which is a string kind — is an error.

use super::{args_n, Def, R};
use crate::value::Value;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("add", |a| arith("add", a)),
    Def::new("subtract", |a| arith("subtract", a)),
    Def::new("multiply", |a| arith("multiply", a)),
    Def::new("divide", |a| arith("divide", a)),
    Def::new("modulo", |a| arith("modulo", a)),
    Def::new("minimum", |a| arith("minimum", a)),
    Def::new("maximum", |a| arith("maximum", a)),
];

enum Num {
    I(i64),
    F(f64),
}

fn num(name: &str, v: &Value) -> Result<Num, String> {
    match v {
        Value::Int(i) => Ok(Num::I(*i)),
        Value::Float(f) => Ok(Num::F(*f)),
        Value::Nil | Value::Invalid => Err(format!("{name}: unknown type for <nil>")),
        other => Err(format!("{name}: unknown type ({})", other.type_name())),
    }
}

fn arith(name: &str, args: Vec<Value>) -> R {
    let [b, a] = args_n(name, args)?;
    // consul-template checks the second argument's type first.
    let a = num(name, &a)?;
    let b = num(name, &b)?;
    Ok(match (a, b) {
        (Num::I(a), Num::I(b)) => match name {
            "add" => Value::Int(a.wrapping_add(b)),
            "subtract" => Value::Int(a.wrapping_sub(b)),
            "multiply" => Value::Int(a.wrapping_mul(b)),
            "divide" | "modulo" if b == 0 => {
                return Err("runtime error: integer divide by zero".into())
            }
            "divide" => Value::Int(a.wrapping_div(b)),
            "modulo" => Value::Int(a.wrapping_rem(b)),
            "minimum" => Value::Int(a.min(b)),
            _ => Value::Int(a.max(b)),
        },
        (Num::I(a), Num::F(b)) => float_op(name, a as f64, b, Side::A)?,
        (Num::F(a), Num::I(b)) => float_op(name, a, b as f64, Side::B)?,
        (Num::F(a), Num::F(b)) => float_op(name, a, b, Side::Both)?,
    })
}

/// Which operand was an integer: `minimum`/`maximum` return the chosen operand with its own
/// type, as consul-template does.
enum Side {
    A,
    B,
    Both,
}

fn float_op(name: &str, a: f64, b: f64, side: Side) -> R {
    let pick = |take_a: bool| -> Value {
        match (&side, take_a) {
            (Side::A, true) => Value::Int(a as i64),
            (Side::B, false) => Value::Int(b as i64),
            (_, true) => Value::Float(a),
            (_, false) => Value::Float(b),
        }
    };
    Ok(match name {
        "add" => Value::Float(a + b),
        "subtract" => Value::Float(a - b),
        "multiply" => Value::Float(a * b),
        "divide" => Value::Float(a / b),
        "modulo" => return Err(format!("{name}: unknown type (float64)")),
        "minimum" => pick(a < b),
        _ => pick(a > b),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run};
    use crate::value::Value::{Float, Int};

    #[test]
    fn arguments_are_reversed() {
        assert_eq!(run("subtract", vec![Int(2), Int(5)]), "3");
        assert_eq!(run("divide", vec![Int(2), Int(7)]), "3");
        assert_eq!(run("modulo", vec![Int(2), Int(7)]), "1");
        assert_eq!(run("add", vec![Int(1), Float(0.5)]), "1.5");
        assert_eq!(run("minimum", vec![Int(3), Float(2.5)]), "2.5");
        assert_eq!(run("maximum", vec![Int(3), Float(2.5)]), "3");
    }

    #[test]
    fn errors() {
        assert_eq!(
            run("divide", vec![Int(0), Int(1)]),
            "ERR: runtime error: integer divide by zero"
        );
        assert!(run("add", vec![j("1"), Int(1)]).contains("unknown type (json.Number)"));
    }
}
