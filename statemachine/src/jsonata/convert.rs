//! Values between `serde_json` (the engine's) and jsonata-core's `JValue`.

use jsonata_core::value::{JArray, JValue};
use serde_json::{Map, Number, Value};

/// The largest integer a double holds exactly: numbers up to it print without a fraction.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// `v` as a JSONata value (numbers become doubles, as in every JSONata).
pub(crate) fn to_jsonata(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(a) => {
            let flat = !a.iter().any(Value::is_array);
            JValue::Array(JArray::new_flat(a.iter().map(to_jsonata).collect(), flat))
        }
        Value::Object(m) => {
            JValue::object(m.iter().map(|(k, v)| (k.clone(), to_jsonata(v))).collect())
        }
    }
}

/// A JSONata result that is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotJson {
    /// `undefined` (at the top level: the expression returned nothing).
    Undefined,
    /// A function or a regular expression.
    Function,
}

/// `v` as JSON. Integral numbers print without a fraction (`7`, not `7.0`), as AWS
/// prints them; `undefined` members of arrays and objects are left out, as
/// JSON.stringify leaves them out.
pub(crate) fn from_jsonata(v: &JValue) -> Result<Value, NotJson> {
    Ok(match v {
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for item in a.iter() {
                match from_jsonata(item) {
                    Ok(x) => out.push(x),
                    Err(NotJson::Undefined) => {}
                    Err(e) => return Err(e),
                }
            }
            Value::Array(out)
        }
        JValue::Object(m) => {
            let mut out = Map::with_capacity(m.len());
            for (k, item) in m.iter() {
                match from_jsonata(item) {
                    Ok(x) => {
                        out.insert(k.clone(), x);
                    }
                    Err(NotJson::Undefined) => {}
                    Err(e) => return Err(e),
                }
            }
            Value::Object(out)
        }
        JValue::Undefined => return Err(NotJson::Undefined),
        _ => return Err(NotJson::Function),
    })
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= EXACT_INTEGER {
        // `as` maps -0.0 to 0, which is how JSON.stringify prints it.
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_json_and_prints_integers_without_fraction() {
        let v = json!({"a": [1, 2.5, "x", null, true, {"b": []}], "c": -0.0, "d": 1e300});
        let back = from_jsonata(&to_jsonata(&v)).unwrap();
        assert_eq!(
            back.to_string(),
            r#"{"a":[1,2.5,"x",null,true,{"b":[]}],"c":0,"d":1e+300}"#
        );
        assert_eq!(from_jsonata(&JValue::Undefined), Err(NotJson::Undefined));
        assert_eq!(
            from_jsonata(&JValue::array(vec![JValue::Undefined, JValue::Number(1.0)])).unwrap(),
            json!([1])
        );
    }
}
