"""Starts the three services locally as separate processes on loopback
(`make up`, `videosearch-up`), waits until each reports SERVING on the standard
health service, and stops them all on Ctrl-C or SIGTERM, or as soon as one of them
dies (saying which, how, and the end of its log; the launcher then exits with 1).

`LocalCluster` is also what the end-to-end tests and `make demo` use."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from videosearch.common import defaults
from videosearch.common.grpc_server import ShutdownSignal
from videosearch.embedder.settings import DEFAULT_MODEL_ID, ENV_PREFIX as EMBEDDER_ENV_PREFIX
from videosearch.indexer.settings import ENV_PREFIX as INDEXER_ENV_PREFIX
from videosearch.searcher.settings import ENV_PREFIX as SEARCHER_ENV_PREFIX
from videosearch.web.settings import DEFAULT_PORT as WEB_PORT, ENV_PREFIX as WEB_ENV_PREFIX


@dataclass
class ClusterConfig:
    model: str = DEFAULT_MODEL_ID
    data_dir: str = "data"
    allowed_roots: tuple[str, ...] = (".",)
    host: str = defaults.HOST
    # 0 picks free ports; the bound ones are read back from port files.
    embedder_port: int = defaults.EMBEDDER_PORT
    indexer_port: int = defaults.INDEXER_PORT
    searcher_port: int = defaults.SEARCHER_PORT
    log_dir: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 300.0
    # The web page (videosearch-web) as a fourth child: None for none, 0 picks a free port.
    web_port: int | None = None


class ServiceProcess:
    def __init__(self, name: str, module: str, args: list[str], port: int, workdir: Path, log_dir: Path, env) -> None:
        self.name = name
        self.port_file = workdir / f"{name}.port"
        self.port_file.unlink(missing_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")
        command = [sys.executable, "-m", module, "--port", str(port), "--port-file", str(self.port_file), *args]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.port = 0

    def wait_for_port(self, deadline: float) -> int:
        while time.monotonic() < deadline:
            if self.port_file.exists() and self.port_file.read_text().strip():
                self.port = int(self.port_file.read_text())
                return self.port
            self._check_alive()
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} did not start listening in time; see {self.log_path}")

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with code {self.process.returncode}:\n{tail}")

    def death_notice(self, log_lines: int = 20) -> str | None:
        """None while the process runs; once it has ended (and been reaped), what ended it
        and the end of its log."""
        code = self.process.poll()
        if code is None:
            return None
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        tail = self.log_path.read_text(errors="replace").splitlines()[-log_lines:]
        return f"{self.name} (pid {self.process.pid}) {how}; the end of {self.log_path}:\n" + "\n".join(
            f"    {line}" for line in tail
        )

    def wait_serving(self, host: str, deadline: float) -> None:
        with grpc.insecure_channel(f"{host}:{self.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not become SERVING in time; see {self.log_path}")

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


class LocalCluster:
    """The Embedder, Searcher and Indexer as three processes."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self._workdir = Path(tempfile.mkdtemp(prefix="videosearch-"))
        self.log_dir = Path(config.log_dir) if config.log_dir else self._workdir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.processes: dict[str, ServiceProcess] = {}

    def address(self, name: str) -> str:
        return f"{self.config.host}:{self.processes[name].port}"

    def start(self) -> "LocalCluster":
        config = self.config
        env = {**os.environ, **config.extra_env}
        deadline = time.monotonic() + config.startup_timeout_s
        host = ["--host", config.host]
        try:
            # In dependency order: each service learns the bound ports of those before it.
            self._spawn(
                "embedder", "videosearch.embedder.server", [*host, "--model", config.model], config.embedder_port, env
            ).wait_for_port(deadline)
            self._spawn(
                "searcher",
                "videosearch.searcher.server",
                [
                    *host,
                    "--data-dir",
                    str(Path(config.data_dir) / "searcher"),
                    "--embedder-address",
                    self.address("embedder"),
                ],
                config.searcher_port,
                env,
            ).wait_for_port(deadline)
            self._spawn(
                "indexer",
                "videosearch.indexer.server",
                [
                    *host,
                    "--embedder-address",
                    self.address("embedder"),
                    "--searcher-address",
                    self.address("searcher"),
                    "--allowed-roots",
                    ",".join(str(Path(r).resolve()) for r in config.allowed_roots),
                    "--state-dir",
                    str(Path(config.data_dir) / "indexer"),  # its job table survives restarts
                ],
                config.indexer_port,
                env,
            ).wait_for_port(deadline)
            for process in self.processes.values():
                process.wait_serving(config.host, deadline)
            if config.web_port is not None:
                self._start_web(env, deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name, module, args, port, env) -> ServiceProcess:
        process = ServiceProcess(name, module, args, port, self._workdir, self.log_dir, env)
        self.processes[name] = process
        return process

    # -- the web page: one more child, an HTTP server, after the services it calls ---------------
    def _start_web(self, env, deadline: float) -> None:
        config = self.config
        web = self._spawn(
            "web",
            "videosearch.web.server",
            [
                "--host",
                config.host,
                "--indexer-address",
                self.address("indexer"),
                "--searcher-address",
                self.address("searcher"),
                "--allowed-roots",
                ",".join(str(Path(r).resolve()) for r in config.allowed_roots),
            ],
            config.web_port,
            env,
        )
        web.wait_for_port(deadline)
        while time.monotonic() < deadline:
            web._check_alive()
            try:
                with urllib.request.urlopen(f"{self.web_url}healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"the web page did not answer in time; see {web.log_path}")

    @property
    def web_url(self) -> str:
        return f"http://{self.address('web')}/"

    def watch(self, shutdown: ShutdownSignal, poll_s: float = 0.2) -> str | None:
        """Waits until a shutdown signal (returns None) or until a service dies (returns its
        :meth:`ServiceProcess.death_notice`). Either way the caller stops the cluster next."""
        while not shutdown.received(poll_s):
            for process in self.processes.values():
                notice = process.death_notice()
                if notice is not None:
                    return notice
        return None

    def stop(self) -> dict[str, int | None]:
        """Stops every service (SIGTERM, then SIGKILL after 15 s) and waits on each: no zombies.
        Then removes the temporary folder of port files (kept when the logs are in it)."""
        codes = {}
        if "web" in self.processes:  # first: it calls the others
            codes["web"] = self.processes["web"].stop()
        for name in ("indexer", "searcher", "embedder"):
            if name in self.processes:
                codes[name] = self.processes[name].stop()
        for process in self.processes.values():
            process.port_file.unlink(missing_ok=True)
        if self.log_dir != self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
        return codes

    def cli_exports(self) -> list[str]:
        """The `export` lines the CLI (and the Node client) need to reach these services, one
        per address that is not the CLI's default; none when all are."""
        lines = []
        for name, default in (("indexer", defaults.INDEXER_ADDRESS), ("searcher", defaults.SEARCHER_ADDRESS)):
            if name in self.processes and self.address(name) != default:
                lines.append(f"export VIDEOSEARCH_{name.upper()}_ADDRESS={self.address(name)}")
        return lines

    def __enter__(self) -> "LocalCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# The launcher's flags read these environment variables: each service's own variable for
# its port (what `videosearch-embedder` etc. read too), so one setting moves a port either way.
PORT_ENV = {
    "embedder": f"{EMBEDDER_ENV_PREFIX}_PORT",
    "indexer": f"{INDEXER_ENV_PREFIX}_PORT",
    "searcher": f"{SEARCHER_ENV_PREFIX}_PORT",
    "web": f"{WEB_ENV_PREFIX}_PORT",
}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"videosearch-up: {name}={value!r} is not a port number") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videosearch-up",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Start the Embedder, Searcher and Indexer (and the web page) locally; Ctrl-C stops them all. "
        "For ports other than the defaults it prints the `export` lines the CLI needs.",
    )
    config_defaults = ClusterConfig()
    parser.add_argument(
        "--model",
        default=os.environ.get(f"{EMBEDDER_ENV_PREFIX}_MODEL", config_defaults.model),
        help=f"Hugging Face model id or local directory of a CLIP model [env {EMBEDDER_ENV_PREFIX}_MODEL]",
    )
    parser.add_argument(
        "--data-dir",
        default=config_defaults.data_dir,
        help="where the Searcher keeps its LevelDB and the Indexer its job table",
    )
    parser.add_argument(
        "--allowed-roots",
        default=",".join(config_defaults.allowed_roots),
        help="comma-separated folders the Indexer may read",
    )
    parser.add_argument("--host", default=config_defaults.host, help="address every service listens on")
    for name, default in (
        ("embedder", config_defaults.embedder_port),
        ("indexer", config_defaults.indexer_port),
        ("searcher", config_defaults.searcher_port),
    ):
        parser.add_argument(
            f"--{name}-port",
            type=int,
            default=_env_int(PORT_ENV[name], default),
            help=f"port of the {name.capitalize()}; 0 picks a free one [env {PORT_ENV[name]}]",
        )
    parser.add_argument("--log-dir", default="data/logs", help="where each service writes its log")
    parser.add_argument(
        "--web-port",
        type=int,
        default=_env_int(PORT_ENV["web"], WEB_PORT),
        help=f"port of the web page; 0 picks a free one, -1 starts none [env {PORT_ENV['web']}]",
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    config = ClusterConfig(
        model=args.model,
        data_dir=args.data_dir,
        allowed_roots=tuple(args.allowed_roots.split(",")),
        host=args.host,
        embedder_port=args.embedder_port,
        indexer_port=args.indexer_port,
        searcher_port=args.searcher_port,
        log_dir=args.log_dir,
        web_port=None if args.web_port < 0 else args.web_port,
    )
    cluster = LocalCluster(config)
    print(f"starting embedder (model {config.model}), searcher and indexer; logs in {cluster.log_dir}", flush=True)
    try:
        cluster.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"videosearch-up: {exc}", file=sys.stderr)
        return 1
    # Handled from here on, before "ready" is printed: a SIGTERM sent on reading it stops the
    # services too, instead of ending the launcher alone and leaving them running.
    shutdown = ShutdownSignal("launcher", end_while_starting=False)
    for name in ("embedder", "searcher", "indexer"):
        print(f"  {name:9s} {cluster.address(name)}  SERVING  (pid {cluster.processes[name].process.pid})", flush=True)
    if "web" in cluster.processes:
        print(f"  web page  {cluster.web_url}  (pid {cluster.processes['web'].process.pid})", flush=True)
    exports = cluster.cli_exports()
    if exports:
        print(
            "for the CLI, in your other shell (the ports are not its defaults):\n"
            + "\n".join(f"  {line}" for line in exports),
            flush=True,
        )
    print("ready; Ctrl-C stops them all", flush=True)
    try:
        died = cluster.watch(shutdown)
    finally:
        cluster.stop()
    if died is not None:
        print(f"videosearch-up: {died}\nvideosearch-up: stopped the other services", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
