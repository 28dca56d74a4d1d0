//! Comparing what the engine produced with what AWS recorded: exact, re-serialised
//! JSON (key order kept), or with the snapshot tool's masked tokens as wildcards.

use serde_json::Value;

/// Glob match where each token in `tokens` matches any substring.
fn glob(expected: &str, actual: &str, tokens: &[String]) -> bool {
    let mut toks: Vec<&String> = tokens.iter().filter(|t| !t.is_empty()).collect();
    toks.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let mut pieces = vec![String::new()];
    let mut rest = expected;
    'outer: while !rest.is_empty() {
        for t in &toks {
            if let Some(r) = rest.strip_prefix(t.as_str()) {
                pieces.push(String::new());
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        if let Some(l) = pieces.last_mut() {
            l.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    wildcard_match(&pieces, actual)
}

fn wildcard_match(pieces: &[String], s: &str) -> bool {
    if pieces.len() == 1 {
        return pieces[0] == s;
    }
    let first = &pieces[0];
    let last = &pieces[pieces.len() - 1];
    if !s.starts_with(first.as_str())
        || s.len() < first.len() + last.len()
        || !s.ends_with(last.as_str())
    {
        return false;
    }
    let mut pos = first.len();
    let end = s.len() - last.len();
    for p in &pieces[1..pieces.len() - 1] {
        match s[pos..end].find(p.as_str()) {
            Some(i) => pos += i + p.len(),
            None => return false,
        }
    }
    true
}

/// Drops Lambda runtime details (request ids, stack traces, SDK metadata).
fn normalize(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.shift_remove("SdkHttpMetadata");
            m.shift_remove("SdkResponseMetadata");
            if m.contains_key("errorType") {
                m.shift_remove("requestId");
                m.shift_remove("stackTrace");
            }
            m.values_mut().for_each(normalize);
        }
        Value::Array(a) => a.iter_mut().for_each(normalize),
        Value::String(s) if s.starts_with('{') => {
            if let Ok(mut inner) = serde_json::from_str::<Value>(s) {
                normalize(&mut inner);
                *s = inner.to_string();
            }
        }
        _ => {}
    }
}

fn normalized_text(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(mut v) => {
            normalize(&mut v);
            v.to_string()
        }
        Err(_) => s.to_string(),
    }
}

pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

pub fn compare_text(expected: &str, actual: &str, form: Option<&str>, masked: &[String]) -> bool {
    if masked.is_empty() {
        if form == Some("reserialized") {
            let a: Result<Value, _> = serde_json::from_str(actual);
            let e: Result<Value, _> = serde_json::from_str(expected);
            return match (a, e) {
                // Compact text comparison keeps key order significant.
                (Ok(a), Ok(e)) => compact(&a) == compact(&e),
                _ => expected == actual,
            };
        }
        return expected == actual;
    }
    let e = normalized_text(expected);
    let a = normalized_text(actual);
    if glob(&e, &a, masked) {
        return true;
    }
    // A token standing for a whole JSON string value may match any scalar.
    let quoted: Vec<String> = masked.iter().map(|t| format!("\"{t}\"")).collect();
    let mut all = masked.to_vec();
    all.extend(quoted);
    glob(&e, &a, &all)
}
