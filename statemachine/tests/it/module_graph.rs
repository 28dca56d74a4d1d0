//! The crate's modules do not import each other in a circle.
//!
//! Reads `src/**/*.rs`, finds every path that names a module of this crate (`crate::a::b`,
//! `super::x` resolved from where it is written, `use crate::{a, b::c}` groups,
//! inline `mod tests { ... }` included) and draws an edge between the two modules. A
//! module may use its own ancestors and descendants (a parent declares its children, a
//! child uses what its parent shares); any other edge is drawn between the two siblings
//! that contain its ends (`states::map` -> `exec::failure` is `states` -> `exec`), so at
//! every level, the top level included, sibling modules must form no cycle.
//!
//! Comments, strings and character literals are skipped; `crate::X` must name a module
//! (not a re-export of `lib.rs`), so no dependency hides behind the crate root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a file defines: `lib.rs` the root, `a.rs` and `a/mod.rs` `a`, `a/b.rs` `a::b`.
fn file_module(rel: &str) -> Module {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Module = rel.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source with comments, string and character literals blanked out.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if at(i) == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= c.len() {
                    break;
                } else {
                    i += 1;
                }
            }
        } else if at(i) == 'r'
            && (at(i + 1) == '"' || at(i + 1) == '#')
            && (i == 0 || !ident(at(i - 1)) || at(i - 1) == 'b')
            && {
                let mut k = i + 1;
                while at(k) == '#' {
                    k += 1;
                }
                at(k) == '"'
            }
        {
            // A raw string: r"..." or r#"..."#.
            let mut hashes = 0;
            i += 1;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && (1..=hashes).all(|h| at(i + h) == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if at(i) == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if at(i) == '\'' && at(i + 1) == '\\' {
            // An escaped character literal: '\n', '\'', '\u{1F600}'.
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if at(i) == '\'' && at(i + 2) == '\'' {
            i += 3;
            out.push(' ');
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn tokens(src: &str) -> Vec<String> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if ch.is_whitespace() {
            i += 1;
        } else {
            out.push(ch.to_string());
            i += 1;
        }
    }
    out
}

/// The paths (from the crate root) that a `use` tree or path starting at `toks[i]` names,
/// after `base`; returns the index after it.
fn path_tree(toks: &[String], mut i: usize, base: Module, found: &mut Vec<Module>) -> usize {
    let mut path = base;
    loop {
        match toks.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while toks.get(i).is_some_and(|t| t != "}") {
                    if toks[i] == "," {
                        i += 1;
                        continue;
                    }
                    i = path_tree(toks, i, path.clone(), found);
                }
                return i + 1;
            }
            Some("self") => i += 1,
            Some(t) if t.chars().all(|ch| ch.is_alphanumeric() || ch == '_') && t != "as" => {
                path.push(t.to_string());
                i += 1;
            }
            _ => {
                found.push(path);
                return i;
            }
        }
        if toks.get(i).map(String::as_str) == Some("::") {
            i += 1;
        } else {
            // `as name` and whatever follows the path end it.
            found.push(path);
            return i;
        }
    }
}

/// Which modules each module refers to, before any folding: `files` are
/// (path under `src/`, source).
fn references(files: &[(String, String)]) -> (BTreeSet<Module>, Vec<(Module, Module)>) {
    let mut modules: BTreeSet<Module> = files.iter().map(|(p, _)| file_module(p)).collect();
    let mut refs = Vec::new();
    for (rel, src) in files {
        let toks = tokens(&strip(src));
        // The module a token is in, inline `mod x { ... }` included: (path, depth it closes at).
        let mut stack: Vec<(Module, usize)> = vec![(file_module(rel), 0)];
        let mut depth = 0;
        let mut i = 0;
        while i < toks.len() {
            let here = stack.last().map(|(m, _)| m.clone()).unwrap_or_default();
            match toks[i].as_str() {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if stack.len() > 1 && stack.last().is_some_and(|(_, d)| *d == depth) {
                        stack.pop();
                    }
                }
                "mod" if toks.get(i + 2).is_some_and(|t| t == "{") => {
                    let mut inner = here.clone();
                    inner.push(toks[i + 1].clone());
                    modules.insert(inner.clone());
                    stack.push((inner, depth));
                    depth += 1;
                    i += 3;
                    continue;
                }
                "crate" | "super" | "self" if toks.get(i + 1).is_some_and(|t| t == "::") => {
                    let mut base = here.clone();
                    let mut j = i;
                    match toks[i].as_str() {
                        "crate" => {
                            base.clear();
                            j += 2;
                        }
                        "self" => j += 2,
                        _ => {
                            while toks.get(j).is_some_and(|t| t == "super")
                                && toks.get(j + 1).is_some_and(|t| t == "::")
                            {
                                base.pop();
                                j += 2;
                            }
                        }
                    }
                    let mut found = Vec::new();
                    i = path_tree(&toks, j, base, &mut found);
                    refs.extend(found.into_iter().map(|to| (here.clone(), to)));
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    (modules, refs)
}

/// The module graph of `files`, each edge between the two siblings that contain its
/// ends, or the paths `crate::X` where `X` is not a module.
fn module_graph(files: &[(String, String)]) -> Result<Graph, Vec<String>> {
    let (modules, refs) = references(files);
    let mut graph = Graph::new();
    let mut hidden = Vec::new();
    for m in &modules {
        graph.entry(m.join("::")).or_default();
    }
    for (from, to) in refs {
        // The longest prefix of the path that is a module.
        let Some(target) = (0..=to.len())
            .rev()
            .map(|n| to[..n].to_vec())
            .find(|p| modules.contains(p))
        else {
            continue;
        };
        if target.is_empty() && !to.is_empty() {
            hidden.push(format!("{} uses crate::{}", from.join("::"), to.join("::")));
            continue;
        }
        let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
        if common == from.len() || common == target.len() {
            continue; // an ancestor or a descendant
        }
        let a = from[..=common].join("::");
        let b = target[..=common].join("::");
        graph.entry(a).or_default().insert(b);
    }
    if hidden.is_empty() {
        Ok(graph)
    } else {
        Err(hidden)
    }
}

/// A cycle of `graph` (its first node repeated at the end), if it has one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit<'g>(
        graph: &'g Graph,
        node: &'g str,
        path: &mut Vec<&'g str>,
        done: &mut BTreeSet<&'g str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|n| n.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(graph, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node);
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(graph, n, &mut Vec::new(), &mut done))
}

fn read_src(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_src(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

fn show(graph: &Graph) -> String {
    graph
        .iter()
        .filter(|(_, to)| !to.is_empty())
        .map(|(from, to)| {
            format!(
                "  {from} -> {}\n",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

#[test]
fn the_crate_has_no_module_cycles() {
    // MODULE_GRAPH_SRC=<dir> reads another source tree (an older commit's, say) instead.
    let root = std::env::var_os("MODULE_GRAPH_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let mut files = Vec::new();
    read_src(&root, &root, &mut files);
    let graph = match module_graph(&files) {
        Ok(g) => g,
        Err(hidden) => panic!(
            "name modules, not lib.rs's re-exports, so the graph sees the dependency:\n{}",
            hidden.join("\n")
        ),
    };
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "modules import each other in a circle: {}\nthe module graph:\n{}",
            cycle.join(" -> "),
            show(&graph)
        );
    }
    // The reading sees the dependencies the layout is built on.
    for (from, to) in [
        ("engine", "states"),
        ("states", "exec"),
        ("test_state", "exec"),
    ] {
        assert!(
            graph.get(from).is_some_and(|t| t.contains(to)),
            "expected {from} -> {to} in\n{}",
            show(&graph)
        );
    }
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

#[test]
fn finds_a_cycle_through_use_groups_and_super() {
    let graph = module_graph(&files(&[
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::{b::Thing, c};"),
        ("b/mod.rs", "mod inner;"),
        ("b/inner.rs", "fn f() { super::super::c::g() }"),
        (
            "c.rs",
            "// crate::a is only mentioned here\nuse crate::a::X;",
        ),
    ]))
    .unwrap();
    assert_eq!(graph["a"], ["b", "c"].map(String::from).into());
    assert_eq!(graph["b"], ["c"].map(String::from).into());
    let cycle = find_cycle(&graph).unwrap();
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.contains(&"a".to_string()) && cycle.contains(&"c".to_string()));
}

#[test]
fn folds_edges_to_siblings_and_ignores_comments_strings_and_ancestors() {
    let graph = module_graph(&files(&[
        ("lib.rs", "mod a; mod b;"),
        ("a/mod.rs", "mod x; mod y; use x::Thing;"),
        ("a/x.rs", "use super::y::Z; use crate::b::B;"),
        (
            "a/y.rs",
            "use super::Thing; const S: &str = \"crate::a::x\"; const C: char = '{'; /* super::x */",
        ),
        ("b.rs", "#[cfg(test)] mod tests { use super::*; fn f() { let r = r#\"crate::a\"#; } }"),
    ]))
    .unwrap();
    assert_eq!(graph["a::x"], ["a::y"].map(String::from).into());
    assert_eq!(graph["a"], ["b"].map(String::from).into());
    assert!(graph["a::y"].is_empty() && graph["b"].is_empty() && graph["b::tests"].is_empty());
    assert_eq!(find_cycle(&graph), None);
    // One edge more closes a circle among the siblings of `a`.
    let mut cyclic = graph.clone();
    cyclic.get_mut("a::y").unwrap().insert("a::x".into());
    assert_eq!(
        find_cycle(&cyclic),
        Some(["a::x", "a::y", "a::x"].map(String::from).to_vec())
    );
}

#[test]
fn a_path_through_a_re_export_of_the_root_is_refused() {
    let hidden = module_graph(&files(&[
        ("lib.rs", "mod a; mod b; pub use b::B;"),
        ("a.rs", "use crate::B;"),
        ("b.rs", "pub struct B;"),
    ]))
    .unwrap_err();
    assert_eq!(hidden, ["a uses crate::B"]);
}
