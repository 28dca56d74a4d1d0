//! DynamoDB: an in-process endpoint for `aws_sdk_dynamodb::Client` (awsJson1_0,
//! `X-Amz-Target: DynamoDB_20120810.<Operation>`) that answers what imagegen uses:
//!
//! - `UpdateItem` with a SET UpdateExpression, a ConditionExpression ([`expr`]) (the item as it
//!   was returned on a failed condition when asked: `ReturnValuesOnConditionCheckFailure`), expression
//!   attribute names and values, and `ReturnValues`; a failed condition is
//!   `ConditionalCheckFailedException`, as on AWS;
//! - `GetItem`.
//!
//! Tables have a string partition key and no sort key; they are created with
//! [`DynamoService::create_table`] (`LocalAws::create_table`). Items are strings and whole numbers
//! ([`value`]). Every other request, member or expression form is a `ValidationException` saying what
//! the stand-in does not support, never an answer that differs from DynamoDB's.
//!
//! Tables live in memory, for the life of the process. Their one use, the model-slot schedule, is
//! worth nothing once the executions that reserved slots have ended, and a process's executions end
//! with it (the Step Functions stand-in reports them `ABORTED`); a schedule kept on disk would only
//! make the next command wait for slots that nobody uses.

pub mod error;
pub mod expr;
pub mod value;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value, json};

use crate::config::ClientOptions;
use crate::ids::new_id;
use crate::transport::{InProcessClient, LocalRequest, LocalResponse, LocalService};
use error::{CONTENT_TYPE, DbError};
use expr::{Comparator, Condition, Operand, SetAction, SetValue};
use value::{Attr, item_to_wire};

const TARGET_PREFIX: &str = "DynamoDB_20120810.";

type Item = BTreeMap<String, Attr>;

#[derive(Debug)]
struct Table {
    partition_key: String,
    items: HashMap<String, Item>,
}

/// The DynamoDB stand-in.
#[derive(Debug, Default)]
pub struct DynamoService {
    tables: Mutex<HashMap<String, Table>>,
}

/// The request members an operation accepts.
const UPDATE_MEMBERS: [&str; 8] = [
    "TableName",
    "Key",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
];
const GET_MEMBERS: [&str; 3] = ["TableName", "Key", "ConsistentRead"];

impl DynamoService {
    pub fn new() -> Self {
        Self::default()
    }

    /// Create a table keyed by the string attribute `partition_key`, unless it exists.
    pub fn create_table(&self, name: &str, partition_key: &str) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables.entry(name.to_owned()).or_insert_with(|| Table {
            partition_key: partition_key.to_owned(),
            items: HashMap::new(),
        });
    }

    fn update_item(&self, body: &Map<String, Value>) -> Result<Value, DbError> {
        check_members("UpdateItem", body, &UPDATE_MEMBERS)?;
        let actions = match string(body, "UpdateExpression")? {
            Some(text) => expr::parse_update(text)?,
            None => Vec::new(),
        };
        let condition = string(body, "ConditionExpression")?
            .map(expr::parse_condition)
            .transpose()?;
        let names = placeholders(body, &actions, condition.as_ref())?;
        let return_values = string(body, "ReturnValues")?.unwrap_or("NONE");
        if !["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"].contains(&return_values) {
            return Err(DbError::validation(format!(
                "1 validation error detected: Value '{return_values}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
            )));
        }
        let on_failure = string(body, "ReturnValuesOnConditionCheckFailure")?.unwrap_or("NONE");
        if !["NONE", "ALL_OLD"].contains(&on_failure) {
            return Err(DbError::validation(format!(
                "1 validation error detected: Value '{on_failure}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
            )));
        }
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let table = table(&mut tables, body)?;
        let (key_name, key) = key(table, body)?;
        for action in &actions {
            if names.resolve(&action.attribute)? == key_name {
                return Err(DbError::validation(format!(
                    "One or more parameter values were invalid: Cannot update attribute {key_name}. This attribute is part of the key"
                )));
            }
        }
        let old = table.items.get(&key).cloned();
        let current = old.clone().unwrap_or_default();
        if let Some(condition) = &condition
            && !evaluate(condition, &current, &names)?
        {
            let error = DbError::conditional_check_failed();
            return Err(match (&old, on_failure) {
                (Some(old), "ALL_OLD") => error.with_item(item_to_wire(old.iter())),
                _ => error,
            });
        }
        // Every operand is read from the item as it was, then every action applied.
        let mut updated = Vec::with_capacity(actions.len());
        for action in &actions {
            let name = names.resolve(&action.attribute)?.to_owned();
            if updated.iter().any(|(n, _)| n == &name) {
                return Err(DbError::validation(format!(
                    "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{name}], path two: [{name}]"
                )));
            }
            let value = set_value(&action.value, &current, &names)?;
            updated.push((name, value));
        }
        let mut new = current;
        new.insert(key_name.clone(), Attr::S(key.clone()));
        for (name, value) in &updated {
            new.insert(name.clone(), value.clone());
        }
        table.items.insert(key, new.clone());
        let changed = |item: &Item| -> Value {
            item_to_wire(
                item.iter()
                    .filter(|(n, _)| updated.iter().any(|(u, _)| u == *n)),
            )
        };
        let attributes = match return_values {
            "ALL_OLD" => old.as_ref().map(|o| item_to_wire(o.iter())),
            "UPDATED_OLD" => old.as_ref().map(changed),
            "ALL_NEW" => Some(item_to_wire(new.iter())),
            "UPDATED_NEW" => Some(changed(&new)),
            _ => None,
        };
        Ok(match attributes {
            Some(a) if a.as_object().is_some_and(|o| !o.is_empty()) => json!({"Attributes": a}),
            _ => json!({}),
        })
    }

    fn get_item(&self, body: &Map<String, Value>) -> Result<Value, DbError> {
        check_members("GetItem", body, &GET_MEMBERS)?;
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let table = table(&mut tables, body)?;
        let (_, key) = key(table, body)?;
        Ok(match table.items.get(&key) {
            Some(item) => json!({"Item": item_to_wire(item.iter())}),
            None => json!({}),
        })
    }
}

fn check_members(
    operation: &str,
    body: &Map<String, Value>,
    known: &[&str],
) -> Result<(), DbError> {
    match body.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(member) => Err(DbError::validation(format!(
            "the local DynamoDB does not support {member} in {operation} (it takes {})",
            known.join(", ")
        ))),
    }
}

fn string<'a>(body: &'a Map<String, Value>, member: &str) -> Result<Option<&'a str>, DbError> {
    match body.get(member) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DbError::serialization(format!("{member} must be a string"))),
    }
}

fn table<'a>(
    tables: &'a mut HashMap<String, Table>,
    body: &Map<String, Value>,
) -> Result<&'a mut Table, DbError> {
    let name = string(body, "TableName")?.ok_or_else(|| {
        DbError::validation(
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
        )
    })?;
    tables.get_mut(name).ok_or_else(DbError::resource_not_found)
}

/// The key's attribute name and its (string) value.
fn key(table: &Table, body: &Map<String, Value>) -> Result<(String, String), DbError> {
    let mismatch = || DbError::validation("The provided key element does not match the schema");
    let key = body
        .get("Key")
        .and_then(Value::as_object)
        .ok_or_else(mismatch)?;
    match (key.len(), key.get(&table.partition_key)) {
        (1, Some(value)) => match Attr::from_wire(value)? {
            Attr::S(s) if !s.is_empty() => Ok((table.partition_key.clone(), s)),
            Attr::S(_) => Err(DbError::validation(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value.",
            )),
            Attr::N(_) => Err(mismatch()),
        },
        _ => Err(mismatch()),
    }
}

/// The expression attribute names and values, checked against what the expressions use.
struct Placeholders {
    names: HashMap<String, String>,
    values: HashMap<String, Attr>,
}

impl Placeholders {
    fn resolve(&self, name: &str) -> Result<&str, DbError> {
        self.names.get(name).map(String::as_str).ok_or_else(|| {
            DbError::validation(format!(
                "Invalid expression: An expression attribute name used in the document path is not defined; attribute name: {name}"
            ))
        })
    }

    fn value(&self, name: &str) -> Result<&Attr, DbError> {
        self.values.get(name).ok_or_else(|| {
            DbError::validation(format!(
                "Invalid expression: An expression attribute value used in expression is not defined; attribute value: {name}"
            ))
        })
    }
}

fn placeholders(
    body: &Map<String, Value>,
    actions: &[SetAction],
    condition: Option<&Condition>,
) -> Result<Placeholders, DbError> {
    let names: HashMap<String, String> = match body.get("ExpressionAttributeNames") {
        None => HashMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(DbError::serialization(
                    "ExpressionAttributeNames values must be strings",
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(DbError::serialization(
                "ExpressionAttributeNames must be a map",
            ));
        }
    };
    let values: HashMap<String, Attr> = match body.get("ExpressionAttributeValues") {
        None => HashMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Attr::from_wire(v).map(|a| (k.clone(), a)))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(DbError::serialization(
                "ExpressionAttributeValues must be a map",
            ));
        }
    };
    let (used_names, used_values) = expr::placeholders(actions, condition);
    let unused = |defined: Vec<&String>, used: &[String]| -> Vec<String> {
        let mut unused: Vec<String> = defined
            .into_iter()
            .filter(|d| !used.contains(d))
            .cloned()
            .collect();
        unused.sort();
        unused
    };
    for (what, unused) in [
        ("Names", unused(names.keys().collect(), &used_names)),
        ("Values", unused(values.keys().collect(), &used_values)),
    ] {
        if !unused.is_empty() {
            return Err(DbError::validation(format!(
                "Value provided in ExpressionAttribute{what} unused in expressions: keys: {{{}}}",
                unused.join(", ")
            )));
        }
    }
    let placeholders = Placeholders { names, values };
    for name in &used_names {
        placeholders.resolve(name)?;
    }
    for value in &used_values {
        placeholders.value(value)?;
    }
    Ok(placeholders)
}

/// An operand's value in `item`; `None` for an attribute the item does not have.
fn operand<'a>(
    o: &Operand,
    item: &'a Item,
    p: &'a Placeholders,
) -> Result<Option<&'a Attr>, DbError> {
    match o {
        Operand::Attribute(n) => Ok(item.get(p.resolve(n)?)),
        Operand::Value(v) => p.value(v).map(Some),
    }
}

fn set_value(value: &SetValue, item: &Item, p: &Placeholders) -> Result<Attr, DbError> {
    let present = |o: &Operand| -> Result<Attr, DbError> {
        operand(o, item, p)?.cloned().ok_or_else(|| {
            DbError::validation(
                "The provided expression refers to an attribute that does not exist in the item",
            )
        })
    };
    match value {
        SetValue::Operand(o) => present(o),
        SetValue::Plus(a, b) => present(a)?.arithmetic(&present(b)?, true),
        SetValue::Minus(a, b) => present(a)?.arithmetic(&present(b)?, false),
    }
}

/// A condition on the item as it is. A comparison with a missing attribute, or between values of
/// different types, is false, except `<>`, which is true (DynamoDB's rules).
fn evaluate(condition: &Condition, item: &Item, p: &Placeholders) -> Result<bool, DbError> {
    Ok(match condition {
        Condition::Or(a, b) => evaluate(a, item, p)? | evaluate(b, item, p)?,
        Condition::And(a, b) => evaluate(a, item, p)? & evaluate(b, item, p)?,
        Condition::Not(a) => !evaluate(a, item, p)?,
        Condition::Exists(n) => item.contains_key(p.resolve(n)?),
        Condition::NotExists(n) => !item.contains_key(p.resolve(n)?),
        Condition::Compare(a, comparator, b) => {
            let a = operand(a, item, p)?;
            let b = operand(b, item, p)?;
            let ordering = a.zip(b).and_then(|(a, b)| a.compare(b));
            match (comparator, ordering) {
                (Comparator::Ne, o) => o != Some(std::cmp::Ordering::Equal),
                (_, None) => false,
                (Comparator::Eq, Some(o)) => o.is_eq(),
                (Comparator::Lt, Some(o)) => o.is_lt(),
                (Comparator::Le, Some(o)) => o.is_le(),
                (Comparator::Gt, Some(o)) => o.is_gt(),
                (Comparator::Ge, Some(o)) => o.is_ge(),
            }
        }
    })
}

impl LocalService for DynamoService {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        let operation = request
            .header("x-amz-target")
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
            .map(str::to_owned);
        let body = match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(DbError::serialization(
                "the request body is not a JSON object",
            )),
        };
        let result = body.and_then(|body| match operation.as_deref() {
            Some("UpdateItem") => self.update_item(&body),
            Some("GetItem") => self.get_item(&body),
            other => Err(DbError::unknown_operation(format!(
                "the local DynamoDB answers UpdateItem and GetItem, not {}",
                other.unwrap_or("(no X-Amz-Target)")
            ))),
        });
        match result {
            Ok(body) => LocalResponse::new(200, CONTENT_TYPE, body.to_string())
                .with_header("x-amzn-requestid", new_id()),
            Err(e) => {
                tracing::debug!(error_type = e.error_type, message = %e.message, "local DynamoDB: refused");
                e.response()
            }
        }
    }
}

/// An `aws_sdk_dynamodb::Client` answered by `service`, in process.
pub fn dynamodb_client(
    service: Arc<DynamoService>,
    options: &ClientOptions,
) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&crate::config::sdk_config(
        options,
        InProcessClient::new(service),
    ))
}
