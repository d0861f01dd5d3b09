"""The README's "Running several instances", run as written: its nginx configuration, with TLS,
in front of three instances on one PostgreSQL schema and one Redis. Only names, ports and file
paths are changed. Without nginx or openssl the test is skipped, except under CI=true."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.databases import live_from_start, shared_redis_url
from tests.servers import free_port, serving

pytestmark = pytest.mark.postgres_only(reason="several instances share a database server")

README = Path(__file__).parent.parent / "README.md"
REDIS_URL = shared_redis_url(14)
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def readme_nginx() -> str:
    (block,) = re.findall(r"```nginx\n(.*?)```", README.read_text(), re.DOTALL)
    return block


def required(tool: str) -> str:
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if found is None:
        message = f"{tool} is not installed (apt-get install {tool})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; under CI=true the deployment test must run")
        pytest.skip(message)
    return found


@contextlib.contextmanager
def nginx(ports: list[int], http: int, https: int, folder: Path) -> Iterator[None]:
    """The README's configuration in front of these instances, on these two ports."""
    binary, openssl = required("nginx"), required("openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    config = readme_nginx()
    for changed, into in [
        *((f"127.0.0.1:{8001 + n}", f"127.0.0.1:{port}") for n, port in enumerate(ports)),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
        ("petitions.example.org;", "localhost;"),
        ("/etc/letsencrypt/live/petitions.example.org/fullchain.pem", str(folder / "cert.pem")),
        ("/etc/letsencrypt/live/petitions.example.org/privkey.pem", str(folder / "key.pem")),
        ("/var/log/nginx/petition-widget.error.log", str(folder / "nginx-error.log")),
    ]:
        assert changed in config, changed
        config = config.replace(changed, into)
    # Run as root (a CI container), workers may stay root so they can use the test's folder.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"daemon off; {user} worker_processes 1; pid {folder / 'nginx.pid'};\n"
        "events { worker_connections 256; }\n"
        f"http {{\n{config}\n}}\n"
    )
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"),
         "-e", str(folder / "nginx-startup.log")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{http}/")
                break
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.fixture
def shared_redis() -> Iterator[None]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield
    connection.flushdb()
    connection.close()


def client_from(address: str, base: str) -> httpx.Client:
    """A reader at this loopback address, through the proxy (self-signed certificate)."""
    transport = httpx.HTTPTransport(local_address=address, verify=False)
    return httpx.Client(transport=transport, base_url=base, timeout=10)


def sign(client: httpx.Client, base: str, n: int) -> httpx.Response:
    token = TOKEN_RE.search(client.get("/c/belarus/embed").text).group(1)
    form = {"token": token, "first_name": "Olga", "last_name": f"Proxied{n}",
            "email": f"proxied{n}@example.org", "country": "BY", "view": "embed"}  # fmt: skip
    # A forged X-Forwarded-For changes nothing: nginx replaces it with the address it saw.
    headers = {"Accept": "application/json", "Origin": base, "X-Forwarded-For": f"10.9.9.{n}"}
    return client.post("/c/belarus/sign", data=form, headers=headers)


def test_the_readme_nginx_configuration_in_front_of_three_instances(
    database, tmp_path, shared_redis
):
    http, https = free_port(), free_port()
    base = f"https://localhost:{https}"  # the public origin: the proxy's
    settings = {
        "public_url": base,
        "forwarded_allow_ips": "127.0.0.1",
        "rate_limit_storage": REDIS_URL,
        "rate_limits": "client=3/10 minutes",
        "counter_cache_seconds": "0.5",
    }
    live_from_start(database.url)  # the count is checked after four signatures
    with (
        serving(database.url, tmp_path, 3, **settings) as ports,
        nginx(ports, http, https, tmp_path),
    ):
        redirect = httpx.get(f"http://127.0.0.1:{http}/c/belarus")
        assert redirect.status_code == 301
        assert redirect.headers["location"] == "https://127.0.0.1/c/belarus"
        with (
            client_from("127.0.0.2", base) as reader,
            client_from("127.0.0.3", base) as neighbour,
        ):
            assert reader.get("/healthz").text == "ok"
            assert reader.get("/readyz").text == "ready"
            # Round robin: each of the reader's attempts lands on another instance, and the
            # limit, counted in Redis by the address nginx saw, holds across them.
            answers = [sign(reader, base, n).status_code for n in range(4)]
            assert answers == [200, 200, 200, 429]
            # Another address behind the same proxy is another client.
            assert sign(neighbour, base, 10).status_code == 200
            time.sleep(0.6)  # every instance's counter cache has expired
            counts = {reader.get("/api/campaigns/belarus").json()["count"] for _ in range(3)}
            assert counts == {785 + 4}
            # The scheme came through: the admin's cookie is marked Secure.
            login = reader.get("/admin/login")
            assert "secure" in login.headers["set-cookie"].lower()
