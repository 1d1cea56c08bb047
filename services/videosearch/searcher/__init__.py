"""The Searcher service: owns the LevelDB stores and the ranking."""
