"""`videosearch libraries add|list|remove`: folders the Indexer watches and keeps indexed
(docs/libraries.md). Libraries belong to one Indexer, so these commands name one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from videosearch.client.indexer import IndexerClient
from videosearch_cli.connection import indexers_of
from videosearch_cli.output import console, plain, print_json, short_path


class OneIndexerNeeded(Exception):
    pass


def _indexer(args) -> IndexerClient:
    indexer = indexers_of(args)
    if not isinstance(indexer, IndexerClient):
        indexer.close()
        raise OneIndexerNeeded("libraries belong to one Indexer: give that one's --indexer-address")
    return indexer


def cmd_libraries_add(args) -> int:
    with _indexer(args) as indexer:
        library = indexer.add_library(str(Path(args.path).expanduser().absolute()))
    if args.json:
        print_json(plain(library))
    else:
        console.print(
            f"watching {escape(library.path)} (full rescan every {library.rescan_s:g} s); "
            "`videosearch libraries list` shows its progress"
        )
    return 0


def cmd_libraries_remove(args) -> int:
    with _indexer(args) as indexer:
        library = indexer.remove_library(str(Path(args.path).expanduser().absolute()))
    if args.json:
        print_json(plain(library))
    else:
        console.print(f"stopped watching {escape(library.path)}; its videos stay indexed")
    return 0


def cmd_libraries_list(args) -> int:
    with _indexer(args) as indexer:
        libraries, token = indexer.list_libraries_page(args.page_size, args.page_token)
        while args.all and token:
            more, token = indexer.list_libraries_page(args.page_size, token)
            libraries.extend(more)
    if args.json:
        print_json({"libraries": [plain(lib) for lib in libraries], "next_page_token": token})
        return 0
    table = Table(
        title="libraries (watched folders)",
        caption="indexed, pruned and errors count since the Indexer started (a restart starts them at 0)",
    )
    room = max(24, console.width - 90)  # what the other columns leave the folder
    table.add_column("folder", no_wrap=True, min_width=min(room, max((len(lib.path) for lib in libraries), default=6)))
    for column in ("state", "watching", "seen", "queued", "indexed", "pruned", "last scan"):
        table.add_column(column, no_wrap=True)
    table.add_column("errors", overflow="fold")
    for lib in libraries:
        table.add_row(
            escape(short_path(lib.path, room)),
            lib.state.value,
            "yes" if lib.watching else "rescan only",
            str(lib.files_seen),
            str(lib.files_queued),
            str(lib.files_indexed),
            str(lib.files_pruned),
            _ago(lib.last_scan_time),
            escape(f"{lib.error_count}: {lib.last_error}" if lib.error_count else "0"),
        )
    console.print(table)
    if token:
        console.print(
            f"[dim]more: videosearch libraries list --page-size {args.page_size} --page-token {token} (or --all)[/]"
        )
    return 0


def _ago(when: dt.datetime | None) -> str:
    if when is None:
        return "not yet"
    return f"{(dt.datetime.now(dt.timezone.utc) - when).total_seconds():.0f} s ago"


def add_library_commands(commands, paging) -> None:
    libraries = commands.add_parser(
        "libraries",
        help="folders the Indexer watches: new and changed videos are indexed, deleted ones pruned",
    ).add_subparsers(dest="action", required=True)
    add = libraries.add_parser("add", help="watch a folder (on the Indexer's machine, inside its allowed roots)")
    add.add_argument("path")
    add.add_argument("--json", action="store_true")
    add.set_defaults(func=cmd_libraries_add)
    listing = libraries.add_parser("list", help="the libraries and their state (files seen, queued, last scan, errors)")
    paging(listing, 50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_libraries_list)
    remove = libraries.add_parser("remove", help="stop watching a folder (its videos stay indexed)")
    remove.add_argument("path")
    remove.add_argument("--json", action="store_true")
    remove.set_defaults(func=cmd_libraries_remove)
