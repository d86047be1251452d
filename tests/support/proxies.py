"""A real nginx and a real PgBouncer (Debian's packages) for the tests, each running the
repository's own configuration (deploy/nginx, deploy/pgbouncer) with only its ports, paths,
certificate and authentication replaced for the test: started as the current user on free
loopback ports, in a directory of the test's, stopped when the test is done.

Where a binary is missing the test is skipped, except in CI (`CI` set), where it fails:
./dev test installs both (TEST_PACKAGES)."""

from __future__ import annotations

import configparser
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hallserver.embedded import free_port
from hallserver.models import HallRow
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "hallserver.conf"
PGBOUNCER_INI = DEPLOY / "pgbouncer" / "pgbouncer.ini"
SERVER_ENV = DEPLOY / "systemd" / "hallserver.env"
# Where Debian puts the daemons: not on an ordinary user's PATH.
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_STARTUP = 20.0  # seconds a daemon gets to listen on its port


def require(binary: str) -> str:
    """The path of `binary`; the test is skipped where it is not installed (failed in CI)."""
    path = shutil.which(binary, path=os.pathsep.join([os.environ.get("PATH", ""), *_SBIN]))
    if path is None:
        why = f"{binary} is not installed (Debian: apt-get install {binary}; ./dev test does)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return path


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + _STARTUP
    while True:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what} did not listen on port {port}:\n{_tail(log)}") from None
            time.sleep(0.05)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _replace(text: str, old: str, new: str) -> str:
    """`text` with the one line `old` (stripped) replaced by `new`: a deploy file that no longer
    has that line fails the test loudly rather than being run half-rendered."""
    pattern = re.compile(rf"^[ \t]*{re.escape(old)}[ \t]*$", re.MULTILINE)
    found = len(pattern.findall(text))
    assert found >= 1, f"{NGINX_CONF.name} has no line `{old}` (the test renders it)"
    return pattern.sub(lambda m: m.group(0).replace(old, new), text)


def shipped_env(*, commented: bool = False) -> dict[str, str]:
    """The settings of deploy/systemd/hallserver.env (NAME=value lines); with `commented`,
    also those shown commented out (`# NAME=value`)."""
    line = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
    found = {}
    for text in SERVER_ENV.read_text(encoding="utf-8").splitlines():
        match = line.match(text.strip())
        if match and (commented or not match.group(1)):
            found[match.group(2)] = match.group(3).strip()
    return found


# --- nginx ---


@dataclass
class Nginx:
    """deploy/nginx/hallserver.conf serving on https_port (and http_port for the redirect)."""

    directory: Path
    https_port: int
    http_port: int
    ca: trustme.CA
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    def ssl_context(self) -> ssl.SSLContext:
        """What a terminal set up with the hall's CA file trusts."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def transport(self, source: str = "127.0.0.1") -> httpx.HTTPTransport:
        """Connections to nginx from the loopback address `source` (any of 127.0.0.0/8): what
        nginx sees as the client's address, as if from another hall's network."""
        return httpx.HTTPTransport(verify=self.ssl_context(), local_address=source)

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        """A client of nginx's HTTPS address, connecting from `source`."""
        return httpx.Client(base_url=self.url, transport=self.transport(source), timeout=15)


def render_nginx_site(directory: Path, https_port: int, http_port: int,
                      upstreams: list[str], changed: dict[str, str] | None = None) -> str:
    """deploy/nginx/hallserver.conf for this test: its ports, certificate, logs and upstream
    instances, and the lines `changed` names (line: its replacement); everything else as
    shipped."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    for old, new in (changed or {}).items():
        text = _replace(text, old, new)
    text = _replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    for ipv6 in ("listen [::]:443 ssl;", "listen [::]:80;"):
        text = _replace(text, ipv6, "")
    text = _replace(text, "ssl_certificate /etc/nginx/tls/hallserver.fullchain.pem;",
                    f"ssl_certificate {directory / 'fullchain.pem'};")
    text = _replace(text, "ssl_certificate_key /etc/nginx/tls/hallserver.key.pem;",
                    f"ssl_certificate_key {directory / 'key.pem'};")
    text = _replace(text, "access_log /var/log/nginx/hallserver.access.log hallserver;",
                    f"access_log {directory / 'access.log'} hallserver;")
    text = _replace(text, "error_log /var/log/nginx/hallserver.error.log warn;",
                    f"error_log {directory / 'error.log'} info;")
    # The shipped instances, the test's in their place.
    text = _replace(text, "server 127.0.0.1:8600;",
                    " ".join(f"server {upstream};" for upstream in upstreams))
    text = _replace(text, "server 127.0.0.1:8601;", "")
    return text


def _nginx_main_conf(directory: Path) -> str:
    # Run by root (a container, CI as root), the workers would drop to `nobody` and could not
    # reach the test's directory: they stay root then. Otherwise nginx ignores `user` anyway.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes 2;
pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'} info;
events {{ worker_connections 256; }}
http {{
    access_log {directory / 'access.log'};
    include {directory / 'hallserver.conf'};
}}
"""


@contextmanager
def running_nginx(directory: Path, upstreams: list[str],
                  changed: dict[str, str] | None = None) -> Iterator[Nginx]:
    """nginx in front of the `hallserver serve` instances at `upstreams` (host:port), with a
    certificate for 127.0.0.1 signed by a CA of the test's own; `changed`: lines of the
    shipped site replaced (render_nginx_site)."""
    nginx = require("nginx")
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost", "hallserver.example.org")
    leaf.private_key_pem.write_to_path(str(directory / "key.pem"))
    (directory / "fullchain.pem").write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    https_port, http_port = free_port(), free_port()
    (directory / "hallserver.conf").write_text(
        render_nginx_site(directory, https_port, http_port, upstreams, changed),
        encoding="utf-8")
    (directory / "nginx.conf").write_text(_nginx_main_conf(directory), encoding="utf-8")
    # -p: the temporary files (request bodies above 1 MiB, large answers) go under it too;
    # -e: the log for what goes wrong before the configuration is read.
    command = [nginx, "-p", f"{directory}/", "-c", str(directory / "nginx.conf"),
               "-e", str(directory / "error.log"), "-g", "daemon off;"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_listening(https_port, process, directory / "error.log", "nginx")
        yield Nginx(directory, https_port, http_port, ca, process)
    finally:
        _stop(process, signal.SIGQUIT)  # graceful: open requests are finished


# --- PgBouncer ---


@dataclass
class PgBouncer:
    """deploy/pgbouncer/pgbouncer.ini pooling the test's PostgreSQL database."""

    directory: Path
    port: int
    url: str  # the SQLAlchemy URL of the database through PgBouncer
    config: configparser.ConfigParser
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.directory / "pgbouncer.log"


def _pgbouncer_config() -> configparser.ConfigParser:
    config = configparser.ConfigParser(delimiters=("=",), comment_prefixes=(";", "#"),
                                       interpolation=None)
    config.read(PGBOUNCER_INI, encoding="utf-8")
    return config


def shipped_pgbouncer_settings() -> dict[str, str]:
    """The [pgbouncer] section of deploy/pgbouncer/pgbouncer.ini as shipped."""
    return dict(_pgbouncer_config()["pgbouncer"])


def _unprivileged_user() -> str:
    """PgBouncer refuses to run as root: started by root, it drops to this user."""
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise AssertionError("no unprivileged user (postgres, nobody) for PgBouncer to run as")


@contextmanager
def running_pgbouncer(directory: Path, postgres_url: str) -> Iterator[PgBouncer]:
    """PgBouncer in front of the PostgreSQL database of `postgres_url`, with the shipped pool
    settings (transaction pooling, pool sizes, timeouts) and SCRAM authentication of its
    clients, on a free port; logs to pgbouncer.log in `directory`."""
    pgbouncer = require("pgbouncer")
    directory.mkdir(parents=True, exist_ok=True)
    target = make_url(postgres_url)
    user = target.username or "postgres"
    # The clients' password, which PgBouncer also gives PostgreSQL if it asks for one: the
    # test database's own where its URL has one.
    password = target.password or "hall-test-password"
    database = target.database or "postgres"
    port = free_port()
    config = _pgbouncer_config()
    config.remove_section("databases")
    config.add_section("databases")
    config["databases"][database] = (f"host={target.host or '127.0.0.1'} "
                                     f"port={target.port or 5432} dbname={database}")
    userlist = directory / "userlist.txt"
    userlist.write_text(f'"{user}" "{password}"\n', encoding="utf-8")
    userlist.chmod(0o600)
    config["pgbouncer"].update({
        "listen_addr": "127.0.0.1", "listen_port": str(port), "unix_socket_dir": "",
        "auth_file": str(userlist),
        # To the standard error, which goes to the log file below (PgBouncer opens its own
        # log file only after dropping root, when it can no longer reach the test's folder).
        "logfile": "", "pidfile": "", "log_connections": "1", "log_disconnections": "1",
        # Each transaction on the next idle server connection in turn, as on a busy pool: what
        # a client wrongly carries from one transaction to the next (a prepared statement)
        # fails at once, not now and then.
        "server_round_robin": "1",
    })
    ini = directory / "pgbouncer.ini"
    with ini.open("w", encoding="utf-8") as out:
        config.write(out)
    command = [pgbouncer, *(["-u", _unprivileged_user()] if os.geteuid() == 0 else []),
               str(ini)]
    log = directory / "pgbouncer.log"
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_listening(port, process, log, "PgBouncer")
        url = target.set(host="127.0.0.1", port=port, password=password)
        yield PgBouncer(directory, port, url.render_as_string(hide_password=False), config,
                        process)
    finally:
        _stop(process, signal.SIGTERM)  # its clients, the servers, are stopped by then


# --- the whole deployment ---


@dataclass
class Deployment:
    engine: Engine  # PostgreSQL itself, for what an operator would look at
    halls: list[str]
    nginx: Nginx
    pgbouncer: PgBouncer
    # Each `hallserver serve` instance itself, on loopback: only nginx talks to them.
    server_urls: list[str]
    server_logs: list[Path]

    @property
    def server_url(self) -> str:
        return self.server_urls[0]

    def server_lines(self, instance: int | None = None) -> list[dict[str, object]]:
        """The log records so far (JSON, one a line) of one instance, or of all: the lines
        written whole (a worker may be writing the last one)."""
        logs = self.server_logs if instance is None else [self.server_logs[instance]]
        lines = []
        for log in logs:
            text = log.read_text(encoding="utf-8", errors="replace")
            whole = text[:text.rfind("\n") + 1]
            lines += [json.loads(line) for line in whole.splitlines() if line.startswith("{")]
        return lines


def _serve(pgbouncer: PgBouncer, port: int, directory: Path, workers: int,
           settings: dict[str, str]) -> subprocess.Popen[bytes]:
    """`hallserver serve` with the settings of deploy/systemd/hallserver.env (the database:
    PgBouncer's) and the test's `settings`, as hallserver.service runs it."""
    env = server_env(pgbouncer)
    env.update({**settings,
                # The unit's RuntimeDirectory, made by systemd before the start: one per
                # instance (`serve` empties it at start).
                "PROMETHEUS_MULTIPROC_DIR": str(directory / "run")})
    (directory / "run").mkdir(mode=0o700, parents=True)
    with (directory / "server.log").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "hallserver", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)


def server_env(pgbouncer: PgBouncer) -> dict[str, str]:
    """This process's environment with the settings of deploy/systemd/hallserver.env in place
    of any HALLSERVER_* of its own; the database: PgBouncer's."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("HALLSERVER_")}
    return {**env, **shipped_env(), "HALLSERVER_DB": pgbouncer.url}


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "hallserver serve did not come up:\n" + (
            log.read_text(errors="replace"))
        time.sleep(0.1)


@contextmanager
def running_deployment(engine: Engine, root: Path, workers: int = 1,
                       settings: dict[str, str] | None = None,
                       instances: int = 2) -> Iterator[Deployment]:
    """The server as deploy/ ships it, on the database behind `engine`: PgBouncer in front of
    PostgreSQL, `instances` `hallserver serve` processes (`workers` workers each, `settings`
    besides the shipped ones) through it, nginx in front of them; the halls as the database
    has them at the start."""
    with Session(engine) as session:
        halls = list(session.scalars(select(HallRow.id).order_by(HallRow.id)))
    with running_pgbouncer(root / "pgbouncer", engine.url.render_as_string(
            hide_password=False)) as pgbouncer:
        ports = [free_port() for _ in range(instances)]
        directories = [root / f"server-{n + 1}" for n in range(instances)]
        servers: list[subprocess.Popen[bytes]] = []
        try:
            for port, directory in zip(ports, directories, strict=True):
                servers.append(_serve(pgbouncer, port, directory, workers, settings or {}))
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            logs = [directory / "server.log" for directory in directories]
            for url, server, log in zip(urls, servers, logs, strict=True):
                _wait_healthy(url, server, log)
            with running_nginx(root / "nginx", [f"127.0.0.1:{port}" for port in ports]
                               ) as nginx:
                yield Deployment(engine, halls, nginx, pgbouncer, urls, logs)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
