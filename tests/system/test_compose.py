"""docker-compose.yml must agree with the services' settings: Docker cannot run
here, so this is what catches a renamed variable or a port out of step."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import yaml
from videosearch.common.settings import env_names
from videosearch.embedder.settings import ENV_PREFIX as EMBEDDER_PREFIX
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.settings import ENV_PREFIX as INDEXER_PREFIX
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.settings import ENV_PREFIX as SEARCHER_PREFIX
from videosearch.searcher.settings import SearcherSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "embedder": (EmbedderSettings, EMBEDDER_PREFIX, "videosearch-embedder"),
    "searcher": (SearcherSettings, SEARCHER_PREFIX, "videosearch-searcher"),
    "indexer": (IndexerSettings, INDEXER_PREFIX, "videosearch-indexer"),
}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_is_defined_and_runs_its_console_script():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    services = compose()["services"]
    assert set(services) == set(SERVICES)
    for name, (_, _, script) in SERVICES.items():
        assert services[name]["command"] == [script]
        assert script in scripts, f"{script} is not a console script in pyproject.toml"


def test_environment_variables_are_settings_the_service_reads():
    for name, (settings_cls, prefix, _) in SERVICES.items():
        known = set(env_names(settings_cls, prefix).values())
        for variable in compose()["services"][name]["environment"]:
            if variable.startswith("VIDEOSEARCH_"):
                assert variable in known, f"{name}: {variable} is not a setting (known: {sorted(known)})"


def test_ports_healthchecks_and_addresses_agree():
    services = compose()["services"]
    ports = {}
    for name, (settings_cls, prefix, _) in SERVICES.items():
        env = services[name]["environment"]
        port = int(env[f"{prefix}_PORT"])
        ports[name] = port
        assert env[f"{prefix}_HOST"] == "0.0.0.0", "a container must listen on all interfaces"
        assert services[name]["ports"] == [f"{port}:{port}"]
        assert services[name]["healthcheck"]["test"][-1] == f"127.0.0.1:{port}"
        # The compose port is the service's own default, so local and container setups match.
        defaults = {f.name: f.default for f in dataclasses.fields(settings_cls)}
        assert defaults["port"] == port
    for name, (_, prefix, _) in SERVICES.items():
        for variable, value in services[name]["environment"].items():
            if variable.endswith("_ADDRESS"):
                host, port = value.split(":")
                assert host in ports and int(port) == ports[host], f"{name}: {variable}={value} names no service port"


def test_volumes_hold_the_leveldb_data_and_the_model_cache():
    doc = compose()
    searcher_env = doc["services"]["searcher"]["environment"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in doc["services"]["searcher"]["volumes"]}
    assert any(searcher_env["VIDEOSEARCH_SEARCHER_DATA_DIR"].startswith(target) for target in mounts)
    embedder = doc["services"]["embedder"]
    cache = embedder["environment"]["HF_HOME"]
    assert any(v.endswith(":" + cache) for v in embedder["volumes"])
    assert set(doc["volumes"]) >= {v.split(":")[0] for v in embedder["volumes"] + doc["services"]["searcher"]["volumes"]}
    gpu = embedder["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia" and "gpu" in gpu["capabilities"]


def test_dockerfile_pins_the_same_torch_as_requirements():
    requirements = (ROOT / "requirements.txt").read_text()
    pinned = re.search(r"^torch==(\S+)", requirements, re.M).group(1)
    assert f"torch=={pinned}" in (ROOT / "Dockerfile").read_text()
