"""The lexical side of search: what is said and written in videos (text spans), tokenized
(English case folding and light stemming, Chinese words by jieba), ranked by BM25 with exact
phrases, and fused with the visual ranking by weighted reciprocal-rank fusion
(docs/searcher-notes.md, "Said and written")."""
