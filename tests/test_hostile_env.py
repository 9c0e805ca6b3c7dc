"""Hostile environments and servers: a cache directory that is a file, a malformed HF_ENDPOINT or token, and a Hub
that ignores Range or sends endless bodies. One line and exit 2 (or a working answer), never a traceback, and memory
bounded by the stated limits, not by what the server sends."""
from __future__ import annotations

import http.server
import json
import threading

import pytest
from cliproc import isolated_env, run_measured
from gguf_raw import base_kvs, gguf_bytes
from hubfake import FakeHub, install

from selfhost_advisor.catalog import hub as hubmod
from selfhost_advisor.cli import main

TOKEN = "hf_SECRETsecret1234"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


REPO = "acme/Tiny-GGUF"  # not in the catalog: resolving it reads the (fake) Hub


@pytest.fixture
def fake(monkeypatch):
    f = install(monkeypatch, FakeHub())
    f.add(REPO, {"Tiny-Q4_K_M.gguf": gguf_bytes(base_kvs())})
    return f


@pytest.mark.parametrize("var", ["ADVISOR_HOME", "XDG_CACHE_HOME"])
def test_a_cache_directory_that_is_a_file_only_turns_the_cache_off(capsys, monkeypatch, tmp_path, fake, var):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    monkeypatch.delenv("ADVISOR_HOME")
    monkeypatch.setenv(var, str(afile))
    code, out, err = run(capsys, "fit", f"hf:{REPO}", "--vram", "24GB", "--json")
    assert code == 0 and json.loads(out)["model"]["id"], err
    code, _, err = run(capsys, "fit", f"hf:{REPO}", "--vram", "24GB", "--offline")
    assert code == 2 and err.count("\n") == 1 and "not in the cache" in err


@pytest.mark.parametrize("endpoint", ["notaurl", "http://[::1", "ftp://mirror", "http://" + "a" * 5000, "http://x y",
                                      "http://h\u00e9.example", "http://127.0.0.1:99999", "https://hf.co:0",
                                      "http://\x1b[2J"])
def test_a_malformed_hf_endpoint_is_bad_input_naming_it(capsys, monkeypatch, endpoint):
    monkeypatch.setattr(hubmod, "transport_factory", hubmod.HFTransport)  # the real transport: never reached
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    code, out, err = run(capsys, "fit", "acme/some-model", "--vram", "24GB")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert "HF_ENDPOINT" in err and "\x1b" not in err and len(err) < 400


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "tok en", "\u0442\u043e\u043a\u0435\u043d", "x\ty",
                                   "x" * 5000])
def test_a_malformed_token_is_bad_input_and_never_printed(capsys, monkeypatch, fake, token):
    monkeypatch.setattr(hubmod, "token_provider", hubmod.stored_token)
    monkeypatch.setenv("HF_TOKEN", token.replace("\x00", ""))
    code, out, err = run(capsys, "fit", f"hf:{REPO}", "--vram", "24GB")
    assert code == 2 and "HF_TOKEN" in err and err.count("\n") == 1, err
    assert token.strip()[:6] not in err.replace("HF_TOKEN", "")
    assert not any("Authorization" in h for _, h in fake.requests)  # never sent either


def test_a_good_token_is_sent_and_never_printed(capsys, monkeypatch, fake):
    monkeypatch.setattr(hubmod, "token_provider", hubmod.stored_token)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, out, err = run(capsys, "fit", f"hf:{REPO}", "--vram", "24GB", "--json")
    assert code == 0 and TOKEN not in out + err
    assert fake.requests and all(h.get("Authorization") == f"Bearer {TOKEN}" for _, h in fake.requests)


def test_an_unreachable_endpoint_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(hubmod, "transport_factory", hubmod.HFTransport)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")
    code, _, err = run(capsys, "fit", "acme/some-model", "--vram", "24GB")
    assert code == 2 and "cannot reach" in err and err.count("\n") == 1


def test_a_fake_hub_ignoring_range_is_read_only_to_the_end_of_each_range(capsys, fake, tmp_path):
    """FakeHub.ignore_range answers every range request with the whole file (200); the client must ask the transport
    for no more than the range's end and still read the right header."""
    big = gguf_bytes(base_kvs()) + bytes(30 << 20)  # a header, then 30 MB the reader must never pull
    fake.add(REPO, {"Tiny-Q4_K_M.gguf": big})
    fake.ignore_range = True
    limits = []
    get = fake.get

    def spy(url, headers, limit=None):
        limits.append((url, headers.get("Range"), limit))
        return get(url, headers, limit)

    fake.get = spy
    code, out, err = run(capsys, "fit", "hf:acme/Tiny-GGUF", "--vram", "24GB", "--json")
    assert code == 0, err
    assert json.loads(out)["model"]["name"] == "Tiny Llama"
    ranged = [(rng, lim) for url, rng, lim in limits if rng]
    assert ranged and all(lim == int(rng.split("-")[1]) + 1 for rng, lim in ranged)
    assert max(lim for _, lim in ranged) <= 4 << 20  # the header's first chunk, not the 30 MB behind it


class _Hostile(http.server.BaseHTTPRequestHandler):
    """A Hub mirror that ignores Range and answers every file with an endless (4 GB) body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if "/api/models/" in self.path:
            files = ["model-Q4_K_M.gguf"] if "GGUF" in self.path else ["config.json", "model.safetensors"]
            body = json.dumps({"sha": "0" * 40, "siblings": [{"rfilename": f, "size": 10} for f in files]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        head = gguf_bytes(base_kvs())[:4096] if self.path.endswith(".gguf") else b'{"a": "'
        self.send_response(200)
        self.send_header("Content-Length", str(4 << 30))
        self.end_headers()
        try:
            self.wfile.write(head)
            chunk = b" " * (1 << 16)
            for _ in range((4 << 30) >> 16):
                self.wfile.write(chunk)
        except OSError:
            pass  # the client hung up: what it should do


@pytest.fixture(scope="module")
def hostile_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_endless_bodies_from_a_real_server_stay_within_the_limits(tmp_path, hostile_server):
    env = {**isolated_env(tmp_path / "home", tmp_path / "ollama"), "HF_ENDPOINT": hostile_server}
    env.pop("HF_HUB_OFFLINE")
    # the GGUF's header is whole in its first 4 KB (the endless rest is tensor data, never read): it fits; the
    # endless config.json is cut at the 16 MiB limit: bad input
    rows = [(["fit", "hf:acme/Endless-GGUF", "--vram", "24GB"], 0), (["fit", "acme/endless-config", "--vram", "24GB"], 2)]
    for (_, code), r in zip(rows, run_measured([(argv, env) for argv, _ in rows], tmp_path, timeout=60)):
        assert r.returncode == code and "Traceback" not in r.stderr, r.stderr
        assert code == 0 or r.stderr.count("\n") == 1 and "16 MiB" in r.stderr, r.stderr
        assert r.maxrss_mb < 200, f"peak RSS {r.maxrss_mb:.0f} MB"
        assert r.cpu_s < 2, f"{r.cpu_s:.2f} s of CPU"


def test_the_real_transport_reads_no_more_than_its_limit(hostile_server):
    r = hubmod.HFTransport().get(f"{hostile_server}/acme/x/resolve/main/config.json", {}, 1 << 20)
    assert r.status == 200 and len(r.body) == 1 << 20 and r.truncated


@pytest.mark.parametrize("columns", ["99999999999999999999", "1000001", "5000"])
def test_an_absurd_terminal_width_is_read_as_the_stated_limit(capsys, monkeypatch, columns):
    # rich raised OverflowError (exit 3) on COLUMNS=10^20; any width beyond MAX_COLUMNS renders at MAX_COLUMNS
    from selfhost_advisor.limits import MAX_COLUMNS

    monkeypatch.setenv("COLUMNS", columns)
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--hardware", "rtx4090")
    assert code == 0 and err == "" and "Q4_K_M" in out
    assert max(len(line) for line in out.splitlines()) <= MAX_COLUMNS


def test_a_probe_file_with_a_5000_digit_schema_version_is_bad_input(capsys, tmp_path):
    # int() of a 5,000-digit string hits Python's integer-string limit (ValueError, exit 3 before)
    box = tmp_path / "box.json"
    box.write_text(json.dumps({"schema_version": "9" * 5000 + ".0", "devices": []}))
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--hardware", str(box))
    assert code == 2 and out == "" and err.count("\n") == 1 and "schema_version" in err and len(err) < 400
