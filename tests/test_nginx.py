"""The generated nginx reverse-proxy config (J6, H2): checked statically, by `nginx -t`, and live.

The project is rendered with `nginx=true`; the config is copied to a temporary directory with only
its machine-specific parts rewritten (certificate directory, pid and temporary paths, listen ports,
the upstream address), then nginx runs it in front of a small Python upstream that echoes what it
received, and real HTTPS requests check TLS versions and ciphers, HSTS, the body limit, the
forwarding headers, the HTTP redirect, the rate limit and nginx's own error bodies.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import REPO_ROOT
from hardstart.cli import app

SERVICE = "orders-api"
TLS_DIR = "/etc/nginx/tls/"
HSTS_MIN_AGE = 365 * 24 * 3600
REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")  # src/http/request-context.ts
# Headers helmet sets in the app (src/http/security-headers.ts): nginx must not send them again.
APP_HEADERS = {
    "content-security-policy",
    "cache-control",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-resource-policy",
}


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )
    if found is None:
        pytest.fail(
            "nginx is not installed (not on PATH, not /usr/sbin/nginx): the generated nginx config "
            "cannot be checked. Install it, e.g. `apt-get install nginx`.",
            pytrace=False,
        )
    return found


def openssl_binary() -> str:
    found = shutil.which("openssl")
    if found is None:
        pytest.fail("openssl is not installed: no test certificate can be made.", pytrace=False)
    return found


# --- the rendered config --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project rendered with nginx=true, shared by the module (HOME and git config isolated)."""
    home = tmp_path_factory.mktemp("nginx-home")
    (home / ".gitconfig").write_text("", encoding="utf-8")
    dest = tmp_path_factory.mktemp("nginx-project") / "out"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }.items():
            mp.setenv(name, value)
        mp.delenv("COPIER_SETTINGS_PATH", raising=False)
        args = ["-d", f"project_name={SERVICE}", "-d", "nginx=true"]
        result = CliRunner().invoke(
            app, ["new", "--template", str(template_repo), "--defaults", "-q", *args, str(dest)]
        )
    assert result.exit_code == 0, result.output
    return dest


@pytest.fixture(scope="module")
def conf_text(project: Path) -> str:
    return (project / "nginx" / "nginx.conf").read_text(encoding="utf-8")


TOKEN = re.compile(
    r"""\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)"""
)


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    @property
    def value(self) -> str:
        return " ".join(self.args)


def parse(text: str) -> list[Directive]:
    """nginx syntax: a directive ends in `;` or opens a `{ }` block; quotes and comments handled."""
    root: list[Directive] = []
    stack, words = [root], []
    for match in TOKEN.finditer(text):
        double, single, punct, bare = match.groups()
        if double is not None or single is not None or bare is not None:
            words.append(double if double is not None else single if single is not None else bare)
        elif punct == ";":
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif punct == "{":
            children: list[Directive] = []
            stack[-1].append(Directive(words[0], words[1:], children))
            stack.append(children)
            words = []
        elif punct == "}":
            assert not words, words
            stack.pop()
    assert len(stack) == 1, "unbalanced nginx.conf"
    assert not words, words
    return root


def find(nodes: list[Directive], name: str) -> list[Directive]:
    """Every directive called `name`, at any depth."""
    found = []
    for node in nodes:
        if node.name == name:
            found.append(node)
        if node.block is not None:
            found += find(node.block, name)
    return found


def walk(nodes: list[Directive]) -> Iterator[Directive]:
    for node in nodes:
        yield node
        if node.block is not None:
            yield from walk(node.block)


def values(nodes: list[Directive], name: str) -> list[str]:
    return [node.value for node in find(nodes, name)]


def servers(conf: list[Directive]) -> tuple[list[Directive], list[Directive]]:
    """(plain HTTP server block, HTTPS server block)."""
    blocks = [node.block or [] for node in find(conf, "server") if node.block is not None]
    tls = [b for b in blocks if any("ssl" in listen.args for listen in find(b, "listen"))]
    plain = [b for b in blocks if b not in tls]
    assert len(tls) == 1, blocks
    assert len(plain) == 1, blocks
    return plain[0], tls[0]


def location(server: list[Directive], *args: str) -> list[Directive]:
    (node,) = [n for n in server if n.name == "location" and n.args == list(args)]
    return node.block or []


def size_bytes(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kKmM]?)", value)
    assert match, value
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2).lower()]


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(s|m)?", value)
    assert match, value
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


# --- static checks --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conf(conf_text: str) -> list[Directive]:
    return parse(conf_text)


def test_trust_proxy_requirement_is_stated_at_the_top(conf_text: str) -> None:
    head = "\n".join(conf_text.splitlines()[:12])
    assert "TRUST_PROXY=1" in head


def test_only_service_name_varies_and_no_jinja_is_left(
    conf_text: str, conf: list[Directive]
) -> None:
    assert not re.search(r"\{\{|\{%|%\}|\{#", conf_text)
    assert values(conf, "proxy_pass") == [f"http://{SERVICE}"]
    assert [n.value for n in find(conf, "upstream")] == [SERVICE]
    source = REPO_ROOT / "template" / "{% if nginx %}nginx{% endif %}" / "nginx.conf.jinja"
    text = source.read_text(encoding="utf-8")
    assert set(re.findall(r"\{\{\s*(\w+)", text)) == {"service_name"}
    assert "{%" not in text


def test_tls_protocols_and_ciphers(conf: list[Directive]) -> None:
    assert [n.args for n in find(conf, "ssl_protocols")] == [["TLSv1.2", "TLSv1.3"]]
    (ciphers,) = values(conf, "ssl_ciphers")
    for suite in ciphers.split(":"):
        # Forward secrecy and AEAD only: ECDHE key exchange, GCM or ChaCha20-Poly1305.
        assert suite.startswith("ECDHE-"), suite
        assert "GCM" in suite or "CHACHA20-POLY1305" in suite, suite
    assert values(conf, "ssl_prefer_server_ciphers") == ["off"]
    assert values(conf, "ssl_session_tickets") == ["off"]
    assert values(conf, "server_tokens") == ["off"]
    assert values(conf, "ssl_certificate") == [f"{TLS_DIR}fullchain.pem"]
    assert values(conf, "ssl_certificate_key") == [f"{TLS_DIR}privkey.pem"]


def test_hsts_from_nginx_only_and_no_duplicate_app_headers(conf: list[Directive]) -> None:
    _, tls = servers(conf)
    assert values(tls, "proxy_hide_header") == ["Strict-Transport-Security"]
    headers = find(tls, "add_header")
    hsts = [h for h in headers if h.args[0].lower() == "strict-transport-security"]
    assert hsts, headers
    for header in hsts:
        assert header.args[2:] == ["always"], header
        age = re.fullmatch(r"max-age=(\d+); includeSubDomains", header.args[1])
        assert age, header
        assert int(age.group(1)) >= HSTS_MIN_AGE, header
    # Outside nginx's own error responses (which never reach the app), only HSTS is added:
    # everything else comes from helmet and would otherwise be sent twice.
    server_level = {n.args[0].lower() for n in tls if n.name == "add_header"}
    assert server_level == {"strict-transport-security"}
    assert not values(location(tls, "/"), "add_header")


def test_port_80_only_redirects(conf: list[Directive]) -> None:
    plain, _ = servers(conf)
    assert values(plain, "listen") == ["80"]
    assert values(plain, "return") == ["301 https://$host$request_uri"]
    assert not find(plain, "proxy_pass")


def test_body_limit_matches_the_app_default(conf: list[Directive]) -> None:
    config_ts = (REPO_ROOT / "template" / "src" / "config.ts").read_text(encoding="utf-8")
    match = re.search(r"BODY_LIMIT:\s*byteSize\.default\(([\d\s*_]+)\)", config_ts)
    assert match, "BODY_LIMIT default not found in template/src/config.ts"
    app_default = 1
    for factor in match.group(1).split("*"):
        app_default *= int(factor.replace("_", ""))
    (limit,) = values(conf, "client_max_body_size")
    assert size_bytes(limit) == app_default
    # Bodies up to the limit are held in memory, never in temporary files.
    (buffer,) = values(conf, "client_body_buffer_size")
    assert size_bytes(buffer) >= app_default


def test_timeouts_and_header_buffers_are_bounded(conf: list[Directive]) -> None:
    for name, most in {
        "client_header_timeout": 30,
        "client_body_timeout": 30,
        "send_timeout": 60,
        "keepalive_timeout": 75,
        "proxy_connect_timeout": 10,
        "proxy_send_timeout": 60,
        "proxy_read_timeout": 60,
    }.items():
        found = find(conf, name)
        assert found, f"{name} missing"
        assert all(seconds(n.args[0]) <= most for n in found), (name, found)
    (buffers,) = find(conf, "large_client_header_buffers")
    number, size = buffers.args
    assert int(number) * size_bytes(size) <= 64 * 1024
    assert find(conf, "keepalive_requests")
    # Upstream keep-alive closes before the app's own 5 s (KEEP_ALIVE_TIMEOUT_SECONDS).
    (upstream,) = find(conf, "upstream")
    (idle,) = values(upstream.block or [], "keepalive_timeout")
    assert seconds(idle) < 5


def test_rate_and_connection_limits_answer_429(conf: list[Directive]) -> None:
    assert values(conf, "limit_req_status") == ["429"]
    assert values(conf, "limit_conn_status") == ["429"]
    zones = find(conf, "limit_req_zone") + find(conf, "limit_conn_zone")
    assert zones
    assert all(z.args[0] == "$binary_remote_addr" for z in zones), zones
    _, tls = servers(conf)
    assert find(tls, "limit_req")
    assert find(tls, "limit_conn")


def test_exactly_one_trusted_hop(conf: list[Directive]) -> None:
    every_arg = " ".join(arg for n in find(conf, "proxy_set_header") for arg in n.args)
    assert "$proxy_add_x_forwarded_for" not in every_arg
    assert "$http_x_forwarded_for" not in every_arg
    assert not find(conf, "real_ip_header")
    assert not find(conf, "set_real_ip_from")
    _, tls = servers(conf)
    proxied = location(tls, "/")
    set_headers = {n.args[0].lower(): n.args[1] for n in find(proxied, "proxy_set_header")}
    assert len(set_headers) == len(find(proxied, "proxy_set_header"))
    assert set_headers["x-forwarded-for"] == "$remote_addr"
    assert set_headers["x-forwarded-proto"] == "$scheme"
    assert set_headers["host"] == "$host"
    for dropped in ("x-forwarded-host", "forwarded", "x-real-ip"):
        assert set_headers[dropped] == "", dropped
    # Forwarding headers are set in this one place only (a nested level would replace them all).
    assert not [n for n in tls if n.name == "proxy_set_header"]


def test_writes_only_under_tmp_and_logs_to_std_streams(conf: list[Directive]) -> None:
    assert values(conf, "pid") == ["/tmp/nginx.pid"]
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (path,) = values(conf, f"{name}_temp_path")
        assert path.startswith("/tmp/"), (name, path)
    assert [n.args[0] for n in find(conf, "error_log")] == ["stderr"]
    assert [n.args[0] for n in find(conf, "access_log")] == ["/dev/stdout"]
    assert not find(conf, "include")  # one self-contained file
    # Nothing else touches the disk: every absolute path is a temp path, the TLS directory or a
    # standard stream.
    paths = [
        arg
        for node in walk(conf)
        for arg in node.args
        if arg.startswith("/") and node.name not in {"location", "return", "rewrite"}
    ]
    assert paths
    for path in paths:
        assert path.startswith(("/tmp/", TLS_DIR, "/dev/std")), path


# --- nginx -t and a live instance -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rewrite(text: str, replacements: list[tuple[str, str]]) -> str:
    """Replace each target, which must be present: a rewrite that silently matches nothing would
    test something else than the shipped config."""
    for old, new in replacements:
        assert old in text, f"{old!r} not found in the rendered nginx.conf"
        text = text.replace(old, new)
    return text


def make_certificate(directory: Path) -> None:
    directory.mkdir()
    subprocess.run(
        [
            openssl_binary(),
            "req",
            "-x509",
            # RSA, so that the legacy suites a client may offer (RSA key exchange, ECDHE-RSA with
            # CBC) would be usable by the certificate if the config allowed them.
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(directory / "privkey.pem"),
            "-out",
            str(directory / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )


def local_config(text: str, work: Path, ports: dict[str, int] | None = None) -> Path:
    """The rendered config with the TLS directory, pid and temp paths (and, for a live run, the
    listen ports and the upstream) pointed at this test's own directory."""
    replacements = [(" /tmp/", f" {work}/"), (TLS_DIR, f"{work}/tls/")]
    if ports is not None:
        replacements += [
            ("listen 80;", f"listen 127.0.0.1:{ports['http']};"),
            ("listen 443 ssl;", f"listen 127.0.0.1:{ports['https']} ssl;"),
            ("server 127.0.0.1:3000;", f"server 127.0.0.1:{ports['upstream']};"),
        ]
    path = work / "nginx.conf"
    path.write_text(rewrite(text, replacements), encoding="utf-8")
    return path


def test_nginx_t_accepts_the_config(conf_text: str, tmp_path: Path) -> None:
    nginx = nginx_binary()
    make_certificate(tmp_path / "tls")
    conf = local_config(conf_text, tmp_path)
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(conf)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # Not even a warning (deprecated directives, ignored settings, duplicate MIME types, …).
    assert "[warn]" not in result.stderr, result.stderr


@dataclass
class Upstream:
    """A stand-in for the app: records every request and answers with what it received."""

    port: int
    seen: list[dict[str, Any]] = field(default_factory=list)


def start_upstream() -> tuple[ThreadingHTTPServer, Upstream]:
    state = Upstream(port=0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as nginx's upstream block uses
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            record = {
                "method": self.command,
                "path": self.path,
                "headers": [[k.lower(), v] for k, v in self.headers.items()],
                "body_length": len(body),
            }
            state.seen.append(record)
            if self.path == "/drop":  # the app dies mid-request → nginx answers 502
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = json.dumps(record).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            # The app's own HSTS (helmet), made recognisable: nginx must replace it, not add to it.
            self.send_header("Strict-Transport-Security", "max-age=0")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = handle_any  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state


@dataclass
class Proxy:
    http_port: int
    https_port: int
    cafile: Path
    upstream: Upstream
    error_log: Path


@pytest.fixture(scope="module")
def proxy(conf_text: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    nginx = nginx_binary()
    work = tmp_path_factory.mktemp("nginx-live")
    make_certificate(work / "tls")
    server, upstream = start_upstream()
    ports = {"http": free_port(), "https": free_port(), "upstream": upstream.port}
    conf = local_config(conf_text, work, ports)
    stdout = (work / "access.log").open("wb")
    stderr = (work / "error.log").open("wb")
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-g", "daemon off;"], stdout=stdout, stderr=stderr
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {(work / 'error.log').read_text()}", pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", ports["https"]), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("nginx did not start listening within 10 s", pytrace=False)
                time.sleep(0.05)
        yield Proxy(
            ports["http"],
            ports["https"],
            work / "tls" / "fullchain.pem",
            upstream,
            work / "error.log",
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        stdout.close()
        stderr.close()
        server.shutdown()
        server.server_close()


def tls_context(proxy: Proxy, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(proxy.cafile))
    if version is not None:
        context.minimum_version = context.maximum_version = version
    return context


class Client:
    """HTTPS (or HTTP) requests to the proxy from a chosen loopback address, so that each test has
    its own client IP: its own rate-limit budget and a recognisable X-Forwarded-For."""

    def __init__(self, proxy: Proxy, source: str, *, tls: bool = True) -> None:
        if tls:
            self.conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                "localhost",
                proxy.https_port,
                context=tls_context(proxy),
                source_address=(source, 0),
                timeout=10,
            )
        else:
            self.conn = http.client.HTTPConnection(
                "localhost", proxy.http_port, source_address=(source, 0), timeout=10
            )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterator[bytes] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        chunked = body is not None and not isinstance(body, bytes)
        self.conn.putrequest(method, path)
        for name, value in headers or []:
            self.conn.putheader(name, value)
        if isinstance(body, bytes):
            self.conn.putheader("Content-Length", str(len(body)))
        elif chunked:
            self.conn.putheader("Transfer-Encoding", "chunked")
        self.conn.endheaders(message_body=body, encode_chunked=chunked)
        response = self.conn.getresponse()
        return response, response.read()

    def close(self) -> None:
        self.conn.close()


def header_values(received: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in received["headers"] if k == name]


def assert_one_hsts(response: http.client.HTTPResponse) -> None:
    values = response.headers.get_all("Strict-Transport-Security") or []
    assert values == ["max-age=31536000; includeSubDomains"], values


def assert_problem(response: http.client.HTTPResponse, body: bytes, status: int) -> None:
    assert response.status == status
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["title"]
    assert REQUEST_ID_SHAPE.match(problem["requestId"])
    assert b"nginx" not in body
    assert_one_hsts(response)


def handshake(proxy: Proxy, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=5)
    return context.wrap_socket(raw, server_hostname="localhost")


def test_tls_1_2_and_1_3_accepted_with_strong_suites(proxy: Proxy) -> None:
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        with handshake(proxy, tls_context(proxy, version)) as tls:
            assert tls.version() == version.name.replace("_", ".")
            cipher = tls.cipher()
            assert cipher is not None
            if version is ssl.TLSVersion.TLSv1_2:
                assert cipher[0].startswith("ECDHE-"), cipher
                assert "GCM" in cipher[0], cipher


def test_tls_1_1_refused_by_the_server(proxy: Proxy) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated: the point of this test
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as refused:
        handshake(proxy, context).close()
    # The server's alert, not a client-side refusal to offer the version.
    assert "ALERT_PROTOCOL_VERSION" in str(refused.value), refused.value


def test_tls_1_2_without_forward_secrecy_or_aead_refused(proxy: Proxy) -> None:
    context = tls_context(proxy, ssl.TLSVersion.TLSv1_2)
    context.set_ciphers("AES128-GCM-SHA256:AES128-SHA:AES256-SHA256:ECDHE-RSA-AES128-SHA")
    with pytest.raises(ssl.SSLError) as refused:
        handshake(proxy, context).close()
    assert "HANDSHAKE_FAILURE" in str(refused.value), refused.value


def test_hsts_sent_once_and_server_version_hidden(proxy: Proxy) -> None:
    client = Client(proxy, "127.0.0.2")
    try:
        response, body = client.request("GET", "/v1/notes")
    finally:
        client.close()
    assert response.status == 200
    assert json.loads(body)["path"] == "/v1/notes"
    assert_one_hsts(response)  # the upstream's own "max-age=0" is replaced, not repeated
    assert response.headers.get_all("Server") == ["nginx"]
    # The other security headers are the app's job: nginx adds none of them to proxied responses.
    assert not {name.lower() for name in response.headers} & APP_HEADERS


def test_forwarding_headers_are_overwritten_not_appended(proxy: Proxy) -> None:
    forged = [
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-For", "198.51.100.1, 10.0.0.1"),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Port", "80"),
        ("Forwarded", "for=203.0.113.7;proto=http"),
        ("X-Real-IP", "203.0.113.7"),
    ]
    client = Client(proxy, "127.0.0.5")
    try:
        response, body = client.request("GET", "/v1/users/me", headers=forged)
    finally:
        client.close()
    assert response.status == 200
    received = json.loads(body)
    assert header_values(received, "x-forwarded-for") == ["127.0.0.5"]
    assert header_values(received, "x-forwarded-proto") == ["https"]
    assert header_values(received, "host") == ["localhost"]
    for dropped in ("x-forwarded-host", "x-forwarded-port", "forwarded", "x-real-ip"):
        assert header_values(received, dropped) == [], dropped


def test_request_id_passed_only_when_valid(proxy: Proxy) -> None:
    client = Client(proxy, "127.0.0.6")
    try:
        _, body = client.request("GET", "/", headers=[("X-Request-Id", "trace-0123.abc:9")])
        assert header_values(json.loads(body), "x-request-id") == ["trace-0123.abc:9"]
        for bad in ("short", "x" * 65, "-starts-with-dash", 'a"b\\c{"x":1}', "id with spaces"):
            _, body = client.request("GET", "/", headers=[("X-Request-Id", bad)])
            (sent,) = header_values(json.loads(body), "x-request-id")
            assert re.fullmatch(r"[0-9a-f]{32}", sent), (bad, sent)
    finally:
        client.close()


def test_body_limit_is_the_apps(proxy: Proxy) -> None:
    limit = 100 * 1024
    client = Client(proxy, "127.0.0.7")
    try:
        response, body = client.request("POST", "/v1/notes", body=b"a" * limit)
        assert response.status == 200
        assert json.loads(body)["body_length"] == limit
    finally:
        client.close()
    before = len(proxy.upstream.seen)
    for oversized in (b"a" * (limit + 1), iter([b"a" * 60_000, b"a" * 60_000])):
        client = Client(proxy, "127.0.0.7")
        try:
            response, body = client.request("POST", "/v1/notes", body=oversized)
        finally:
            client.close()
        assert_problem(response, body, 413)
    assert len(proxy.upstream.seen) == before, "an oversized body reached the app"


def test_http_only_redirects_to_https(proxy: Proxy) -> None:
    before = len(proxy.upstream.seen)
    client = Client(proxy, "127.0.0.8", tls=False)
    try:
        for method in ("GET", "POST"):
            response, _ = client.request(method, "/v1/notes?limit=5", body=b"{}")
            assert response.status == 301
            assert response.headers["Location"] == "https://localhost/v1/notes?limit=5"
            assert "Strict-Transport-Security" not in response.headers  # meaningless over HTTP
    finally:
        client.close()
    assert len(proxy.upstream.seen) == before, "a plain-HTTP request reached the app"


def test_burst_from_one_address_gets_429(proxy: Proxy) -> None:
    client = Client(proxy, "127.0.0.9")
    statuses = []
    try:
        for _ in range(80):
            response, body = client.request("GET", "/healthz")
            statuses.append(response.status)
            if response.status == 429:
                assert_problem(response, body, 429)
                assert response.headers["Retry-After"] == "1"
    finally:
        client.close()
    assert statuses[:30] == [200] * 30, statuses  # a normal client is not limited
    assert 429 in statuses, statuses
    assert "limiting requests" in proxy.error_log.read_text(), "429 not from limit_req"
    # Another address keeps its own budget.
    other = Client(proxy, "127.0.0.10")
    try:
        response, _ = other.request("GET", "/healthz")
    finally:
        other.close()
    assert response.status == 200


def test_dead_upstream_gives_a_problem_not_an_nginx_page(proxy: Proxy) -> None:
    client = Client(proxy, "127.0.0.11")
    try:
        response, body = client.request("GET", "/drop")
    finally:
        client.close()
    assert_problem(response, body, 502)
