"""Several Indexers used as one, for the CLI and Python callers.

Indexers share nothing (each keeps its own job table), so a job lives on the Indexer
that accepted it and every later call about it goes there. A round_robin channel would
send a job's Get or Watch to a random Indexer; the fleet keeps one client per Indexer.

* **Spreading files.** Each file goes to the Indexer with the fewest bytes submitted by
  this fleet so far (least loaded by this caller's work: decoding and embedding cost grows
  with a video's length, and so, roughly, with its size). An Indexer that is unreachable
  is skipped for the next one. Other callers' jobs are not counted: it balances one run.
* **Listing.** ``list_page`` merges the Indexers' lists newest first. Its page token packs
  one position per Indexer: the job number its next page starts before, which is exactly
  what the Indexer's own token holds (indexer/servicer.py), so pages neither skip nor repeat
  a job however the Indexers' jobs interleave.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from videosearch.common.errors import NotFound, Unavailable
from videosearch.common.page_tokens import PageTokens
from videosearch.common.replicas import replica_addresses, split_addresses
from videosearch.common.security import ClientSecurity
from videosearch.client.indexer import IndexerClient, SubmitOptions, every_page
from videosearch.indexer.types import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Job, job_number
from videosearch.indexer.library.types import PrunedPaths

# The Indexer's own tokens: the position is the job number the next page starts before.
_INDEXER_PAGES = PageTokens("ListIndexJobs", int)
# The fleet's tokens: {indexer address: that position, or null for its first page}.
_FLEET_PAGES = PageTokens("ListIndexJobs/fleet", str)


class IndexerFleet:
    """The IndexerClient calls, over every Indexer in ``addresses``."""

    service = "indexer"

    def __init__(self, addresses: list[str], timeout: float = 30.0, *, security: ClientSecurity | None = None) -> None:
        self.addresses = list(dict.fromkeys(addresses))
        self.clients = {address: IndexerClient(address, timeout, security=security) for address in self.addresses}
        self.bytes_submitted = dict.fromkeys(self.addresses, 0)
        self._home: dict[str, str] = {}  # job id -> the address of the Indexer that holds it

    # -- jobs ------------------------------------------------------------------
    def submit(self, path: str, options: SubmitOptions = SubmitOptions()) -> Job:
        """Queues ``path`` on the least-loaded Indexer that answers."""
        try:
            size = os.stat(path).st_size
        except OSError:  # a path only the Indexers see: count it as one byte
            size = 1
        unreachable: list[str] = []
        for address in sorted(self.addresses, key=self.bytes_submitted.__getitem__):
            try:
                job = self.clients[address].submit(path, options)
            except Unavailable as exc:
                unreachable.append(str(exc))
                continue
            self.bytes_submitted[address] += max(size, 1)
            self._home[job.job_id] = address
            return job
        raise Unavailable("no indexer answered: " + "; ".join(unreachable))

    def indexer_of(self, job_id: str) -> str:
        """The address of the Indexer that holds ``job_id`` (asked of each when not known yet)."""
        if job_id not in self._home:
            for address, client in self.clients.items():
                try:
                    client.get(job_id)
                except NotFound:
                    continue
                self._home[job_id] = address
                break
            else:
                raise NotFound(
                    f"no job {job_id!r} on any of the indexers {', '.join(self.addresses)}; "
                    "list jobs to see the ids they know"
                )
        return self._home[job_id]

    def get(self, job_id: str) -> Job:
        return self.clients[self.indexer_of(job_id)].get(job_id)

    def watch(self, job_id: str) -> Iterator[Job]:
        return self.clients[self.indexer_of(job_id)].watch(job_id)

    def wait(self, job_id: str) -> Job:
        return self.clients[self.indexer_of(job_id)].wait(job_id)

    def cancel(self, job_id: str) -> Job:
        return self.clients[self.indexer_of(job_id)].cancel(job_id)

    # -- library upkeep --------------------------------------------------------
    def prune(self, folder: str = "", *, dry_run: bool = False) -> PrunedPaths:
        """Each Indexer checks the stored paths on its own machine, one after the other: a
        video with files on two machines is removed by the second once the first marked
        its path missing (a dry run cannot tell that far)."""
        results = [client.prune(folder, dry_run=dry_run) for client in self.clients.values()]
        return PrunedPaths(
            dry_run=dry_run,
            marked_missing=[pair for r in results for pair in r.marked_missing],
            marked_present=[pair for r in results for pair in r.marked_present],
            removed=list({video_id: (video_id, paths) for r in results for video_id, paths in r.removed}.values()),
            locations_checked=sum(r.locations_checked for r in results),
        )

    # -- listing ---------------------------------------------------------------
    def list_page(self, page_size: int = 0, page_token: str = "") -> tuple[list[Job], str]:
        """One page of the jobs of every Indexer, newest first: (jobs, next_page_token or "")."""
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        positions = self._positions(page_token)
        pages: dict[str, tuple[list[Job], bool]] = {}
        for address, before in positions.items():
            token = _INDEXER_PAGES.encode(before) if before is not None else ""
            jobs, next_token = self.clients[address].list_page(size, token)
            pages[address] = (jobs, bool(next_token))
            self._home.update((job.job_id, address) for job in jobs)
        taken = dict.fromkeys(pages, 0)
        merged: list[Job] = []
        while len(merged) < size:
            heads = [
                (address, jobs[taken[address]]) for address, (jobs, _) in pages.items() if taken[address] < len(jobs)
            ]
            if not heads:
                break
            # Newest first; each Indexer's list is consumed in its own order, so its position stays a prefix.
            address, job = max(heads, key=lambda head: (head[1].create_time, -self.addresses.index(head[0])))
            merged.append(job)
            taken[address] += 1
        following: dict[str, int | None] = {}
        for address, (jobs, more) in pages.items():
            if taken[address] < len(jobs) or more:
                following[address] = (
                    job_number(jobs[taken[address] - 1].job_id) if taken[address] else positions[address]
                )
        return merged, self._token(following) if following else ""

    def list(self, page_size: int = 0) -> Iterator[Job]:
        """Every job of every Indexer, newest first, fetched a page at a time."""
        return every_page(self.list_page, page_size)

    def _token(self, positions: dict[str, int | None]) -> str:
        return _FLEET_PAGES.encode(json.dumps(positions, sort_keys=True), indexers=self.addresses)

    def _positions(self, token: str) -> dict[str, int | None]:
        if not token:
            return dict.fromkeys(self.addresses)
        # Bound to this list of Indexers: a token of another list is refused, not misread.
        return json.loads(str(_FLEET_PAGES.decode(token, indexers=self.addresses)))  # a str position: not empty

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def __enter__(self) -> IndexerFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_indexers(
    address: str, timeout: float = 30.0, *, security: ClientSecurity | None = None
) -> IndexerClient | IndexerFleet:
    """One Indexer's client, or a fleet for several (a list, or a dns:/// name of several)."""
    # A list is dialled as written (TLS checks those names); a DNS name by each of its records.
    addresses = replica_addresses(address) if address.strip().startswith("dns:") else split_addresses(address)
    if len(addresses) == 1:
        return IndexerClient(addresses[0], timeout, security=security)
    return IndexerFleet(addresses, timeout, security=security)
