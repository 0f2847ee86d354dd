//! Sprig's numbers: `add sub mul div mod max min` convert every argument with cast and return
//! Go `int64`s (wrapping on overflow as Go does); `addf subf mulf divf` compute in exact decimal
//! (shopspring/decimal, 16 places for division) and return `float64`; conversions (`int64`,
//! `float64`, `atoi`, `toDecimal`) never fail, they yield 0.

use super::{arity, at_least, int_arg, list_value, str_arg, strval, to_float64, to_int64};
use crate::funcs::{Def, R};
use crate::value::Value;
use rand::Rng;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_atoi", |a| {
        arity("sprig_atoi", &a, 1)?;
        Ok(Value::Int(atoi(str_arg(&a[0])?)))
    }),
    Def::new("sprig_int64", |a| {
        arity("sprig_int64", &a, 1)?;
        Ok(Value::int64(to_int64(&a[0])))
    }),
    Def::new("sprig_int", |a| {
        arity("sprig_int", &a, 1)?;
        Ok(Value::Int(to_int64(&a[0])))
    }),
    Def::new("sprig_float64", |a| {
        arity("sprig_float64", &a, 1)?;
        Ok(Value::Float(to_float64(&a[0])))
    }),
    Def::new("sprig_toDecimal", |a| {
        // Sprig reads the value's text as an octal (unix permission) number.
        arity("sprig_toDecimal", &a, 1)?;
        let text = strval(&a[0]);
        let (neg, digits) = match text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, text.strip_prefix('+').unwrap_or(&text)),
        };
        let v = if digits.starts_with(['+', '-']) {
            None
        } else {
            i64::from_str_radix(digits, 8).ok()
        };
        Ok(Value::int64(v.map_or(0, |v| if neg { -v } else { v })))
    }),
    Def::new("sprig_until", |a| {
        arity("sprig_until", &a, 1)?;
        let n = int_arg(&a[0])?;
        ints(until_step(0, n, if n < 0 { -1 } else { 1 })?)
    }),
    Def::new("sprig_untilStep", |a| {
        arity("sprig_untilStep", &a, 3)?;
        ints(until_step(
            int_arg(&a[0])?,
            int_arg(&a[1])?,
            int_arg(&a[2])?,
        )?)
    }),
    Def::new("sprig_add1", |a| {
        arity("sprig_add1", &a, 1)?;
        Ok(Value::int64(to_int64(&a[0]).wrapping_add(1)))
    }),
    Def::new("sprig_add", |a| {
        Ok(Value::int64(
            a.iter().fold(0i64, |acc, v| acc.wrapping_add(to_int64(v))),
        ))
    }),
    Def::new("sprig_sub", |a| {
        arity("sprig_sub", &a, 2)?;
        Ok(Value::int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    }),
    Def::new("sprig_div", |a| {
        arity("sprig_div", &a, 2)?;
        let (x, y) = (to_int64(&a[0]), to_int64(&a[1]));
        if y == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::int64(x.wrapping_div(y)))
    }),
    Def::new("sprig_mod", |a| {
        arity("sprig_mod", &a, 2)?;
        let (x, y) = (to_int64(&a[0]), to_int64(&a[1]));
        if y == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::int64(x.wrapping_rem(y)))
    }),
    Def::new("sprig_mul", |a| {
        at_least("sprig_mul", &a, 1)?;
        Ok(Value::int64(
            a[1..]
                .iter()
                .fold(to_int64(&a[0]), |acc, v| acc.wrapping_mul(to_int64(v))),
        ))
    }),
    Def::new("sprig_randInt", |a| {
        arity("sprig_randInt", &a, 2)?;
        let (lo, hi) = (int_arg(&a[0])?, int_arg(&a[1])?);
        match hi.checked_sub(lo) {
            Some(n) if n > 0 => Ok(Value::Int(lo + rand::thread_rng().gen_range(0..n))),
            _ => Err("invalid argument to Intn".into()),
        }
    }),
    Def::new("sprig_add1f", |a| {
        arity("sprig_add1f", &a, 1)?;
        decimal_op(&a[0], &[Value::Int(1)], Op::Add)
    }),
    Def::new("sprig_addf", |a| {
        decimal_op(&Value::Float(0.0), &a, Op::Add)
    }),
    Def::new("sprig_subf", |a| {
        at_least("sprig_subf", &a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Sub)
    }),
    Def::new("sprig_mulf", |a| {
        at_least("sprig_mulf", &a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Mul)
    }),
    Def::new("sprig_divf", |a| {
        at_least("sprig_divf", &a, 1)?;
        decimal_op(&a[0], &a[1..], Op::Div)
    }),
    Def::new("sprig_biggest", |a| extreme_int("sprig_biggest", a, true)),
    Def::new("sprig_max", |a| extreme_int("sprig_max", a, true)),
    Def::new("sprig_min", |a| extreme_int("sprig_min", a, false)),
    Def::new("sprig_maxf", |a| {
        at_least("sprig_maxf", &a, 1)?;
        Ok(Value::Float(
            a[1..]
                .iter()
                .fold(to_float64(&a[0]), |m, v| go_max(m, to_float64(v))),
        ))
    }),
    Def::new("sprig_minf", |a| {
        at_least("sprig_minf", &a, 1)?;
        Ok(Value::Float(
            a[1..]
                .iter()
                .fold(to_float64(&a[0]), |m, v| go_min(m, to_float64(v))),
        ))
    }),
    Def::new("sprig_ceil", |a| {
        arity("sprig_ceil", &a, 1)?;
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    }),
    Def::new("sprig_floor", |a| {
        arity("sprig_floor", &a, 1)?;
        Ok(Value::Float(to_float64(&a[0]).floor()))
    }),
    Def::new("sprig_round", |a| {
        at_least("sprig_round", &a, 2)?;
        let places = int_arg(&a[1])? as f64;
        let on = match a.get(2) {
            Some(Value::Float(f)) => *f,
            // An integer constant converts to a float64 parameter.
            Some(Value::Int(i)) => *i as f64,
            Some(other) => {
                return Err(format!(
                    "wrong type for value; expected float64; got {}",
                    other.type_name()
                ))
            }
            None => 0.5,
        };
        let pow = 10f64.powf(places);
        let digit = pow * to_float64(&a[0]);
        let frac = digit.fract();
        let r = if frac >= on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    }),
];

/// `strconv.Atoi`, 0 on error.
fn atoi(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return 0;
    }
    s.parse().unwrap_or(0)
}

/// Sprig's `untilStep`: START up to (not including) STOP by STEP; a step pointing away from
/// STOP gives an empty list. Bounded by the render's range limit.
pub(super) fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let mut v = Vec::new();
    let mut i = start;
    let going = |i: i64| if stop < start { i > stop } else { i < stop };
    if (stop < start && step >= 0) || (stop >= start && step <= 0) {
        return Ok(v);
    }
    while going(i) {
        if v.len() as i64 >= crate::limits::MAX_RANGE {
            return Err(format!(
                "the list would exceed {} elements",
                crate::limits::MAX_RANGE
            ));
        }
        v.push(i);
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    Ok(v)
}

/// A `[]int`.
fn ints(v: Vec<i64>) -> R {
    Ok(list_value(v.into_iter().map(Value::Int).collect()))
}

fn extreme_int(name: &str, a: Vec<Value>, max: bool) -> R {
    at_least(name, &a, 1)?;
    let first = to_int64(&a[0]);
    Ok(Value::int64(a[1..].iter().map(to_int64).fold(
        first,
        |m, v| {
            if max {
                m.max(v)
            } else {
                m.min(v)
            }
        },
    )))
}

/// `math.Max`: NaN wins, and +0 beats -0.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else {
        a.min(b)
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// An exact decimal `coef × 10^exp`.
#[derive(Clone, Copy)]
struct Dec {
    coef: i128,
    exp: i32,
}

/// shopspring's `NewFromFloat`: the shortest decimal that reads back as `f`.
fn dec_from_f64(f: f64) -> Result<Dec, String> {
    if !f.is_finite() {
        return Err(format!(
            "Cannot create a Decimal from {}",
            crate::value::go_fmt_float(f)
        ));
    }
    let s = format!("{f:e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let frac_len = m.split_once('.').map_or(0, |(_, fr)| fr.len()) as i32;
    let digits: String = m.chars().filter(|c| *c != '.').collect();
    let coef: i128 = digits.parse().map_err(|_| "decimal overflow".to_owned())?;
    Ok(Dec {
        coef,
        exp: e - frac_len,
    })
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Both decimals at the smaller exponent, or None if that overflows.
fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
    let exp = a.exp.min(b.exp);
    let ca = a.coef.checked_mul(pow10((a.exp - exp) as u32)?)?;
    let cb = b.coef.checked_mul(pow10((b.exp - exp) as u32)?)?;
    Some((ca, cb, exp))
}

fn dec_apply(a: Dec, b: Dec, op: Op) -> Result<Option<Dec>, String> {
    Ok(match op {
        Op::Add => align(a, b).and_then(|(x, y, e)| {
            Some(Dec {
                coef: x.checked_add(y)?,
                exp: e,
            })
        }),
        Op::Sub => align(a, b).and_then(|(x, y, e)| {
            Some(Dec {
                coef: x.checked_sub(y)?,
                exp: e,
            })
        }),
        Op::Mul => a.coef.checked_mul(b.coef).map(|c| Dec {
            coef: c,
            exp: a.exp + b.exp,
        }),
        Op::Div => {
            if b.coef == 0 {
                return Err("decimal division by zero".into());
            }
            // Quotient rounded half away from zero to 16 places (shopspring's DivisionPrecision).
            let k = a.exp - b.exp + 16;
            let (num, den) = if k >= 0 {
                match pow10(k as u32).and_then(|p| a.coef.checked_mul(p)) {
                    Some(n) => (n, b.coef),
                    None => return Ok(None),
                }
            } else {
                match pow10((-k) as u32).and_then(|p| b.coef.checked_mul(p)) {
                    Some(d) => (a.coef, d),
                    None => return Ok(None),
                }
            };
            let (q, r) = (num / den, num % den);
            let up = r.unsigned_abs().saturating_mul(2) >= den.unsigned_abs();
            let q = if up {
                if (num < 0) != (den < 0) {
                    q - 1
                } else {
                    q + 1
                }
            } else {
                q
            };
            Some(Dec { coef: q, exp: -16 })
        }
    })
}

fn dec_to_f64(d: Dec) -> f64 {
    format!("{}e{}", d.coef, d.exp).parse().unwrap_or(0.0)
}

/// Sprig's `execDecimalOp`; where the exact decimal would not fit 128 bits, the float result.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> R {
    let mut acc = dec_from_f64(to_float64(first))?;
    let mut approx: Option<f64> = None;
    for v in rest {
        let f = to_float64(v);
        if let Some(x) = approx.as_mut() {
            *x = float_op(*x, f, op);
            continue;
        }
        let d = dec_from_f64(f)?;
        match dec_apply(acc, d, op)? {
            Some(n) => acc = n,
            None => approx = Some(float_op(dec_to_f64(acc), f, op)),
        }
    }
    Ok(Value::Float(approx.unwrap_or_else(|| dec_to_f64(acc))))
}

fn float_op(a: f64, b: f64, op: Op) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
    }
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{run, s};
    use crate::value::Value;

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    fn f(x: f64) -> Value {
        Value::Float(x)
    }

    #[test]
    fn integer_math_casts_and_truncates() {
        // Expected values are bao agent 2.7.2's output.
        assert_eq!(run("sprig_add", vec![i(1), s("2"), f(3.7)]), "6");
        assert_eq!(run("sprig_div", vec![i(7), i(2)]), "3");
        assert_eq!(run("sprig_mod", vec![i(-7), i(3)]), "-1");
        assert_eq!(run("sprig_mul", vec![i(2), i(3), i(4)]), "24");
        assert_eq!(run("sprig_sub", vec![i(1), i(5)]), "-4");
        assert_eq!(run("sprig_add1", vec![s("4")]), "5");
        assert_eq!(run("sprig_max", vec![i(1), s("9"), i(3)]), "9");
        assert_eq!(run("sprig_min", vec![i(4), i(2)]), "2");
        assert_eq!(
            run("sprig_div", vec![i(1), i(0)]),
            "ERR: runtime error: integer divide by zero"
        );
        assert_eq!(run("sprig_atoi", vec![s("12")]), "12");
        assert_eq!(run("sprig_atoi", vec![s("0x10")]), "0");
        assert_eq!(run("sprig_atoi", vec![s(" 1")]), "0");
        assert_eq!(run("sprig_toDecimal", vec![s("777")]), "511");
        assert_eq!(run("sprig_toDecimal", vec![s("8")]), "0");
    }

    #[test]
    fn float_math_is_exact_decimal() {
        assert_eq!(run("sprig_addf", vec![f(1.1), f(2.2)]), "3.3");
        assert_eq!(run("sprig_subf", vec![i(1), f(0.9)]), "0.1");
        assert_eq!(run("sprig_mulf", vec![f(1.1), i(3)]), "3.3");
        assert_eq!(run("sprig_divf", vec![i(1), i(3)]), "0.3333333333333333");
        assert_eq!(run("sprig_divf", vec![i(10), i(4)]), "2.5");
        assert_eq!(run("sprig_add1f", vec![f(1.5)]), "2.5");
        assert_eq!(run("sprig_addf", vec![f(1e20), i(1)]), "1e+20");
        assert_eq!(run("sprig_maxf", vec![f(1.5), i(2)]), "2");
        assert_eq!(run("sprig_minf", vec![i(1), s("0.5")]), "0.5");
        assert_eq!(run("sprig_ceil", vec![f(1.2)]), "2");
        assert_eq!(run("sprig_floor", vec![s("1.8")]), "1");
        assert_eq!(run("sprig_round", vec![f(1.2345), i(2)]), "1.23");
        assert_eq!(run("sprig_round", vec![f(2.5), i(0)]), "3");
        assert_eq!(run("sprig_round", vec![f(1.5), i(0), f(0.6)]), "1");
        assert_eq!(run("sprig_round", vec![f(1.5), i(0), i(1)]), "1");
        assert_eq!(run("sprig_float64", vec![f(1e7)]), "1e+07");
    }

    #[test]
    fn ranges() {
        assert_eq!(run("sprig_until", vec![i(3)]), "[0 1 2]");
        assert_eq!(run("sprig_until", vec![i(-2)]), "[0 -1]");
        assert_eq!(run("sprig_untilStep", vec![i(0), i(10), i(3)]), "[0 3 6 9]");
        assert_eq!(run("sprig_untilStep", vec![i(0), i(10), i(0)]), "[]");
        assert!(run("sprig_until", vec![i(i64::MAX)]).starts_with("ERR: "));
        let r = run("sprig_randInt", vec![i(1), i(3)]);
        assert!(r == "1" || r == "2", "{r}");
        assert_eq!(
            run("sprig_randInt", vec![i(3), i(3)]),
            "ERR: invalid argument to Intn"
        );
    }
}
