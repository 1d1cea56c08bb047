"""The Indexer's jobs: the worker pool and job records, their table on disk, the pipeline that
indexes one video, its limits and the reasons a job fails with."""
