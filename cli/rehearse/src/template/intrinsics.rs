//! The intrinsic functions, as CloudFormation resolves them: `Ref`, `Fn::GetAtt`, `Fn::Join`,
//! `Fn::Sub` (both forms), `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::FindInMap` and the pseudo
//! parameters. `Fn::GetAZs` and `Fn::ImportValue` are refused: they read the world outside the
//! stack, which the rehearsal does not have.

use super::{Stack, TemplateError};
use serde_json::{Map, Value};

/// The value, resolved; `None` is `AWS::NoValue` (the member it stands for is dropped).
pub(super) fn resolve(stack: &Stack<'_>, value: &Value) -> Result<Option<Value>, TemplateError> {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some((key, args)) = map.iter().next()
                && (key == "Ref" || key.starts_with("Fn::") || key == "Condition")
            {
                return function(stack, key, args);
            }
            let mut out = Map::new();
            for (k, v) in map {
                if let Some(v) = resolve(stack, v)? {
                    out.insert(k.clone(), v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(v) = resolve(stack, item)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        other => Ok(Some(other.clone())),
    }
}

fn function(stack: &Stack<'_>, name: &str, args: &Value) -> Result<Option<Value>, TemplateError> {
    match name {
        "Ref" => {
            let target = args
                .as_str()
                .ok_or_else(|| malformed("Ref", "it takes a name"))?;
            if target == "AWS::NoValue" {
                return Ok(None);
            }
            reference(stack, target).map(Some)
        }
        "Fn::GetAtt" => get_att(stack, args).map(Some),
        "Fn::Join" => join(stack, args).map(Some),
        "Fn::Sub" => sub(stack, args).map(Some),
        "Fn::Select" => select(stack, args),
        "Fn::Split" => split(stack, args).map(Some),
        "Fn::If" => if_(stack, args),
        "Fn::FindInMap" => find_in_map(stack, args).map(Some),
        // A `{"Condition": name}` outside `Conditions` (an `Fn::If`-less condition value).
        "Condition" => {
            let name = args
                .as_str()
                .ok_or_else(|| malformed("Condition", "it takes a condition's name"))?;
            Ok(Some(Value::Bool(stack.condition(name)?)))
        }
        "Fn::GetAZs" => Err(TemplateError::Refused {
            function: "Fn::GetAZs",
            why: "the twin has no Availability Zones",
        }),
        "Fn::ImportValue" => Err(TemplateError::Refused {
            function: "Fn::ImportValue",
            why: "it reads another stack's export, and the rehearsal runs one stack",
        }),
        other => Err(TemplateError::UnknownFunction {
            function: other.into(),
        }),
    }
}

fn malformed(function: &'static str, why: &str) -> TemplateError {
    TemplateError::Malformed {
        function,
        why: why.into(),
    }
}

/// `Ref`: a pseudo parameter, a parameter, or a resource's physical id.
pub(super) fn reference(stack: &Stack<'_>, name: &str) -> Result<Value, TemplateError> {
    let text = |s: &str| Ok(Value::String(s.to_owned()));
    match name {
        "AWS::AccountId" => return text(stack.account()),
        "AWS::Region" => return text(stack.region()),
        "AWS::Partition" => return text(PARTITION),
        "AWS::URLSuffix" => return text(URL_SUFFIX),
        "AWS::StackName" => return text(stack.name()),
        "AWS::StackId" => return text(&super::physical::stack_id(stack)),
        "AWS::NotificationARNs" => return Ok(Value::Array(Vec::new())),
        "AWS::NoValue" => return Ok(Value::Null),
        _ => {}
    }
    if let Some(value) = stack.parameter(name) {
        return Ok(value.clone());
    }
    super::physical::reference(stack, name)
}

/// The twin's partition and URL suffix: the commercial Regions'.
pub(crate) const PARTITION: &str = "aws";
pub(crate) const URL_SUFFIX: &str = "amazonaws.com";

fn get_att(stack: &Stack<'_>, args: &Value) -> Result<Value, TemplateError> {
    let (logical_id, attribute) = match args {
        Value::String(s) => s
            .split_once('.')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .ok_or_else(|| malformed("Fn::GetAtt", "the string form is Resource.Attribute"))?,
        Value::Array(items) if items.len() == 2 => {
            let id = items[0]
                .as_str()
                .ok_or_else(|| malformed("Fn::GetAtt", "the resource is a logical id"))?;
            let attribute = to_text(&resolve(stack, &items[1])?.unwrap_or(Value::Null));
            (id.to_owned(), attribute)
        }
        _ => return Err(malformed("Fn::GetAtt", "it takes [Resource, Attribute]")),
    };
    stack.attribute(&logical_id, &attribute)
}

fn join(stack: &Stack<'_>, args: &Value) -> Result<Value, TemplateError> {
    let [delimiter, list] = pair(args, "Fn::Join", "it takes [delimiter, [values]]")?;
    let delimiter = delimiter
        .as_str()
        .ok_or_else(|| malformed("Fn::Join", "the delimiter is a string"))?;
    let list = resolve(stack, list)?.unwrap_or(Value::Array(Vec::new()));
    let items = list
        .as_array()
        .ok_or_else(|| malformed("Fn::Join", "the values are a list"))?;
    let parts: Result<Vec<String>, TemplateError> = items
        .iter()
        .map(|v| match v {
            Value::Array(_) | Value::Object(_) => {
                Err(malformed("Fn::Join", "each value resolves to a string"))
            }
            v => Ok(to_text(v)),
        })
        .collect();
    Ok(Value::String(parts?.join(delimiter)))
}

fn pair<'a>(
    args: &'a Value,
    function: &'static str,
    why: &str,
) -> Result<[&'a Value; 2], TemplateError> {
    match args.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok([a, b]),
        _ => Err(malformed(function, why)),
    }
}

fn sub(stack: &Stack<'_>, args: &Value) -> Result<Value, TemplateError> {
    let (text, variables) = match args {
        Value::String(s) => (s.as_str(), Map::new()),
        Value::Array(_) => {
            let [text, vars] = pair(
                args,
                "Fn::Sub",
                "it takes a string or [string, {variables}]",
            )?;
            let text = text
                .as_str()
                .ok_or_else(|| malformed("Fn::Sub", "the first element is a string"))?;
            let vars = match resolve(stack, vars)? {
                Some(Value::Object(map)) => map,
                _ => return Err(malformed("Fn::Sub", "the variables are a map")),
            };
            (text, vars)
        }
        _ => {
            return Err(malformed(
                "Fn::Sub",
                "it takes a string or [string, {variables}]",
            ));
        }
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| malformed("Fn::Sub", "a ${ has no closing }"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            // `${!Literal}` is the text `${Literal}`.
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else {
            out.push_str(&sub_variable(stack, name, &variables)?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// One `${Name}` of `Fn::Sub`: a variable of its map, else a `Ref`, else (`${Res.Attr}`) a
/// `Fn::GetAtt`.
fn sub_variable(
    stack: &Stack<'_>,
    name: &str,
    variables: &Map<String, Value>,
) -> Result<String, TemplateError> {
    let name = name.trim();
    if let Some(value) = variables.get(name) {
        return Ok(to_text(value));
    }
    if let Some((logical_id, attribute)) = name.split_once('.')
        && stack.template.resource(logical_id).is_some()
    {
        return Ok(to_text(&stack.attribute(logical_id, attribute)?));
    }
    Ok(to_text(&reference(stack, name)?))
}

fn select(stack: &Stack<'_>, args: &Value) -> Result<Option<Value>, TemplateError> {
    let [index, list] = pair(args, "Fn::Select", "it takes [index, [values]]")?;
    let index = resolve(stack, index)?.unwrap_or(Value::Null);
    let index = match &index {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| malformed("Fn::Select", "the index is a whole number"))?;
    let list = resolve(stack, list)?.unwrap_or(Value::Null);
    let items = list
        .as_array()
        .ok_or_else(|| malformed("Fn::Select", "the values are a list"))?;
    let position = usize::try_from(index).unwrap_or(usize::MAX);
    let item = items
        .get(position)
        .ok_or_else(|| TemplateError::Malformed {
            function: "Fn::Select",
            why: format!("index {index} is past the end of a list of {}", items.len()),
        })?;
    Ok(Some(item.clone()))
}

fn split(stack: &Stack<'_>, args: &Value) -> Result<Value, TemplateError> {
    let [delimiter, text] = pair(args, "Fn::Split", "it takes [delimiter, string]")?;
    let delimiter = delimiter
        .as_str()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| malformed("Fn::Split", "the delimiter is a non-empty string"))?;
    let text = resolve(stack, text)?.unwrap_or(Value::Null);
    let text = text
        .as_str()
        .ok_or_else(|| malformed("Fn::Split", "the source resolves to a string"))?;
    Ok(Value::Array(
        text.split(delimiter)
            .map(|s| Value::String(s.to_owned()))
            .collect(),
    ))
}

/// `Fn::If`: only the branch taken is resolved (the other may name a resource not created).
fn if_(stack: &Stack<'_>, args: &Value) -> Result<Option<Value>, TemplateError> {
    let Some([condition, then, otherwise]) = args
        .as_array()
        .map(Vec::as_slice)
        .and_then(|a| <&[Value; 3]>::try_from(a).ok())
    else {
        return Err(malformed(
            "Fn::If",
            "it takes [condition, value if true, value if false]",
        ));
    };
    let condition = condition
        .as_str()
        .ok_or_else(|| malformed("Fn::If", "the condition is a condition's name"))?;
    let branch = if stack.condition(condition)? {
        then
    } else {
        otherwise
    };
    resolve(stack, branch)
}

fn find_in_map(stack: &Stack<'_>, args: &Value) -> Result<Value, TemplateError> {
    let Some([map, top, second]) = args
        .as_array()
        .map(Vec::as_slice)
        .and_then(|a| <&[Value; 3]>::try_from(a).ok())
    else {
        return Err(malformed(
            "Fn::FindInMap",
            "it takes [map, top-level key, second-level key]",
        ));
    };
    let key = |v: &Value| -> Result<String, TemplateError> {
        Ok(to_text(&resolve(stack, v)?.unwrap_or(Value::Null)))
    };
    let (map, top, second) = (key(map)?, key(top)?, key(second)?);
    stack
        .template
        .section("Mappings")
        .get(&map)
        .and_then(|m| m.get(&top))
        .and_then(|m| m.get(&second))
        .cloned()
        .ok_or_else(|| TemplateError::Malformed {
            function: "Fn::FindInMap",
            why: format!("Mappings.{map}.{top}.{second} is not in the template"),
        })
}

/// A resolved scalar as CloudFormation turns it into text (a list as its comma-joined members).
pub(crate) fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(to_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}
