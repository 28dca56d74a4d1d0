//! AWS's JSONPath dialect (Jayway-like): parsing, evaluation and assignment.
//!
//! A path is *definite* when it can only select one node (names and single
//! indices only). Definite paths evaluate to that node, or fail when it is
//! missing. Indefinite paths (wildcards, slices, unions, deep scans, filters)
//! always evaluate to a list, possibly empty.

use serde_json::{Map, Value};
use std::fmt;

/// What a path starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the state's input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a variable set by `Assign`.
    Variable(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(i64),
    Wildcard,
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Union(Vec<UnionItem>),
    Descend(Box<Seg>),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
enum UnionItem {
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Current(Vec<Seg>),
    Root(Vec<Seg>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    source: String,
    root: Root,
    segs: Vec<Seg>,
}

/// A path that could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid JSONPath '{path}': {reason}")]
pub struct PathSyntaxError {
    /// The path text.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A definite path that selected nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct PathMiss {
    /// The normalised prefix up to and including the missing step, e.g. `$['no']`.
    pub missing_prefix: String,
    /// The whole path, normalised, e.g. `$['a']['b']`.
    pub normalized: String,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl JsonPath {
    /// Parses a path beginning with `$`, `$$` or `$name`.
    pub fn parse(src: &str) -> Result<Self, PathSyntaxError> {
        let err = |reason: &str| PathSyntaxError {
            path: src.to_string(),
            reason: reason.to_string(),
        };
        let s = src.trim();
        let rest = s
            .strip_prefix('$')
            .ok_or_else(|| err("must begin with '$'"))?;
        let (root, rest) = if let Some(r) = rest.strip_prefix('$') {
            (Root::Context, r)
        } else if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (Root::Variable(rest[..end].to_string()), &rest[end..])
        } else {
            (Root::Input, rest)
        };
        let mut p = Parser {
            chars: rest.chars().collect(),
            pos: 0,
        };
        let segs = p.segments(false).map_err(|r| err(&r))?;
        if p.pos < p.chars.len() {
            return Err(err(&format!("unexpected character at offset {}", p.pos)));
        }
        Ok(JsonPath {
            source: src.to_string(),
            root,
            segs,
        })
    }

    /// `$`: the whole input.
    pub fn identity() -> Self {
        JsonPath {
            source: "$".into(),
            root: Root::Input,
            segs: Vec::new(),
        }
    }

    /// The path text as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// True when the path selects at most one node.
    pub fn is_definite(&self) -> bool {
        self.segs
            .iter()
            .all(|s| matches!(s, Seg::Key(_) | Seg::Index(_)))
    }

    /// True when the path only uses names and indices (valid as a ResultPath).
    pub fn is_reference(&self) -> bool {
        self.root == Root::Input && self.is_definite()
    }

    /// The normalised form, e.g. `$['a'][0]`.
    pub fn normalized(&self) -> String {
        normalize(&self.segs)
    }

    /// Evaluates against `doc` (the value of the root).
    pub fn eval(&self, doc: &Value) -> Result<Value, PathMiss> {
        if self.is_definite() {
            let mut cur = doc;
            for (i, seg) in self.segs.iter().enumerate() {
                let next = match (seg, cur) {
                    (Seg::Key(k), Value::Object(m)) => m.get(k),
                    (Seg::Index(n), Value::Array(a)) => index(a, *n),
                    _ => None,
                };
                match next {
                    Some(v) => cur = v,
                    None => {
                        return Err(PathMiss {
                            missing_prefix: normalize(&self.segs[..=i]),
                            normalized: self.normalized(),
                        });
                    }
                }
            }
            Ok(cur.clone())
        } else {
            let mut out = Vec::new();
            select(&self.segs, doc, doc, &mut out);
            Ok(Value::Array(out.into_iter().cloned().collect()))
        }
    }

    /// Writes `value` at this (reference) path inside `doc`, creating objects
    /// on the way. Fails with the missing prefix when an intermediate node is
    /// not an object (or an index is out of range).
    pub fn assign(&self, doc: Value, value: Value) -> Result<Value, PathMiss> {
        if self.segs.is_empty() {
            return Ok(value);
        }
        let mut doc = doc;
        let miss = |i: usize| PathMiss {
            missing_prefix: normalize(&self.segs[..=i]),
            normalized: self.normalized(),
        };
        {
            let mut cur = &mut doc;
            let last = self.segs.len() - 1;
            for (i, seg) in self.segs.iter().enumerate() {
                match seg {
                    Seg::Key(k) => {
                        let Value::Object(m) = cur else {
                            return Err(miss(i));
                        };
                        if i == last {
                            m.insert(k.clone(), value);
                            break;
                        }
                        let entry = m
                            .entry(k.clone())
                            .or_insert_with(|| Value::Object(Map::new()));
                        if !entry.is_object() && !entry.is_array() {
                            *entry = Value::Object(Map::new());
                        }
                        cur = entry;
                    }
                    Seg::Index(n) => {
                        let Value::Array(a) = cur else {
                            return Err(miss(i));
                        };
                        let len = a.len() as i64;
                        let idx = if *n < 0 { len + n } else { *n };
                        if idx < 0 || idx >= len {
                            return Err(miss(i));
                        }
                        let slot = &mut a[idx as usize];
                        if i == last {
                            *slot = value;
                            break;
                        }
                        cur = slot;
                    }
                    _ => return Err(miss(i)),
                }
            }
        }
        Ok(doc)
    }
}

fn index(a: &[Value], n: i64) -> Option<&Value> {
    let idx = if n < 0 { a.len() as i64 + n } else { n };
    if idx < 0 { None } else { a.get(idx as usize) }
}

fn normalize(segs: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in segs {
        match seg {
            Seg::Key(k) => s.push_str(&format!("['{k}']")),
            Seg::Index(n) => s.push_str(&format!("[{n}]")),
            Seg::Wildcard => s.push_str("[*]"),
            Seg::Slice(a, b, _) => s.push_str(&format!(
                "[{}:{}]",
                a.map(|x| x.to_string()).unwrap_or_default(),
                b.map(|x| x.to_string()).unwrap_or_default()
            )),
            Seg::Union(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| match i {
                        UnionItem::Key(k) => format!("'{k}'"),
                        UnionItem::Index(n) => n.to_string(),
                    })
                    .collect();
                s.push_str(&format!("[{}]", parts.join(",")));
            }
            Seg::Descend(inner) => {
                s.push_str("..");
                s.push_str(normalize(std::slice::from_ref(inner)).trim_start_matches('$'));
            }
            Seg::Filter(_) => s.push_str("[?]"),
        }
    }
    s
}

fn select<'a>(segs: &[Seg], root: &'a Value, cur: &'a Value, out: &mut Vec<&'a Value>) {
    let Some((seg, rest)) = segs.split_first() else {
        out.push(cur);
        return;
    };
    match seg {
        Seg::Key(k) => {
            if let Some(v) = cur.as_object().and_then(|m| m.get(k)) {
                select(rest, root, v, out);
            }
        }
        Seg::Index(n) => {
            if let Some(v) = cur.as_array().and_then(|a| index(a, *n)) {
                select(rest, root, v, out);
            }
        }
        Seg::Wildcard => match cur {
            Value::Array(a) => a.iter().for_each(|v| select(rest, root, v, out)),
            Value::Object(m) => m.values().for_each(|v| select(rest, root, v, out)),
            _ => {}
        },
        Seg::Slice(start, end, step) => {
            if let Value::Array(a) = cur {
                let len = a.len() as i64;
                let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let step = step.unwrap_or(1);
                if step > 0 {
                    let s = clamp(start.unwrap_or(0));
                    let e = clamp(end.unwrap_or(len));
                    let mut i = s;
                    while i < e {
                        select(rest, root, &a[i as usize], out);
                        i += step;
                    }
                }
            }
        }
        Seg::Union(items) => {
            for item in items {
                let v = match (item, cur) {
                    (UnionItem::Key(k), Value::Object(m)) => m.get(k),
                    (UnionItem::Index(n), Value::Array(a)) => index(a, *n),
                    _ => None,
                };
                if let Some(v) = v {
                    select(rest, root, v, out);
                }
            }
        }
        Seg::Descend(inner) => {
            let mut nodes = Vec::new();
            descend(cur, &mut nodes);
            for node in nodes {
                let mut matched = Vec::new();
                select(std::slice::from_ref(inner), root, node, &mut matched);
                for m in matched {
                    select(rest, root, m, out);
                }
            }
        }
        Seg::Filter(f) => {
            let items: Vec<&Value> = match cur {
                Value::Array(a) => a.iter().collect(),
                Value::Object(m) => m.values().collect(),
                _ => Vec::new(),
            };
            for item in items {
                if filter_matches(f, root, item) {
                    select(rest, root, item, out);
                }
            }
        }
    }
}

fn descend<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    out.push(v);
    match v {
        Value::Array(a) => a.iter().for_each(|x| descend(x, out)),
        Value::Object(m) => m.values().for_each(|x| descend(x, out)),
        _ => {}
    }
}

fn operand_value(op: &Operand, root: &Value, cur: &Value) -> Option<Value> {
    match op {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Current(segs) | Operand::Root(segs) => {
            let base = if matches!(op, Operand::Current(_)) {
                cur
            } else {
                root
            };
            let mut out = Vec::new();
            select(segs, root, base, &mut out);
            let definite = segs
                .iter()
                .all(|s| matches!(s, Seg::Key(_) | Seg::Index(_)));
            if definite {
                out.first().map(|v| (*v).clone())
            } else {
                Some(Value::Array(out.into_iter().cloned().collect()))
            }
        }
    }
}

fn filter_matches(f: &Filter, root: &Value, cur: &Value) -> bool {
    match f {
        Filter::Or(a, b) => filter_matches(a, root, cur) || filter_matches(b, root, cur),
        Filter::And(a, b) => filter_matches(a, root, cur) && filter_matches(b, root, cur),
        Filter::Not(a) => !filter_matches(a, root, cur),
        Filter::Exists(op) => operand_value(op, root, cur).is_some(),
        Filter::Cmp(l, op, r) => {
            let (Some(l), Some(r)) = (operand_value(l, root, cur), operand_value(r, root, cur))
            else {
                return false;
            };
            compare(&l, *op, &r)
        }
    }
}

fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => {
            if l == r {
                Some(Ordering::Equal)
            } else {
                None
            }
        }
    };
    match op {
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Parses segments until the end, or (in a filter) until a character that
    /// cannot continue a path.
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Seg>, String> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some('.') => {
                    if self.peek_at(1) == Some('.') {
                        self.pos += 2;
                        let inner = if self.peek() == Some('[') {
                            self.bracket()?
                        } else if self.eat('*') {
                            Seg::Wildcard
                        } else {
                            Seg::Key(self.name()?)
                        };
                        segs.push(Seg::Descend(Box::new(inner)));
                    } else {
                        self.pos += 1;
                        if self.eat('*') {
                            segs.push(Seg::Wildcard);
                        } else if self.peek() == Some('[') {
                            segs.push(self.bracket()?);
                        } else {
                            let name = self.name()?;
                            if self.peek() == Some('(') && self.peek_at(1) == Some(')') {
                                return Err(format!(
                                    "functions such as {name}() are not supported"
                                ));
                            }
                            segs.push(Seg::Key(name));
                        }
                    }
                }
                Some('[') => segs.push(self.bracket()?),
                Some(_) if in_filter => break,
                Some(c) => return Err(format!("unexpected '{c}'")),
            }
        }
        Ok(segs)
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == '.' || c == '[' || c == ']' || c == '(' || c == ')' || c.is_whitespace() {
                break;
            }
            if matches!(c, '=' | '<' | '>' | '!' | '&' | '|') {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err("empty name".into());
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn quoted(&mut self) -> Result<String, String> {
        let Some(q) = self.peek() else {
            return Err("expected a quote".into());
        };
        self.pos += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some('\\') => {
                    self.pos += 1;
                    // Only the quote and the backslash itself are escapable.
                    match self.peek() {
                        Some(c) if c == q || c == '\\' => {
                            s.push(c);
                            self.pos += 1;
                        }
                        _ => s.push('\\'),
                    }
                }
                Some(c) if c == q => {
                    self.pos += 1;
                    return Ok(s);
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn int(&mut self) -> Result<Option<i64>, String> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        let s: String = self.chars[start..self.pos].iter().collect();
        s.parse()
            .map(Some)
            .map_err(|_| format!("bad integer '{s}'"))
    }

    fn bracket(&mut self) -> Result<Seg, String> {
        self.pos += 1; // '['
        self.skip_ws();
        let seg = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Seg::Wildcard
            }
            Some('?') => {
                self.pos += 1;
                self.skip_ws();
                if !self.eat('(') {
                    return Err("expected '(' after '?'".into());
                }
                let f = self.filter_or()?;
                self.skip_ws();
                if !self.eat(')') {
                    return Err("expected ')' closing the filter".into());
                }
                Seg::Filter(f)
            }
            Some('\'') | Some('"') => {
                let mut items = vec![UnionItem::Key(self.quoted()?)];
                self.skip_ws();
                while self.eat(',') {
                    self.skip_ws();
                    items.push(UnionItem::Key(self.quoted()?));
                    self.skip_ws();
                }
                if items.len() == 1 {
                    match items.pop() {
                        Some(UnionItem::Key(k)) => Seg::Key(k),
                        _ => return Err("bad bracket".into()),
                    }
                } else {
                    Seg::Union(items)
                }
            }
            _ => {
                let first = self.int()?;
                self.skip_ws();
                if self.peek() == Some(':') {
                    self.pos += 1;
                    let end = self.int()?;
                    self.skip_ws();
                    let step = if self.eat(':') { self.int()? } else { None };
                    Seg::Slice(first, end, step)
                } else {
                    let first = first.ok_or("expected an index")?;
                    let mut items = vec![UnionItem::Index(first)];
                    while self.eat(',') {
                        items.push(UnionItem::Index(self.int()?.ok_or("expected an index")?));
                        self.skip_ws();
                    }
                    if items.len() == 1 {
                        Seg::Index(first)
                    } else {
                        Seg::Union(items)
                    }
                }
            }
        };
        self.skip_ws();
        if !self.eat(']') {
            return Err("expected ']'".into());
        }
        Ok(seg)
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_ws();
            if self.peek() == Some('|') && self.peek_at(1) == Some('|') {
                self.pos += 2;
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_unary()?;
        loop {
            self.skip_ws();
            if self.peek() == Some('&') && self.peek_at(1) == Some('&') {
                self.pos += 2;
                let right = self.filter_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_unary(&mut self) -> Result<Filter, String> {
        self.skip_ws();
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat('(') {
            let f = self.filter_or()?;
            self.skip_ws();
            if !self.eat(')') {
                return Err("expected ')'".into());
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), Some('=')) => Some((CmpOp::Eq, 2)),
            (Some('!'), Some('=')) => Some((CmpOp::Ne, 2)),
            (Some('<'), Some('=')) => Some((CmpOp::Le, 2)),
            (Some('>'), Some('=')) => Some((CmpOp::Ge, 2)),
            (Some('<'), _) => Some((CmpOp::Lt, 1)),
            (Some('>'), _) => Some((CmpOp::Gt, 1)),
            _ => None,
        };
        match op {
            Some((op, n)) => {
                self.pos += n;
                let right = self.operand()?;
                Ok(Filter::Cmp(left, op, right))
            }
            None => Ok(Filter::Exists(left)),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_ws();
        match self.peek() {
            Some('@') => {
                self.pos += 1;
                Ok(Operand::Current(self.segments(true)?))
            }
            Some('$') => {
                self.pos += 1;
                Ok(Operand::Root(self.segments(true)?))
            }
            Some('\'') | Some('"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(_) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
                {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                serde_json::from_str(&word)
                    .map(Operand::Literal)
                    .map_err(|_| format!("bad literal '{word}' in filter"))
            }
            None => Err("unexpected end of filter".into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(p: &str, v: &Value) -> Result<Value, PathMiss> {
        JsonPath::parse(p).unwrap().eval(v)
    }

    #[test]
    fn definite_paths_select_one_node() {
        let v = json!({"a": {"b": [1, 2, 3]}, "k-e y": 5});
        assert_eq!(ev("$", &v).unwrap(), v);
        assert_eq!(ev("$.a.b[1]", &v).unwrap(), json!(2));
        assert_eq!(ev("$.a.b[-1]", &v).unwrap(), json!(3));
        assert_eq!(ev("$['k-e y']", &v).unwrap(), json!(5));
        let miss = ev("$.a.c.d", &v).unwrap_err();
        assert_eq!(miss.missing_prefix, "$['a']['c']");
    }

    #[test]
    fn indefinite_paths_give_lists() {
        let v = json!({"items": [{"x": 1}, {"x": 2}, {"x": 3}]});
        assert_eq!(ev("$.items[*].x", &v).unwrap(), json!([1, 2, 3]));
        assert_eq!(ev("$.items[1:].x", &v).unwrap(), json!([2, 3]));
        assert_eq!(ev("$.items[:1]", &v).unwrap(), json!([{"x": 1}]));
        assert_eq!(ev("$.nothing[*]", &v).unwrap(), json!([]));
        assert_eq!(ev("$..x", &v).unwrap(), json!([1, 2, 3]));
        assert_eq!(ev("$.items[0,2].x", &v).unwrap(), json!([1, 3]));
        assert_eq!(ev("$[*]", &json!({})).unwrap(), json!([]));
    }

    #[test]
    fn filters() {
        let v = json!({"users": [{"s": 0, "n": "a"}, {"s": 1, "n": "b"}]});
        assert_eq!(
            ev("$.users[?(@.s == 0)]", &v).unwrap(),
            json!([{"s": 0, "n": "a"}])
        );
        assert_eq!(ev("$.users[?(@.s < 1)].n", &v).unwrap(), json!(["a"]));
        assert_eq!(
            ev("$.users[?(@.n == 'b' || @.s > 5)].s", &v).unwrap(),
            json!([1])
        );
        assert_eq!(
            ev("$.[?(@.s >= 0)].n", &json!([{"s": 2, "n": "z"}])).unwrap(),
            json!(["z"])
        );
    }

    #[test]
    fn roots_and_syntax_errors() {
        assert_eq!(
            *JsonPath::parse("$$.Execution").unwrap().root(),
            Root::Context
        );
        assert_eq!(
            *JsonPath::parse("$var.x").unwrap().root(),
            Root::Variable("var".into())
        );
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$.a[").is_err());
        assert!(JsonPath::parse("$.a[?(@.x ==)]").is_err());
    }

    #[test]
    fn assign_creates_objects() {
        let p = JsonPath::parse("$.a.b").unwrap();
        assert_eq!(
            p.assign(json!({"x": 1}), json!(2)).unwrap(),
            json!({"x": 1, "a": {"b": 2}})
        );
        assert!(p.assign(json!("str"), json!(2)).is_err());
        assert_eq!(
            JsonPath::parse("$")
                .unwrap()
                .assign(json!(1), json!(2))
                .unwrap(),
            json!(2)
        );
    }
}
