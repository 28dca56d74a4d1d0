//! The state-machine graph, read from the ASL definition itself: one node per state (plus Start and
//! End, as the Step Functions console draws them), an edge for each `Next`, each Choice rule and
//! `Default`, each `Catch`, and from each state that ends the execution to End.
//!
//! Layout: a state's row is the longest path to it from Start (edges that go back up a loop are
//! left out of that count), so every edge but a loop's points down. The main line (following
//! `Next` and `Default`) keeps its column; a node reached first through a Catch or a Choice rule
//! goes one column to the right of the state it comes from, or further while that place is taken.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What an edge stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// `Next`, a Choice's `Default`, or the way to End: the main line.
    Next,
    /// A Choice rule's `Next`.
    Choice,
    /// A `Catch`'s `Next`.
    Catch,
}

impl EdgeKind {
    fn on_main_line(self) -> bool {
        self == Self::Next
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Choice => "choice",
            Self::Catch => "catch",
        }
    }
}

/// A node: a state, or the Start and End markers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// The state's `Type`; `None` for Start and End.
    pub kind: Option<String>,
    pub row: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
}

/// A laid-out graph. `nodes[0]` is Start and `nodes[1]` is End.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

pub const START: usize = 0;
pub const END: usize = 1;

impl Graph {
    /// The graph of a definition (JSON text); why not, in words, when it is not one.
    pub fn from_definition(text: &str) -> Result<Self, String> {
        let definition: Value =
            serde_json::from_str(text).map_err(|e| format!("the definition is not JSON: {e}"))?;
        let states = definition
            .get("States")
            .and_then(Value::as_object)
            .ok_or("the definition has no States object")?;
        let start_at = definition
            .get("StartAt")
            .and_then(Value::as_str)
            .ok_or("the definition has no StartAt")?;
        let mut nodes = vec![marker("Start"), marker("End")];
        let mut index = BTreeMap::new();
        for (name, state) in states {
            index.insert(name.as_str(), nodes.len());
            nodes.push(Node {
                name: name.clone(),
                kind: state.get("Type").and_then(Value::as_str).map(str::to_owned),
                row: 0,
                column: 0,
            });
        }
        let mut edges = Vec::new();
        if let Some(&first) = index.get(start_at) {
            edges.push(Edge {
                from: START,
                to: first,
                kind: EdgeKind::Next,
            });
        }
        let mut seen = BTreeSet::new();
        let mut add = |from: usize, to: Option<&str>, kind: EdgeKind| {
            let to = match to {
                Some(name) => match index.get(name) {
                    Some(&i) => i,
                    None => return,
                },
                None => END,
            };
            // One line per pair of nodes (a Catch to the state `Next` also names is drawn once).
            if seen.insert((from, to)) {
                edges.push(Edge { from, to, kind });
            }
        };
        for (name, state) in states {
            let from = index[name.as_str()];
            let text =
                |v: &Value, field: &str| v.get(field).and_then(Value::as_str).map(str::to_owned);
            let kind = text(state, "Type").unwrap_or_default();
            if let Some(next) = text(state, "Next") {
                add(from, Some(&next), EdgeKind::Next);
            }
            if let Some(default) = text(state, "Default") {
                add(from, Some(&default), EdgeKind::Next);
            }
            for rule in list(state, "Choices") {
                if let Some(next) = text(rule, "Next") {
                    add(from, Some(&next), EdgeKind::Choice);
                }
            }
            for catcher in list(state, "Catch") {
                if let Some(next) = text(catcher, "Next") {
                    add(from, Some(&next), EdgeKind::Catch);
                }
            }
            let ends = state.get("End").and_then(Value::as_bool) == Some(true)
                || kind == "Succeed"
                || kind == "Fail";
            if ends {
                add(from, None, EdgeKind::Next);
            }
        }
        let mut graph = Self { nodes, edges };
        graph.lay_out();
        Ok(graph)
    }

    /// Rows by longest path from Start, then columns (see the module docs).
    fn lay_out(&mut self) {
        let n = self.nodes.len();
        let order = self.reverse_postorder();
        let position: Vec<usize> = {
            let mut p = vec![0; n];
            for (i, &node) in order.iter().enumerate() {
                p[node] = i;
            }
            p
        };
        // Every edge but a loop's way back goes from earlier to later in that order, so one pass
        // in it gives longest paths.
        let mut row = vec![0usize; n];
        for &node in &order {
            for edge in self.edges.iter().filter(|e| e.from == node) {
                if position[edge.to] > position[node] {
                    row[edge.to] = row[edge.to].max(row[node] + 1);
                }
            }
        }
        // End goes below everything.
        row[END] = row
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != END)
            .map(|(_, &r)| r + 1)
            .max()
            .unwrap_or(1);
        let mut column: Vec<Option<usize>> = vec![None; n];
        let mut taken: BTreeSet<(usize, usize)> = BTreeSet::new();
        let mut by_row: Vec<usize> = order.clone();
        by_row.sort_by_key(|&i| (row[i], position[i]));
        for node in by_row {
            let wanted = self
                .edges
                .iter()
                .filter(|e| e.to == node && position[e.from] < position[node])
                .filter_map(|e| column[e.from].map(|c| c + usize::from(!e.kind.on_main_line())))
                .min()
                .unwrap_or(0);
            let mut c = wanted;
            while taken.contains(&(row[node], c)) {
                c += 1;
            }
            taken.insert((row[node], c));
            column[node] = Some(c);
        }
        for (i, node) in self.nodes.iter_mut().enumerate() {
            node.row = row[i];
            node.column = column[i].unwrap_or(0);
        }
    }

    /// Every node in reverse post-order of a depth-first walk from Start (then from any state
    /// nothing reaches, in definition order): each edge that is not a loop's way back goes from
    /// earlier to later. Main-line edges are walked last, so the main line comes first.
    fn reverse_postorder(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let children = |node: usize| -> Vec<usize> {
            let mut out: Vec<&Edge> = self.edges.iter().filter(|e| e.from == node).collect();
            out.sort_by_key(|e| std::cmp::Reverse(e.kind));
            out.into_iter().map(|e| e.to).collect()
        };
        let mut visited = vec![false; n];
        let mut order = Vec::with_capacity(n);
        let mut roots = vec![START];
        roots.extend(2..n);
        roots.push(END);
        for root in roots {
            if visited[root] {
                continue;
            }
            visited[root] = true;
            let mut post = Vec::new();
            // Iteratively: a definition can be long.
            let mut stack = vec![(root, children(root), 0usize)];
            while let Some((node, next, at)) = stack.last_mut() {
                if let Some(&child) = next.get(*at) {
                    *at += 1;
                    if !visited[child] {
                        visited[child] = true;
                        stack.push((child, children(child), 0));
                    }
                } else {
                    post.push(*node);
                    stack.pop();
                }
            }
            order.extend(post.into_iter().rev());
        }
        order
    }

    /// How many rows and columns it spans.
    pub fn size(&self) -> (usize, usize) {
        let rows = self.nodes.iter().map(|n| n.row + 1).max().unwrap_or(1);
        let columns = self.nodes.iter().map(|n| n.column + 1).max().unwrap_or(1);
        (rows, columns)
    }
}

fn marker(name: &str) -> Node {
    Node {
        name: name.to_owned(),
        kind: None,
        row: 0,
        column: 0,
    }
}

fn list<'a>(state: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    state
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(graph: &Graph, name: &str) -> (usize, usize) {
        let node = graph.nodes.iter().find(|n| n.name == name).unwrap();
        (node.row, node.column)
    }

    fn edge(graph: &Graph, from: &str, to: &str) -> Option<EdgeKind> {
        let i = |name: &str| graph.nodes.iter().position(|n| n.name == name).unwrap();
        graph
            .edges
            .iter()
            .find(|e| e.from == i(from) && e.to == i(to))
            .map(|e| e.kind)
    }

    #[test]
    fn the_pipeline_is_drawn_from_its_definition() {
        let graph = Graph::from_definition(imagegen_local_pipeline::pipeline::DEFINITION).unwrap();
        // Every state of the definition is a node, and nothing else but Start and End.
        let definition: Value =
            serde_json::from_str(imagegen_local_pipeline::pipeline::DEFINITION).unwrap();
        let states: Vec<&String> = definition["States"].as_object().unwrap().keys().collect();
        assert_eq!(graph.nodes.len(), states.len() + 2);
        // The main line, straight down.
        let main = [
            "Start",
            "ReceiveInput",
            "ValidatePrompt",
            "ReserveModelSlot",
            "WaitForModelSlot",
            "GenerateImage",
            "GenerateThumbnails",
            "NotifySuccess",
            "Done",
        ];
        for (row, name) in main.iter().enumerate() {
            assert_eq!(place(&graph, name), (row, 0), "{name}");
        }
        for pair in main.windows(2) {
            assert_eq!(
                edge(&graph, pair[0], pair[1]),
                Some(EdgeKind::Next),
                "{pair:?}"
            );
        }
        // The failure path beside it, reached by every task's Catch.
        assert_eq!(place(&graph, "NotifyFailure"), (8, 1));
        assert_eq!(place(&graph, "PipelineFailed"), (9, 1));
        for task in [
            "ValidatePrompt",
            "ReserveModelSlot",
            "GenerateImage",
            "GenerateThumbnails",
            "NotifySuccess",
        ] {
            assert_eq!(
                edge(&graph, task, "NotifyFailure"),
                Some(EdgeKind::Catch),
                "{task}"
            );
        }
        assert_eq!(
            edge(&graph, "NotifyFailure", "PipelineFailed"),
            Some(EdgeKind::Next)
        );
        // A throttled model call goes back for a new slot: a Catch edge upwards.
        assert_eq!(
            edge(&graph, "GenerateImage", "ReserveModelSlot"),
            Some(EdgeKind::Catch)
        );
        assert_eq!(edge(&graph, "Done", "End"), Some(EdgeKind::Next));
        assert_eq!(edge(&graph, "PipelineFailed", "End"), Some(EdgeKind::Next));
        assert_eq!(place(&graph, "End"), (10, 0));
        assert_eq!(graph.size(), (11, 2));
    }

    #[test]
    fn choices_loops_and_strays_have_a_place() {
        let graph = Graph::from_definition(
            r#"{"StartAt": "Check", "States": {
                "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 0, "Next": "Zero"}], "Default": "Again"},
                "Again": {"Type": "Pass", "Next": "Check"},
                "Zero": {"Type": "Succeed"},
                "Stray": {"Type": "Pass", "End": true}
            }}"#,
        )
        .unwrap();
        assert_eq!(place(&graph, "Check"), (1, 0));
        assert_eq!(place(&graph, "Again"), (2, 0));
        assert_eq!(place(&graph, "Zero"), (2, 1));
        assert_eq!(edge(&graph, "Again", "Check"), Some(EdgeKind::Next));
        assert_eq!(edge(&graph, "Check", "Zero"), Some(EdgeKind::Choice));
        // Every node has its own place.
        let places: BTreeSet<(usize, usize)> =
            graph.nodes.iter().map(|n| (n.row, n.column)).collect();
        assert_eq!(places.len(), graph.nodes.len());
        assert!(place(&graph, "End").0 > place(&graph, "Zero").0);
    }

    #[test]
    fn what_is_not_a_definition_says_why() {
        assert!(
            Graph::from_definition("nope")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(Graph::from_definition("{}").unwrap_err().contains("States"));
        assert!(
            Graph::from_definition(r#"{"States": {}}"#)
                .unwrap_err()
                .contains("StartAt")
        );
    }
}
