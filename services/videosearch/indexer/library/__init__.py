"""Library upkeep in the Indexer, the process that can see the files: skipping unchanged
files, forgetting overwritten paths, pruning gone ones (upkeep), and watched folders
(libraries) that keep themselves indexed (watcher, registry)."""
