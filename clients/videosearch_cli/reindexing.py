"""`videosearch reindex`: switch the collection to another model without downtime. The
Indexer reindexes every stored video's file with the Embedder at --embedder-address in the
background while searches keep using the current model; the Searcher switches atomically
when every video is done, and a failure or Ctrl-C + `jobs cancel` leaves the old model serving."""

from __future__ import annotations

from rich.markup import escape

from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.indexer.types import JobState
from videosearch_cli.connection import indexers_of
from videosearch_cli.indexing import CliError, watch_jobs
from videosearch_cli.output import console, plain, print_json


def cmd_reindex(args) -> int:
    indexer = indexers_of(args)
    if not isinstance(indexer, IndexerClient):
        indexer.close()
        raise CliError("a reindex runs on one Indexer: give that one's --indexer-address")
    with indexer:
        # Every video is indexed with the Indexer's default options.
        job = indexer.reindex(args.embedder_address, args.model or "", SubmitOptions(force=True))
        if args.no_wait:
            print_json(plain(job)) if args.json else console.print(f"reindex job {job.job_id} queued")
            return 0
        [job] = watch_jobs(indexer, [job], json_output=args.json)
    if args.json:
        print_json(plain(job))
    elif job.state is JobState.SUCCEEDED:
        console.print(
            f"switched to {escape(job.reindex_model_id)}: {job.videos_done} videos reindexed; the old "
            "collection is deleted"
        )
    else:
        console.print(f"reindex {job.state.value}: {escape(job.error)}; the old model still serves every search")
    return 0 if job.state is JobState.SUCCEEDED else 1


def add_reindex_command(commands) -> None:
    reindex = commands.add_parser(
        "reindex",
        help="switch to another model without downtime: reindex every stored video, then switch",
        description="Reindex every stored video's file with the model the Embedder at --embedder-address serves, "
        "in the background, while searches keep using the current model; the Searcher switches to "
        "the new collection in one step when every video is done. A failure or a cancel "
        "(`videosearch jobs cancel JOB_ID`) leaves the current model serving.",
    )
    reindex.add_argument(
        "--embedder-address",
        required=True,
        metavar="HOST:PORT",
        help="the Embedder serving the new model (start one with `videosearch-embedder --model NEW`)",
    )
    reindex.add_argument(
        "--model",
        help="the model expected there (a hub id or a local model's directory); a "
        "different one fails the job before anything is built",
    )
    reindex.add_argument("--no-wait", action="store_true", help="queue the job and print its id without waiting")
    reindex.add_argument("--json", action="store_true", help="print the finished job as JSON")
    reindex.set_defaults(func=cmd_reindex)
