//! Attribute values the local DynamoDB keeps: strings and whole numbers. Other types are refused
//! with a `ValidationException` (the model-slot schedule needs no others).

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::error::DbError;

/// The most digits a DynamoDB number has.
const MAX_DIGITS: usize = 38;

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    S(String),
    N(i128),
}

impl Attr {
    /// Read a wire-form value (`{"S": "..."}`, `{"N": "42"}`).
    pub fn from_wire(value: &Value) -> Result<Self, DbError> {
        let Some(map) = value.as_object().filter(|m| m.len() == 1) else {
            return Err(DbError::validation(
                "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
            ));
        };
        match map.iter().next() {
            Some((t, Value::String(s))) if t == "S" => Ok(Self::S(s.clone())),
            Some((t, Value::String(n))) if t == "N" => parse_number(n).map(Self::N),
            Some((t, _)) if t == "S" || t == "N" => Err(DbError::serialization(format!(
                "the {t} value must be a JSON string"
            ))),
            Some((t, _)) => Err(DbError::validation(format!(
                "the local DynamoDB stores strings (S) and numbers (N) only, not {t} values"
            ))),
            None => Err(DbError::validation("Supplied AttributeValue is empty")),
        }
    }

    /// The wire form.
    pub fn to_wire(&self) -> Value {
        match self {
            Self::S(s) => json!({ "S": s }),
            Self::N(n) => json!({ "N": n.to_string() }),
        }
    }

    /// DynamoDB's ordering: numbers by value, strings by their UTF-8 bytes; values of different
    /// types do not compare.
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Self::N(a), Self::N(b)) => Some(a.cmp(b)),
            (Self::S(a), Self::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            _ => None,
        }
    }

    /// `a + b` or `a - b` in an UpdateExpression.
    pub fn arithmetic(&self, other: &Self, plus: bool) -> Result<Self, DbError> {
        let (Self::N(a), Self::N(b)) = (self, other) else {
            return Err(DbError::validation(
                "An operand in the update expression has an incorrect data type",
            ));
        };
        let sum = if plus {
            a.checked_add(*b)
        } else {
            a.checked_sub(*b)
        };
        sum.filter(|n| n.unsigned_abs().to_string().len() <= MAX_DIGITS)
            .map(Self::N)
            .ok_or_else(|| DbError::validation("Number overflow. Attempting to store a number with magnitude larger than supported range"))
    }
}

/// A whole number of up to 38 digits. DynamoDB also takes fractions and exponents; the stand-in
/// refuses them rather than round.
fn parse_number(text: &str) -> Result<i128, DbError> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DbError::validation(format!(
            "the local DynamoDB supports whole numbers only, not {text:?}"
        )));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > MAX_DIGITS {
        return Err(DbError::validation(
            "Attempting to store more than 38 significant digits in a Number",
        ));
    }
    text.parse()
        .map_err(|_| DbError::validation(format!("{text:?} is not a number")))
}

/// An item in wire form.
pub fn item_to_wire<'a>(attrs: impl IntoIterator<Item = (&'a String, &'a Attr)>) -> Value {
    Value::Object(
        attrs
            .into_iter()
            .map(|(name, value)| (name.clone(), value.to_wire()))
            .collect::<Map<String, Value>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        let n = Attr::from_wire(&json!({"N": "-0042"})).unwrap();
        assert_eq!(n, Attr::N(-42));
        assert_eq!(n.to_wire(), json!({"N": "-42"}));
        assert_eq!(
            Attr::from_wire(&json!({"S": "b"}))
                .unwrap()
                .compare(&Attr::S("a".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(Attr::N(1).compare(&Attr::S("1".into())), None);
        assert_eq!(
            Attr::N(5).arithmetic(&Attr::N(3), false).unwrap(),
            Attr::N(2)
        );
        let max = Attr::N(10i128.pow(38) - 1);
        assert!(max.arithmetic(&Attr::N(1), true).is_err());
        assert!(Attr::S("a".into()).arithmetic(&Attr::N(1), true).is_err());
        for bad in [
            json!({"N": "1.5"}),
            json!({"N": "1e3"}),
            json!({"N": ""}),
            json!({"N": 5}),
            json!({"BOOL": true}),
            json!({"S": "a", "N": "1"}),
            json!({}),
        ] {
            assert!(Attr::from_wire(&bad).is_err(), "{bad}");
        }
        assert!(Attr::from_wire(&json!({"N": "1".repeat(39)})).is_err());
        assert!(Attr::from_wire(&json!({"N": "9".repeat(38)})).is_ok());
    }
}
