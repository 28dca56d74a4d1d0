//! What a burst came to, and whether it met the bar: the summary table and its last line,
//! `burst 1000: 1000 succeeded, 0 failed, 1000 emails, makespan 50.0 min (ideal 50.0 min, 1.00x)`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use imagegen_core::keys;
use imagegen_local::OutboxMessage;
use imagegen_local::sfn::{ExecutionRecord, Status};
use imagegen_local_pipeline::results::Results;
use serde_json::Value;

use super::BurstPlan;

/// The design's burst allowance: how many requests over the quota one 60-second window may see.
/// Slots are 60 s / quota apart, so a window holds at most the quota; on AWS a Lambda that starts
/// late can bring one request closer to the next, hence one.
pub const ALLOWANCE: usize = 1;
/// The longest makespan accepted, as a multiple of the ideal (count / quota).
pub const MAX_RATIO: f64 = 1.25;

/// What a burst run observed (gathered by [`super::run`]).
#[derive(Debug)]
pub struct Observed<'a> {
    pub plan: BurstPlan,
    /// The engine's time when the first file was uploaded.
    pub started_at: DateTime<Utc>,
    /// The executions of the good prompts, in upload order.
    pub good: &'a [ExecutionRecord],
    /// The executions of the blank prompts.
    pub rejected: &'a [ExecutionRecord],
    /// The executions the second deliveries named.
    pub redelivered_to: &'a [String],
    /// Executions of this burst that exist.
    pub executions: usize,
    /// Messages published during the burst.
    pub emails: &'a [OutboxMessage],
    pub model_calls: u64,
    pub model_succeeded: u64,
    pub over_quota: u64,
    /// Each pool's busiest 60 seconds, by pool name.
    pub busiest_minutes: BTreeMap<String, usize>,
    /// The bucket's directory (images are under `images/{requestId}/`).
    pub images_root: &'a Path,
    pub real_seconds: f64,
}

/// One thing the burst must get right.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: &'static str,
    pub passed: bool,
}

/// The burst in numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstSummary {
    pub plan: BurstPlan,
    /// Executions that SUCCEEDED, and that did not.
    pub succeeded: usize,
    pub failed: usize,
    /// Good prompts whose execution SUCCEEDED.
    pub good_succeeded: usize,
    /// Blank prompts whose execution FAILED with PromptRejected.
    pub rejected_as_meant: usize,
    /// Messages published, and executions with exactly one message of their own status.
    pub emails: usize,
    pub executions_with_one_email: usize,
    pub executions: usize,
    /// Second deliveries that named an execution other than their upload's.
    pub redelivered_elsewhere: usize,
    /// Images stored for the good prompts.
    pub images: usize,
    pub model_calls: u64,
    pub model_succeeded: u64,
    pub over_quota: u64,
    /// Each pool's busiest 60 seconds (requests), by pool name.
    pub busiest_minutes: BTreeMap<String, usize>,
    pub makespan_minutes: f64,
    pub real_seconds: f64,
}

impl BurstSummary {
    pub fn new(o: Observed<'_>) -> Self {
        let all: Vec<&ExecutionRecord> = o.good.iter().chain(o.rejected).collect();
        let status_of: HashMap<&str, &str> = o
            .emails
            .iter()
            .map(|m| {
                let status = m.attributes.get("status").map_or("", String::as_str);
                (m.message_id.as_str(), status)
            })
            .collect();
        let mut per_message: HashMap<String, usize> = HashMap::new();
        for id in all.iter().filter_map(|r| email_id(r)) {
            *per_message.entry(id).or_default() += 1;
        }
        let executions_with_one_email = all
            .iter()
            .filter(|r| {
                email_id(r).is_some_and(|id| {
                    per_message.get(&id) == Some(&1)
                        && status_of.get(id.as_str()) == Some(&r.status.as_str())
                })
            })
            .count();
        let last_event = all
            .iter()
            .filter_map(|r| r.history.last())
            .filter_map(|e| DateTime::parse_from_rfc3339(&e.timestamp).ok())
            .max();
        let makespan_minutes = last_event.map_or(0.0, |end| {
            (end.with_timezone(&Utc) - o.started_at).num_milliseconds() as f64 / 60_000.0
        });
        let good_names: Vec<&str> = o.good.iter().map(|r| r.name.as_str()).collect();
        let images = images_by_request(o.images_root);
        Self {
            succeeded: all.iter().filter(|r| r.status == Status::Succeeded).count(),
            failed: all.iter().filter(|r| r.status != Status::Succeeded).count(),
            good_succeeded: o
                .good
                .iter()
                .filter(|r| r.status == Status::Succeeded)
                .count(),
            rejected_as_meant: o
                .rejected
                .iter()
                .filter(|r| {
                    r.status == Status::Failed && r.error.as_deref() == Some("PromptRejected")
                })
                .count(),
            emails: o.emails.len(),
            executions_with_one_email,
            executions: o.executions,
            redelivered_elsewhere: o
                .redelivered_to
                .iter()
                .filter(|n| !good_names.contains(&n.as_str()))
                .count(),
            images: o
                .good
                .iter()
                .filter_map(request_id)
                .map(|id| images.get(&id).copied().unwrap_or(0))
                .sum(),
            model_calls: o.model_calls,
            model_succeeded: o.model_succeeded,
            over_quota: o.over_quota,
            busiest_minutes: o.busiest_minutes,
            makespan_minutes,
            real_seconds: o.real_seconds,
            plan: o.plan,
        }
    }

    /// count / the pools' quotas together, in minutes.
    pub fn ideal_minutes(&self) -> f64 {
        self.plan.count as f64 / f64::from(self.plan.total_rpm().max(1))
    }

    /// Whether every pool's busiest 60 seconds stayed within its quota plus the allowance, and no
    /// request went to a pool outside the plan.
    fn within_every_pace(&self) -> bool {
        self.busiest_minutes.iter().all(|(pool, busiest)| {
            self.plan
                .pools
                .iter()
                .find(|p| &p.name == pool)
                .is_some_and(|p| *busiest <= p.rpm as usize + ALLOWANCE)
        })
    }

    /// Makespan over ideal.
    pub fn ratio(&self) -> f64 {
        let ideal = self.ideal_minutes();
        if ideal > 0.0 {
            self.makespan_minutes / ideal
        } else {
            0.0
        }
    }

    pub fn checks(&self) -> Vec<Check> {
        let total = self.plan.count + self.plan.rejected;
        vec![
            Check {
                what: "every good prompt's execution SUCCEEDED",
                passed: self.good_succeeded == self.plan.count,
            },
            Check {
                what: "every blank prompt's execution FAILED with PromptRejected",
                passed: self.rejected_as_meant == self.plan.rejected,
            },
            Check {
                what: "exactly one email per execution, with its status",
                passed: self.executions_with_one_email == total && self.emails == total,
            },
            Check {
                what: "no duplicate executions (a second delivery starts nothing)",
                passed: self.executions == total && self.redelivered_elsewhere == 0,
            },
            // Two checks, so a shortfall is not reported as a duplicate (or the other way).
            Check {
                what: "no missing images (a model success and an image for every good prompt)",
                passed: self.images >= self.plan.count
                    && self.model_succeeded >= self.plan.count as u64,
            },
            Check {
                what: "no duplicate images (at most one model success and one image per good prompt)",
                passed: self.images <= self.plan.count
                    && self.model_succeeded <= self.plan.count as u64,
            },
            Check {
                what: "no 60 seconds with more requests to a pool than its quota plus the allowance",
                passed: self.within_every_pace(),
            },
            Check {
                what: "makespan within 1.25x of count / the pools' quotas together",
                passed: self.ratio() <= MAX_RATIO,
            },
        ]
    }

    pub fn passed(&self) -> bool {
        self.checks().iter().all(|c| c.passed)
    }

    /// `burst N: S succeeded, F failed, E emails, makespan M min (ideal I min, R x)`.
    pub fn last_line(&self) -> String {
        format!(
            "burst {}: {} succeeded, {} failed, {} emails, makespan {:.1} min (ideal {:.1} min, {:.2}x)",
            self.plan.count,
            self.succeeded,
            self.failed,
            self.emails,
            self.makespan_minutes,
            self.ideal_minutes(),
            self.ratio()
        )
    }
}

impl fmt::Display for BurstSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.plan;
        let quotas = p
            .pools
            .iter()
            .map(|pool| format!("{} {}", pool.name, pool.rpm))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            f,
            "\nBurst of {} prompt files (+{} blank, {} notifications delivered twice), model quota a minute: {quotas}",
            p.count, p.rejected, p.duplicates
        )?;
        let mut rows = vec![
            (
                "executions".to_owned(),
                self.executions.to_string(),
                format!(
                    "{} SUCCEEDED, {} FAILED ({} PromptRejected, as meant)",
                    self.succeeded, self.failed, self.rejected_as_meant
                ),
            ),
            (
                "emails".to_owned(),
                self.emails.to_string(),
                format!(
                    "{} executions with exactly one",
                    self.executions_with_one_email
                ),
            ),
            (
                "images".to_owned(),
                self.images.to_string(),
                format!("{} model successes", self.model_succeeded),
            ),
            (
                "model requests".to_owned(),
                self.model_calls.to_string(),
                format!("{} over the quota (ThrottlingException)", self.over_quota),
            ),
        ];
        for (pool, busiest) in &self.busiest_minutes {
            let quota = p.pools.iter().find(|q| &q.name == pool).map_or_else(
                || "not a pool of this burst".to_owned(),
                |q| format!("quota {}, allowance {ALLOWANCE}", q.rpm),
            );
            rows.push((
                format!("busiest 60 s {pool}"),
                busiest.to_string(),
                format!("requests; {quota}"),
            ));
        }
        rows.extend([
            (
                "makespan".to_owned(),
                format!("{:.2} min", self.makespan_minutes),
                format!("ideal {:.2} min", self.ideal_minutes()),
            ),
            (
                "real time".to_owned(),
                format!("{:.1} s", self.real_seconds),
                String::new(),
            ),
        ]);
        let width = rows
            .iter()
            .map(|(name, _, _)| name.len())
            .max()
            .unwrap_or(0);
        for (name, value, note) in rows {
            let line = format!("  {name:<width$} {value:>10}   {note}");
            writeln!(f, "{}", line.trim_end())?;
        }
        for check in self.checks() {
            let mark = if check.passed { "✓" } else { "✗" };
            writeln!(f, "  {mark} {}", check.what)?;
        }
        write!(f, "{}", self.last_line())
    }
}

/// The id of the message an execution's notify-user call published (NotifySuccess's or
/// NotifyFailure's), read by function so that any definition's executions count.
fn email_id(record: &ExecutionRecord) -> Option<String> {
    text_of(Results::of(&record.history).notification, "messageId")
}

fn request_id(record: &ExecutionRecord) -> Option<String> {
    text_of(Results::of(&record.history).request, "requestId")
}

fn text_of(result: Option<Value>, field: &str) -> Option<String> {
    result?.get(field)?.as_str().map(str::to_owned)
}

/// The PNG images stored under each request's `images/{requestId}/`, by request id, from one
/// reading of the bucket (a burst's thousands of requests share it).
fn images_by_request(bucket_dir: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for (key, _) in imagegen_local::s3::objects_in(bucket_dir) {
        let Some((request_id, name)) = key
            .strip_prefix(keys::IMAGES_PREFIX)
            .and_then(|k| k.split_once('/'))
        else {
            continue;
        };
        if name.ends_with(".png") && !name.contains('/') {
            *counts.entry(request_id.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(images: usize, model_succeeded: u64) -> BurstSummary {
        BurstSummary {
            plan: BurstPlan {
                count: 3,
                rejected: 0,
                duplicates: 0,
                pools: vec![super::super::PlanPool {
                    name: "us-east-1".into(),
                    rpm: 60,
                }],
            },
            succeeded: 3,
            failed: 0,
            good_succeeded: 3,
            rejected_as_meant: 0,
            emails: 3,
            executions_with_one_email: 3,
            executions: 3,
            redelivered_elsewhere: 0,
            images,
            model_calls: model_succeeded,
            model_succeeded,
            over_quota: 0,
            busiest_minutes: BTreeMap::from([("us-east-1".to_owned(), 3)]),
            makespan_minutes: 0.05,
            real_seconds: 1.0,
        }
    }

    fn failed(s: &BurstSummary) -> Vec<&'static str> {
        s.checks()
            .into_iter()
            .filter(|c| !c.passed)
            .map(|c| c.what)
            .collect()
    }

    #[test]
    fn missing_images_are_named_missing_and_extra_ones_duplicated() {
        assert!(summary(3, 3).passed());
        let missing = failed(&summary(2, 2));
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].starts_with("no missing images"), "{missing:?}");
        let extra = failed(&summary(4, 4));
        assert_eq!(extra.len(), 1, "{extra:?}");
        assert!(extra[0].starts_with("no duplicate images"), "{extra:?}");
    }

    #[test]
    fn each_pool_is_held_to_its_own_quota() {
        let mut s = summary(3, 3);
        s.plan.pools = vec![
            super::super::PlanPool {
                name: "us-west-2".into(),
                rpm: 20,
            },
            super::super::PlanPool {
                name: "us-east-1".into(),
                rpm: 10,
            },
        ];
        s.busiest_minutes = BTreeMap::from([("us-west-2".into(), 21), ("us-east-1".into(), 11)]);
        assert!(s.passed(), "each within its quota plus one");
        assert!((s.ideal_minutes() - 0.1).abs() < 1e-9, "3 / 30 a minute");
        s.busiest_minutes.insert("us-east-1".into(), 12);
        let over = failed(&s);
        assert!(over[0].starts_with("no 60 seconds"), "{over:?}");
        s.busiest_minutes.insert("us-east-1".into(), 1);
        s.busiest_minutes.insert("eu-west-1".into(), 1);
        assert!(!s.passed(), "a request to a pool outside the plan");
        let text = s.to_string();
        assert!(text.contains("busiest 60 s us-west-2"), "{text}");
        assert!(text.contains("not a pool of this burst"), "{text}");
    }
}
