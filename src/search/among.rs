//! Searches among a given set of articles (the alerts over a commit's new articles): [`Among`] finds
//! the documents of the ids once, and each search ANDs its query with them, so a thousand alerts cost
//! a thousand small intersections, not a thousand id look-ups. The documents are those of one
//! searcher (one commit), which every search among them uses.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::query::{
    BooleanQuery, ConstScorer, EmptyScorer, EnableScoring, Explanation, Occur, Query, Scorer,
    Weight,
};
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

    /// `query` among these documents: `query AND` [`Among::query`], where a segment that holds none of
    /// them is skipped before `query` looks at it (its term look-ups), so a thousand alerts over a
    /// commit read the segments holding the commit's articles, not every segment of the archive.
    pub(super) fn restrict(&self, query: Box<dyn Query>) -> Box<dyn Query> {
        Box::new(Restricted {
            inner: Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (Occur::Must, self.query()),
            ])),
            docs: Arc::clone(&self.docs),
        })
    }
}

/// A query run only on the segments that hold documents of an [`Among`] ([`Among::restrict`]).
#[derive(Debug)]
struct Restricted {
    inner: Box<dyn Query>,
    docs: Arc<HashMap<SegmentId, Vec<DocId>>>,
}

impl Clone for Restricted {
    fn clone(&self) -> Restricted {
        Restricted {
            inner: self.inner.box_clone(),
            docs: Arc::clone(&self.docs),
        }
    }
}

impl Query for Restricted {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(RestrictedWeight {
            inner: self.inner.weight(scoring)?,
            docs: Arc::clone(&self.docs),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct RestrictedWeight {
    inner: Box<dyn Weight>,
    docs: Arc<HashMap<SegmentId, Vec<DocId>>>,
}

impl RestrictedWeight {
    fn holds(&self, reader: &SegmentReader) -> bool {
        self.docs
            .get(&reader.segment_id())
            .is_some_and(|d| !d.is_empty())
    }
}

impl Weight for RestrictedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        if self.holds(reader) {
            self.inner.scorer(reader, boost)
        } else {
            Ok(Box::new(EmptyScorer))
        }
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
    }

    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        if self.holds(reader) {
            self.inner.count(reader)
        } else {
            Ok(0)
        }
    }

    fn for_each(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score),
    ) -> tantivy::Result<()> {
        if self.holds(reader) {
            self.inner.for_each(reader, callback)?;
        }
        Ok(())
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        if self.holds(reader) {
            self.inner.for_each_no_score(reader, callback)?;
        }
        Ok(())
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        if self.holds(reader) {
            self.inner.for_each_pruning(threshold, reader, callback)?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Article;
    use crate::search::{search_among, SearchRequest, Sort};

    fn article(i: u32) -> Article {
        let even = if i % 2 == 0 { "even" } else { "odd" };
        crate::model::sample_article(
            i,
            format!("Harbor report {i}"),
            format!("Talks at the harbor, {even}."),
        )
    }

    #[test]
    fn a_search_among_finds_the_given_articles_in_every_segment_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open_or_create(dir.path()).unwrap();
        let mut w = archive.writer().unwrap();
        // Three commits: three segments, the given articles in the first and the last.
        for commit in 0..3u32 {
            for i in commit * 4..commit * 4 + 4 {
                w.upsert(&article(i)).unwrap();
            }
            w.commit().unwrap();
        }
        w.finish().unwrap();
        archive.reload().unwrap();
        assert!(archive.searcher().segment_readers().len() >= 2);
        let ids: Vec<String> = [1u32, 2, 9, 10, 99]
            .iter()
            .map(|i| format!("{i:016x}"))
            .collect();
        let among = Among::new(&archive, &ids).unwrap();
        assert_eq!(among.len(), 4);
        let found = |query: &str| -> Vec<String> {
            let req = SearchRequest {
                query: query.into(),
                limit: 50,
                sort: Sort::Oldest,
                ..Default::default()
            };
            let r = search_among(&archive, &among, &req).unwrap();
            assert_eq!(r.total, r.hits.len());
            r.hits.into_iter().map(|h| h.title).collect()
        };
        assert_eq!(
            found(""),
            [
                "Harbor report 1",
                "Harbor report 2",
                "Harbor report 9",
                "Harbor report 10"
            ]
        );
        assert_eq!(found("even"), ["Harbor report 2", "Harbor report 10"]);
        assert_eq!(found("odd"), ["Harbor report 1", "Harbor report 9"]);
        assert!(found("nowhere").is_empty());
    }
}
