//! The state machine: its graph and its definition, as DescribeStateMachine gives it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::graph::Graph;
use crate::html::{esc, pretty_json};
use crate::svg;

/// The page's `main`: the graph (or why it cannot be drawn) and the definition it was drawn from.
pub fn render(name: &str, arn: &str, definition: &str, graph: Result<&Graph, &str>) -> String {
    let mut out = format!(
        r#"<h1>State machine <span class="name">{}</span></h1><dl class="facts"><div class="wide"><dt>ARN</dt><dd><code>{}</code></dd></div></dl>"#,
        esc(name),
        esc(arn)
    );
    out.push_str(r#"<section class="card"><h2>Graph</h2><div class="graph-wrap">"#);
    match graph {
        Ok(graph) => out.push_str(&svg::render(graph, &BTreeMap::new())),
        Err(why) => {
            let _ = write!(out, r#"<p class="error">{}</p>"#, esc(why));
        }
    }
    let _ = write!(
        out,
        r#"</div></section><section class="card"><h2>Definition</h2><pre>{}</pre></section>"#,
        esc(&pretty_json(definition))
    );
    out
}
