"""The README's API table names every RPC the protos declare, under its service (issue 24:
GetSceneThumbnail was missing), so a newcomer reading it sees the whole API."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def test_the_api_table_lists_every_rpc_under_its_service():
    readme = (REPO_ROOT / "README.md").read_text()
    table = readme[readme.index("| service | RPCs |"):]
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+Service)` \(:\d+\) \| (.*) \|$", table, re.M)}
    missing = []
    for proto in sorted((REPO_ROOT / "protos" / "videosearch" / "v1").glob("*.proto")):
        for service, body in re.findall(r"^service (\w+) \{(.*?)^\}", proto.read_text(), re.S | re.M):
            for rpc in re.findall(r"^\s*rpc (\w+)\(", body, re.M):
                if f"`{rpc}`" not in rows.get(service, ""):
                    missing.append(f"{service}.{rpc}")
    assert rows and missing == [], f"add to the README's API table: {missing}"
