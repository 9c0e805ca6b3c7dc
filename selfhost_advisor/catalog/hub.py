"""Read what sizing needs from the Hugging Face Hub: config.json, safetensors header metadata, GGUF headers.

Why: nothing is downloaded but a few KB of JSON and the first MBs of a GGUF (HTTP range requests); weights never.
The HTTP layer is a `Transport` (tests inject a fake serving recorded responses); the real one uses
huggingface_hub's session, imported only here, only when a Hub id is resolved. Responses are cached under
ADVISOR_HOME (default: the platformdirs user cache dir), so repeated calls and --offline work.
HF_TOKEN (or huggingface_hub's stored token) is sent for gated repos; it is never printed or written.
API: https://huggingface.co/docs/hub/api (GET /api/models/{repo}/revision/{rev}, /{repo}/resolve/{rev}/{file}).
"""
from __future__ import annotations

import json
import os
import re
import struct
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from ..errors import AdvisorError, BadFileError, BadOptionError, UnknownModelError
from ..limits import MAX_CACHE_ENTRY_BYTES, MAX_HUB_JSON_BYTES, MAX_HUB_RANGE_BYTES, MAX_SAFETENSORS_HEADER
from ..record import field, record
from ..safefile import open_regular_for_writing, read_regular
from .gguf_header import ArraySummary, GGUFHeader, TensorInfo, read_header

CACHE_TTL_S = 24 * 3600  # online: reuse cached answers for a day; offline (or no network): any age
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class HubError(AdvisorError):
    """The Hub could not answer (no network, gated, not found)."""


class NetworkError(HubError):
    pass


@record
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    truncated: bool = False  # the server sent more than the `limit` asked for; body holds the first `limit` bytes


class Transport(Protocol):
    def get(self, url: str, headers: dict[str, str], limit: int | None = None) -> Response:
        """GET url (following redirects), reading at most `limit` bytes of the body (the connection is closed on the
        rest: a server that ignores Range or sends an endless body costs no more memory than `limit`); raise
        NetworkError when the host cannot be reached."""
        ...


# The variables httpx reads for its proxies (httpx._utils.get_environment_proxies), upper and lower case.
PROXY_VARIABLES = tuple(v for k in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY") for v in (k, k.lower()))


class HFTransport:
    """The real transport: huggingface_hub's configured HTTP session (proxies, certificates), our user agent."""

    def __init__(self) -> None:
        try:
            from huggingface_hub import __version__ as hf_version
            from huggingface_hub.utils import get_session
        except ImportError:
            raise HubError("reading Hub models needs huggingface-hub", "pip install huggingface-hub") from None
        from .. import __version__

        try:
            self._session = get_session()
        except Exception as exc:  # noqa: BLE001 - httpx reads the proxy and CA variables here: a bad one is bad input
            # (a SOCKS proxy without socksio was an ImportError, '\x1b' or 'http://[::1' in HTTPS_PROXY an InvalidURL,
            # SSL_CERT_FILE=/nonexistent a FileNotFoundError: exit 3). No value is quoted: a proxy URL may hold a
            # password.
            named = [k for k in PROXY_VARIABLES + ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(k)]
            raise NetworkError(f"cannot set up a connection to the Hugging Face Hub ({type(exc).__name__})",
                               f"check {' / '.join(named)}: a proxy URL httpx can use (a socks5:// proxy needs "
                               "'pip install httpx[socks]') or a readable CA bundle, or unset it" if named else
                               "check the network settings") from None
        # Our own user agent: huggingface_hub's build_hf_headers (2.x) fetches an "agent registry" from HF_ENDPOINT,
        # unbounded, before every request: a hostile mirror sending an endless body drove RSS to 12 GB.
        self._agent = f"selfhost-advisor/{__version__}; huggingface_hub/{hf_version}"

    def get(self, url: str, headers: dict[str, str], limit: int | None = None) -> Response:
        merged = {"user-agent": self._agent, **headers}  # the token is ours to add, or not
        cap = MAX_HUB_JSON_BYTES if limit is None else limit
        try:
            if hasattr(self._session, "stream"):  # httpx (huggingface_hub >= 1.0)
                with self._session.stream("GET", url, headers=merged, follow_redirects=True, timeout=30) as r:
                    body, truncated = _read_capped(r.iter_bytes(1 << 16), cap)
            else:  # a requests-based huggingface_hub (< 1.0)
                with self._session.get(url, headers=merged, allow_redirects=True, timeout=30, stream=True) as r:
                    body, truncated = _read_capped(r.iter_content(1 << 16), cap)
        except Exception as exc:  # noqa: BLE001 - any transport failure means "not reachable"
            raise NetworkError(
                f"cannot reach the Hugging Face Hub ({type(exc).__name__})",
                "check the network; a model looked up before works offline (--offline, or HF_HUB_OFFLINE=1)",
            ) from None
        return Response(int(r.status_code), body, {k.lower(): v for k, v in r.headers.items()}, truncated)


def _read_capped(chunks, cap: int) -> tuple[bytes, bool]:
    """At most `cap` bytes of a streamed body, and whether there was more (the rest is never read)."""
    parts, size = [], 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(parts)[:cap], True
    return b"".join(parts), False


_TOKEN = re.compile(r"^[\x21-\x7e]{1,4096}$")  # printable ASCII, no spaces: what an HTTP header can carry
_ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[\x21-\x7e]*)?$")  # also bracketed IPv6 below


def stored_token() -> str | None:
    """HF_TOKEN (or huggingface_hub's stored token), checked: a malformed one is bad input, never sent or printed."""
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token:
        token = token.strip()
    else:
        try:
            from huggingface_hub import get_token
        except ImportError:
            return None
        try:
            token = get_token()
        except Exception:  # noqa: BLE001 - an unreadable token file: go on without a token (public repos work)
            return None
    if token and not _TOKEN.match(token):
        raise BadOptionError("the Hugging Face token (HF_TOKEN or huggingface_hub's stored token) is malformed: it "
                             "holds spaces, control or non-ASCII characters", "set HF_TOKEN to a token from "
                             "https://huggingface.co/settings/tokens, or unset it for public models")
    return token or None


# Tests replace this factory with one returning a fake transport.
transport_factory: Callable[[], Transport] = HFTransport
token_provider: Callable[[], str | None] = stored_token


def advisor_home() -> Path:
    home = os.environ.get("ADVISOR_HOME")
    if home:  # '~/cache' quoted in a shell reaches us unexpanded: it made a folder named '~' in the working directory
        return Path(os.path.expanduser(home))
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("selfhost-advisor"))


def endpoint() -> str:
    """HF_ENDPOINT (a mirror) or the Hub, checked: a malformed URL is bad input naming the variable."""
    value = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    url = value.rstrip("/")
    host_port = url.split("://", 1)[-1].split("/", 1)[0]
    ipv6 = re.match(r"^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$", host_port)
    port = host_port.rsplit(":", 1)[-1] if ":" in host_port and not host_port.endswith("]") else None
    if (len(url) > 2048 or not (_ENDPOINT.match(url) or ipv6 and url.startswith(("http://[", "https://[")))
            or port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536)):
        shown = shown_endpoint(value)
        raise BadOptionError(f"HF_ENDPOINT {shown!r} is not an http(s) URL",
                             "unset it, or give a Hub mirror such as https://hf-mirror.com")
    return url


def shown_endpoint(value: str) -> str:
    """HF_ENDPOINT as an error line may quote it: without a user:password@ part, a query or a fragment, with any
    Hub token in its path replaced by ***, at most 80 characters, controls escaped. Why: each can carry a credential
    (HF_ENDPOINT=https://u:pw@host echoed the password, session 19; a mirror's '?token=hf_...' was printed whole in
    its 'answered HTTP 404' line, session 32)."""
    from ..termsafe import plain

    value = re.sub(r"^([^/@]*//)?[^/@]*@", lambda m: (m.group(1) or "") + "***@", value)
    value = re.sub(r"[?#].*", lambda m: m.group()[0] + "***", value, flags=re.S)
    value = re.sub(r"hf_[A-Za-z0-9]{6,}", "hf_***", value)
    return plain(value if len(value) <= 80 else value[:77] + "...")


# The longest repository file path we request: 4,096 bytes, Linux's PATH_MAX (a checkout of the repository cannot
# hold a longer path). Why: a listed file named with ~100,000 characters made a URL over httpx's 65,536-character
# limit, and the InvalidURL it raised read as 'cannot reach the Hugging Face Hub; check the network'.
MAX_HUB_PATH_BYTES = 4096
MAX_REPO_PART = 96  # the Hub's limit on an owner or repository name


def _repo_refusal(repo: str) -> UnknownModelError:
    """Why `repo` is not a Hub repository id, naming an over-long part by its length (the id itself clipped)."""
    from ..termsafe import clipped

    long = [p for p in repo.split("/") if len(p) > MAX_REPO_PART]
    if long and repo.count("/") == 1:
        return UnknownModelError(f"{clipped(repo)!r} is not a Hub repository id: a part of it is {len(long[0]):,} "
                                 f"characters long, the Hub allows at most {MAX_REPO_PART}",
                                 "check the name, e.g. Qwen/Qwen3-8B")
    bare = repo.strip("/")
    if bare != repo and valid_repo(bare):
        return UnknownModelError(f"{clipped(repo)!r} is not a Hub repository id: it ends or starts with '/'",
                                 f"give it as {clipped(bare)}")
    if repo.lower().endswith(".git") and valid_repo(repo[:-4]):
        return UnknownModelError(f"{clipped(repo)!r} is not a Hub repository id: the Hub refuses an id ending '.git' "
                                 "(a git clone URL's)", f"give it as {clipped(repo[:-4])}")
    if "--" in repo or ".." in repo:
        return UnknownModelError(f"{clipped(repo)!r} is not a Hub repository id: the Hub refuses '--' and '..' in one",
                                 "check the name, e.g. Qwen/Qwen3-8B")
    return UnknownModelError(f"{clipped(repo)!r} is not a Hub repository id", "expected owner/name, e.g. Qwen/Qwen3-8B")


def _missing_repo(repo: str, status: int, code: str, token: bool) -> AdvisorError:
    """The Hub's answer for a repository it will not show. Without a token it answers 401 RepoNotFound for a missing
    repository as for a private one (huggingface_hub utils/_http.py hf_raise_for_status: '401 is misleading as it is
    returned for private and gated repos if user is not authenticated, missing repos'), so a typo is not 'access
    denied'. A bare 404 without the Hub's X-Error-Code comes from something else at HF_ENDPOINT (a proxy, a web server)."""
    if not code and os.environ.get("HF_ENDPOINT"):
        shown = shown_endpoint(endpoint())
        return HubError(f"HF_ENDPOINT {shown!r} answered HTTP {status} for {repo!r} without the Hub's error code",
                        "check that HF_ENDPOINT is a Hub mirror, or unset it")
    if token:
        return UnknownModelError(f"no Hub repository {repo!r} that your HF_TOKEN can read",
                                 "check the spelling (owner/name), and that the token has access to a private one")
    return UnknownModelError(f"no Hub repository {repo!r}",
                             "check the spelling (owner/name); a private repository needs HF_TOKEN set")


def valid_repo(repo: str) -> bool:
    """owner/name as the Hub allows them: each part at most 96 characters (longer would also overflow a file name in
    the cache: ENAMETOOLONG was a crash). huggingface_hub's validate_repo_id (utils/_validators.py) also refuses '--'
    and '..' anywhere, an id ending '.git', and a part that starts or ends with '-' or '.' (REPO_ID_REGEX's \\b): such
    ids were sent to the Hub (audit34b)."""
    return (bool(_REPO.match(repo)) and ".." not in repo and "--" not in repo and not repo.lower().endswith(".git")
            and all(len(part) <= MAX_REPO_PART and part[-1] not in "-." for part in repo.split("/")))


def _is_file(path: Path) -> bool:
    """path.is_file(), False where the cache cannot be looked at. Why (session 32): pathlib re-raises ENAMETOOLONG (a
    5,000-character ADVISOR_HOME) and EACCES: every Hub look-up was exit 3; the cache is best-effort, as its writes."""
    try:
        return path.is_file()
    except OSError:
        return False


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # gone since it was read: as old as can be (re-fetched online, still used offline)
        return 0.0


class HubClient:
    """Cached reads of one repo revision. offline: only the cache."""

    def __init__(self, repo: str, revision: str = "main", *, offline: bool = False) -> None:
        if not valid_repo(repo):
            raise _repo_refusal(repo)
        self.repo, self.revision = repo, revision
        # huggingface_hub's reading (constants.py _is_true: 1, ON, YES, TRUE in any case); HF_HUB_OFFLINE=no, off or
        # FALSE was offline here and online for the Hub's own tools (session 32)
        env_offline = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")
        self.offline = offline or env_offline
        self._offline_why = "--offline is set" if offline else "HF_HUB_OFFLINE is set"
        self._online_hint = "run once without --offline" if offline else "unset HF_HUB_OFFLINE and run once online"
        self._transport: Transport | None = None
        self.used_stale_cache = False
        self.dir = advisor_home() / "hub" / repo.replace("/", "--") / revision.replace("/", "--")

    # -- cache ---------------------------------------------------------------------------------------------------
    def _entry(self, key: str) -> Path:
        """The cache file of `key`: its name made safe, and a long one (a repository's file may be named with up to
        1,000s of characters; a file name holds 255 bytes: ENAMETOOLONG was exit 3) cut and told apart by a hash."""
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
        if len(name) > 150:
            import hashlib

            name = name[:120] + "-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
        return self.dir / (name + ".json")

    def _cached(self, key: str, fetch: Callable[[], Any]) -> Any:
        path = self._entry(key)
        cached = None
        if _is_file(path):
            try:
                cached = json.loads(read_regular(path, MAX_CACHE_ENTRY_BYTES, "cache entry"))
            except (AdvisorError, OSError, ValueError, RecursionError):  # not regular, too big, damaged: a miss
                cached = None
            if not isinstance(cached, dict) or "value" not in cached:
                cached = None  # a damaged cache entry is a miss, not a crash
        if cached is not None and (self.offline or time.time() - _mtime(path) < CACHE_TTL_S):
            return cached["value"]
        if self.offline:
            raise HubError(
                f"{self.repo}: {key} is not in the cache and {self._offline_why}",
                f"{self._online_hint} (cache: {self.dir.parent.parent})",
            )
        try:
            value = fetch()
        except NetworkError:
            if cached is not None:
                self.used_stale_cache = True
                return cached["value"]
            raise
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with open_regular_for_writing(tmp, "cache entry") as fh:
                fh.write(json.dumps({"repo": self.repo, "revision": self.revision, "value": value},
                                    allow_nan=False).encode("utf-8"))
            tmp.replace(path)
        except (OSError, AdvisorError, ValueError):
            pass  # a read-only (or odd) cache still answers this call
        return value

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def _get(self, url: str, what: str, range_: tuple[int, int] | None = None) -> bytes:
        if self._transport is None:
            self._transport = transport_factory()
        headers: dict[str, str] = {}
        token = token_provider()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if range_ is not None:
            headers["Range"] = f"bytes={range_[0]}-{range_[1]}"
        want = range_[1] - range_[0] + 1 if range_ is not None else MAX_HUB_JSON_BYTES
        if range_ is not None and want > MAX_HUB_RANGE_BYTES:
            raise HubError(f"{self.repo}: {what} asks for {want} bytes at once, over the limit", "this is a bug")
        # A server that ignores Range sends the file from byte 0: read up to the end of the range, no further.
        r = self._transport.get(url, headers, range_[1] + 1 if range_ is not None else want)
        if r.status in (200, 206):
            if range_ is not None and r.status == 200:
                return r.body[range_[0] : range_[1] + 1]  # server ignored Range: slice it ourselves
            if r.truncated or len(r.body) > want:
                raise HubError(f"{self.repo}: the Hub sent more than {want >> 20} MiB for {what}, more than any real "
                               "one", "check HF_ENDPOINT (docs/cli.md, Limits)")
            return r.body
        if range_ is not None and r.status == 416:
            return b""
        code = r.headers.get("x-error-code", "")
        if what == "repository" and (code == "RepoNotFound" or r.status == 404 and not code):
            raise _missing_repo(self.repo, r.status, code, bool(token))
        if r.status in (401, 403) or code == "GatedRepo":
            hint = ("your token has no access: accept the model's license on its Hub page" if token
                    else "it is gated or private: set HF_TOKEN to a token that has accepted its license")
            raise HubError(f"{self.repo}: access denied reading {what} (HTTP {r.status})", hint)
        if r.status == 404:
            if code == "EntryNotFound" or what != "repository":
                raise HubError(f"{self.repo} has no {what}")
            raise UnknownModelError(f"no Hub repository {self.repo!r}", "check the spelling (owner/name)")
        if r.status == 429:
            raise HubError(f"{self.repo}: the Hub is rate-limiting requests (HTTP 429)", "wait a minute and retry")
        raise HubError(f"{self.repo}: the Hub answered HTTP {r.status} for {what}")

    def _file_url(self, path: str) -> str:
        size = len(path.encode("utf-8", "surrogatepass"))
        if size > MAX_HUB_PATH_BYTES:  # refused before any request (MAX_HUB_PATH_BYTES: not a network failure)
            from ..termsafe import clipped

            raise HubError(f"{self.repo}: its file {clipped(path)!r} is named with {size:,} bytes, over the "
                           f"{MAX_HUB_PATH_BYTES:,} a repository file path can hold; it is not requested",
                           "pick another file with --quant, or download it and give its local path")
        from urllib.parse import quote

        # encoded as huggingface_hub's hf_hub_url does it (file_download.py: quote(revision, safe=""), quote(filename),
        # so '/' is kept in the path; tests/test_engine_hygiene_s18.py compares the two). Sent raw, a file named
        # 'Q4 #1.gguf' reached the Hub as 'Q4 ' with a fragment; the helper itself is not imported: the real transport
        # is the only importer of huggingface_hub (tests/test_hub.py)
        return f"{endpoint()}/{self.repo}/resolve/{quote(self.revision, safe='')}/{quote(path)}"

    def _json(self, url: str, what: str) -> Any:
        body = self._get(url, what)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise HubError(f"{self.repo}: {what} is not valid JSON") from None

    # -- what sizing needs ---------------------------------------------------------------------------------------
    def info(self) -> dict:
        """{'sha', 'gated', 'files': {path: size}, 'safetensors': {dtype: count} | None}."""
        def fetch() -> dict:
            from urllib.parse import quote

            # the revision encoded as huggingface_hub's HfApi.model_info does it (quote(revision, safe=""))
            raw = self._json(f"{endpoint()}/api/models/{self.repo}/revision/{quote(self.revision, safe='')}?blobs=true",
                             "repository")
            if not isinstance(raw, dict):
                raise HubError(f"{self.repo}: the Hub's repository info is not a JSON object")
            files = {}
            siblings = raw.get("siblings")
            for s in siblings if isinstance(siblings, list) else []:
                if isinstance(s, dict) and isinstance(s.get("rfilename"), str):
                    lfs = s.get("lfs")
                    size = s.get("size") or (lfs.get("size") if isinstance(lfs, dict) else None)
                    files[s["rfilename"]] = int(size) if isinstance(size, int) else None
            st = raw.get("safetensors")
            params = st.get("parameters") if isinstance(st, dict) else None
            return {"sha": raw.get("sha"), "gated": raw.get("gated", False), "files": files,
                    "safetensors": params if isinstance(params, dict) else None}
        info = self._cached("model_info", fetch)
        if not isinstance(info, dict) or not isinstance(info.get("files"), dict):
            raise HubError(f"{self.repo}: the cached repository info is unreadable", f"delete {self.dir}")
        return info

    def config(self) -> dict:
        cfg = self._cached("config.json", lambda: self._json(self._file_url("config.json"), "config.json"))
        if not isinstance(cfg, dict):
            raise HubError(f"{self.repo}: config.json is not a JSON object")
        return cfg

    def safetensors_params(self) -> dict[str, int] | None:
        """Parameter count per dtype, from the safetensors headers (JSON at the start of each shard)."""
        info = self.info()
        if isinstance(info.get("safetensors"), dict) and info["safetensors"]:
            return {str(k): v for k, v in info["safetensors"].items() if isinstance(v, int) and not isinstance(v, bool)}
        files = info["files"]
        if "model.safetensors.index.json" in files:
            shards = None
            def fetch_index() -> list[str]:
                idx = self._json(self._file_url("model.safetensors.index.json"), "model.safetensors.index.json")
                weight_map = (idx.get("weight_map") or {}) if isinstance(idx, dict) else None
                if not isinstance(weight_map, dict):
                    raise HubError(f"{self.repo}: model.safetensors.index.json has an unreadable weight_map")
                return sorted({v for v in weight_map.values() if isinstance(v, str)})
            shards = self._cached("safetensors_index", fetch_index)
        elif "model.safetensors" in files:
            shards = ["model.safetensors"]
        else:
            return None
        return self._cached("safetensors_params", lambda: _count_params(self, shards))

    def read_range(self, path: str, offset: int, n: int) -> bytes:
        if n <= 0:
            return b""
        if self.offline:
            raise HubError(f"{self.repo}: {path} header is not in the cache and {self._offline_why}", self._online_hint)
        return self._get(self._file_url(path), path, (offset, offset + n - 1))

    def gguf_header(self, path: str) -> GGUFHeader:
        """Header of a GGUF file in the repo, read with range requests; cached as parsed JSON."""
        from .gguf_model import ggml_type_ids

        def fetch() -> dict:
            src = _RangeSource(self, path)
            return header_to_json(read_header(src, ggml_type_ids(), chunk=2 << 20))
        try:
            return header_from_json(self._cached(f"gguf--{path}", fetch))
        except (KeyError, TypeError, ValueError):
            raise BadFileError(f"{self.repo}: cached header of {path} is unreadable", "delete the advisor cache") from None


def _count_params(client: HubClient, shards: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for shard in shards:
        head = client.read_range(shard, 0, 8)
        if len(head) != 8:
            raise HubError(f"{client.repo}: {shard} is too short to be safetensors")
        n = struct.unpack("<Q", head)[0]
        if n > MAX_SAFETENSORS_HEADER:
            raise HubError(f"{client.repo}: {shard} has a {n}-byte header, not safetensors")
        try:
            header = json.loads(client.read_range(shard, 8, n))
        except (ValueError, RecursionError):
            header = None
        if not isinstance(header, dict):
            raise HubError(f"{client.repo}: {shard} header is not a JSON object")
        for name, t in header.items():
            if name == "__metadata__" or not isinstance(t, dict):
                continue
            shape = t.get("shape") or []
            if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise HubError(f"{client.repo}: {shard} tensor {name!r} has an unreadable shape")
            numel = 1
            for d in shape:
                numel *= d
            dtype = str(t.get("dtype"))
            counts[dtype] = counts.get(dtype, 0) + numel
    return counts


class _RangeSource:
    def __init__(self, client: HubClient, path: str) -> None:
        self.client, self.path, self.name = client, path, f"hf:{client.repo}/{path}"

    def read(self, offset: int, n: int) -> bytes:
        return self.client.read_range(self.path, offset, n)


def header_to_json(h: GGUFHeader) -> dict:
    md = {}
    for k, v in h.metadata.items():
        md[k] = {"__array__": [v.item_type, v.length]} if isinstance(v, ArraySummary) else v
    return {"version": h.version, "alignment": h.alignment, "data_offset": h.data_offset, "metadata": md,
            "tensors": [[t.name, list(t.shape), t.ggml_type, t.offset, t.n_bytes] for t in h.tensors]}


def header_from_json(d: dict) -> GGUFHeader:
    md = {}
    for k, v in d["metadata"].items():
        md[k] = ArraySummary(*v["__array__"]) if isinstance(v, dict) and "__array__" in v else v
    tensors = tuple(TensorInfo(n, tuple(s), ty, int(o), int(b)) for n, s, ty, o, b in d["tensors"])
    return GGUFHeader(int(d["version"]), md, tensors, int(d["alignment"]), int(d["data_offset"]))
