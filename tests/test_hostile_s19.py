"""Session 19 new-user and bad-input cases: each refusal is one line, exit 2, nothing on stdout, and says what is wrong.

The real Hub answers a missing repository with 401 RepoNotFound when no token is sent, as it answers a private one
(huggingface_hub utils/_http.py hf_raise_for_status: '401 is misleading as it is returned for private and gated repos
if user is not authenticated, missing repos'); tests/hubfake.py answers 404, so a typo read 'access denied ... set
HF_TOKEN' on the real Hub and 'no Hub repository' in every test. A model page's address pasted from the browser was an
unknown catalog name."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hubfake import FakeHub, install  # noqa: E402

from selfhost_advisor.catalog import hub as hubmod  # noqa: E402
from selfhost_advisor.catalog.hub import Response  # noqa: E402
from selfhost_advisor.catalog.resolve import resolve  # noqa: E402


from clikit import one_line_exit_2 as _one_line_exit_2, run as _run  # noqa: E402


class _Answers:
    """A transport that answers every request with one fixed response, recording the requests."""

    def __init__(self, status: int, headers: dict[str, str]):
        self.status, self.headers, self.requests = status, headers, []

    def get(self, url, headers, limit=None):
        self.requests.append((url, dict(headers)))
        return Response(self.status, b'{"error":"Repository not found"}', self.headers)


@pytest.fixture
def answers(monkeypatch):
    def make(status, headers):
        fake = _Answers(status, headers)
        monkeypatch.setattr(hubmod, "transport_factory", lambda: fake)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("HF_ENDPOINT", raising=False)
        return fake
    return make


def test_a_misspelt_hub_repo_without_a_token_is_not_called_access_denied(capsys, answers, monkeypatch):
    answers(401, {"x-error-code": "RepoNotFound"})  # what huggingface.co sends without a token
    monkeypatch.setattr(hubmod, "token_provider", lambda: None)
    code, out, err = _run(capsys, "fit", "hf:Qwen/Qwen3-30B-A3C")
    _one_line_exit_2(code, out, err, "no Hub repository 'Qwen/Qwen3-30B-A3C'", "check the spelling", "HF_TOKEN")
    assert "access denied" not in err


def test_a_repo_the_token_cannot_read_says_so_and_never_prints_the_token(capsys, answers, monkeypatch):
    answers(404, {"x-error-code": "RepoNotFound"})
    monkeypatch.setattr(hubmod, "token_provider", lambda: "hf_SECRETsecret1234567890")
    code, out, err = _run(capsys, "fit", "hf:acme/private-model")
    _one_line_exit_2(code, out, err, "no Hub repository 'acme/private-model' that your HF_TOKEN can read")
    assert "SECRET" not in err


def test_a_gated_repo_is_still_access_denied(capsys, answers, monkeypatch):
    answers(401, {"x-error-code": "GatedRepo"})
    monkeypatch.setattr(hubmod, "token_provider", lambda: None)
    _one_line_exit_2(*_run(capsys, "fit", "hf:meta-llama/Llama-9-8B"), "access denied", "set HF_TOKEN")


def test_a_plain_404_from_something_at_hf_endpoint_names_hf_endpoint(capsys, answers, monkeypatch):
    # a proxy or web server at HF_ENDPOINT answers 404 with no X-Error-Code: not the Hub saying the repo is missing
    answers(404, {})
    monkeypatch.setenv("HF_ENDPOINT", "http://10.255.255.1")
    monkeypatch.setattr(hubmod, "token_provider", lambda: None)
    code, out, err = _run(capsys, "fit", "hf:someone/some-model")
    _one_line_exit_2(code, out, err, "HF_ENDPOINT 'http://10.255.255.1' answered HTTP 404", "unset it")
    assert "check the spelling" not in err


@pytest.mark.parametrize("url", [
    "https://huggingface.co/Qwen/Qwen3-30B-A3B",
    "https://huggingface.co/Qwen/Qwen3-30B-A3B/",
    "https://hf.co/Qwen/Qwen3-30B-A3B/tree/main",
    "HTTPS://www.HuggingFace.co/Qwen/Qwen3-30B-A3B?library=transformers",
])
def test_a_model_page_address_from_the_browser_reads_that_repository(monkeypatch, url):
    fake = install(monkeypatch, FakeHub())
    fake.add_recorded("Qwen/Qwen3-30B-A3B")
    r = resolve(url)
    assert r.model.id == resolve("Qwen/Qwen3-30B-A3B").model.id  # the catalog's entry of that repo, offline


def test_a_gguf_file_page_address_reads_that_quant_of_the_repository(monkeypatch):
    seen = []
    import selfhost_advisor.catalog.resolve as res

    monkeypatch.setattr(res, "resolve_hub", lambda spec, query, **kw: seen.append(spec) or "ok")
    url = "https://huggingface.co/bartowski/Llama-3.3-70B-Instruct-GGUF/blob/main/Llama-3.3-70B-Instruct-Q4_K_M.gguf"
    assert resolve(url) == "ok" and seen == ["bartowski/Llama-3.3-70B-Instruct-GGUF:Q4_K_M"]


@pytest.mark.parametrize("url", [
    "https://huggingface.co/",
    "https://huggingface.co/Qwen",
    "https://huggingface.co/bartowski/Llama-3.3-70B-Instruct-GGUF/blob/main/README.md",
    "https://huggingface.co/Qwen/Qwen3-8B/tree/v2.0",
    "https://huggingface.co/Qwen/Qwen3-8B/discussions/\x1b[2J" + "x" * 5000,
    "https://huggingface.co",
    "https://huggingface.co/datasets/foo/bar",  # offered 'hf:datasets/foo'
    "https://huggingface.co/spaces/foo/bar",
    "https://huggingface.co/models?search=qwen",
])
def test_any_other_hub_address_is_refused_naming_what_to_give(capsys, url):
    code, out, err = _run(capsys, "fit", url)
    _one_line_exit_2(code, out, err, "is not a model repository's page", "hf:")
    assert "\x1b" not in err and len(err) < 400 and "hf:datasets" not in err and "hf:spaces" not in err


@pytest.mark.parametrize("body,said", [
    ("vram: yes\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n", "malformed custom vram 'True'"),  # YAML 1.1: yes is True
    ("vram: sixteen\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n", "malformed custom vram 'sixteen'"),
    ("vram: 16000000000\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n", "as a byte count it is 16GB: write 16GB"),
])
def test_a_spec_file_value_that_is_not_a_size_is_called_malformed_not_negative(capsys, tmp_path, body, said):
    # 'vram must be positive, got True' sent users looking for a minus sign: a word matched the zero pattern
    path = tmp_path / "card.yaml"
    path.write_text(body)
    code, out, err = _run(capsys, "fit", "llama3.1:8b", "--hardware", str(path))
    _one_line_exit_2(code, out, err, said)
    assert "must be positive" not in err


@pytest.mark.parametrize("spec,said", [
    ("custom:vram=16GB,bandwidth=1e400GB/s,fp16=60TFLOPS", "bandwidth='1e400GB/s' is out of range"),
    ("custom:vram=16GB,bandwidth=448GB/s,fp16=1e999TFLOPS", "fp16='1e999TFLOPS' is out of range"),
    ("custom:vram=16GB,bandwidth=-1e400GB/s,fp16=60TFLOPS", "bandwidth must be positive"),
    ("custom:vram=0.0GB,bandwidth=448GB/s,fp16=60TFLOPS", "vram must be positive"),
])
def test_an_overflowing_rate_is_out_of_range_not_negative(capsys, spec, said):
    _one_line_exit_2(*_run(capsys, "fit", "llama3.1:8b", "--hardware", spec), said)


def _vllm_plan(quant: str, **request):
    from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate import vllm as V

    m = machine_from_profile(find_profile("h100-sxm"), 1)
    return V.plan(get_model("llama3.1:8b"), V.get_vllm_quant(quant), m, FitRequest(8192, "vllm", **request))


@pytest.mark.parametrize("util", [1e-300, 0.05, 0.15])
def test_vllm_short_by_counts_the_weights_when_they_alone_exceed_the_share(util):
    # 'no (-1.1 GB)' for the BF16 8B at 0.05 of an H100 (4.25 GB for 16 GB of weights): the shortfall was the KV
    # cache alone because a negative pool was clipped to 0. It is at least what the share cannot hold of weights + KV.
    plan = _vllm_plan("BF16", gpu_memory_utilization=util)
    budget = util * 80 * 10**9  # the H100's 80 GB; CUDA reports less, so this bounds the share from above
    assert plan.placement.fit == "no"
    assert plan.placement.missing_bytes >= plan.memory.weights_bytes + plan.memory.kv_cache_bytes - budget


def test_vllm_short_by_is_the_kv_gap_when_only_the_pool_is_too_small():
    # 100 MiB of fixed pool for a 1.07 GB sequence: short by the KV it lacks, nothing else
    plan = _vllm_plan("AWQ-INT4", kv_cache_memory_bytes=100 * 2**20)
    assert plan.placement.missing_bytes == plan.memory.kv_cache_bytes - 100 * 2**20


def test_a_gguf_with_a_huge_architecture_name_is_one_short_line(capsys, tmp_path):
    from gguf_raw import STR, _s, base_kvs, gguf_bytes

    # a 100,000-character general.architecture was quoted whole in 'GGUF lacks aaaa....block_count' (100 kB line)
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_bytes(base_kvs(**{"general.architecture": (STR, _s("a" * 100_000))})))
    code, out, err = _run(capsys, "fit", str(path))
    _one_line_exit_2(code, out, err, "general.architecture is 100,000 characters long")
    assert len(err) < 400
    path.write_bytes(gguf_bytes(base_kvs(**{"general.type": (STR, _s("t" * 100_000))})))
    code, out, err = _run(capsys, "fit", str(path))
    _one_line_exit_2(code, out, err, "not a model")
    assert len(err) < 400


def test_a_dangling_or_looping_gguf_link_is_not_called_missing(capsys, tmp_path):
    dangling, loop = tmp_path / "dangling.gguf", tmp_path / "loop.gguf"
    dangling.symlink_to(tmp_path / "gone.gguf")
    loop.symlink_to(loop)
    for path in (dangling, loop):
        _one_line_exit_2(*_run(capsys, "fit", str(path)), "is a symbolic link to nothing")
    _one_line_exit_2(*_run(capsys, "fit", str(tmp_path / "absent.gguf")), "no such file", "check the path")


@pytest.mark.parametrize("name,profile", [("7900xtx", "rx-7900-xtx"), ("7900xt", "rx-7900-xt"), ("9070xt", "rx-9070-xt"),
                                          ("6900xt", "rx-6900-xt"), ("7800xt", "rx-7800-xt")])
def test_amd_model_numbers_written_joined_are_the_card_not_a_count(name, profile):
    # '7900xtx' matched the count prefix 'NNNNx rest' and was refused as 7,900 units of 'tx' on main: the common
    # spelling of every RX xx00 XT/XTX failed with 'has more than 64 units'
    from selfhost_advisor.catalog.hardware import parse_spec

    p, count, _ = parse_spec(name)
    assert (p.id, count) == (profile, 1)
    p, count, _ = parse_spec(f"2x{name}")
    assert (p.id, count) == (profile, 2)


def test_a_misspelt_joined_model_number_gets_suggestions_not_a_unit_count(capsys):
    code, out, err = _run(capsys, "fit", "llama3.1:8b", "-H", "7900xfoo")
    _one_line_exit_2(code, out, err, "unknown hardware '7900xfoo'", "rx-7900-xtx")
    # a count written as a count is still a count
    _one_line_exit_2(*_run(capsys, "fit", "llama3.1:8b", "-H", "100x rtx4090"), "more than 64 units")


def test_an_interrupted_measurement_joins_its_threads_before_unwinding():
    # Ctrl-C during 'probe --measure' unwound read_bandwidths while memchr threads still read its ctypes buffer: exit
    # 139 (SIGSEGV) after 'measurement interrupted' in 3 of 11 timed SIGINTs. run_threads now joins every started
    # thread before the interrupt goes on, so whatever the caller frees is no longer read.
    import threading
    import time as _time

    from selfhost_advisor.probe.hostrate import at_barrier, run_threads

    barrier, done = threading.Barrier(3), []

    def work():
        try:
            if at_barrier(barrier):  # past the barrier it reads for a while (or returns: the barrier was broken)
                _time.sleep(0.2)
        finally:
            done.append(1)

    pool = [threading.Thread(target=work) for _ in range(2)]

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_threads(pool, barrier, timed=interrupted)
    assert done == [1, 1] and not any(t.is_alive() for t in pool)  # both had returned when the interrupt went on


def test_an_interrupt_before_every_thread_started_leaves_none_waiting_at_the_barrier():
    # a thread left at the barrier (its partner never started) kept the process alive at exit
    import threading

    from selfhost_advisor.probe.hostrate import at_barrier, run_threads

    barrier, ran = threading.Barrier(2), []

    class NeverStarts(threading.Thread):
        def start(self):
            raise KeyboardInterrupt

    first = threading.Thread(target=lambda: ran.append(at_barrier(barrier)))
    with pytest.raises(KeyboardInterrupt):
        run_threads([first, NeverStarts(target=lambda: None)], barrier)
    first.join(timeout=5)
    assert not first.is_alive() and ran == [False]


@pytest.mark.parametrize("name", ["box.json", "card.yaml", "./saved/Box.JSON"])
def test_hardware_show_of_a_file_says_where_a_file_goes(capsys, name):
    # 'advisor hardware box.json' read 'unknown hardware box.json; ... give a spec: --hardware "custom:..."'
    code, out, err = _run(capsys, "hardware", name)
    _one_line_exit_2(code, out, err, "not a file", "--hardware of fit, serve or cost")


@pytest.mark.parametrize("url", ["https://ollama.com/library/llama3.1:8b", "ollama.com/library/llama3.1:8b/",
                                 "https://www.ollama.com/library/llama3.1:8b?tab=readme"])
def test_an_ollama_library_page_address_is_that_tag(url):
    # was "unknown model 'https://ollama.com/library/llama3.1:8b'; did you mean meta-llama/llama-3.1-8b, ..."
    assert resolve(url).model.id == resolve("llama3.1:8b").model.id


@pytest.mark.parametrize("value", ["https://user:s3cretpw@10.0.0.1", "user:s3cretpw@mirror.example", "http://s3cretpw@"])
def test_an_hf_endpoint_with_credentials_is_refused_without_printing_them(capsys, monkeypatch, value):
    # 'HF_ENDPOINT 'https://user:s3cretpw@10.0.0.1' is not an http(s) URL' printed the password
    monkeypatch.setenv("HF_ENDPOINT", value)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    code, out, err = _run(capsys, "fit", "hf:someone/some-model")
    _one_line_exit_2(code, out, err, "HF_ENDPOINT", "***@")
    assert "s3cretpw" not in err


@pytest.mark.parametrize("name,first", [("rtx 4090ti", "rtx-4090"), ("rtx 4090 super", "rtx-4090"),
                                        ("rtx 5090ti", "rtx-5090"), ("rx 7600 xtx", "rx-7600")])
def test_a_variant_never_sold_suggests_the_card_without_it_first(capsys, name, first):
    # 'rtx 4090ti' suggested rtx-4070-ti, rtx-4060-ti-16gb, rtx-3090-ti: not the RTX 4090 the user has
    code, out, err = _run(capsys, "fit", "llama3.1:8b", "-H", name)
    _one_line_exit_2(code, out, err, f"did you mean {first},")


@pytest.mark.parametrize("name", ["-", "--", "_", "..."])
def test_a_model_name_without_letters_or_digits_gets_no_random_suggestions(capsys, name):
    # 'fit -' (stdin, as other tools take it) was answered 'did you mean stabilityai/stablelm-2-1_6b-chat, ...'
    code, out, err = _run(capsys, "fit", "--", name) if name.startswith("-") else _run(capsys, "fit", name)
    _one_line_exit_2(code, out, err, f"unknown model {name!r}")
    assert "did you mean" not in err


@pytest.mark.parametrize("level,said", [("1e12", "--concurrency 1e12 must be between 1 and 100,000"),
                                        ("\u0668", "is not a whole number"), ("1.5", "is not a whole number"),
                                        ("9" * 44, "must be between 1 and 100,000")])
def test_serve_concurrency_says_out_of_range_for_a_whole_number_and_refuses_unicode_digits(capsys, level, said):
    # '1e12' read 'is not a whole number' (it is one, only too big); int('٨') accepted Arabic-Indic 8 silently
    _one_line_exit_2(*_run(capsys, "serve", "llama3.1:8b", "-H", "h100-sxm", "--concurrency", level), said)
