//! consul-template's math: `add subtract multiply divide modulo minimum maximum`. The arguments
//! come reversed so they pipe (`subtract B A` is A - B: `{{ 5 | subtract 2 }}` is 3), integers
//! stay integers (Go's wrapping arithmetic, in `uint64` when both operands are unsigned and
//! `int64` otherwise, whatever the operands' own integer types), a float makes the result
//! a float, and anything else — a JSON number included, which is a string kind — is an error.

use super::{args_n, Def, R};
use crate::value::{TypedInt, Value};

pub(crate) const FUNCS: &[Def] = &[
    Def::new("add", |a| arith("add", a)),
    Def::new("subtract", |a| arith("subtract", a)),
    Def::new("multiply", |a| arith("multiply", a)),
    Def::new("divide", |a| arith("divide", a)),
    Def::new("modulo", |a| arith("modulo", a)),
    Def::new("minimum", |a| arith("minimum", a)),
    Def::new("maximum", |a| arith("maximum", a)),
];

/// An operand as consul-template's `reflect` switch sees it: signed, unsigned or float kind.
#[derive(Clone, Copy)]
enum Num {
    I(i64),
    U(u64),
    F(f64),
}

impl Num {
    /// The operand returned as is (`minimum`/`maximum`): Go's `v.Int()`, `v.Uint()` or
    /// `v.Float()`, so any integer comes back as an `int64` or `uint64`.
    fn value(self) -> Value {
        match self {
            Num::I(i) => Value::int64(i),
            Num::U(u) => Value::uint64(u),
            Num::F(f) => Value::Float(f),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::U(u) => u as f64,
            Num::F(f) => f,
        }
    }

    /// `int64(v.Uint())` where a signed operand meets an unsigned one.
    fn as_i64(self) -> i64 {
        match self {
            Num::I(i) => i,
            Num::U(u) => u as i64,
            Num::F(f) => f as i64,
        }
    }
}

fn num(name: &str, v: &Value) -> Result<Num, String> {
    match v {
        Value::Int(i) | Value::Typed(TypedInt::Int64(i)) => Ok(Num::I(*i)),
        Value::Typed(TypedInt::Uint64(u)) => Ok(Num::U(*u)),
        Value::Float(f) => Ok(Num::F(*f)),
        Value::Nil | Value::Invalid => Err(format!("{name}: unknown type for <nil>")),
        other => Err(format!("{name}: unknown type ({})", other.type_name())),
    }
}

const DIVIDE_BY_ZERO: &str = "runtime error: integer divide by zero";

fn arith(name: &str, args: Vec<Value>) -> R {
    let [b, a] = args_n(name, args)?;
    // consul-template checks the second argument's type first.
    let a = num(name, &a)?;
    let b = num(name, &b)?;
    if matches!(name, "minimum" | "maximum") {
        // Both compared in the type the pair computes in; the chosen operand keeps its own.
        let a_less = match (a, b) {
            (Num::U(x), Num::U(y)) => x < y,
            (Num::F(_), _) | (_, Num::F(_)) => a.as_f64() < b.as_f64(),
            _ => a.as_i64() < b.as_i64(),
        };
        let a_greater = match (a, b) {
            (Num::U(x), Num::U(y)) => x > y,
            (Num::F(_), _) | (_, Num::F(_)) => a.as_f64() > b.as_f64(),
            _ => a.as_i64() > b.as_i64(),
        };
        let take_a = if name == "minimum" { a_less } else { a_greater };
        return Ok(if take_a { a.value() } else { b.value() });
    }
    Ok(match (a, b) {
        (Num::F(_), _) | (_, Num::F(_)) => {
            let (a, b) = (a.as_f64(), b.as_f64());
            Value::Float(match name {
                "add" => a + b,
                "subtract" => a - b,
                "multiply" => a * b,
                "divide" => a / b,
                _ => return Err(format!("{name}: unknown type (float64)")),
            })
        }
        // Two unsigned operands compute in uint64; any signed one makes it int64.
        (Num::U(a), Num::U(b)) => Value::uint64(match name {
            "add" => a.wrapping_add(b),
            "subtract" => a.wrapping_sub(b),
            "multiply" => a.wrapping_mul(b),
            _ if b == 0 => return Err(DIVIDE_BY_ZERO.into()),
            "divide" => a / b,
            _ => a % b,
        }),
        _ => {
            let (a, b) = (a.as_i64(), b.as_i64());
            Value::int64(match name {
                "add" => a.wrapping_add(b),
                "subtract" => a.wrapping_sub(b),
                "multiply" => a.wrapping_mul(b),
                _ if b == 0 => return Err(DIVIDE_BY_ZERO.into()),
                "divide" => a.wrapping_div(b),
                _ => a.wrapping_rem(b),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run};
    use crate::value::Value::{self, Float, Int};

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
    fn results_have_consul_templates_go_types() {
        let t = |name: &str, b: Value, a: Value| crate::funcs::call(name, vec![b, a]).unwrap();
        let u = Value::uint64;
        assert_eq!(t("add", Int(1), Int(2)).type_name(), "int64");
        assert_eq!(t("add", u(1), u(2)).type_name(), "uint64");
        assert_eq!(t("add", Int(1), u(2)).type_name(), "int64");
        // 2 - 5 wraps in uint64, as Go's does.
        assert_eq!(run("subtract", vec![u(5), u(2)]), "18446744073709551613");
        // minimum/maximum return the chosen operand as int64/uint64/float64.
        assert_eq!(t("maximum", u(9), Int(1)).type_name(), "uint64");
        assert_eq!(t("minimum", u(9), Int(1)).type_name(), "int64");
        assert_eq!(t("maximum", Float(2.5), Int(1)).type_name(), "float64");
        assert_eq!(
            run("divide", vec![u(0), u(1)]),
            "ERR: runtime error: integer divide by zero"
        );
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
