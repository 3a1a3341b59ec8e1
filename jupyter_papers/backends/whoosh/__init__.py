"""The Whoosh engine: schema and analysis, writing (term pool, parallel writers, arrays of
postings), reading (mapped storage, postings, columns), ranking, sentences, highlights,
and rebuilding an index in place."""
