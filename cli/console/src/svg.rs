//! The graph as an SVG drawing: each state a box (`data-state` names it, `data-status` colours it
//! through the stylesheet), Start and End as pills, each edge a line with an arrow (Catch edges
//! dashed). The script recolours boxes by changing `data-status` as events arrive.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::graph::{EdgeKind, Graph, Node};
use super::html::esc;
use super::progress::StateStatus;

const MARGIN: f64 = 16.0;
const WIDTH: f64 = 200.0;
const HEIGHT: f64 = 46.0;
const MARKER_WIDTH: f64 = 96.0;
const MARKER_HEIGHT: f64 = 28.0;
const GAP_X: f64 = 56.0;
const GAP_Y: f64 = 34.0;
/// Room on the right for loops drawn back up.
const LOOP_ROOM: f64 = 40.0;
/// The longest name shown whole in a box (the rest is in its tooltip).
const NAME_CHARS: usize = 24;

/// A node's box: left, top, width, height.
#[derive(Debug, Clone, Copy)]
struct Box2 {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Box2 {
    fn of(node: &Node) -> Self {
        let (w, h) = if node.kind.is_some() {
            (WIDTH, HEIGHT)
        } else {
            (MARKER_WIDTH, MARKER_HEIGHT)
        };
        let slot_x = MARGIN + node.column as f64 * (WIDTH + GAP_X);
        let slot_y = MARGIN + node.row as f64 * (HEIGHT + GAP_Y);
        Self {
            x: slot_x + (WIDTH - w) / 2.0,
            y: slot_y + (HEIGHT - h) / 2.0,
            w,
            h,
        }
    }
    fn center_x(self) -> f64 {
        self.x + self.w / 2.0
    }
    fn middle_y(self) -> f64 {
        self.y + self.h / 2.0
    }
    fn bottom(self) -> f64 {
        self.y + self.h
    }
    fn right(self) -> f64 {
        self.x + self.w
    }
}

/// The drawing, with each state coloured by `statuses` (states absent there have not run).
pub fn render(graph: &Graph, statuses: &BTreeMap<String, StateStatus>) -> String {
    let (rows, columns) = graph.size();
    let width = 2.0 * MARGIN + columns as f64 * WIDTH + (columns as f64 - 1.0) * GAP_X + LOOP_ROOM;
    let height = 2.0 * MARGIN + rows as f64 * HEIGHT + (rows as f64 - 1.0) * GAP_Y;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="State machine graph">"#
    );
    out.push_str(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>"#,
    );
    let occupied: BTreeSet<(usize, usize)> =
        graph.nodes.iter().map(|n| (n.row, n.column)).collect();
    for edge in &graph.edges {
        let (from, to) = (&graph.nodes[edge.from], &graph.nodes[edge.to]);
        let path = edge_path(from, to, &occupied);
        let _ = write!(
            out,
            r#"<path class="edge {}" d="{path}" marker-end="url(#arrow)"/>"#,
            edge.kind.as_str()
        );
    }
    for node in &graph.nodes {
        node_svg(&mut out, node, statuses);
    }
    out.push_str("</svg>");
    out
}

fn node_svg(out: &mut String, node: &Node, statuses: &BTreeMap<String, StateStatus>) {
    let b = Box2::of(node);
    let Some(kind) = &node.kind else {
        let _ = write!(
            out,
            r#"<g class="node marker"><rect x="{:.0}" y="{:.0}" width="{:.0}" height="{:.0}" rx="14"/><text x="{:.0}" y="{:.0}">{}</text></g>"#,
            b.x,
            b.y,
            b.w,
            b.h,
            b.center_x(),
            b.middle_y() + 4.0,
            esc(&node.name)
        );
        return;
    };
    let status = statuses.get(&node.name).map_or("not-run", |s| s.as_str());
    let shown: String = if node.name.chars().count() > NAME_CHARS {
        let cut: String = node.name.chars().take(NAME_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        node.name.clone()
    };
    let _ = write!(
        out,
        r#"<g class="node state" data-state="{name}" data-status="{status}"><title>{name} ({kind})</title><rect x="{x:.0}" y="{y:.0}" width="{w:.0}" height="{h:.0}" rx="6"/><text class="name" x="{cx:.0}" y="{ty:.0}">{shown}</text><text class="type" x="{cx:.0}" y="{ky:.0}">{kind}</text></g>"#,
        name = esc(&node.name),
        kind = esc(kind),
        x = b.x,
        y = b.y,
        w = b.w,
        h = b.h,
        cx = b.center_x(),
        ty = b.y + 20.0,
        ky = b.y + 36.0,
        shown = esc(&shown),
    );
}

/// The line from one node to another: straight down the same column when nothing is in the way,
/// a curve to another column, or a loop up the right-hand side for an edge back.
fn edge_path(from: &Node, to: &Node, occupied: &BTreeSet<(usize, usize)>) -> String {
    let (a, b) = (Box2::of(from), Box2::of(to));
    if to.row <= from.row {
        let out = a.right().max(b.right()) + LOOP_ROOM;
        return format!(
            "M{:.0},{:.0} C{out:.0},{:.0} {out:.0},{:.0} {:.0},{:.0}",
            a.right(),
            a.middle_y(),
            a.middle_y(),
            b.middle_y(),
            b.right(),
            b.middle_y()
        );
    }
    if from.column == to.column {
        let blocked = (from.row + 1..to.row).any(|r| occupied.contains(&(r, from.column)));
        if !blocked {
            return format!(
                "M{:.0},{:.0} L{:.0},{:.0}",
                a.center_x(),
                a.bottom(),
                b.center_x(),
                b.y
            );
        }
        let out = a.right() + GAP_X / 2.0;
        return format!(
            "M{:.0},{:.0} C{out:.0},{:.0} {out:.0},{:.0} {:.0},{:.0}",
            a.right(),
            a.middle_y(),
            a.middle_y(),
            b.middle_y(),
            b.right(),
            b.middle_y()
        );
    }
    if to.column > from.column {
        // Out of the right side, then down into the top.
        return format!(
            "M{:.0},{:.0} C{:.0},{:.0} {:.0},{:.0} {:.0},{:.0}",
            a.right(),
            a.middle_y(),
            b.center_x(),
            a.middle_y(),
            b.center_x(),
            a.middle_y(),
            b.center_x(),
            b.y
        );
    }
    let mid = (a.bottom() + b.y) / 2.0;
    format!(
        "M{:.0},{:.0} C{:.0},{mid:.0} {:.0},{mid:.0} {:.0},{:.0}",
        a.center_x(),
        a.bottom(),
        a.center_x(),
        b.center_x(),
        b.center_x(),
        b.y
    )
}

/// The key to the colours and lines, as HTML.
pub fn legend() -> String {
    let mut out = String::from(r#"<ul class="legend">"#);
    for (status, label) in [
        ("not-run", "not run"),
        ("running", "running"),
        ("succeeded", "succeeded"),
        ("caught", "failed, caught or retried"),
        ("failed", "failed"),
        ("aborted", "aborted"),
    ] {
        let _ = write!(
            out,
            r#"<li><span class="swatch" data-status="{status}"></span>{label}</li>"#
        );
    }
    let _ = write!(
        out,
        r#"<li><span class="dash {}"></span>Catch</li></ul>"#,
        EdgeKind::Catch.as_str()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_drawn_with_their_status_and_names_escaped() {
        let graph = Graph::from_definition(
            r#"{"StartAt": "<b>x</b>", "States": {"<b>x</b>": {"Type": "Pass", "Next": "Last"}, "Last": {"Type": "Succeed"}}}"#,
        )
        .unwrap();
        let statuses = BTreeMap::from([("<b>x</b>".to_owned(), StateStatus::Succeeded)]);
        let svg = render(&graph, &statuses);
        assert!(
            svg.contains(r#"data-state="&lt;b&gt;x&lt;/b&gt;" data-status="succeeded""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"data-state="Last" data-status="not-run""#),
            "{svg}"
        );
        assert!(!svg.contains("<b>"), "{svg}");
        // Start -> x -> Last -> End.
        assert_eq!(
            svg.matches(r#"<path class="edge next""#).count(),
            3,
            "{svg}"
        );
    }

    #[test]
    fn the_pipeline_has_its_catch_edges_dashed() {
        let graph = Graph::from_definition(imagegen_local_pipeline::pipeline::DEFINITION).unwrap();
        let svg = render(&graph, &BTreeMap::new());
        // Five tasks' Catch to NotifyFailure, and GenerateImage's back to ReserveModelSlot.
        assert_eq!(svg.matches(r#"class="edge catch""#).count(), 6, "{svg}");
        assert_eq!(svg.matches(r#"class="node state""#).count(), 10);
    }
}
