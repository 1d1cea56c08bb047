"""The Searcher's ranking: the float32 and int8 tiers, the approximate index, filters, composite
queries, top-k selection and what a hit carries."""
