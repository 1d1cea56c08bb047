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
    services = {name: s for name, s in compose()["services"].items() if "profiles" not in s}
    assert set(services) == set(SERVICES) | {"web"}
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
        # Only what a user calls is published, and only on loopback (a proxy serves other hosts).
        published = [re.sub(r"\$\{\w+:-(\w+)\}", r"\1", p) for p in services[name].get("ports", [])]  # defaults
        assert published == ([] if name == "embedder" else [f"127.0.0.1:{port}:{port}"])
        assert services[name]["healthcheck"]["test"][-1] == f"127.0.0.1:{port}"
        # The compose port is the service's own default, so local and container setups match.
        defaults = {f.name: f.default for f in dataclasses.fields(settings_cls)}
        assert defaults["port"] == port
    for name, (_, prefix, _) in SERVICES.items():
        for variable, value in services[name]["environment"].items():
            if variable.endswith("_ADDRESS") and not variable.endswith("MILVUS_URI"):
                host, port = value.removeprefix("dns:///").split(":")
                assert host in ports and int(port) == ports[host], f"{name}: {variable}={value} names no service port"


def test_embedder_replicas_are_reached_by_the_service_name():
    services = compose()["services"]
    assert str(services["embedder"]["deploy"]["replicas"]).startswith("${EMBEDDER_REPLICAS")
    for name in ("searcher", "indexer"):
        # Every record of the name, round-robin: a plain host:port would stick to one replica.
        assert services[name]["environment"][f"VIDEOSEARCH_{name.upper()}_EMBEDDER_ADDRESS"] == "dns:///embedder:50051"


def test_the_milvus_profile_runs_searcher_replicas_over_a_healthy_milvus():
    services = compose()["services"]
    profile = {name for name, s in services.items() if s.get("profiles") == ["milvus"]}
    assert profile == {"etcd", "minio", "milvus"}
    assert all("healthcheck" in services[name] for name in profile)
    assert services["milvus"]["depends_on"] == {"etcd": {"condition": "service_healthy"},
                                                "minio": {"condition": "service_healthy"}}
    searcher = services["searcher"]
    assert searcher["environment"]["VIDEOSEARCH_SEARCHER_BACKEND"] == "${SEARCHER_BACKEND:-embedded}"
    assert searcher["environment"]["VIDEOSEARCH_SEARCHER_MILVUS_URI"] == "http://milvus:19530"
    assert searcher["depends_on"]["milvus"] == {"condition": "service_healthy", "required": False}
    assert str(searcher["deploy"]["replicas"]).startswith("${SEARCHER_REPLICAS")
    # The Indexer writes through any of them: every record of the name.
    assert services["indexer"]["environment"]["VIDEOSEARCH_INDEXER_SEARCHER_ADDRESS"] == "dns:///searcher:50053"


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


def dockerfile_stages() -> dict[str, str]:
    """Each stage of the Dockerfile by its name (FROM ... AS name), with its instructions."""
    stages: dict[str, str] = {}
    name = None
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        match = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.I)
        if match:
            name = match.group(1) or f"stage{len(stages)}"
            stages[name] = ""
        elif name is not None and not line.lstrip().startswith("#"):
            stages[name] += line + "\n"
    return stages


def test_the_runtime_image_installs_no_test_or_bench_tools():
    stages = dockerfile_stages()
    assert list(stages)[-1] == "runtime", "the last stage (what `docker build` makes) is the runtime image"
    assert all(s["build"]["target"] == "runtime" for s in compose()["services"].values() if "build" in s)
    runtime = stages["runtime"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    # Only the test and bench extras are tools; `server` and `cuda` are what the image installs.
    tools = {re.split(r"[<>=!~ ]", r)[0].lower() for name in ("test", "bench") for r in extras[name]}
    installs = " ".join(re.findall(r"pip install[^&\n]*", runtime)).lower()
    assert "--constraint requirements.txt" in installs, "runtime dependencies at their requirements.txt pins"
    assert "-r requirements.txt" not in installs and "--requirement" not in installs, "requirements.txt holds test tools"
    assert not re.search(r"\[(test|bench)", installs), installs
    assert not [tool for tool in tools if re.search(rf"(^|\s){re.escape(tool)}([=<> ]|$)", installs)], installs
    assert "COPY tests" not in runtime and "COPY bench" not in runtime


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", ".git", "tests", "bench", "data"} <= ignored
    copied = set(re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", (ROOT / "Dockerfile").read_text(), re.M))
    sources = {part for line in copied for part in line.split()}
    assert not sources & ignored, f"the Dockerfile copies what .dockerignore leaves out: {sources & ignored}"


def test_docker_waits_longer_than_a_service_takes_to_stop():
    from videosearch.common.defaults import GRACE_SECONDS

    for name in SERVICES:  # ours; the milvus profile's services stop as their images do
        period = compose()["services"][name]["stop_grace_period"]
        assert period.endswith("s") and float(period[:-1]) > 2 * GRACE_SECONDS, f"{name}: {period}"


def test_tls_and_tokens_are_on_and_come_from_secrets_not_the_environment():
    doc = compose()
    declared = set(doc["secrets"])
    for name, (settings_cls, prefix, _) in SERVICES.items():
        service = doc["services"][name]
        env = service["environment"]
        mounted = {f"/run/secrets/{secret}" for secret in service["secrets"]}
        assert set(service["secrets"]) <= declared
        for setting in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TOKENS_FILE"):
            assert env[f"{prefix}_{setting}"] in mounted, f"{name}: {setting} must be a mounted secret"
        if name != "embedder":  # the Indexer and the Searcher call the others over TLS with a token
            for setting in ("CLIENT_TLS_CA_FILE", "CLIENT_TOKEN_FILE"):
                assert env[f"{prefix}_{setting}"] in mounted
        assert not any("TOKEN" in k and not k.endswith("_FILE") for k in env), "no token value in the environment"
        check = service["healthcheck"]["test"]
        assert check[check.index("--tls-ca-file") + 1] in mounted and check[check.index("--tls-server-name") + 1] == name


def test_make_secrets_makes_what_the_services_accept(tmp_path):
    """deploy/make-secrets.sh's files, used as compose mounts them: a Searcher serving TLS with
    its token file, reached by the name in the certificate with the CA and each token."""
    import subprocess

    import grpc
    from videosearch.common.security import ClientSecurity
    from videosearch.searcher.server import SearcherServer
    from videosearch.searcher.settings import SearcherSettings
    from videosearch.v1 import searcher_pb2, searcher_pb2_grpc

    secrets = tmp_path / "secrets"
    subprocess.run(["bash", str(ROOT / "deploy" / "make-secrets.sh"), str(secrets)], check=True, capture_output=True)
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    searcher = SearcherServer.serve(SearcherSettings(
        port=0, data_dir=str(tmp_path / "data"), embedder_address="", ann="none",
        tls_cert_file=str(secrets / "server.crt"), tls_key_file=str(secrets / "server.key"),
        tokens_file=str(secrets / "tokens.txt")))
    try:
        codes = {}
        for who in ("read", "write", "service"):
            security = ClientSecurity(tls_ca_file=str(secrets / "ca.crt"), token_file=str(secrets / f"{who}.token"),
                                      tls_server_name="searcher")
            with security.channel(f"127.0.0.1:{searcher.port}") as channel:
                stub = searcher_pb2_grpc.SearcherServiceStub(channel)
                assert stub.GetStats(searcher_pb2.GetStatsRequest(), timeout=10).video_count == 0
                try:
                    stub.DeleteVideo(searcher_pb2.DeleteVideoRequest(video_id="nope"), timeout=10)
                except grpc.RpcError as exc:
                    codes[who] = exc.code()
        assert codes == {"read": grpc.StatusCode.PERMISSION_DENIED, "write": grpc.StatusCode.NOT_FOUND,
                         "service": grpc.StatusCode.NOT_FOUND}
    finally:
        searcher.stop(0)


def test_the_web_page_is_published_on_loopback_and_reaches_the_services_over_tls():
    from videosearch.web.settings import ENV_PREFIX as WEB_PREFIX
    from videosearch.web.settings import WebSettings

    doc = compose()
    web = doc["services"]["web"]
    assert web["command"] == ["videosearch-web"]
    assert "videosearch-web" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    env = web["environment"]
    assert set(env) <= set(env_names(WebSettings, WEB_PREFIX).values())
    port = int(env[f"{WEB_PREFIX}_PORT"])
    assert port == WebSettings().port and env[f"{WEB_PREFIX}_HOST"] == "0.0.0.0"
    assert web["ports"] == [f"127.0.0.1:{port}:{port}"] and web["healthcheck"]["test"][-1] == f"127.0.0.1:{port}"
    services = doc["services"]
    for target in ("indexer", "searcher"):
        host, target_port = env[f"{WEB_PREFIX}_{target.upper()}_ADDRESS"].removeprefix("dns:///").split(":")
        assert host == target and target_port == services[target]["environment"][f"VIDEOSEARCH_{target.upper()}_PORT"]
    assert env[f"{WEB_PREFIX}_CLIENT_TLS_CA_FILE"] == "/run/secrets/ca_cert" and "ca_cert" in web["secrets"]
    indexer_videos = [v for v in services["indexer"]["volumes"] if v.endswith(":/videos:ro")]
    assert indexer_videos and indexer_videos[0] in web["volumes"], "the page plays the files the Indexer indexed"
    assert env[f"{WEB_PREFIX}_ALLOWED_ROOTS"] == services["indexer"]["environment"]["VIDEOSEARCH_INDEXER_ALLOWED_ROOTS"]
