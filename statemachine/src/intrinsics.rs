//! The 18 `States.*` intrinsic functions: parsing and evaluation.

use crate::jsonpath::{JsonPath, PathSyntaxError};
use crate::rng::{RandomSource, splitmix};
use crate::scope::Scope;
use base64::Engine as _;
use serde_json::{Map, Number, Value};

/// A parsed intrinsic call such as `States.Format('{}', $.x)`; it displays as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The call as written (for a nested call, its own part of the text).
    text: String,
    name: String,
    args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Literal(Value),
    Path(JsonPath),
    Call(Call),
}

/// An intrinsic that could not be parsed or is unknown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid intrinsic function '{text}': {reason}")]
pub struct IntrinsicSyntaxError {
    /// The expression.
    pub text: String,
    /// Why.
    pub reason: String,
}

/// An intrinsic that failed at run time (wrong argument count or type, ...).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct IntrinsicError(pub String);

const NAMES: [&str; 18] = [
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayPartition",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayUnique",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.MathAdd",
    "States.StringSplit",
    "States.UUID",
];

/// True when `text` looks like an intrinsic call (begins with `States.`).
pub fn is_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Call {
    /// Parses an intrinsic expression.
    pub fn parse(text: &str) -> Result<Call, IntrinsicSyntaxError> {
        let chars: Vec<char> = text.chars().collect();
        let mut p = P { chars, pos: 0 };
        let res = p.call().and_then(|c| {
            p.ws();
            if p.pos != p.chars.len() {
                Err("unexpected text after the closing ')'".to_string())
            } else {
                Ok(c)
            }
        });
        res.map(|mut c| {
            c.text = text.to_string();
            c
        })
        .map_err(|reason| IntrinsicSyntaxError {
            text: text.to_string(),
            reason,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Evaluates the call.
    pub fn eval(&self, scope: &Scope<'_>, rng: &dyn RandomSource) -> Result<Value, IntrinsicError> {
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(match a {
                Arg::Literal(v) => v.clone(),
                Arg::Path(p) => scope.eval(p).map_err(|m| {
                    IntrinsicError(format!(
                        "The JSONPath '{}' could not be found in the input (missing {})",
                        p, m.missing_prefix
                    ))
                })?,
                Arg::Call(c) => c.eval(scope, rng)?,
            });
        }
        apply(&self.name, args, rng)
    }
}

struct P {
    chars: Vec<char>,
    pos: usize,
}

impl P {
    fn ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn call(&mut self) -> Result<Call, String> {
        self.ws();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '.') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if !NAMES.contains(&name.as_str()) {
            return Err(format!("unknown function '{name}'"));
        }
        self.ws();
        if self.peek() != Some('(') {
            return Err("expected '('".into());
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() != Some(')') {
            loop {
                args.push(self.arg()?);
                self.ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => break,
                    _ => return Err("expected ',' or ')'".into()),
                }
            }
        }
        self.pos += 1;
        Ok(Call {
            text: self.chars[start..self.pos].iter().collect(),
            name,
            args,
        })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.ws();
        match self.peek() {
            Some('\'') => {
                self.pos += 1;
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err("unterminated string".into()),
                        Some('\\') => {
                            self.pos += 1;
                            match self.peek() {
                                Some(c @ ('\'' | '\\')) => s.push(c),
                                // Keep escapes of braces for States.Format to see.
                                Some(c @ ('{' | '}')) => {
                                    s.push('\\');
                                    s.push(c);
                                }
                                Some(c) => {
                                    return Err(format!(
                                        "illegal escape sequence '\\{c}' in a string literal"
                                    ));
                                }
                                None => return Err("unterminated escape".into()),
                            }
                            self.pos += 1;
                        }
                        Some('\'') => {
                            self.pos += 1;
                            return Ok(Arg::Literal(Value::String(s)));
                        }
                        Some(c) => {
                            s.push(c);
                            self.pos += 1;
                        }
                    }
                }
            }
            Some('$') => {
                let start = self.pos;
                let mut depth = 0i32;
                let mut quote: Option<char> = None;
                while let Some(c) = self.peek() {
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                    } else {
                        match c {
                            '\'' | '"' => quote = Some(c),
                            '[' | '(' => depth += 1,
                            ']' => depth -= 1,
                            ')' if depth == 0 => break,
                            ')' => depth -= 1,
                            ',' if depth == 0 => break,
                            _ => {}
                        }
                    }
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                let path =
                    JsonPath::parse(text.trim()).map_err(|e: PathSyntaxError| e.to_string())?;
                Ok(Arg::Path(path))
            }
            Some('S') => Ok(Arg::Call(self.call()?)),
            Some(_) => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ',' && c != ')') {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                let text = text.trim();
                serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
                    .map(Arg::Literal)
                    .ok_or_else(|| format!("invalid argument '{text}'"))
            }
            None => Err("unexpected end".into()),
        }
    }
}

fn fix_negative_zero(v: &mut Value) {
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            *v = Value::from(0)
        }
        Value::Array(a) => a.iter_mut().for_each(fix_negative_zero),
        Value::Object(m) => m.values_mut().for_each(fix_negative_zero),
        _ => {}
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, IntrinsicError> {
    Err(IntrinsicError(msg.into()))
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), IntrinsicError> {
    if args.len() != n {
        return err(format!(
            "{name} expects {n} argument(s) but got {}",
            args.len()
        ));
    }
    Ok(())
}

fn as_int(name: &str, v: &Value) -> Result<i64, IntrinsicError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| IntrinsicError(format!("{name}: expected an integer, got {v}"))),
        _ => err(format!("{name}: expected an integer, got {v}")),
    }
}

fn as_str<'v>(name: &str, v: &'v Value) -> Result<&'v str, IntrinsicError> {
    v.as_str()
        .ok_or_else(|| IntrinsicError(format!("{name}: expected a string, got {v}")))
}

fn as_array<'v>(name: &str, v: &'v Value) -> Result<&'v Vec<Value>, IntrinsicError> {
    v.as_array()
        .ok_or_else(|| IntrinsicError(format!("{name}: expected an array, got {v}")))
}

/// Java's `Math.round`: half rounds up (towards positive infinity).
fn java_round(f: f64) -> i64 {
    (f + 0.5).floor() as i64
}

/// How `States.Format` prints a value (Java's `toString` of Jackson/Map types).
pub fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(format_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}={}", format_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn format(args: &[Value]) -> Result<Value, IntrinsicError> {
    let Some((tpl, rest)) = args.split_first() else {
        return err("States.Format expects at least 1 argument");
    };
    let tpl = as_str("States.Format", tpl)?;
    let mut out = String::new();
    let mut it = rest.iter();
    let chars: Vec<char> = tpl.chars().collect();
    let mut i = 0;
    let mut used = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if matches!(chars.get(i + 1), Some('{') | Some('}') | Some('\\')) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '{' if chars.get(i + 1) == Some(&'}') => {
                let Some(v) = it.next() else {
                    return err("States.Format: more placeholders than arguments");
                };
                used += 1;
                out.push_str(&format_value(v));
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    if used != rest.len() {
        return err("States.Format: the number of arguments does not match the placeholders");
    }
    Ok(Value::String(out))
}

/// The hex digest of `data` (`States.Hash`, JSONata `$hash`; `name` is the caller, for messages).
pub(crate) fn hash(name: &str, data: &str, alg: &str) -> Result<Value, IntrinsicError> {
    use sha2::Digest;
    let bytes = data.as_bytes();
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let s = match alg {
        "MD5" => hex(&md5::Md5::digest(bytes)),
        "SHA-1" => hex(&sha1::Sha1::digest(bytes)),
        "SHA-256" => hex(&sha2::Sha256::digest(bytes)),
        "SHA-384" => hex(&sha2::Sha384::digest(bytes)),
        "SHA-512" => hex(&sha2::Sha512::digest(bytes)),
        other => return err(format!("{name}: unsupported algorithm '{other}'")),
    };
    Ok(Value::String(s))
}

fn apply(name: &str, args: Vec<Value>, rng: &dyn RandomSource) -> Result<Value, IntrinsicError> {
    match name {
        "States.Format" => format(&args),
        "States.StringToJson" => string_to_json(name, &args),
        "States.JsonToString" => {
            arity(name, &args, 1)?;
            Ok(Value::String(args[0].to_string()))
        }
        "States.Array" => Ok(Value::Array(args)),
        "States.ArrayPartition" => array_partition(name, &args),
        "States.ArrayContains" => {
            arity(name, &args, 2)?;
            Ok(Value::Bool(as_array(name, &args[0])?.contains(&args[1])))
        }
        "States.ArrayRange" => array_range(name, &args),
        "States.ArrayGetItem" => array_get_item(name, &args),
        "States.ArrayLength" => {
            arity(name, &args, 1)?;
            Ok(Value::from(as_array(name, &args[0])?.len()))
        }
        "States.ArrayUnique" => array_unique(name, &args),
        "States.Base64Encode" => {
            arity(name, &args, 1)?;
            let s = as_str(name, &args[0])?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            ))
        }
        "States.Base64Decode" => base64_decode(name, &args),
        "States.Hash" => {
            arity(name, &args, 2)?;
            hash(
                name,
                &args[0]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| args[0].to_string()),
                as_str(name, &args[1])?,
            )
        }
        "States.JsonMerge" => json_merge(name, &args),
        "States.MathRandom" => math_random(name, &args, rng),
        "States.MathAdd" => math_add(name, &args),
        "States.StringSplit" => string_split(name, &args),
        "States.UUID" => {
            arity(name, &args, 0)?;
            Ok(Value::String(rng.uuid()))
        }
        other => err(format!("unknown intrinsic function {other}")),
    }
}

pub(crate) fn string_to_json(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 1)?;
    let s = as_str(name, &args[0])?;
    if s.trim().is_empty() {
        return Ok(Value::Null);
    }
    let mut v: Value =
        serde_json::from_str(s).or_else(|e| err(format!("{name}: invalid JSON: {e}")))?;
    fix_negative_zero(&mut v);
    Ok(v)
}

pub(crate) fn array_partition(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 2)?;
    let a = as_array(name, &args[0])?;
    let size = as_int(name, &args[1])?;
    if size <= 0 {
        return err(format!("{name}: the chunk size must be positive"));
    }
    Ok(Value::Array(
        a.chunks(size as usize)
            .map(|c| Value::Array(c.to_vec()))
            .collect(),
    ))
}

pub(crate) fn array_range(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 3)?;
    let (s, e, step) = (
        as_int(name, &args[0])?,
        as_int(name, &args[1])?,
        as_int(name, &args[2])?,
    );
    if step == 0 {
        return err(format!("{name}: the step must not be 0"));
    }
    let mut out = Vec::new();
    let mut i = s;
    while (step > 0 && i <= e) || (step < 0 && i >= e) {
        out.push(Value::from(i));
        if out.len() > 1000 {
            return err(format!("{name}: the range has more than 1000 items"));
        }
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    Ok(Value::Array(out))
}

fn array_get_item(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 2)?;
    let a = as_array(name, &args[0])?;
    let i = as_int(name, &args[1])?;
    usize::try_from(i)
        .ok()
        .and_then(|i| a.get(i))
        .cloned()
        .ok_or_else(|| IntrinsicError(format!("{name}: index {i} out of bounds")))
}

fn array_unique(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 1)?;
    let mut out: Vec<Value> = Vec::new();
    for v in as_array(name, &args[0])? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}

fn base64_decode(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 1)?;
    let s = as_str(name, &args[0])?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .or_else(|e| err(format!("{name}: invalid base64: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .or_else(|_| err(format!("{name}: the decoded data is not UTF-8")))
}

fn json_merge(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 3)?;
    let (Value::Object(a), Value::Object(b)) = (&args[0], &args[1]) else {
        return err(format!("{name}: both arguments must be JSON objects"));
    };
    if args[2] != Value::Bool(false) {
        return err(format!(
            "{name}: deep merging is not supported; the third argument must be false"
        ));
    }
    let mut merged: Map<String, Value> = a.clone();
    for (k, v) in b {
        merged.insert(k.clone(), v.clone());
    }
    // AWS returns the merge as a java.util.HashMap.
    let keys: Vec<&String> = merged.keys().collect();
    let order = crate::json::java_hashmap_order(keys.iter().map(|k| k.as_str()), keys.len());
    let mut out = Map::with_capacity(merged.len());
    for i in order {
        let k = keys[i];
        out.insert(k.clone(), merged[k.as_str()].clone());
    }
    Ok(Value::Object(out))
}

fn math_random(
    name: &str,
    args: &[Value],
    rng: &dyn RandomSource,
) -> Result<Value, IntrinsicError> {
    if args.len() != 2 && args.len() != 3 {
        return err(format!("{name} expects 2 or 3 arguments"));
    }
    let num = |v: &Value| {
        v.as_f64()
            .map(|f| f as i64)
            .ok_or_else(|| IntrinsicError(format!("{name}: expected a number, got {v}")))
    };
    let (s, e) = (num(&args[0])?, num(&args[1])?);
    if e <= s {
        return err(format!("{name}: the end must be greater than the start"));
    }
    let r = match args.get(2) {
        Some(seed) => splitmix(as_int(name, seed)? as u64),
        None => rng.next_u64(),
    };
    let span = (e as i128 - s as i128) as u128;
    Ok(Value::from((s as i128 + (r as u128 % span) as i128) as i64))
}

fn math_add(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 2)?;
    let n = |v: &Value| {
        v.as_f64()
            .ok_or_else(|| IntrinsicError(format!("{name}: expected a number, got {v}")))
    };
    let sum = java_round(n(&args[0])?).saturating_add(java_round(n(&args[1])?));
    Ok(Value::Number(Number::from(sum)))
}

fn string_split(name: &str, args: &[Value]) -> Result<Value, IntrinsicError> {
    arity(name, args, 2)?;
    let s = as_str(name, &args[0])?;
    let d = as_str(name, &args[1])?;
    let parts = s
        .split(|c: char| d.contains(c))
        .filter(|p| !p.is_empty())
        .map(|p| Value::String(p.to_string()))
        .collect();
    Ok(Value::Array(parts))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;
    use serde_json::json;

    fn run(expr: &str, input: Value) -> Result<Value, IntrinsicError> {
        let ctx = json!({"Execution": {"Name": "exec"}});
        let vars = Map::new();
        let scope = Scope {
            input: &input,
            context: &ctx,
            variables: &vars,
        };
        Call::parse(expr).unwrap().eval(&scope, &SeededRng::new(1))
    }

    #[test]
    fn format_and_escapes() {
        assert_eq!(
            run(
                "States.Format('a {} b {}', $.x, $$.Execution.Name)",
                json!({"x": {"k": [1, 2]}})
            )
            .unwrap(),
            json!("a {k=[1, 2]} b exec")
        );
        assert_eq!(
            run("States.Format('\\{\\} {}', 1)", json!({})).unwrap(),
            json!("{} 1")
        );
        assert!(run("States.Format('{}')", json!({})).is_err());
    }

    #[test]
    fn json_and_arrays() {
        assert_eq!(
            run("States.StringToJson($.s)", json!({"s": "{\"a\":1}"})).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            run("States.JsonToString($.v)", json!({"v": [1, "x"]})).unwrap(),
            json!("[1,\"x\"]")
        );
        assert_eq!(
            run("States.Array(1, 'a', null, $.v)", json!({"v": true})).unwrap(),
            json!([1, "a", null, true])
        );
        assert_eq!(
            run("States.ArrayPartition($.a, 2)", json!({"a": [1, 2, 3]})).unwrap(),
            json!([[1, 2], [3]])
        );
        assert_eq!(
            run("States.ArrayContains($.a, 2)", json!({"a": [1, 2, 3]})).unwrap(),
            json!(true)
        );
        assert_eq!(
            run("States.ArrayRange(1, 9, 2)", json!({})).unwrap(),
            json!([1, 3, 5, 7, 9])
        );
        assert_eq!(
            run("States.ArrayGetItem($.a, 1)", json!({"a": [1, 2]})).unwrap(),
            json!(2)
        );
        assert!(run("States.ArrayGetItem($.a, 5)", json!({"a": [1, 2]})).is_err());
        assert_eq!(
            run("States.ArrayLength($.a)", json!({"a": [1, 2]})).unwrap(),
            json!(2)
        );
        assert_eq!(
            run("States.ArrayUnique($.a)", json!({"a": [1, 2, 1]})).unwrap(),
            json!([1, 2])
        );
        assert!(run("States.ArrayLength($.a)", json!({"a": "no"})).is_err());
    }

    #[test]
    fn encoding_hash_math_strings() {
        assert_eq!(
            run("States.Base64Encode('Data to encode')", json!({})).unwrap(),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!({})).unwrap(),
            json!("Data to encode")
        );
        assert_eq!(
            run("States.Hash('input data', 'MD5')", json!({})).unwrap(),
            json!("812f45842bc6d66ee14572ce20db8e86")
        );
        assert!(run("States.Hash('x', 'CRC')", json!({})).is_err());
        assert_eq!(
            run("States.MathAdd(1.49, 1.5)", json!({})).unwrap(),
            json!(3)
        );
        assert_eq!(
            run("States.MathAdd(-1.5, 0)", json!({})).unwrap(),
            json!(-1)
        );
        let r = run("States.MathRandom(1, 10)", json!({}))
            .unwrap()
            .as_i64()
            .unwrap();
        assert!((1..10).contains(&r));
        assert_eq!(
            run("States.MathRandom(0, 999, 3)", json!({})).unwrap(),
            run("States.MathRandom(0, 999, 3)", json!({})).unwrap()
        );
        assert_eq!(
            run("States.StringSplit('a,b,,c', ',')", json!({})).unwrap(),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            run(
                "States.JsonMerge($.a, $.b, false)",
                json!({"a": {"x": 1, "y": 1}, "b": {"y": 2}})
            )
            .unwrap(),
            json!({"x": 1, "y": 2})
        );
        assert_eq!(
            run("States.UUID()", json!({}))
                .unwrap()
                .as_str()
                .unwrap()
                .len(),
            36
        );
    }

    #[test]
    fn syntax_errors() {
        assert!(Call::parse("States.Nope(1)").is_err());
        assert!(Call::parse("States.Array(1").is_err());
        assert!(Call::parse("States.Array(1) x").is_err());
    }
}
