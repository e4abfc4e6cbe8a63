"""Reverse-proxy checks (baseline J6): nginx configurations, included snippets too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from hardstart.audit.documents import memo
from hardstart.audit.model import Failure, NotApplicable, Outcome, Rule, Severity, check
from hardstart.audit.repo import Repo

# --- nginx ---


@dataclass
class Directive:
    name: str
    args: list[str]
    line: int
    block: list[Directive] | None = None

    def walk(self) -> list[Directive]:
        found = [self]
        for child in self.block or []:
            found.extend(child.walk())
        return found


_NGINX_TOKEN = re.compile(r"""#[^\n]*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[{};]|[^\s{};"'#]+""")


def parse_nginx(text: str) -> list[Directive]:
    """nginx's configuration syntax: directives with arguments, `;`-terminated or with a block."""
    root: list[Directive] = []
    stack: list[list[Directive]] = [root]
    words: list[str] = []
    line = 0
    for match in _NGINX_TOKEN.finditer(text):
        token = match.group(0)
        if token.startswith("#"):
            continue
        if not words:
            line = text.count("\n", 0, match.start()) + 1
        if token == ";":  # noqa: S105 - nginx syntax, not a password
            if words:
                stack[-1].append(Directive(words[0], words[1:], line))
            words = []
        elif token == "{":  # noqa: S105
            block: list[Directive] = []
            stack[-1].append(Directive(words[0] if words else "", words[1:], line, block))
            stack.append(block)
            words = []
        elif token == "}":  # noqa: S105
            if len(stack) > 1:
                stack.pop()
            words = []
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    return root


@dataclass
class NginxConfigs:
    """The nginx configurations (files with a `server` block) and the snippets they may include
    (other .conf files with proxy, TLS or body settings), every directive with its file."""

    servers: dict[str, list[Directive]]
    snippets: dict[str, list[Directive]]

    def everything(self) -> list[tuple[str, Directive]]:
        return [
            (path, d)
            for files in (self.servers, self.snippets)
            for path, directives in files.items()
            for d in directives
        ]

    def has(self, path: str, wanted: Any) -> bool:
        """Whether the config at `path`, or any snippet, has a directive `wanted` accepts."""
        own = self.servers[path]
        return any(wanted(d) for d in own) or any(
            wanted(d) for directives in self.snippets.values() for d in directives
        )


_SNIPPET_DIRECTIVE = re.compile(r"^(ssl_|proxy_|client_|real_ip|set_real_ip_from)")


def nginx_configs(repo: Repo) -> tuple[NginxConfigs, NotApplicable | None]:
    return memo(repo, "nginx", lambda: _read_nginx(repo))


def _read_nginx(repo: Repo) -> tuple[NginxConfigs, NotApplicable | None]:
    found = NginxConfigs({}, {})
    for path in repo.files:
        name = PurePosixPath(path).name
        if not (name.endswith((".conf", ".conf.template")) or name == "nginx.conf"):
            continue
        text = repo.text(path)
        if text is None:
            continue
        directives = [d for top in parse_nginx(text) for d in top.walk()]
        if any(d.name == "server" and d.block is not None for d in directives):
            found.servers[path] = directives
        elif any(_SNIPPET_DIRECTIVE.match(d.name) for d in directives):
            found.snippets[path] = directives
    return found, None if found.servers else NotApplicable("no nginx configuration")


def _nginx_rule(name: str, title: str, fix: str, severity: Severity) -> Rule:
    return Rule(
        id=f"J6-{name}",
        item="J6",
        title=title,
        fix=fix,
        severity=severity,
        anchor="nginx/nginx.conf",
    )


@check(
    _nginx_rule(
        "tls-modern",
        "The reverse proxy terminates TLS 1.2 or newer only",
        "Listen with `ssl` and set `ssl_protocols TLSv1.2 TLSv1.3;`.",
        Severity.HIGH,
    )
)
def nginx_tls(repo: Repo) -> Outcome:
    configs, na = nginx_configs(repo)
    if na:
        return na
    failures: list[Failure] = []
    for path, directives in configs.servers.items():
        listens_tls = any(
            d.name == "listen" and ({"ssl", "quic"} & set(d.args)) for d in directives
        ) or any(d.name == "ssl" and d.args == ["on"] for d in directives)
        if not listens_tls:
            failures.append(Failure(path, None, "no server listens with TLS (`listen 443 ssl`)"))
        elif not configs.has(path, lambda d: d.name == "ssl_protocols"):
            failures.append(Failure(path, None, "ssl_protocols is not set"))
    for path, directive in configs.everything():
        old = [p for p in directive.args if p not in {"TLSv1.2", "TLSv1.3"}]
        if directive.name == "ssl_protocols" and old:
            failures.append(Failure(path, directive.line, f"ssl_protocols allows {' '.join(old)}"))
    return failures


@check(
    _nginx_rule(
        "body-limit",
        "The reverse proxy limits request bodies",
        "Set `client_max_body_size` (e.g. `100k`, matching the app's body limit).",
        Severity.MEDIUM,
    )
)
def nginx_body_limit(repo: Repo) -> Outcome:
    configs, na = nginx_configs(repo)
    if na:
        return na
    failures = [
        Failure(path, None, "client_max_body_size is not set (1m default)")
        for path in configs.servers
        if not configs.has(path, lambda d: d.name == "client_max_body_size")
    ]
    failures.extend(
        Failure(path, d.line, "client_max_body_size 0 disables the limit")
        for path, d in configs.everything()
        if d.name == "client_max_body_size" and d.args[:1] == ["0"]
    )
    return failures


def _sets_forwarded_for(directive: Directive) -> bool:
    return (
        directive.name == "proxy_set_header"
        and len(directive.args) >= 1
        and directive.args[0].lower() == "x-forwarded-for"
    )


@check(
    _nginx_rule(
        "one-trusted-hop",
        "The reverse proxy passes exactly one trusted hop",
        "Overwrite the header with `proxy_set_header X-Forwarded-For $remote_addr;` "
        "(not $proxy_add_x_forwarded_for) and set the app to trust one proxy.",
        Severity.MEDIUM,
    )
)
def nginx_one_hop(repo: Repo) -> Outcome:
    configs, na = nginx_configs(repo)
    if na:
        return na
    failures: list[Failure] = []
    for path, directive in configs.everything():
        if any("$proxy_add_x_forwarded_for" in a for a in directive.args):
            failures.append(
                Failure(
                    path,
                    directive.line,
                    "$proxy_add_x_forwarded_for appends to the client's forged X-Forwarded-For",
                )
            )
        if directive.name == "set_real_ip_from" and directive.args[:1] in (["0.0.0.0/0"], ["::/0"]):
            failures.append(Failure(path, directive.line, "set_real_ip_from trusts every address"))
    for path, directives in configs.servers.items():
        proxies = any(d.name == "proxy_pass" for d in directives)
        if proxies and not configs.has(path, _sets_forwarded_for):
            failures.append(
                Failure(path, None, "X-Forwarded-For is not set: the app cannot see the client")
            )
    return failures
