//! JSON as AWS's Java services write it: a value's text in messages, and the key
//! order of a `java.util.HashMap` (evaluated `key.$` fields, `States.JsonMerge`).

use serde_json::Value;

/// A string as it is; any other value as JSON text.
pub fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Java's `String.hashCode`.
fn java_hash(s: &str) -> u32 {
    s.encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(c as u32))
}

/// The iteration order of a `java.util.HashMap` holding `keys` (inserted in
/// order) sized for `total` entries: by bucket, then insertion order.
pub fn java_hashmap_order<'a>(keys: impl Iterator<Item = &'a str>, total: usize) -> Vec<usize> {
    let mut cap: usize = 16;
    while total as f64 > cap as f64 * 0.75 {
        cap *= 2;
    }
    let mut idx: Vec<(usize, usize)> = keys
        .enumerate()
        .map(|(i, k)| {
            let h = java_hash(k);
            ((h ^ (h >> 16)) as usize & (cap - 1), i)
        })
        .collect();
    idx.sort();
    idx.into_iter().map(|(_, i)| i).collect()
}
