//! Fuzzes definition loading and path / intrinsic evaluation: none of them may
//! panic, whatever the bytes.
#![no_main]

use imagegen_statemachine::intrinsics::Call;
use imagegen_statemachine::jsonpath::JsonPath;
use imagegen_statemachine::SeededRng;
use imagegen_statemachine::Scope;
use imagegen_statemachine::load_str;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // 1. The whole input as a definition, with one substitution available.
    let mut subs = HashMap::new();
    subs.insert("Fn".to_string(), "arn:aws:lambda:us-east-1:111111111111:function:f".to_string());
    let _ = load_str(text, &subs);

    // 2. Each line as a JSONPath and as an intrinsic, evaluated against a fixed document.
    let doc = json!({"a": [1, {"b": "x"}, [2, 3]], "s": "a,b", "n": 1.5, "o": {"k": null}});
    let ctx = json!({"Execution": {"Name": "e"}, "State": {"Name": "S"}});
    let mut vars = Map::new();
    vars.insert("v".into(), json!({"w": [true]}));
    let scope = Scope { input: &doc, context: &ctx, variables: &vars };
    let rng = SeededRng::new(0);
    for line in text.lines().take(16) {
        if let Ok(p) = JsonPath::parse(line) {
            let _ = scope.eval(&p);
            let _ = p.assign(doc.clone(), Value::Null);
        }
        if let Ok(c) = Call::parse(line) {
            let _ = c.eval(&scope, &rng);
        }
    }
});
