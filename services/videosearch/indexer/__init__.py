"""The Indexer service: turns video files into stored, embedded scenes."""
