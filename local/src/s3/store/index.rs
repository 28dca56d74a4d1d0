//! A bucket's objects in key order, in memory: listings read a page of it instead of every
//! object's record. Loaded once from the records when the bucket is first used, then changed by
//! every write and delete under the bucket's writer lock, right after the record on disk changes.
//!
//! Why in memory is enough: one process owns a data directory while it writes to it (the writer
//! lock in [`crate::lock`]), and within a process every S3 client shares one store per directory
//! ([`super::Store::shared`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::listing::{Page, Query, page};
use super::record::ObjectMeta;

#[derive(Debug, Default)]
pub struct Index {
    objects: BTreeMap<String, Arc<ObjectMeta>>,
}

impl Index {
    pub fn from_records(records: Vec<ObjectMeta>) -> Self {
        let objects = records
            .into_iter()
            .map(|meta| (meta.key.clone(), Arc::new(meta)))
            .collect();
        Self { objects }
    }

    pub fn get(&self, key: &str) -> Option<&Arc<ObjectMeta>> {
        self.objects.get(key)
    }

    pub fn insert(&mut self, meta: Arc<ObjectMeta>) -> Option<Arc<ObjectMeta>> {
        self.objects.insert(meta.key.clone(), meta)
    }

    pub fn remove(&mut self, key: &str) -> Option<Arc<ObjectMeta>> {
        self.objects.remove(key)
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// The page `query` selects.
    pub fn page(&self, query: &Query) -> Page<Arc<ObjectMeta>> {
        let range = self
            .objects
            .range::<str, _>(query.start())
            .map(|(k, v)| (k.as_str(), Arc::clone(v)));
        page(range, query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::dto::Timestamp;

    fn meta(key: String) -> ObjectMeta {
        ObjectMeta {
            key,
            size: 1,
            etag: String::new(),
            last_modified: Timestamp::default(),
            headers: Default::default(),
            metadata: Default::default(),
            checksums: Default::default(),
            checksum_type: None,
            parts: None,
            multipart: None,
            data: String::new(),
        }
    }

    /// 100,000 keys listed page by page: each page reads a page of the index, not the bucket.
    #[test]
    fn a_hundred_thousand_keys_page_by_page() {
        let index = Index::from_records((0..100_000).map(|i| meta(format!("k/{i:06}"))).collect());
        let started = std::time::Instant::now();
        let (mut after, mut seen, mut pages) = (None, 0, 0);
        loop {
            let page = index.page(&Query::new(Some("k/".into()), None, after.clone(), None));
            seen += page.entries.len();
            pages += 1;
            if !page.truncated {
                break;
            }
            after = page.last;
        }
        assert_eq!((seen, pages), (100_000, 100));
        // Generous: a linear scan per page would take seconds here.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
}
