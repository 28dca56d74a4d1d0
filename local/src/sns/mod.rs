//! SNS: an endpoint for `aws_sdk_sns::Client` and the AWS CLI (AWS Query protocol) that answers
//! `Publish` by keeping the message in the [`Outbox`], after validating it as SNS does, and keeps
//! email subscriptions ([`subscriptions`]): `Subscribe`, `Unsubscribe`, `ListSubscriptions`,
//! `ListSubscriptionsByTopic`, `ListTopics`. A published message is addressed to the topic's
//! subscribers.

mod actions;
pub mod subscriptions;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use percent_encoding::percent_decode_str;

use crate::config::ClientOptions;
use crate::error::LocalError;
use crate::ids::new_id;
use crate::outbox::Outbox;
use crate::server::protocol::{Protocol, xml_escape};
use crate::transport::{InProcessClient, LocalRequest, LocalResponse, LocalService};
use subscriptions::Subscriptions;

/// The largest message SNS accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// The longest subject SNS accepts, in characters.
pub const MAX_SUBJECT_CHARS: usize = 100;
/// The most message attributes SNS accepts on one message.
pub const MAX_ATTRIBUTES: usize = 10;

/// SNS's XML namespace.
pub const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// An SNS error response: code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SnsError {
    status: u16,
    code: &'static str,
    message: String,
}

impl SnsError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "InvalidParameter",
            message: message.into(),
        }
    }

    fn value_invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "ParameterValueInvalid",
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: 404,
            code: "NotFound",
            message: message.into(),
        }
    }

    fn internal(e: &LocalError) -> Self {
        Self {
            status: 500,
            code: "InternalError",
            message: e.to_string(),
        }
    }
}

/// A validated Publish request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Publish {
    topic_arn: String,
    subject: Option<String>,
    message: String,
    attributes: BTreeMap<String, String>,
}

/// The SNS stand-in.
#[derive(Debug)]
pub struct SnsService {
    outbox: Arc<Outbox>,
    subscriptions: Subscriptions,
    /// Topics that exist (registered by the caller); Publish takes any well-formed topic ARN.
    topics: RwLock<BTreeSet<String>>,
}

impl SnsService {
    /// A stand-in keeping messages and subscriptions in `outbox`'s directory.
    pub fn new(outbox: Arc<Outbox>) -> Self {
        let subscriptions = Subscriptions::new(outbox.dir());
        Self {
            outbox,
            subscriptions,
            topics: RwLock::new(BTreeSet::new()),
        }
    }

    /// Make a topic exist (for `ListTopics` and `Subscribe`).
    pub fn register_topic(&self, topic_arn: &str) {
        self.topics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(topic_arn.to_owned());
    }

    /// The topics that exist: the registered ones and those with subscriptions.
    pub fn topics(&self) -> Result<Vec<String>, LocalError> {
        let mut topics = self
            .topics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        topics.extend(self.subscriptions.list()?.into_iter().map(|s| s.topic_arn));
        Ok(topics.into_iter().collect())
    }

    /// The email subscriptions of the data directory.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    fn publish(&self, form: &BTreeMap<String, String>) -> Result<String, SnsError> {
        let publish = parse_publish(form)?;
        let message_id = new_id();
        let recipients = self
            .subscriptions
            .recipients(&publish.topic_arn)
            .map_err(|e| SnsError::internal(&e))?;
        self.outbox
            .record(
                &message_id,
                &publish.topic_arn,
                publish.subject.as_deref(),
                &publish.message,
                publish.attributes,
                &recipients,
            )
            .map_err(|e| SnsError::internal(&e))?;
        Ok(message_id)
    }

    /// The `<...Result>` contents of an action (`None`: the response has no result element).
    fn act(
        &self,
        action: &str,
        form: &BTreeMap<String, String>,
    ) -> Result<Option<String>, SnsError> {
        match action {
            "Publish" => self
                .publish(form)
                .map(|id| Some(format!("<MessageId>{}</MessageId>", xml_escape(&id)))),
            "ListTopics" => actions::list_topics(self).map(Some),
            "ListSubscriptions" => actions::list_subscriptions(self, None).map(Some),
            "ListSubscriptionsByTopic" => {
                let topic = actions::topic(self, form)?;
                actions::list_subscriptions(self, Some(&topic)).map(Some)
            }
            "Subscribe" => actions::subscribe(self, form).map(Some),
            "Unsubscribe" => actions::unsubscribe(self, form).map(|()| None),
            other => Err(SnsError {
                status: 400,
                code: "InvalidAction",
                message: format!(
                    "The action {other} is not valid for this web service (the local SNS answers \
                     Publish, Subscribe, Unsubscribe, ListTopics, ListSubscriptions and \
                     ListSubscriptionsByTopic)."
                ),
            }),
        }
    }
}

impl LocalService for SnsService {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        let request_id = new_id();
        // The query protocol may also arrive as a GET with the parameters in the URL.
        let body = String::from_utf8_lossy(&request.body);
        let mut form = parse_form(request.query.as_deref().unwrap_or(""));
        form.extend(parse_form(&body));
        let Some(action) = form.get("Action").cloned() else {
            let missing = SnsError {
                status: 400,
                code: "MissingAction",
                message: "The request must contain the parameter Action.".into(),
            };
            tracing::debug!(code = missing.code, "local SNS: refused");
            return error_response(&missing, request_id);
        };
        match self.act(&action, &form) {
            Ok(inner) => {
                tracing::debug!(action, "local SNS: done");
                let result = inner
                    .map(|inner| format!("<{action}Result>{inner}</{action}Result>"))
                    .unwrap_or_default();
                let metadata = format!(
                    "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
                );
                LocalResponse::new(
                    200,
                    "text/xml",
                    format!(
                        "<{action}Response xmlns=\"{XMLNS}\">{result}{metadata}</{action}Response>"
                    ),
                )
                .with_header("x-amzn-requestid", request_id)
            }
            Err(e) => {
                tracing::debug!(code = e.code, message = %e.message, "local SNS: refused");
                error_response(&e, request_id)
            }
        }
    }
}

fn error_response(e: &SnsError, request_id: String) -> LocalResponse {
    Protocol::Query { xmlns: XMLNS }.error_with_id(e.status, e.code, &e.message, request_id)
}

/// Decode an `application/x-www-form-urlencoded` body.
fn parse_form(body: &str) -> BTreeMap<String, String> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME`.
fn check_topic_arn(topic_arn: &str) -> Result<(), SnsError> {
    let parts: Vec<&str> = topic_arn.split(':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
        return Err(SnsError::invalid("Invalid parameter: TopicArn"));
    }
    Ok(())
}

fn parse_publish(form: &BTreeMap<String, String>) -> Result<Publish, SnsError> {
    let topic_arn = form
        .get("TopicArn")
        .or_else(|| form.get("TargetArn"))
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            SnsError::invalid(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            )
        })?;
    check_topic_arn(topic_arn)?;
    let message = form
        .get("Message")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| SnsError::invalid("Invalid parameter: Empty message"))?;
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid("Invalid parameter: Message too long"));
    }
    let subject = form.get("Subject").map(String::as_str);
    if let Some(subject) = subject {
        let ok = !subject.is_empty()
            && subject.chars().count() <= MAX_SUBJECT_CHARS
            && subject
                .chars()
                .all(|c| c.is_ascii() && !c.is_ascii_control())
            && !subject.starts_with(' ');
        if !ok {
            return Err(SnsError::invalid("Invalid parameter: Subject"));
        }
    }
    Ok(Publish {
        topic_arn: topic_arn.clone(),
        subject: subject.map(str::to_owned),
        message: message.clone(),
        attributes: parse_attributes(form)?,
    })
}

/// `MessageAttributes.entry.N.Name`, `.Value.DataType`, `.Value.StringValue` / `.Value.BinaryValue`.
fn parse_attributes(form: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, SnsError> {
    let mut attributes = BTreeMap::new();
    for n in 1.. {
        let key = |suffix: &str| format!("MessageAttributes.entry.{n}.{suffix}");
        let Some(name) = form.get(&key("Name")) else {
            break;
        };
        if attributes.len() == MAX_ATTRIBUTES {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: MessageAttributes: at most {MAX_ATTRIBUTES} message attributes are allowed"
            )));
        }
        check_attribute_name(name)?;
        let data_type = form.get(&key("Value.DataType")).map_or("", String::as_str);
        let value = match data_type.split('.').next().unwrap_or("") {
            "String" | "Number" => form.get(&key("Value.StringValue")),
            "Binary" => form.get(&key("Value.BinaryValue")),
            _ => {
                return Err(SnsError::value_invalid(format!(
                    "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
                )));
            }
        }
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            SnsError::value_invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'."
            ))
        })?;
        if data_type.starts_with("Number") && value.parse::<f64>().is_err() {
            return Err(SnsError::value_invalid(format!(
                "Could not cast message attribute '{name}' value to number."
            )));
        }
        if attributes.insert(name.clone(), value.clone()).is_some() {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: MessageAttributes: duplicate attribute name '{name}'"
            )));
        }
    }
    Ok(attributes)
}

fn check_attribute_name(name: &str) -> Result<(), SnsError> {
    let lower = name.to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.");
    if ok {
        Ok(())
    } else {
        Err(SnsError::invalid(format!(
            "Invalid parameter: MessageAttributes: invalid attribute name '{name}'"
        )))
    }
}

/// An `aws_sdk_sns::Client` answered by `service`, in process.
pub fn sns_client(service: Arc<SnsService>, options: &ClientOptions) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&crate::config::sdk_config(
        options,
        InProcessClient::new(service),
    ))
}

/// The ARN of a topic named `name` in the local account and `region`.
pub fn topic_arn(region: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{}:{name}", crate::config::ACCOUNT_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn form_decoding() {
        let f = parse_form("Action=Publish&Message=a+b%26c%3D&Subject=");
        assert_eq!(f["Message"], "a b&c=");
        assert_eq!(f["Subject"], "");
    }

    #[test]
    fn publish_validation() {
        let arn = "arn:aws:sns:us-east-1:000000000000:t";
        let ok = parse_publish(&form(&[
            ("TopicArn", arn),
            ("Message", "hi"),
            ("MessageAttributes.entry.1.Name", "status"),
            ("MessageAttributes.entry.1.Value.DataType", "String"),
            ("MessageAttributes.entry.1.Value.StringValue", "SUCCEEDED"),
        ]))
        .unwrap();
        assert_eq!(ok.attributes["status"], "SUCCEEDED");

        let long = "s".repeat(101);
        for bad in [
            form(&[("Message", "hi")]),
            form(&[("TopicArn", "nope"), ("Message", "hi")]),
            form(&[("TopicArn", arn), ("Message", "")]),
            form(&[("TopicArn", arn), ("Message", "hi"), ("Subject", &long)]),
            form(&[("TopicArn", arn), ("Message", "hi"), ("Subject", "a\nb")]),
            form(&[
                ("TopicArn", arn),
                ("Message", "hi"),
                ("MessageAttributes.entry.1.Name", "AWS.x"),
                ("MessageAttributes.entry.1.Value.DataType", "String"),
                ("MessageAttributes.entry.1.Value.StringValue", "v"),
            ]),
            form(&[
                ("TopicArn", arn),
                ("Message", "hi"),
                ("MessageAttributes.entry.1.Name", "n"),
                ("MessageAttributes.entry.1.Value.DataType", "Number"),
                ("MessageAttributes.entry.1.Value.StringValue", "ten"),
            ]),
        ] {
            assert!(parse_publish(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
    }
}
