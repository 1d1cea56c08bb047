"""The Searcher's storage and ranking behind one interface (base.SceneBackend), with two
implementations: ``embedded`` (LevelDB and in-memory ranking, the default, one process per
data dir) and ``milvus`` (pymilvus: Milvus standalone or cluster, or milvus-lite; any number
of processes over one Milvus). docs/scaling.md explains the Milvus design."""
