//! The subscription and listing actions of the local SNS; each returns the contents of its
//! `<ActionResult>` element.

use std::collections::BTreeMap;

use super::subscriptions::{EMAIL_PROTOCOLS, Subscription};
use super::{SnsError, SnsService, check_topic_arn};
use crate::config::ACCOUNT_ID;
use crate::server::protocol::xml_escape;

/// `TopicArn`, which must name a topic that exists.
pub(super) fn topic(sns: &SnsService, form: &BTreeMap<String, String>) -> Result<String, SnsError> {
    let topic_arn = form
        .get("TopicArn")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            SnsError::invalid("Invalid parameter: TopicArn Reason: no value for required parameter")
        })?;
    check_topic_arn(topic_arn)?;
    let topics = sns.topics().map_err(|e| SnsError::internal(&e))?;
    if !topics.contains(topic_arn) {
        return Err(SnsError::not_found("Topic does not exist"));
    }
    Ok(topic_arn.clone())
}

pub(super) fn list_topics(sns: &SnsService) -> Result<String, SnsError> {
    let topics = sns.topics().map_err(|e| SnsError::internal(&e))?;
    let members: String = topics
        .iter()
        .map(|t| format!("<member><TopicArn>{}</TopicArn></member>", xml_escape(t)))
        .collect();
    Ok(format!("<Topics>{members}</Topics>"))
}

pub(super) fn list_subscriptions(
    sns: &SnsService,
    topic_arn: Option<&str>,
) -> Result<String, SnsError> {
    let all = sns
        .subscriptions()
        .list()
        .map_err(|e| SnsError::internal(&e))?;
    let members: String = all
        .iter()
        .filter(|s| topic_arn.is_none_or(|t| s.topic_arn == t))
        .map(member)
        .collect();
    Ok(format!("<Subscriptions>{members}</Subscriptions>"))
}

fn member(s: &Subscription) -> String {
    format!(
        "<member><TopicArn>{}</TopicArn><Protocol>{}</Protocol><SubscriptionArn>{}</SubscriptionArn>\
         <Owner>{ACCOUNT_ID}</Owner><Endpoint>{}</Endpoint></member>",
        xml_escape(&s.topic_arn),
        xml_escape(&s.protocol),
        xml_escape(&s.subscription_arn),
        xml_escape(&s.endpoint)
    )
}

pub(super) fn subscribe(
    sns: &SnsService,
    form: &BTreeMap<String, String>,
) -> Result<String, SnsError> {
    let topic_arn = topic(sns, form)?;
    let protocol = form.get("Protocol").map_or("", String::as_str);
    if !EMAIL_PROTOCOLS.contains(&protocol) {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: Protocol Reason: the local SNS delivers to email and email-json \
             endpoints only (to the outbox), not '{protocol}'"
        )));
    }
    let endpoint = form.get("Endpoint").map_or("", String::as_str).trim();
    if !is_email_address(endpoint) {
        return Err(SnsError::invalid(
            "Invalid parameter: Email address".to_owned(),
        ));
    }
    let subscription = sns
        .subscriptions()
        .subscribe(&topic_arn, protocol, endpoint)
        .map_err(|e| SnsError::internal(&e))?;
    tracing::info!(topic = %topic_arn, endpoint, "local SNS: subscribed (confirmed at once: there is nobody to click the link)");
    Ok(format!(
        "<SubscriptionArn>{}</SubscriptionArn>",
        xml_escape(&subscription.subscription_arn)
    ))
}

pub(super) fn unsubscribe(
    sns: &SnsService,
    form: &BTreeMap<String, String>,
) -> Result<(), SnsError> {
    let arn = form
        .get("SubscriptionArn")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            SnsError::invalid(
                "Invalid parameter: SubscriptionArn Reason: no value for required parameter",
            )
        })?;
    let removed = sns
        .subscriptions()
        .unsubscribe(arn)
        .map_err(|e| SnsError::internal(&e))?;
    if removed {
        Ok(())
    } else {
        Err(SnsError::not_found("Subscription does not exist"))
    }
}

/// `local@domain`, one `@`, no spaces or control characters, and nothing a mail header could trip
/// on (the address goes into the `.eml` `To:` line).
fn is_email_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && s.len() <= 254
        && s.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | '"' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        assert!(is_email_address("a.b+c@example.com"));
        for bad in [
            "",
            "a",
            "@x",
            "a@",
            "a b@x",
            "a@b@c",
            "a@x\r\nBcc: y",
            "<a@x>",
        ] {
            assert!(!is_email_address(bad), "{bad:?}");
        }
    }
}
