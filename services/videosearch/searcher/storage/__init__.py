"""The Searcher's LevelDB store and its offline consistency check."""
