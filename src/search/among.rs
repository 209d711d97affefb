//! Searches among a given set of articles (the alerts over a commit's new articles): [`Among`] finds
//! the documents of the ids once, and each search ANDs its query with them, so a thousand alerts cost
//! a thousand small intersections, not a thousand id look-ups. The documents are those of one
//! searcher (one commit), which every search among them uses.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use crate::index::Archive;

/// The documents of a set of article ids in one searcher.
pub struct Among {
    pub(super) searcher: tantivy::Searcher,
    docs: Arc<HashMap<SegmentId, Vec<DocId>>>,
    len: usize,
}

impl Among {
    /// Finds the documents of `ids` in the archive's loaded commit (ids it does not hold are left out).
    pub fn new(archive: &Archive, ids: &[String]) -> anyhow::Result<Among> {
        let searcher = archive.searcher();
        let terms = ids
            .iter()
            .map(|id| Term::from_field_text(archive.fields.id, id));
        let found = searcher.search(
            &tantivy::query::TermSetQuery::new(terms),
            &tantivy::collector::DocSetCollector,
        )?;
        let len = found.len();
        let mut docs: HashMap<SegmentId, Vec<DocId>> = HashMap::new();
        for address in found {
            let segment = searcher.segment_reader(address.segment_ord).segment_id();
            docs.entry(segment).or_default().push(address.doc_id);
        }
        for list in docs.values_mut() {
            list.sort_unstable();
        }
        Ok(Among {
            searcher,
            docs: Arc::new(docs),
            len,
        })
    }

    /// How many of the ids the archive holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the archive holds none of the ids.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The query that matches these documents.
    pub(super) fn query(&self) -> Box<dyn Query> {
        Box::new(AmongQuery(Arc::clone(&self.docs)))
    }
}

/// Matches the documents of an [`Among`].
#[derive(Clone, Debug)]
struct AmongQuery(Arc<HashMap<SegmentId, Vec<DocId>>>);

impl Query for AmongQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AmongWeight(Arc::clone(&self.0))))
    }
}

struct AmongWeight(Arc<HashMap<SegmentId, Vec<DocId>>>);

impl Weight for AmongWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = self
            .0
            .get(&reader.segment_id())
            .cloned()
            .unwrap_or_default();
        Ok(Box::new(ConstScorer::new(Docs { docs, pos: 0 }, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let holds = self
            .0
            .get(&reader.segment_id())
            .is_some_and(|d| d.binary_search(&doc).is_ok());
        Ok(Explanation::new(
            "among the given articles",
            if holds { 1.0 } else { 0.0 },
        ))
    }
}

/// A sorted list of documents as a doc set.
struct Docs {
    docs: Vec<DocId>,
    pos: usize,
}

impl DocSet for Docs {
    fn advance(&mut self) -> DocId {
        self.pos = (self.pos + 1).min(self.docs.len());
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.pos).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        self.docs.len() as u32
    }
}
