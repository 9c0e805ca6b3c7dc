"""A fake Hugging Face Hub: serves recorded files for the HTTP paths advisor uses, with Range support.

Installed with `install(monkeypatch, hub)`: selfhost_advisor.catalog.hub.transport_factory returns it.
Every request is recorded (url, headers) so tests can check what was (not) fetched.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from selfhost_advisor.catalog import hub as hubmod
from selfhost_advisor.catalog.hub import NetworkError, Response

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hub"


class FakeHub:
    def __init__(self) -> None:
        self.files: dict[str, dict[str, bytes]] = {}
        self.safetensors: dict[str, dict[str, int] | None] = {}
        self.gated: dict[str, str] = {}  # repo -> the token that may read it
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.online = True
        self.ignore_range = False  # answer range requests with the whole file (200), as some mirrors and proxies do

    def add_recorded(self, repo: str, params: dict[str, int] | None = None) -> None:
        cfg = (FIXTURES / repo.replace("/", "--") / "config.json").read_bytes()
        self.add(repo, {"config.json": cfg, "model.safetensors.index.json": b"{}"}, params)

    def add(self, repo: str, files: dict[str, bytes], params: dict[str, int] | None = None) -> None:
        self.files[repo] = dict(files)
        self.safetensors[repo] = params

    def get(self, url: str, headers: dict[str, str], limit: int | None = None) -> Response:
        """Like the real transport, reads at most `limit` bytes of the body (truncated=True when there was more)."""
        r = self._get(url, headers)
        if limit is not None and len(r.body) > limit:
            return Response(r.status, r.body[:limit], r.headers, True)
        return r

    def _get(self, url: str, headers: dict[str, str]) -> Response:
        self.requests.append((url, dict(headers)))
        if not self.online:
            raise NetworkError("cannot reach the Hugging Face Hub (ConnectError)", "check the network")
        m = re.match(r"^https://huggingface\.co/api/models/([^/]+/[^/]+)/revision/main\?blobs=true$", url)
        if m:
            repo = m.group(1)
            if repo not in self.files:
                return Response(404, b'{"error":"Repository not found"}', {"x-error-code": "RepoNotFound"})
            denied = self._denied(repo, headers)
            if denied:
                return denied
            body = {"id": repo, "sha": "0" * 40, "gated": repo in self.gated and "manual",
                    "siblings": [{"rfilename": p, "size": len(b)} for p, b in sorted(self.files[repo].items())]}
            if self.safetensors[repo] is not None:
                body["safetensors"] = {"parameters": self.safetensors[repo], "total": sum(self.safetensors[repo].values())}
            return Response(200, json.dumps(body).encode())
        # as a web server reads it: '?' starts the query and '#' the fragment, the path is percent-decoded
        parts = urlsplit(url)
        m = re.match(r"^/([^/]+/[^/]+)/resolve/main/(.+)$", unquote(parts.path))
        if parts.netloc != "huggingface.co" or parts.query or parts.fragment or not m or m.group(1) not in self.files:
            return Response(404, b"not found", {"x-error-code": "RepoNotFound"})
        repo, path = m.groups()
        denied = self._denied(repo, headers)
        if denied:
            return denied
        if path not in self.files[repo]:
            return Response(404, b"not found", {"x-error-code": "EntryNotFound"})
        data = self.files[repo][path]
        rng = headers.get("Range")
        if rng and not self.ignore_range:
            a, b = (int(x) for x in re.match(r"^bytes=(\d+)-(\d+)$", rng).groups())
            if a >= len(data):
                return Response(416, b"")
            return Response(206, data[a : b + 1])
        return Response(200, data)

    def _denied(self, repo: str, headers: dict[str, str]) -> Response | None:
        if repo in self.gated and headers.get("Authorization") != f"Bearer {self.gated[repo]}":
            return Response(401 if "Authorization" not in headers else 403, b"gated", {"x-error-code": "GatedRepo"})
        return None

    def bytes_downloaded(self, repo: str, path: str) -> int:
        total = 0
        for url, headers in self.requests:
            if unquote(urlsplit(url).path).endswith(f"{repo}/resolve/main/{path}"):
                rng = headers.get("Range")
                if rng is None:
                    total += len(self.files[repo][path])
                else:
                    a, b = (int(x) for x in rng[6:].split("-"))
                    total += max(0, min(b + 1, len(self.files[repo][path])) - a)
        return total


def install(monkeypatch, fake: FakeHub) -> FakeHub:
    monkeypatch.setattr(hubmod, "transport_factory", lambda: fake)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(hubmod, "token_provider", lambda: __import__("os").environ.get("HF_TOKEN"))
    return fake
