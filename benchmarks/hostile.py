"""Adversarial harness: throw thousands of hostile inputs at every command and flag, count what goes wrong.

Not a test (tests/test_hostile_*.py are); a search for new failures, rerun when commands or flags are added:
options are read from the click app, so a new flag is fuzzed without editing this file.

    python benchmarks/hostile.py                 # every generated case (about 12,500: hours of CPU), 2 workers
    python benchmarks/hostile.py --fast          # a few cases of every label (~600): minutes; --seed N for others
    python benchmarks/hostile.py --limit 500 --seed 3 --show traceback

Each case runs `advisor ARGV` in a forked child (fast: the parent has imported everything) with its own
environment, stdout/stderr to files, an alarm (hang = killed after --timeout s), an address-space limit and its peak
RSS read back with wait4. Stream and locale cases (closed stdout, /dev/full, `| head -1`, ascii stdout) run as real
subprocesses. A local HTTP server plays a hostile Hugging Face Hub (ignores Range, endless bodies, NaN configs ...).

Classes counted: traceback (an exception escaped, or exit 1 that is not a failed check, or an exit code outside
0-3), internal (exit 3: the top-level guard caught a bug), hang, blowup (peak RSS over --rss-mb or MemoryError),
badjson (--json output that is not strict JSON: Infinity/NaN), escape (a control character from input reached the
terminal), multiline (an exit-2 message that is not one line), longline (an exit-2 line over 1,500 characters: an
input quoted whole), slow (over 2 s of CPU), accepted (exit 0 on a refuse-* file or exit 0 / 1 on a case marked
HOSTILE_EXPECT=2: bad input answered as a report), narrow (a text report under COLUMNS < 20 drawn under 20 wide).
Time is CPU time (wait4's rusage), as tests/cliproc.py's Measured says: wall time on the shared 2-core machine
measures the neighbours (a run at a load average of about 7 counted 171 cases over 2 s of wall time, most of them
commands that take well under a second of CPU). A hang is --timeout s of CPU (SIGPROF) or 5x that of wall time
(SIGALRM: a read that blocks uses no CPU). Stream cases (real subprocesses) still count wall time.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from gguf_raw import ARR, BOOL, F32, F64, I32, STR, U32, U64, _kv, _s, base_kvs, gguf_bytes, nested, tiny_tensors  # noqa: E402

ESC = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mred\x1b[0m\r\x08"
MARKUP = "[bold red]x[/] [/] [link=file:///etc/passwd]y"
BIG = 100_000  # longer than any real value, below Linux's 128 KiB limit on one argv string

NUMS = ["10000000", str(2**63), str(-(2**63) - 1), "1" + "0" * 5000, "1e20", "100000000000000000000", "nan", "inf",
        "-inf", "1e308", "1e309", "-0", "0", "0x10", "1_000", "\u0661\u0662", " 5 ", "", "5e-324", "-1", "3.5",
        "1e-300", "Infinity", "NaN", "9" * 400, "1k", "32k", "max", "99999999999999999999k", "2e9", "1.5B",
        "1e18", "1e19", "24GB", "1e400GB", "0.0000001GB", "1e60TiB"]
STRS = ["", " ", ESC, MARKUP, "x" * BIG, "\u202e\u0000", "\udcff", "rtx4090," * 5000, "Q4_K_M," * 5000,
        "../../etc/passwd", "~", "-", "--json", "hf:", "hf:a/b", "ollama:", "a" * 300 + "/" + "b" * 300,
        "10000000x rtx4090", f"{2**63}x rtx4090", "rtx4090x" + "9" * 5000, "1" + "0" * 5000 + "x rtx4090",
        "nan x rtx4090", "2x", "\u0662x rtx4090", "rtx4090 nvlink nvlink", "2x " + ESC]


# ---------------------------------------------------------------------------------------------------------------- files
INT_KEYS = ["llama.block_count", "llama.embedding_length", "llama.feed_forward_length", "llama.attention.head_count",
            "llama.attention.head_count_kv", "llama.context_length", "llama.vocab_size", "llama.expert_count",
            "llama.expert_used_count", "llama.attention.key_length", "llama.attention.sliding_window",
            "llama.rope.dimension_count", "general.file_type"]


def make_ggufs(d: Path) -> dict[str, Path]:
    g: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        (d / f"{name}.gguf").write_bytes(data)
        g[name] = d / f"{name}.gguf"

    put("ok", gguf_bytes(base_kvs()))
    put("nested", gguf_bytes(base_kvs(), extra_kv=_kv("x.nested", ARR, nested(200_000)), extra_n=1))
    put("nested-name", gguf_bytes(base_kvs(**{"general.name": (ARR, nested(50_000))})))
    for key in INT_KEYS:
        short = key.split(".")[-1]
        put(f"nan-{short}", gguf_bytes(base_kvs(**{key: (F32, struct.pack("<f", float("nan")))})))
        put(f"inf-{short}", gguf_bytes(base_kvs(**{key: (F64, struct.pack("<d", float("inf")))})))
        put(f"big-{short}", gguf_bytes(base_kvs(**{key: (U64, struct.pack("<Q", 2**63 + 5))})))
        put(f"huge-float-{short}", gguf_bytes(base_kvs(**{key: (F64, struct.pack("<d", 1e300))})))
        put(f"nanarr-{short}", gguf_bytes(base_kvs(**{key: (ARR, struct.pack("<IQ", F32, 2) + struct.pack("<ff", 1.0, float("nan")))})))
        put(f"strarr-{short}", gguf_bytes(base_kvs(**{key: (ARR, struct.pack("<IQ", STR, 1) + _s("x"))})))
        put(f"neg-{short}", gguf_bytes(base_kvs(**{key: (I32, struct.pack("<i", -7))})))
    put("esc-name", gguf_bytes(base_kvs(**{"general.name": (STR, _s(ESC))})))
    put("markup-name", gguf_bytes(base_kvs(**{"general.name": (STR, _s(MARKUP))})))
    put("esc-arch", gguf_bytes(base_kvs(**{"general.architecture": (STR, _s("llama" + ESC))})))
    put("big-name", gguf_bytes(base_kvs(**{"general.name": (STR, _s("n" * (40 << 20)))})))
    # ~7x growth: many short-string arrays of KEEP_ARRAY_ITEMS (4096) items, kept as Python lists of str
    arr = struct.pack("<IQ", STR, 4096) + b"".join(_s(f"{i % 100:02d}") for i in range(4096))
    n = 1500  # 60 MB of file
    put("growth", gguf_bytes(base_kvs(), extra_kv=b"".join(_kv(f"x.a{i}", ARR, arr) for i in range(n)), extra_n=n))
    arr8 = struct.pack("<IQ", 0, 4096) + bytes(range(256)) * 16
    put("growth-u8", gguf_bytes(base_kvs(), extra_kv=b"".join(_kv(f"x.b{i}", ARR, arr8) for i in range(n * 3)), extra_n=n * 3))
    many = [(f"t{i}", (32,), 8, 34) for i in range(600_000)]
    put("many-tensors", gguf_bytes(base_kvs(), tensors=tiny_tensors() + many))
    put("claims-many", gguf_bytes(base_kvs(), n_tensors_claim=(1 << 24)))
    put("many-kv", b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 24) + b"".join(_kv(f"k{i}", U32, b"\0\0\0\0") for i in range(2_000_000)))
    put("dims", gguf_bytes(base_kvs(), tensors=[("a", (2**31, 2**31, 2**31, 2**31), 0, 0)]))
    put("zero-dim", gguf_bytes(base_kvs(), tensors=tiny_tensors() + [("z", (0, 5), 0, 0)]))
    put("bool-ints", gguf_bytes(base_kvs(**{"llama.block_count": (BOOL, b"\x01")})))
    put("no-arch", gguf_bytes(base_kvs(**{"general.architecture": None})))
    put("align", gguf_bytes(base_kvs(**{"general.alignment": (U64, struct.pack("<Q", 2**62))})))
    return g


def make_probes(d: Path) -> dict[str, Path]:
    p: dict[str, Path] = {}
    dev = {"vendor": "nvidia", "name": "RTX", "memory_bytes": 24 * 10**9, "bandwidth_bytes_per_s": 10**12}
    base = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [dev]}

    def put(name: str, text: str) -> None:
        (d / f"{name}.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        p[name] = d / f"{name}.json"

    put("ok", json.dumps(base))
    put("devices-550k", json.dumps({**base, "devices": [{"memory_bytes": 1}] * 550_000}))
    put("others-550k", json.dumps({**base, "other_devices": [{}] * 550_000}))
    put("mig-550k", json.dumps({**base, "devices": [{**dev, "details": {"mig_instances": [{"memory_bytes": 1}] * 500_000}}]}))
    put("flags-1m", json.dumps({**base, "cpu": {"flags": ["x"] * 1_000_000}}))
    put("warnings-1m", json.dumps({**base, "warnings": ["w"] * 1_000_000}))
    put("esc-names", json.dumps({**base, "name": ESC, "devices": [{**dev, "name": ESC, "vendor": ESC}], "cpu": {"name": ESC},
                                 "warnings": [ESC], "os": ESC, "interconnect": ESC}))
    put("markup-names", json.dumps({**base, "name": MARKUP, "devices": [{**dev, "name": MARKUP}], "cpu": {"name": MARKUP},
                                    "warnings": [MARKUP]}))
    put("nan", '{"schema_version": "1.0.0", "ram_bytes": 1e9, "devices": [{"memory_bytes": 1e9, "fp16_flops": NaN, '
               '"bandwidth_bytes_per_s": 1e12, "details": {"power_limit_watts": Infinity, "sm_count": 1e300}}], "cpu_flops": -Infinity}')
    put("floaty", json.dumps({**base, "devices": [{**dev, "memory_bytes": 24e9 + 0.5}], "ram_bytes": 1e-300}))
    put("big-name", json.dumps({**base, "name": "n" * (15 << 20)}))
    put("deep-dev", json.dumps({**base, "devices": [{**dev, "details": json.loads("[" * 900 + "]" * 900)}]}))
    put("version-big", json.dumps({**base, "schema_version": "9" * 5000}))
    put("version-uni", json.dumps({**base, "schema_version": "\u0661.0"}))
    put("bools", json.dumps({**base, "ram_bytes": True, "devices": [{**dev, "memory_bytes": True}]}))
    put("zero-mem", json.dumps({**base, "ram_bytes": 0, "devices": [{"memory_bytes": 1, "bandwidth_bytes_per_s": 1}]}))
    put("strs", json.dumps({**base, "devices": [{**dev, "details": {"index": "7", "uuid": 5, "pcie_generation": 1e300}}]}))
    return p


def make_ollama(d: Path, ggufs: dict[str, Path]) -> dict[str, Path]:
    """One Ollama folder per broken blob or manifest, each holding `bad:latest` and a good `good:latest`."""
    out = {}
    ok_blob = ggufs["ok"].read_bytes()

    def folder(name: str, blob_kind: str, manifest_kind: str = "ok") -> None:
        root = d / f"ollama-{name}"
        for model, kind, mkind in (("good", "ok", "ok"), ("bad", blob_kind, manifest_kind)):
            digest = f"{abs(hash((name, model))):064x}"[-64:]
            blob = root / "blobs" / f"sha256-{digest}"
            blob.parent.mkdir(parents=True, exist_ok=True)
            if kind == "ok":
                blob.write_bytes(ok_blob)
            elif kind == "fifo":
                os.mkfifo(blob)
            elif kind == "dir":
                blob.mkdir()
            elif kind == "zero":
                blob.symlink_to("/dev/zero")
            elif kind == "sparse":
                with open(blob, "wb") as fh:
                    fh.truncate(50 << 30)
            elif kind == "loop":
                blob.symlink_to(blob)
            elif kind in ggufs:
                blob.symlink_to(ggufs[kind])
            man = root / "manifests" / "registry.ollama.ai" / "library" / model / "latest"
            man.parent.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"}]})
            if mkind == "ok":
                man.write_text(body)
            elif mkind == "fifo":
                os.mkfifo(man)
            elif mkind == "sparse":
                with open(man, "wb") as fh:
                    fh.truncate(20 << 30)
            elif mkind == "deep":
                man.write_text("[" * 200_000)
            elif mkind == "zero":
                man.symlink_to("/dev/zero")
            elif mkind == "esc":
                esc_man = man.parent.parent / ("bad" + ESC.replace("/", "")) / "latest"
                esc_man.parent.mkdir(parents=True, exist_ok=True)
                esc_man.write_text(body)
                man.write_text(body)
        out[name] = root

    for kind in ("fifo", "dir", "zero", "sparse", "loop", "nested", "nan-block_count", "inf-context_length",
                 "growth", "many-tensors", "esc-name", "markup-name", "big-name", "claims-many"):
        folder(f"blob-{kind}", kind)
    for mkind in ("fifo", "sparse", "deep", "zero", "esc"):
        folder(f"manifest-{mkind}", "ok", mkind)
    return out


def make_paths(d: Path) -> dict[str, str]:
    os.mkfifo(d / "fifo.json")
    os.mkfifo(d / "fifo.gguf")
    os.mkfifo(d / "fifo.svg")
    (d / "dir.json").mkdir()
    (d / "dir.gguf").mkdir()
    (d / "dir.svg").mkdir()
    for n in ("sparse.json", "sparse.gguf"):
        with open(d / n, "wb") as fh:
            fh.truncate(20 << 30)
    (d / "unreadable.json").write_text("{}")
    (d / "unreadable.json").chmod(0)
    (d / "loop.json").symlink_to(d / "loop.json")
    (d / "zero.json").symlink_to("/dev/zero")
    (d / "zero.gguf").symlink_to("/dev/zero")
    (d / "urandom.gguf").symlink_to("/dev/urandom")
    (d / "full.svg").symlink_to("/dev/full")
    (d / "ro").mkdir()
    (d / "ro").chmod(0o500)
    return {
        "fifo.json": "./fifo.json", "fifo.gguf": "./fifo.gguf", "fifo.svg": "./fifo.svg", "dir.json": "./dir.json",
        "dir.gguf": "./dir.gguf", "dir.svg": "./dir.svg", "sparse.json": "./sparse.json", "sparse.gguf": "./sparse.gguf",
        "unreadable": "./unreadable.json", "loop": "./loop.json", "zero.json": "./zero.json",
        "zero.gguf": "./zero.gguf", "urandom.gguf": "./urandom.gguf", "devzero": "/dev/zero", "devstdin": "/dev/stdin",
        "devfull.svg": "./full.svg", "ro.svg": "./ro/c.svg", "longpath": "./" + "a" * 5000 + ".json",
        "nondir": "./sparse.json/x.json", "devnull": "/dev/null", "proc": "/proc/self/mem",
    }


# ------------------------------------------------------------------------------------------------- custom specs
# The spec-sheet forms of --hardware (catalog/custom_hw.py: a GPU; catalog/custom_cpu.py: a CPU-only box), inline and
# as YAML / JSON files: each key in turn given a hostile value in an otherwise good spec (session 11).
CPU_SPEC = {"cores": "16", "clock": "4.5GHz", "simd": "avx512", "ram": "64GB", "channels": "2", "mts": "5600"}
CPU_EXTRA = {"bandwidth": "89.6GB/s", "flops_per_cycle": "64", "sockets": "2", "thread_bandwidth": "15GB/s",
             "name": "box", "e_cores": "8", "e_clock": "3GHz", "e_flops_per_cycle": "16", "cpu_bandwidth": "44GB/s",
             "build_date": "2024-11"}
GPU_SPEC = {"vram": "16GB", "bandwidth": "448GB/s", "fp16": "60TFLOPS"}
GPU_EXTRA = {"count": "2", "backend": "rocm", "ram": "64GB", "name": "card", "unified": "true", "cuda_cores": "16384",
             "boost_mhz": "2520", "fp16_acc16": "120TFLOPS", "tdp": "350W", "price": "2500"}
SPEC_VALUES = ["0", "-1", "nan", "inf", "-inf", "1e999", "", " ", "9" * 5000, "x" * 20_000, ESC, MARKUP, "\u0661",
               "1e-300", "0x10", "true", "4,5", "a=b", "5GB/s/s", "1e18TB/s"]


def _inline(fields: dict[str, str]) -> str:
    return "custom:" + ",".join(f"{k}={v}" for k, v in fields.items())


def custom_specs() -> list[str]:
    out = []
    for base, extra in ((CPU_SPEC, CPU_EXTRA), (GPU_SPEC, GPU_EXTRA)):
        for key in list(base) + list(extra):
            for v in SPEC_VALUES:
                fields = dict(base)
                if key == "bandwidth" and base is CPU_SPEC:  # bandwidth replaces channels and mts
                    fields.pop("channels"); fields.pop("mts")
                if key.startswith("e_") and key != "e_cores":  # e_clock, e_flops_per_cycle need e_cores
                    fields["e_cores"] = "4"
                fields[key] = v
                out.append(_inline(fields))
        out += [_inline(base) + f",{k}=1" for k in ("bogus", ESC, "x" * 5000, "", "CORES", "Vram")]
        out += [_inline(base) + "," + next(iter(base)) + "=999", _inline(base) + "," + ",".join(["name=x"] * 20000),
                "custom:" + ",".join([""] * 5000), "custom:" + "=" * 5000, "CUSTOM:" + _inline(base)[7:],
                _inline(base) + ",,,", _inline({**base, "name": "a" * 1000}), _inline(base).replace("=", "==")]
    return out


def make_specs_cached(d: Path) -> dict[str, Path]:
    (d / "specs").mkdir(exist_ok=True)
    return make_specs(d / "specs")


def make_specs(d: Path) -> dict[str, Path]:
    """Spec sheets as files: YAML and JSON with duplicate keys, non-scalar values, alias bombs, deep nesting,
    NaN / huge numbers, and the non-files (a directory, a FIFO, a 1 GB sparse file, /dev/zero)."""
    s: dict[str, Path] = {}
    cpu_yaml = "".join(f"{k}: {v}\n" for k, v in CPU_SPEC.items())
    gpu_yaml = "".join(f"{k}: {v}\n" for k, v in GPU_SPEC.items())
    laughs = "[" + ", ".join(["&a0 [x,x,x,x,x,x,x,x,x]"] + [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]"
                                                           for i in range(1, 10)]) + "]"

    def put(name: str, text: str) -> None:
        (d / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        s[name] = d / name

    for base_name, base, fields in (("cpu", cpu_yaml, CPU_SPEC), ("gpu", gpu_yaml, GPU_SPEC)):
        put(f"{base_name}-ok.yaml", base)
        put(f"{base_name}-ok.json", json.dumps(fields))
        for key in fields:
            put(f"{base_name}-laughs-{key}.yaml", base.replace(f"{key}: {fields[key]}\n", "") + f"{key}: {laughs}\n")
            put(f"{base_name}-dup-{key}.yaml", base + f"{key}: {fields[key]}\n")
            put(f"{base_name}-dup-{key}.json", json.dumps(fields)[:-1] + f', "{key}": "1"}}')
            put(f"{base_name}-nan-{key}.yaml", base.replace(f"{key}: {fields[key]}", f"{key}: .nan"))
            put(f"{base_name}-inf-{key}.yaml", base.replace(f"{key}: {fields[key]}", f"{key}: -.inf"))
            put(f"{base_name}-nan-{key}.json", json.dumps({**fields, key: float("nan")}))
            put(f"{base_name}-big-{key}.json", json.dumps({**fields, key: 2 ** 4000}))
            put(f"{base_name}-list-{key}.yaml", base.replace(f"{key}: {fields[key]}", f"{key}: [1, 2]"))
            put(f"{base_name}-map-{key}.json", json.dumps({**fields, key: {"a": [1]}}))
            put(f"{base_name}-date-{key}.yaml", base.replace(f"{key}: {fields[key]}", f"{key}: 2001-12-14"))
            put(f"{base_name}-bin-{key}.yaml", base.replace(f"{key}: {fields[key]}", f"{key}: !!binary aGVsbG8="))
        put(f"{base_name}-laughs-name.yaml", base + f"name: {laughs}\n")
        put(f"{base_name}-esc-name.yaml", base + f"name: {json.dumps(ESC)}\n")
        put(f"{base_name}-esc-key.yaml", base + f"{json.dumps(ESC)}: 1\n")
        put(f"{base_name}-deep.yaml", base + "name: " + "[" * 50_000 + "]" * 50_000 + "\n")
        put(f"{base_name}-digits.yaml", base + "count: " + "9" * 5000 + "\n")
        put(f"{base_name}-keys-100k.yaml", base + "".join(f"k{i}: {i}\n" for i in range(60_000)))
        put(f"{base_name}-case-dup.yaml", base + base.upper())
        put(f"{base_name}-tab.yaml", base.replace(": ", ":\t"))
        put(f"{base_name}-python-tag.yaml", base + "name: !!python/object/apply:os.system ['echo pwned']\n")
    put("spec-deep-open.yaml", "[" * 300_000)
    put("spec-list.yaml", "- cores: 16\n")
    put("spec-scalar.yaml", "16\n")
    put("spec-empty.yaml", "")
    put("spec-bom.yaml", "\ufeff" + cpu_yaml)
    put("spec-surrogate.yaml", cpu_yaml + "name: \udcff\n")
    put("spec-nul.yaml", cpu_yaml + "name: a\x00b\n")
    (d / "spec-dir.yaml").mkdir()
    os.mkfifo(d / "spec-fifo.yaml")
    with open(d / "spec-sparse.yaml", "wb") as fh:
        fh.truncate(1 << 30)
    (d / "spec-zero.yaml").symlink_to("/dev/zero")
    s.update({n: d / n for n in ("spec-dir.yaml", "spec-fifo.yaml", "spec-sparse.yaml", "spec-zero.yaml")})
    return s


@functools.lru_cache(maxsize=1)
def new_arch_configs() -> list[dict]:
    """config.json of this session's new architectures (MiMo-V2 mimo2, Ling 2.0 bailingmoe2, Trinity afmoe; the
    verbatim configs of tests/test_newarch_session11.py), each key in turn hostile; served as hostile/cfgx-N."""
    import test_newarch_session11 as t

    out, long = [], [1] * 200_000
    for name in ("MIMO_V2_FLASH", "LING_MINI", "LING_FLASH", "TRINITY_NANO"):
        cfg = getattr(t, name)
        for key in cfg:
            for v in (0, -1, float("nan"), 1e300, 2 ** 70, True, "x", None, [0] * 5, long, {"a": 1}):
                out.append({**cfg, key: v})
    return out


# ------------------------------------------------------------------------------------------------------ session 12
# What landed in session 12: cost on spec-sheet boxes (price= / tdp= keys, --gpu-price / --host-price / --rent-price),
# a CPU spec's build_date, the new catalog families and the MI50 32GB / Tesla M40 / K80 names.
BUILD_DATES = ["2024-11", "2024-11-08", "2024-02-30", "2022-12-31", "2101-01-01", "0000-00", "9999-99-99", "2024-1",
               "2024-11-08T00:00", "20241108", "2024/11/08", "\uff12\uff10\uff12\uff14-11", "\u0662\u0660\u0662\u0664-11",
               "2024-11-08,build_date=2025-01", "9" * 5000 + "-1", "2024-" + "1" * 5000, ESC, MARKUP, "nan", "1e9"]
PRICES = ["0", "-1", "nan", "inf", "-inf", "1e400", "1e-300", "5e-324", "1e7", "10000001", "1e15", "1e16", "", " ",
          "$2500", "2,500", "0x10", "\u0661\u0662", "9" * 5000, "2500"]
NEW_MODELS = ["minimax-m3", "minimax-m3:428b", "MiniMaxAI/MiniMax-M3", "devstral-2", "devstral-small-2:24b",
              "mistralai/Devstral-2-123B-Instruct-2512", "laguna-s-2.1", "poolside/Laguna-S-2.1", "gpt-oss-safeguard-20b",
              "openai/gpt-oss-safeguard-120b", "step-3.7-flash", "mistral-large-3", "kimi-k3", "deepseek-v4"]
NEW_GPUS = ["MI50 32GB", "mi50-32gb", "Radeon Instinct MI50 32GB", "mi50", "Tesla M40", "M40 24GB", "tesla m40 12gb",
            "K80", "Tesla K80", "k80 24gb", "2x K80", "65x k80"]


def odd_forms(name: str) -> list[str]:
    """A name as people (and hostile files) write it: case, spaces, look-alike and invisible characters, escapes."""
    return [name, name.upper(), f"  {name}  ", name.replace("-", " "), name.replace("-", "_"), name.replace("-", "\u2010"),
            name + "\u200b", "\u202e" + name, name + ESC, name + MARKUP, name.replace("i", "\u0130"), name + ":",
            name + ":latest", name + "@sha256:" + "0" * 64, "".join(chr(0xFEE0 + ord(c)) if "!" <= c <= "~" else c for c in name),
            "hf:" + name, name + "\x00", name * 400]


def session12_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    gpu = _inline(GPU_SPEC)
    cpu = _inline(CPU_SPEC)
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    for v in BUILD_DATES:
        for t in (["fit", "llama3.1:8b", "-q", "Q4_0"], ["serve", "llama3.1:8b", "--engine", "llamacpp"],
                  ["models", "--installed"]):
            out.append(("s12 build_date", t + ["--hardware", f"{cpu},build_date={v}"] + j(), {}))
    (d / "s12").mkdir(exist_ok=True)
    cpu_yaml = "".join(f"{k}: {v}\n" for k, v in CPU_SPEC.items())
    for i, v in enumerate(["2024-11-08", "2024-02-30", "2024-11-08 10:00:00", "2001-12-14t21:59:43.10-05:00", "!!timestamp x",
                           "[2024, 11]", "{y: 2024}", ".nan", "2024", "'2024-11'", "~", "*a", "&a 2024-11"]):
        f = d / "s12" / f"date{i}.yaml"
        f.write_text(cpu_yaml + f"build_date: {v}\n")
        out.append(("s12 build_date file", ["fit", "llama3.1:8b", "--hardware", str(f)] + j(), {}))
    for flag in ("--gpu-price", "--host-price", "--rent-price"):
        for v in PRICES:
            for spec in (gpu, f"{gpu},price=2500", "rtx4090", f"{gpu},count=9"):
                extra = ["--gpu-price", "2000"] if flag != "--gpu-price" and "price" not in spec and spec != "rtx4090" else []
                out.append((f"s12 cost {flag}", ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", spec, flag, v] + extra + j(), {}))
    for v in NUMS + PRICES:  # the measured rates go together: alone, each stops at 'go together' (1e-10 was exit 3)
        for other in ("6000", v):
            out.append(("s12 cost measured", ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", rng.choice(["rtx4090", f"{gpu},price=2500"]),
                                              "--decode-tps", v, "--prefill-tps", other] + j(), {}))
    for key in ("price", "tdp"):
        for v in PRICES + SPEC_VALUES + ["350W", "0.35kW", "1e3kw", "350 W", "$2,500", "2.5k"]:
            out.append((f"s12 cost {key}=", ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", f"{gpu},price=2500,{key}={v}"] + j(), {}))
    sheets = [f"{gpu},price=2500", f"{gpu},price=4000", f"{gpu},price=2500,name=rtx-4090", "rtx4090", f"2x {gpu}",
              f"{gpu},price=2500,backend=rocm", f"{gpu},price=2500,unified=true", f"{gpu},price=2500,backend=metal",
              f"{cpu}", f"{cpu},build_date=2024-11"]
    for _ in range(60):
        pick = rng.sample(sheets, rng.randint(1, 3))
        out.append(("s12 cost boxes", ["cost", "-t", "1e9", "-m", rng.choice(["llama3.1:8b", "minimax-m3", "devstral-2"])]
                    + [a for s in pick for a in ("-H", s)] + j(), {}))
    for m in NEW_MODELS:
        for form in odd_forms(m):
            t = rng.choice([["fit", form, "--vram", "24GB"], ["cost", "-t", "1e9", "-m", form],
                            ["serve", form, "-H", "2x h100-sxm"], ["hardware", "--for", form], ["models", "--search", form],
                            ["fit", form, "--engine", rng.choice(["vllm", "mlx", "ollama"]), "-H", "m4-max-128gb"]])
            out.append(("s12 new model", t + j(), {}))
    # every engine in the registry on every command that takes --engine, on Apple / CPU / GPU boxes: the fuzzer gave
    # --engine only hostile strings, so `serve --engine mlx` (exit 3 for every model) was never tried
    from selfhost_advisor.engines import engine_names

    for eng in engine_names():
        for m in ["llama3.1:8b", "qwen3:30b"] + NEW_MODELS[::3]:
            for hw in ["m4-max-128gb", "rtx4090", "2x h100-sxm", cpu, f"{gpu},price=2500"]:
                t = rng.choice([["fit", m, "-H", hw], ["serve", m, "-H", hw], ["cost", "-t", "1e9", "-m", m, "-H", hw],
                                ["hardware", "--for", m], ["models", "--fits", hw]])
                out.append(("s12 engine", t + ["--engine", eng] + j(), {}))
    for h in NEW_GPUS:
        for form in odd_forms(h)[:12]:
            t = rng.choice([["fit", "llama3.1:8b", "-H", form], ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", form],
                            ["hardware", "show", form], ["serve", "llama3.1:8b", "-H", form]])
            out.append(("s12 new gpu", t + j(), {}))
    return out


# ------------------------------------------------------------------------------------------------------ session 13
# What landed in session 13: Intel's Vulkan driver (words after a GPU's name, driver= in a spec sheet, fit's own
# '(Vulkan, Mesa ANV)' read back), --memory total|free and --gpu-memory on every kind of machine, and names with '+'
# ('ai max+ 395') beside mixed GPUs.
DRIVERS = ["mesa", "windows", "anv", "linux", "MESA", "", " ", "radv", "nvidia", ESC, MARKUP, "mesa,driver=windows",
           "9" * 5000, "\u0430nv", "mesa windows", "x" * 20_000]
UNIFIED = ["m4-max-128gb", "ai max+ 395 64gb", "dgx spark", "core ultra 7 258v", "radeon 780m ddr5-5600 32gb"]


def session13_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    gpu = _inline(GPU_SPEC)
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    cmds = lambda hw: [["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", hw], ["serve", "llama3.1:8b", "-H", hw],  # noqa: E731
                       ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", hw], ["models", "--fits", hw],
                       ["hardware", "show", hw]]
    for v in DRIVERS:
        for backend in ("vulkan", "cuda", "sycl", ""):
            spec = f"{gpu},driver={v}" + (f",backend={backend}" if backend else "")
            out.append(("s13 driver=", rng.choice(cmds(spec)[:4]) + j(), {}))
        for name in ("arc b580", "rtx 4090", "m4 max 64gb", "2x arc b580", "arc a770"):
            for form in (f"{name} vulkan {v}", f"{name} ({v})", f"{name} (vulkan, {v})", f"{name} vulkan {v} x2",
                         f"{name} (Vulkan, {v} driver)+rtx4090"):
                out.append(("s13 vulkan words", rng.choice(cmds(form)) + j(), {}))
    (d / "s13").mkdir(exist_ok=True)
    for i, v in enumerate(["mesa", "windows", "[mesa]", "{a: 1}", ".nan", "~", "!!binary bWVzYQ==", "&a mesa", "true"]):
        f = d / "s13" / f"driver{i}.yaml"
        f.write_text("".join(f"{k}: {x}\n" for k, x in GPU_SPEC.items()) + f"backend: vulkan\ndriver: {v}\n")
        out.append(("s13 driver file", rng.choice(cmds(str(f))[:4]) + j(), {}))
    for form in odd_forms("ai max+ 395") + ["ai max+", "+ai max 395", "ai max++ 395", "ai max+ 395+rtx4090",
                                             "rtx4090+ai max+ 395 64gb", "+".join(["ai max+ 395"] * 100)]:
        out.append(("s13 plus name", rng.choice(cmds(form)) + j(), {}))
    for hw in UNIFIED + [f"{gpu},unified=true", f"{gpu},backend=metal", "rtx4090", f"{gpu},unified=true,backend=rocm"]:
        for v in NUMS[:20] + ["20GB", "0.5GB", "1B", "200TB"]:
            out.append(("s13 --gpu-memory", ["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", hw, "--gpu-memory", v] + j(), {}))
        for ram in ("64GB", "1B", "0GB"):
            out.append(("s13 --ram unified", rng.choice([["fit", "llama3.1:8b", "-H", hw], ["models", "--fits", hw]])
                        + ["--ram", ram] + j(), {}))
        for mem in ("free", "total", "FREE", "", ESC):
            out.append(("s13 --memory", ["fit", "llama3.1:8b", "-H", hw, "--memory", mem] + j(), {}))
    return out


# ------------------------------------------------------------------------------------------------------ session 18
# Session 18 (engine code health and bad input): GGUF headers broken at every field, probe JSON of other schema
# versions and other commands' --json, spec-sheet spellings, numbers str.isdigit() passes but int() refuses ('²'),
# escape sequences in file names, link and backend words in either order, and (run_streams) closed pipes and locales.
ODD_DIGITS = ["²", "12²", "¹²⁰", "١٢", "１２", "Ⅻ", "½", "+5", "5.", ".5", "1_0", "1,000", "∞", "٫5", "0b101", "1e308k",
              "18446744073709551616", "9" * 19 + "k", "0x" + "f" * 20, "1e-400", "-0.0", "1e3000", "1" + "0" * 30]


def _corrupt_ggufs(d: Path) -> dict[str, Path]:
    """A valid tiny GGUF broken one field at a time (ggml docs/gguf.md v3 layout): cut short anywhere, another magic or
    version, lengths and counts past the file, unknown value / tensor types, odd alignment, names that are not text."""
    g: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        (d / f"{name}.gguf").write_bytes(data)
        g[name] = d / f"{name}.gguf"

    ok = gguf_bytes(base_kvs())
    data_start = len(ok) - sum(-(-nb // 32) * 32 for *_, nb in tiny_tensors())
    for cut in (0, 3, 4, 7, 8, 15, 16, 23, 24, 30, 60, 200, data_start - 40, data_start - 1, data_start + 7):
        put(f"cut-{cut}", ok[:cut])
    for name, head in (("be-version", b"GGUF" + struct.pack(">I", 3)), ("v1", b"GGUF" + struct.pack("<I", 1)),
                       ("v2", b"GGUF" + struct.pack("<I", 2)), ("v4", b"GGUF" + struct.pack("<I", 4)),
                       ("v0", b"GGUF" + struct.pack("<I", 0)), ("vmax", b"GGUF" + struct.pack("<I", 2**32 - 1)),
                       ("magic-fugg", b"FUGG" + ok[4:8]), ("magic-ggjt", b"ggjt" + ok[4:8]),
                       ("magic-lower", b"gguf" + ok[4:8])):
        put(name, head + ok[8:])
    put("claims-kv-2e63", ok[:16] + struct.pack("<Q", 2**63) + ok[24:])
    kv_start = 24
    put("key-len-huge", ok[:kv_start] + struct.pack("<Q", 2**62) + ok[kv_start + 8:])
    put("key-len-past-eof", ok[:kv_start] + struct.pack("<Q", len(ok) + 5) + ok[kv_start + 8:])
    first_key = len("general.architecture")
    vtype_at = kv_start + 8 + first_key
    for t in (13, 99, 2**31, 2**32 - 1):
        put(f"vtype-{t}", ok[:vtype_at] + struct.pack("<I", t) + ok[vtype_at + 4:])
    put("str-len-huge", ok[:vtype_at + 4] + struct.pack("<Q", 2**40) + ok[vtype_at + 12:])
    for key, payload in (("arr-type-bad", struct.pack("<IQ", 77, 2) + b"\0" * 8),
                         ("arr-count-huge", struct.pack("<IQ", U32, 2**62)),
                         ("arr-of-str-past-eof", struct.pack("<IQ", STR, 3) + _s("x"))):
        put(key, gguf_bytes(base_kvs(), extra_kv=_kv("x.arr", ARR, payload), extra_n=1))
    for name, kvs in (("arch-invalid-utf8", {"general.architecture": (STR, _s(b"ll\xffama"))}),
                      ("arch-empty", {"general.architecture": (STR, _s(""))}),
                      ("arch-unknown", {"general.architecture": (STR, _s("notanarch"))}),
                      ("arch-nul", {"general.architecture": (STR, _s("llama\x00"))}),
                      ("arch-u32", {"general.architecture": (U32, struct.pack("<I", 7))}),
                      ("name-invalid-utf8", {"general.name": (STR, _s(b"\xc3\x28 \xed\xa0\x80"))}),
                      ("name-esc", {"general.name": (STR, _s("\x1b]52;c;cHduZWQ=\x07\x1b[?1049h" + "\u202e"))}),
                      ("align-0", {"general.alignment": (U32, struct.pack("<I", 0))}),
                      ("align-3", {"general.alignment": (U32, struct.pack("<I", 3))}),
                      ("align-2e31", {"general.alignment": (U32, struct.pack("<I", 2**31))}),
                      ("file-type-9999", {"general.file_type": (U32, struct.pack("<I", 9999))}),
                      ("file-type-neg", {"general.file_type": (I32, struct.pack("<i", -1))}),
                      ("heads-0", {"llama.attention.head_count": (U32, struct.pack("<I", 0))}),
                      ("kv-heads-0", {"llama.attention.head_count_kv": (U32, struct.pack("<I", 0))}),
                      ("kv-heads-gt-heads", {"llama.attention.head_count_kv": (U32, struct.pack("<I", 64))}),
                      ("blocks-0", {"llama.block_count": (U32, struct.pack("<I", 0))}),
                      ("ctx-0", {"llama.context_length": (U32, struct.pack("<I", 0))}),
                      ("embd-0", {"llama.embedding_length": (U32, struct.pack("<I", 0))})):
        put(name, gguf_bytes(base_kvs(**kvs)))
    dup = _kv("general.architecture", STR, _s("qwen2"))
    put("dup-key", gguf_bytes(base_kvs(), extra_kv=dup, extra_n=1))
    t = tiny_tensors()
    put("dup-tensor", gguf_bytes(base_kvs(), tensors=t + [t[1]]))
    for name, fix in (("blk-superscript", lambda n: n.replace("blk.1.", "blk.\u00b9.")),
                      ("blk-fullwidth", lambda n: n.replace("blk.1.", "blk.\uff11.")),
                      ("blk-arabic", lambda n: n.replace("blk.1.", "blk.\u0661.")),
                      ("blk-negative", lambda n: n.replace("blk.1.", "blk.-1.")),
                      ("blk-huge", lambda n: n.replace("blk.1.", "blk." + "9" * 30 + ".")),
                      ("blk-esc", lambda n: n.replace("blk.1.", "blk.\x1b[2J."))):
        put(name, gguf_bytes(base_kvs(), tensors=[(fix(n), sh, ty, nb) for n, sh, ty, nb in t]))
    for name, tensor in (("tensor-type-99", ("x", (32,), 99, 0)), ("tensor-type-removed", ("x", (32,), 4, 0)),
                         ("tensor-type-2e31", ("x", (32,), 2**31, 0)), ("tensor-ndims-0", ("x", (), 0, 0)),
                         ("tensor-ndims-5", ("x", (1, 1, 1, 1, 1), 0, 4)),
                         ("tensor-dim-neg", ("x", (2**64 - 1,), 0, 0))):
        put(name, gguf_bytes(base_kvs(), tensors=t + [tensor]))
    bad_off = bytearray(ok)
    idx = bytes(ok).rfind(b"output.weight")
    if idx > 0:
        at = idx + len(b"output.weight") + 4 + 2 * 8 + 4  # name, n_dims, 2 dims, type: then the offset
        bad_off[at:at + 8] = struct.pack("<Q", 2**63)
        put("tensor-offset-huge", bytes(bad_off))
        bad_off[at:at + 8] = struct.pack("<Q", 7)
        put("tensor-offset-unaligned", bytes(bad_off))
    return g


def _other_schema_probes(d: Path) -> dict[str, Path]:
    """Probe JSON from other schema versions and shapes, and other commands' --json given as --hardware."""
    p: dict[str, Path] = {}
    dev = {"vendor": "nvidia", "name": "RTX", "memory_bytes": 24 * 10**9, "bandwidth_bytes_per_s": 10**12}
    base = {"schema_version": "1.20.0", "ram_bytes": 64 * 10**9, "devices": [dev]}

    def put(name: str, obj) -> None:
        (d / f"{name}.json").write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8",
                                        errors="surrogatepass")
        p[name] = d / f"{name}.json"

    for v in ("0.9.0", "2.0.0", "1", "1.99.0", "v1.0.0", "1.0.0-rc1", " 1.0", "", "²", "1²", "١.0", "１.0", "-1.0",
              "1." + "9" * 5000, "1.0\x1b[31m", 1, 1.0, None, True, ["1.0.0"], {"major": 1}):
        put(f"schema-{abs(hash(repr(v))) % 10**8}", {**base, "schema_version": v})
    put("schema-missing", {k: v for k, v in base.items() if k != "schema_version"})
    put("old-field-names", {"schema_version": "1.0.0", "ram": "64GB", "gpus": [{"name": "RTX", "vram_bytes": 24e9}]})
    put("devices-dict", {**base, "devices": {"0": dev}})
    put("devices-null", {**base, "devices": None})
    put("devices-str", {**base, "devices": "rtx4090"})
    put("device-mem-str", {**base, "devices": [{**dev, "memory_bytes": "24GB"}]})
    put("device-mem-neg", {**base, "devices": [{**dev, "memory_bytes": -1}]})
    put("device-mem-2e63", {**base, "devices": [{**dev, "memory_bytes": 2**63}]})
    put("device-backend-odd", {**base, "devices": [{**dev, "backend": "\x1b[2Jvulkan", "vendor": "ati"}]})
    put("measured-odd", {**base, "measured": {"read_bytes_per_s": "fast", "matmul_flops": [1], "threads": -4}})
    put("measured-list", {**base, "measured": [1, 2]})
    put("fit-json", {"schema_version": "1.20.0", "model": {"id": "llama3.1:8b"}, "hardware": {"name": "rtx-4090"},
                     "options": [], "recommended": None})
    put("serve-json", {"schema_version": "1.20.0", "workload": {}, "hardware": {}, "fits": True})
    put("cost-json", {"schema_version": "1.20.0", "monthly_tokens": 10**9, "self_host": []})
    put("models-json", {"schema_version": "1.20.0", "query": None, "models": []})
    put("hardware-json", {"schema_version": "1.20.0", "hardware": [{"id": "rtx-4090"}]})
    put("bom", "\ufeff" + json.dumps(base))
    put("utf16", json.dumps(base).encode("utf-16").decode("latin-1"))
    put("trailing-garbage", json.dumps(base) + "\n}{")
    put("concatenated", json.dumps(base) * 2)
    put("esc-key", {**base, "\x1b]0;x\x07": 1})
    return p


CUSTOM_SPELLINGS = ["vram=16 GB", "vram=16gb", "vram=16G", "vram=16GiB", "vram=0.016TB", "vram=16e9B", "vram=16,000MB",
                    "vram=1.6e1GB", "vram=16GB ", " vram=16GB", "VRAM=16GB", "vr\u0430m=16GB", "vram:16GB", "vram=16GB;",
                    "vram=²GB", "vram=１６GB", "vram=16GB\x1b[31m", "vram=16GB\n", "vram=-0GB", "vram=1e-400GB"]
BW_SPELLINGS = ["bandwidth=448 GB/s", "bandwidth=448GBps", "bandwidth=448GB/sec", "bandwidth=448", "bandwidth=0.448TB/s",
                "bandwidth=448MB/ms", "bandwidth=448GiB/s", "bandwidth=448GB/s/s", "bandwidth=²GB/s", "bandwidth=∞GB/s"]
FP16_SPELLINGS = ["fp16=60 TFLOPS", "fp16=60TF", "fp16=6e13", "fp16=60 tflop/s", "fp16=60TFLOP", "fp16=60PFLOPS",
                  "fp16=60", "fp16=0.06PFLOPS", "fp16=60TOPS", "fp16=-60TFLOPS"]


def session18_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    (d / "s18").mkdir(exist_ok=True)
    for name, path in _corrupt_ggufs(d / "s18").items():
        t = rng.choice([["fit", str(path), "--vram", "24GB"], ["fit", str(path), "--engine", "ollama", "--vram", "24GB"],
                        ["serve", str(path), "-H", "rtx4090"], ["cost", "-t", "1e9", "-m", str(path), "-H", "rtx4090"],
                        ["hardware", "--for", str(path)], ["fit", str(path), "--engine", "vllm", "-H", "rtx4090"]])
        out.append(("s18 corrupt gguf", t + j(), {}))
    for name, path in _other_schema_probes(d / "s18").items():
        t = rng.choice([["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", str(path)], ["serve", "llama3.1:8b", "-H", str(path)],
                        ["models", "--fits", str(path)], ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", str(path)],
                        ["hardware", "show", str(path)]])
        out.append(("s18 probe schema", t + j(), {}))
    gpu = dict(GPU_SPEC)
    for spelled in CUSTOM_SPELLINGS + BW_SPELLINGS + FP16_SPELLINGS:
        key = spelled.split("=", 1)[0].strip().lower()
        fields = {k: v for k, v in gpu.items() if k != key}
        spec = "custom:" + ",".join([spelled] + [f"{k}={v}" for k, v in fields.items()])
        for form in (spec, "2x " + spec, spec.replace("custom:", "custom: "), spec + ",count=2", "3x " + spec + ",count=2"):
            t = rng.choice([["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", form], ["serve", "llama3.1:8b", "-H", form],
                            ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", form], ["models", "--fits", form]])
            out.append(("s18 spec spelling", t + j(), {}))
    from selfhost_advisor.cli import app
    import typer.main

    group = typer.main.get_command(app)
    base = {"fit": ["llama3.1:8b", "-H", "rtx4090"], "cost": ["-t", "1e9", "-H", "rtx4090"], "serve": ["llama3.1:8b", "-H", "rtx4090"],
            "models": ["--fits", "rtx4090"], "hardware": ["--for", "llama3.1:8b"]}
    for name, cmd in group.commands.items():
        for p in cmd.params:
            flag = p.opts[0]
            if getattr(p, "is_flag", False) or not flag.startswith("-"):
                continue
            if p.type.name in ("integer", "float") or any(w in flag for w in ("context", "tokens", "tps", "price", "version",
                                                                               "concurrency", "ttft", "memory", "vram", "ram")):
                for v in rng.sample(ODD_DIGITS, 6):
                    argv = [name, *base.get(name, [])]
                    if flag in argv:
                        argv[argv.index(flag) + 1] = v
                    else:
                        argv += [flag, v]
                    out.append(("s18 odd digits", argv + j(), {}))
    for hw in ("rtx 4090 vulkan nvlink", "2x rtx 4090 vulkan pcie", "2x rtx 3090 pcie nvlink", "arc b580 vulkan mesa pcie",
               "2x arc b580 sycl nvlink", "rtx 4090 nvlink vulkan x2", "a100 40gb pcie vulkan", "2x nvidia a100 40gb pcie pcie"):
        for eng in ("llamacpp", "ollama", "vllm"):
            t = rng.choice([["fit", "llama3.1:8b", "-H", hw], ["serve", "llama3.1:8b", "-H", hw], ["models", "--fits", hw],
                            ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", hw]])
            out.append(("s18 link words", t + ["--engine", eng] + j(), {}))
    # escape sequences and newlines in file names: the path is quoted in the error line, one line, no escape sent
    for raw in ("m\x1b[31m.gguf", "m\nx.gguf", "m\r.json", "\x1b]0;t\x07.yaml", "m\u202e.gguf", "m\x7f.json"):
        path = d / "s18" / raw
        try:
            path.write_bytes(b"GGUF\x03\x00\x00\x00" if raw.endswith(".gguf") else b"{")
        except OSError:
            continue
        for t in (["fit", str(path), "--vram", "24GB"], ["fit", "llama3.1:8b", "-H", str(path)],
                  ["fit", str(path) + ".missing", "--vram", "24GB"], ["fit", "llama3.1:8b", "-H", str(path) + ".missing"]):
            out.append(("s18 escape path", t + j(), {}))
    return out


# ------------------------------------------------------------------------------------------------------ session 20
# Session 20 (eng5): model names with spaces (catalog/models._spellings tries the catalog's '-' / ':' forms), the short
# GPU names ('4070s', 'arc b60', 'radeon 8060s 128gb', '890m'), and unified / Metal spec sheets at the OS-reserve floor.
SPACED_MODELS = ["qwen3.5 27b", "Qwen3.5 27B", "gemma 4 31b", "glm 5.1", "deepseek v4", "qwen 3.6", "nemotron 3 super",
                 "qwen3.5 27b q8_0", "qwen3.5 27b:q4_k_m", "a b c d e f g h i", "qwen3.5  27b", "qwen3.5\t27b",
                 "qwen3.5\u00a027b", " : ", ": :", "qwen3.5 :27b", "qwen3.5: 27b", "- -", "hf: a/b", "./x y.gguf"]
SHORT_GPUS = ["4070s", "rtx 4070 ti s", "4090s", "6800s", "rx 6800 s", "arc b60", "arc b60 48gb", "arc pro b60 dual",
              "radeon 8060s 128gb", "radeon 8060s 48gb", "strix halo 64gb 32gb", "8050s", "radeon 8050s 64gb",
              "890m", "780m 16gb", "ryzen 7 8840u", "ryzen 7 8840u 99gb", "gpu max 1100", "gpu max", "gpu flex x"]


def session20_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    for m in SPACED_MODELS + [" ".join(rng.choice(["qwen", "3.5", "27b", ESC, MARKUP, "x" * 5000, "²"]) for _ in range(k))
                              for k in (2, 3, 5, 8, 9)]:
        t = rng.choice([["fit", m, "--vram", "24GB"], ["serve", m, "-H", "rtx4090"], ["cost", "-t", "1e9", "-m", m],
                        ["hardware", "--for", m], ["fit", m, "--engine", "vllm", "-H", "rtx4090"]])
        out.append(("s20 spaced model", t + j(), {}))
    for h in SHORT_GPUS:
        for form in odd_forms(h)[:10]:
            t = rng.choice([["fit", "llama3.1:8b", "-H", form], ["models", "--fits", form], ["hardware", "show", form],
                            ["cost", "-t", "1e9", "-H", form]])
            out.append(("s20 short gpu", t + j(), {}))
    for vram in ("1B", "2GB", "2147483647B", "2147483648B", "2.1GB", "1e-9GB", "8GB"):
        for extra in (",backend=metal", ",backend=vulkan,unified=true", ",backend=rocm,unified=true", ",backend=metal,unified=false"):
            spec = f"custom:vram={vram},bandwidth=100GB/s,fp16=10TFLOPS{extra}"
            t = rng.choice([["fit", "llama3.1:8b", "-H", spec], ["serve", "llama3.1:8b", "-H", spec],
                            ["models", "--fits", spec], ["cost", "-t", "1e9", "-H", spec + ",price=1000"]])
            out.append(("s20 unified floor", t + j(), {}))
    return out


# ------------------------------------------------------------------------------------------------------ session 21
# Session 21 (rev21): cost picks its engine from the boxes when --engine is not given (vLLM, or llama.cpp where no box
# has a GPU vLLM serves from: cost/run.default_engine), and its 'what would change' lever reads what each box was short
# of (ServingCapacity.short_of); header lines wrap under their value (render/table.label_line).
ENGINELESS_BOXES = ["m3-ultra-512gb", "ryzen-ai-max-395-128gb", "m4-max-128gb", "desktop-ddr5-64gb", "rtx 4090 vulkan",
                    "arc b580", "dgx-spark", "epyc-genoa-1s-384gb",
                    "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,backend=metal,unified=true,price=2000",
                    "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,backend=vulkan,price=1000",
                    "custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600",
                    "nonexistent gpu", "m4 max", "", ESC, "x" * 5000]


def session21_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    for _ in range(40):  # one box, a mix, repeats; no --engine
        pick = [rng.choice(ENGINELESS_BOXES) for _ in range(rng.randint(1, 3))]
        hw = [a for b in pick for a in ("-H", b)] if rng.random() < .5 else ["-H", ",".join(pick)]
        extra = rng.choice([[], ["--min-stream-speed", "1e-9"], ["--max-ttft", "1e-9"], ["--min-quant", "any"],
                            ["--gpu-price", "1"], ["-q", "Q4_K_M"], ["-q", "AWQ-INT4"], ["--context", "1m"]])
        out.append(("s21 cost default engine", ["cost", "-t", rng.choice(["1e9", "1", "1e15"]), "-m",
                                               rng.choice(["llama3.1:8b", "llama3.1:70b", "gpt-oss:120b", "qwen3:30b"])]
                    + hw + extra + j(), {}))
    for cols in ("1", "9", "10", "11", "19", "20", "21", "29", "30", "400"):  # the label column against the width
        argv = rng.choice([["cost", "-t", "2e9"], ["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB"],
                           ["serve", "llama3.1:70b", "-H", "2x rtx4090"], ["fit", "qwen2.5:72b", "-H", "m2-ultra-192gb"],
                           ["fit", "llama3.1:8b", "-H", "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,name=" + ESC]])
        out.append(("s21 header width", argv, {"COLUMNS": cols}))
    return out


# ------------------------------------------------------------------------------------------------------ session 22
# Session 22 (rev22): bare 'h100' is refused with its variants (it was the SXM silently); exclusions carry a kind and
# cost's default engine is an assumption; a probe file claiming more free memory than total is refused.
H100_FORMS = ["h100", "2x h100", "h100 80gb", "8x h100 80gb", "h100 640gb", "h100x2", "h100 sxm", "h100-sxm x2",
              "h100 pcie vulkan", "h100 nvl", "h100 96gb 94gb", "nvidia h100", "NVIDIA H100 80GB HBM3", "h100,a100",
              "h100+rtx4090", "h100 -80gb", "h100\u00a0sxm", "h\u2010100"]


def session22_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    for h in H100_FORMS:
        t = rng.choice([["fit", "llama3.1:8b", "-H", h], ["serve", "llama3.1:8b", "-H", h], ["models", "--fits", h],
                        ["hardware", "show", h], ["cost", "-t", "1e9", "-H", h], ["fit", "qwen3:30b", "--engine", "vllm",
                                                                                 "--enforce-eager", "-H", h]])
        out.append(("s22 h100 forms", t + j(), {}))
    base = {"schema_version": "1.24.0", "ram_bytes": 64 * 10**9, "available_ram_bytes": 32 * 10**9,
            "devices": [{"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 24 * 2**30,
                         "free_memory_bytes": 20 * 2**30, "bandwidth_bytes_per_s": 1008 * 10**9,
                         "matched_profile": "rtx-4090"}]}
    edits = [("available_ram_bytes", 10**13), ("available_ram_bytes", 64 * 10**9 + 1), ("available_ram_bytes", 0),
             ("ram_bytes", 0), ("free_memory_bytes", 24 * 2**30 + 1), ("free_memory_bytes", 2**60),
             ("free_memory_bytes", 0), ("memory_bytes", 0), ("memory_bytes", 1)]
    (d / "s22").mkdir(exist_ok=True)
    for i, (key, val) in enumerate(edits):
        data = json.loads(json.dumps(base))
        (data["devices"][0] if key in data["devices"][0] else data)[key] = val
        f = d / "s22" / f"probe{i}.json"
        f.write_text(json.dumps(data))
        t = rng.choice([["fit", "llama3.1:8b", "-H", str(f), "--memory", rng.choice(["free", "total"])],
                        ["serve", "llama3.1:8b", "-H", str(f)], ["models", "--fits", str(f)],
                        ["cost", "-t", "1e9", "-H", str(f)]])
        out.append(("s22 probe free > total", t + j(), {}))
    for _ in range(12):  # cost's default engine and exclusion kinds over mixes of unpriced, too small and Mac boxes
        pick = rng.sample(["rtx 4070", "arc b580", "m4-max-128gb", "h100-sxm", "rtx 4090 vulkan", "radeon 8060s 128gb",
                           "custom:vram=8GB,bandwidth=100GB/s,fp16=10TFLOPS", "tesla p4"], rng.randint(1, 3))
        out.append(("s22 cost kinds", ["cost", "-t", rng.choice(["1e9", "1e12", "1"]), "-m",
                                       rng.choice(["llama3.1:8b", "llama3.1:70b", "qwen3:30b"])]
                    + [a for b in pick for a in ("-H", b)] + rng.choice([[], ["--engine", "llamacpp"], ["--wide"]]) + j(),
                    {}))
    return out


# ------------------------------------------------------------------------------------------------------ session 23
# Session 23 (rev23): a vLLM option given to another engine is refused with a hint read off the machine where it is
# known without a probe (api._named_machine_hint: drop it on a Mac, an APU, a CPU box); --engine vllm on a profile whose
# own backend is Vulkan (Strix Halo); cost resolves its boxes once and raises the first that fails where it did.
VLLM_OPTIONS = [["--max-num-seqs", "8"], ["--gpu-memory-utilization", "0.8"], ["--tp", "2"], ["--nodes", "0"],
                ["--enforce-eager"], ["--kv-cache-memory-bytes", "20GiB"], ["--max-num-batched-tokens", "1"],
                ["--max-num-seqs", "nan"], ["--tp", "-1"], ["--gpu-memory-utilization", "1e309"]]
VLLM_MACHINES = [["-H", "m4-max-128gb"], ["-H", "ryzen-ai-max-395-64gb"], ["-H", "radeon 8060s 128gb"],
                 ["-H", "rtx 4090 vulkan"], ["-H", "dgx-spark"], ["-H", "desktop-ddr5-64gb"], ["--ram", "64GB"],
                 ["--vram", "24GB"], ["--vram", "0GB", "--ram", "1e400GB"], ["-H", "m4 max"], ["-H", ESC],
                 ["-H", "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,backend=metal,unified=true"],
                 ["-H", "custom:vram=16GB,bandwidth=448GB/s,fp16=-1TFLOPS"], ["-H", "nonexistent gpu"], []]


def session23_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    for _ in range(30):
        cmd = rng.choice([["fit", "llama3.1:8b"], ["serve", "llama3.1:8b", "--prompt-tokens", "100", "--output-tokens",
                                                                             "100"], ["fit", "qwen3:30b", "-q", "Q4_K_M"]])
        engine = rng.choice([[], ["--engine", "llamacpp"], ["--engine", "ollama"], ["--engine", "mlx"],
                             ["--engine", "vllm"]])
        env = {"COLUMNS": rng.choice(["40", "80", "200"])}
        out.append(("s23 vllm option hint", cmd + rng.choice(VLLM_MACHINES) + engine + rng.choice(VLLM_OPTIONS) + j(),
                    env))
    for _ in range(8):  # boxes resolved once: good boxes before and after a bad one, repeats, spec sheets
        pick = rng.sample(["rtx4090", "m4-max-128gb", "nonexistent gpu", "rtx 4090 vulkan", "ryzen-ai-max-395-64gb",
                           "custom:vram=0GB,bandwidth=1GB/s,fp16=1TFLOPS", "rtx4090", "h100 sxm", "./missing.yaml"],
                          rng.randint(2, 4))
        out.append(("s23 cost boxes once", ["cost", "-t", "1e9", "-m", "llama3.1:8b"]
                    + [a for b in pick for a in ("-H", b)] + rng.choice([[], ["--engine", "vllm"]]) + j(), {}))
    return out


# ------------------------------------------------------------------------------------------------------ session 30
# Session 30 (hostile30): what the sweeps above never generated. Every metadata key gguf_model.py reads (found in its
# source, so a new key is fuzzed without editing this file) on several architectures, with counts under the 2^40 a
# GGUF count may hold (10^9 layers hung in the per-layer loops); every config.json the tests carry (the "config zoo",
# found in tests/*.py) served by the hostile Hub with one key hostile; C1 / bidi / U+2028 text in every name that is
# printed; shell-completion variables; the boolean flags of every command together; proxy and CA variables.
C1 = "\x9b31mC1\x9b0m\x85\u202eevil\u2066x\u2028y\u2029\x7f"
S30_ARCHS = ["llama", "qwen3moe", "deepseek2", "gemma3", "mimo2", "step35", "minimax-m3", "deci", "qwen3next",
             "mamba2", "jamba", "lfm2", "glm-dsa", "nemotron_h_moe", "falcon-h1"]


def gguf_keys_read() -> list[str]:
    """The <arch>.* keys catalog/gguf_model.py reads (num("...") / key("...") in its source)."""
    import re

    src = (ROOT / "selfhost_advisor" / "catalog" / "gguf_model.py").read_text()
    return sorted(set(re.findall(r'\b(?:num|key)\("([a-z_.]+)"', src)))


def _hostile_kv_values() -> dict[str, tuple[int, bytes]]:
    u32s = lambda n, v: struct.pack("<IQ", U32, n) + struct.pack(f"<{n}I", *([v] * n))  # noqa: E731
    return {"2^63": (U64, struct.pack("<Q", 2**63)), "1e9": (U64, struct.pack("<Q", 10**9)),
            "2^40": (U64, struct.pack("<Q", 2**40)), "1e6": (U32, struct.pack("<I", 10**6)), "0": (U32, b"\0" * 4),
            "-1": (I32, struct.pack("<i", -1)), "nan": (F32, struct.pack("<f", float("nan"))),
            "2.5": (F32, struct.pack("<f", 2.5)), "bool": (BOOL, b"\x01"), "str": (STR, _s(ESC + C1)),
            "arr-1e9": (ARR, u32s(4, 10**9)), "arr-0": (ARR, u32s(0, 0)), "arr-5000": (ARR, u32s(5000, 1)),
            "arr-bool": (ARR, struct.pack("<IQ", BOOL, 5000) + b"\x01\x00" * 2500),
            "arr-str": (ARR, struct.pack("<IQ", STR, 2) + _s("x") + _s(C1))}


def _s30_ggufs(d: Path, rng: random.Random) -> dict[str, Path]:
    g: dict[str, Path] = {}
    values = _hostile_kv_values()
    for key in gguf_keys_read():
        for label, value in values.items():
            arch = rng.choice(S30_ARCHS)
            kvs = {k.replace("llama.", f"{arch}."): v for k, v in base_kvs().items()}
            kvs["general.architecture"] = (STR, _s(arch))
            if arch in ("qwen3next", "mamba2", "jamba", "falcon-h1", "nemotron_h_moe"):  # recurrent keys present
                kvs.update({f"{arch}.ssm.conv_kernel": (U32, struct.pack("<I", 4)),
                            f"{arch}.ssm.inner_size": (U32, struct.pack("<I", 512)),
                            f"{arch}.ssm.state_size": (U32, struct.pack("<I", 16))})
            kvs[f"{arch}.{key}"] = value
            name = f"{arch}-{key}-{label}"
            (d / f"{name}.gguf").write_bytes(gguf_bytes(kvs))
            g[name] = d / f"{name}.gguf"
    for field in ("general.name", "general.license", "general.architecture", "general.basename"):
        (d / f"c1-{field}.gguf").write_bytes(gguf_bytes(base_kvs(**{field: (STR, _s("llama" + C1 if "arch" in field
                                                                                    else C1))})))
        g[f"c1-{field}"] = d / f"c1-{field}.gguf"
    return g


@functools.lru_cache(maxsize=1)
def config_zoo() -> list[dict]:
    """Every config.json dict literal in tests/*.py (a dict with an "architectures" list): the shapes the tests say
    the Hub path reads, new architectures included as their tests land."""
    import ast

    out = []
    for f in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "architectures"
                                                  for k in node.keys):
                try:
                    cfg = ast.literal_eval(node)
                except (ValueError, SyntaxError, TypeError):
                    continue
                if isinstance(cfg.get("architectures"), list) and cfg not in out:
                    out.append(cfg)
    return out


def _s30_configs(rng: random.Random) -> list[dict]:
    """Each zoo config with one key hostile, nested blocks (text_config, vision_config ...) included: six random keys
    each, and 10^6 / 10^9 layers (the per-layer loops). The in-process form of this found two exit-3 bugs in 9,828
    cases (a vision_config that is a number, layer_types holding lists)."""
    long = [1] * 200_000
    values = [0, -1, 10**6, 10**9, 2**70, float("nan"), 1e300, True, "x", None, [0] * 5, long, {"a": 1}, ESC + C1,
              [], {}, [[1]], [None]]

    def paths(cfg: dict, at: tuple = ()):
        for k, v in cfg.items():
            yield at + (k,)
            if isinstance(v, dict):
                yield from paths(v, at + (k,))

    def with_value(cfg: dict, path: tuple, v) -> dict:
        top = json.loads(json.dumps(cfg))
        block = top
        for k in path[:-1]:
            block = block[k]
        block[path[-1]] = v
        return top

    out = []
    for cfg in config_zoo():
        keys = [p for p in paths(cfg) if p != ("architectures",)]
        for path in [("num_hidden_layers",)] + rng.sample(keys, min(6, len(keys))):
            for v in ([10**6, 10**9] if path == ("num_hidden_layers",) else [rng.choice(values)]):
                out.append(with_value(cfg, path, v))
        out.append({**cfg, "architectures": [ESC + C1]})
    return out


def _s30_probes(d: Path) -> dict[str, Path]:
    dev = {"vendor": "nvidia", "name": "RTX " + C1, "memory_bytes": 24 * 10**9, "bandwidth_bytes_per_s": 10**12,
           "matched_profile": C1, "backend": C1, "details": {"driver": C1, "uuid": C1, "mig_instances": [{"name": C1}]}}
    base = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [dev], "cpu": {"name": C1, "flags": [C1]},
            "warnings": [C1], "os": C1, "name": C1, "other_devices": [dict(dev)]}
    p = {}
    for name, obj in (("c1-all", base), ("c1-esc-all", json.loads(json.dumps(base).replace("C1", "\\u001b[2J")))):
        (d / f"{name}.json").write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
        p[name] = d / f"{name}.json"
    return p


def session32_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    """Session 32 (audit32): environment shapes the env cases never had (a zero terminal size, a ~user with no home,
    paths longer than the file system holds, HF_HUB_OFFLINE words), several options of one command drawn together
    (the sweep varies one at a time: `hardware --for --quant IQ1_S` under the default floor was exit 3), probe files
    with a wrong-typed `unified`, UUIDs in names and GPUs without bandwidth."""
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    long = "/tmp/" + "a" * 5000
    targets = [["fit", "llama3.1:8b", "-H", "rtx4090"], ["models", "--search", "qwen3"], ["hardware"],
               ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090"], ["serve", "llama3.1:8b", "-H", "h100-sxm"],
               ["fit", "nosuchmodel32"], ["fit", "ollama:mymodel:latest", "--vram", "24GB"], ["models", "--installed"],
               ["fit", "hf:someorg/some-model", "--offline", "--vram", "24GB"]]
    envs = [{"COLUMNS": "0"}, {"COLUMNS": "00"}, {"LINES": "0"}, {"OLLAMA_MODELS": "~nosuchuser32/m"},
            {"OLLAMA_MODELS": long}, {"ADVISOR_HOME": long}, {"ADVISOR_HOME": "~/advisor-cache"},
            {"HF_HUB_OFFLINE": "no"}, {"HF_HUB_OFFLINE": "FALSE"}, {"HF_ENDPOINT": "http://127.0.0.1:1/?token=hf_" + "x" * 30}]
    for env in envs:
        for t in rng.sample(targets, 4):
            out.append(("s32 env", t + j(), env))
    floors = ["any", "bf16", "Q8_0", "Q4_K_M", "IQ3_M", "IQ1_S"]
    quants = ["IQ1_S", "Q2_K", "Q4_K_M", "Q8_0", "IQ1_S,Q8_0", "F16"]
    for _ in range(12):  # a --quant and a --min-quant drawn together
        q, f = rng.choice(quants), rng.choice(floors + [None])
        floor = ["--min-quant", f] if f else []
        out.append(("s32 floor", ["hardware", "--for", rng.choice(["llama3.1:8b", "qwen3:30b-a3b"]), "-q", q] + floor + j(), {}))
        out.append(("s32 floor", ["fit", "llama3.1:8b", "-H", "rtx4090", "-q", q] + floor + j(), {}))
    (d / "s32").mkdir(exist_ok=True)
    dev = {"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 24 * 10**9}
    files = {"unified-str": [{**dev, "unified": "false"}], "uuid-name": [{**dev, "name": dev["name"] +
                                                                           " (UUID: GPU-5fd2a1b3-7c4e-4f0a-9d21-3b6e8c0f1a2d)"}],
             "no-bandwidth": [{**dev, "name": "Mystery GPU"}], "apple-no-bw": [{"vendor": "apple", "name": "Apple M2 Ultra",
                                                                              "memory_bytes": 192 * 10**9, "unified": True}]}
    for name, devices in files.items():
        f = d / "s32" / f"{name}.json"
        f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": devices}))
        for t in (["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", str(f)], ["serve", "llama3.1:8b", "-H", str(f)],
                  ["serve", "llama3.1:8b", "-H", str(f), "--engine", "llamacpp"], ["models", "--fits", str(f), "-s", "llama3.1"]):
            out.append(("s32 probe", t + j(), {}))
    return out


def session33_cases(d: Path, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    """Session 33 (audit33): inputs llama.cpp itself refuses that the reader sized (a GGUF without tensors, as
    llama.cpp's ggml-vocab-*.gguf; a tensor or a metadata key named twice), probe files whose rates are below 1 MB/s
    (a unit slip the spec sheet refuses), and --min-quant with the engines whose formats have no measured loss. Files
    named refuse-* must be exit 2: exit 0 on one is the class `accepted`."""
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    (d / "s33").mkdir(exist_ok=True)
    t = tiny_tensors()
    key = _kv("llama.block_count", U32, struct.pack("<I", 1))
    ggufs = {"refuse-no-tensors": gguf_bytes(base_kvs(), tensors=[]),
             "refuse-dup-tensor": gguf_bytes(base_kvs(), tensors=t + [t[-1]]),
             "refuse-dup-first": gguf_bytes(base_kvs(), tensors=[t[0]] + t),
             "refuse-dup-key": gguf_bytes(base_kvs(), extra_kv=key, extra_n=1)}
    for name, data in ggufs.items():
        f = d / "s33" / f"{name}.gguf"
        f.write_bytes(data)
        for argv in (["fit", str(f), "--vram", "24GB"], ["fit", str(f), "-H", "rtx4090", "--engine", "ollama"]):
            out.append(("s33 gguf", argv + j(), {}))
    dev = {"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 4 * 10**9, "bandwidth_bytes_per_s": 10**12}
    boxes = {"refuse-bw-1": ({**dev, "bandwidth_bytes_per_s": 1}, {}),
             "refuse-bw-half-mb": ({**dev, "bandwidth_bytes_per_s": 999_999}, {}),
             "refuse-fp16-1": ({**dev, "fp16_flops": 1}, {}),
             "refuse-ram-bw-1": (dev, {"ram_bandwidth_bytes_per_s": 1}),
             "refuse-cpu-flops": (dev, {"cpu_flops": 0.5}),
             "refuse-measured": (dev, {"measured": {"ram_bandwidth_bytes_per_s": 10, "matmul_flops": 1e12}})}
    for name, (device, top) in boxes.items():
        f = d / "s33" / f"{name}.json"
        f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [device], **top}))
        for argv in (["fit", "llama3.1:8b", "-q", "Q8_0", "-H", str(f)], ["serve", "llama3.1:8b", "-H", str(f)],
                     ["models", "--fits", str(f), "-s", "llama3.1"]):
            out.append(("s33 probe", argv + j(), {}))
    long_t = [("t" * 60000, (256,), 255, 0), ("t" * 60000, (250, 320), 8, 100), ("t" * 60000, (256,), 0, 1000)]
    for i, tensor in enumerate(long_t):  # a 64 KiB tensor name in the error: quoted clipped (the longline class)
        f = d / "s33" / f"long-tensor-{i}.gguf"
        f.write_bytes(gguf_bytes(base_kvs(), tensors=t + [tensor]))
        out.append(("s33 gguf", ["fit", str(f), "--vram", "24GB"] + j(), {}))
    for argv in (["fit", "ollama:" + "a" * 5000, "--vram", "24GB"], ["fit", "ollama:x:" + "b" * 3000],
                 ["fit", "ollama:"], ["serve", "ollama:" + "c" * 5000, "-H", "rtx4090"],
                 ["fit", "llama3.1:8b", "--vram", "24GB", "-q", "Q4_K_M," + "Z" * 5000],
                 ["hardware", "--for", "llama3.1:8b", "-q", "Q8_0," + "Y" * 5000]):
        out.append(("s33 long", argv + j(), {}))
    floors = ["Q8_0", "Q6_K", "Q4_K_M", "IQ3_M", "F16", "any"]
    for _ in range(8):  # --min-quant where the formats have no measured loss: vLLM and MLX
        f = rng.choice(floors)
        out.append(("s33 floor", ["fit", rng.choice(["llama3.1:70b", "qwen3:30b-a3b"]), "-H", "2x rtx4090", "--engine",
                                  "vllm", "--min-quant", f] + rng.choice([[], ["--require-fit", "gpu"]]) + j(), {}))
        out.append(("s33 floor", ["fit", "llama3.1:70b", "-H", rng.choice(["m4-pro-48gb", "m4-max-128gb"]), "--engine",
                                  "mlx", "--min-quant", f] + j(), {}))
        out.append(("s33 floor", ["hardware", "--for", "llama3.1:8b", "--engine", "vllm", "--min-quant", f] + j(), {}))
    return out


def session33b_cases(rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    """Session 33 (audit33b): audit33's leftovers. `serve --engine vllm` on a box vLLM cannot run (a Mac, an AMD APU, a
    CPU-only box) was exit 1, a failed check; numbers with a stray underscore ('1000_') were read as counts; '--tp 0'
    said it does not divide the heads; COLUMNS below 40 drew one character a line (the class `narrow`). Cases that are
    bad input carry HOSTILE_EXPECT=2 (exit 0 or 1 on one is the class `accepted`)."""
    out: list[tuple[str, list[str], dict[str, str]]] = []
    bad = {"HOSTILE_EXPECT": "2"}
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    cpu = "custom:" + ",".join(f"{k}={v}" for k, v in CPU_SPEC.items())
    for box in ("m4-max-128gb", "m3-ultra-512gb", "desktop-ddr5-64gb", cpu, "ryzen-ai-max-395-128gb"):
        for model in ("llama3.1:8b", "gpt-oss:20b", "translategemma:12b", "lfm2.5:1.2b"):
            out.append(("s33b engine", ["serve", model, "-H", box, "--engine", "vllm"] + j(), bad))
    for v in ("1000_", "1__000", "_1000", "1_000_", "2e9_", "1e_9", "1._5B"):
        out.append(("s33b number", ["cost", "-m", "llama3.1:8b", "-t", v] + j(), bad))
        out.append(("s33b number", ["fit", "llama3.1:8b", "--vram", v + "GB"] + j(), bad))
        out.append(("s33b number", ["fit", "llama3.1:8b", "--vram", "24GB", "-c", v] + j(), bad))
    for v in ("2_000_000", "1_000M", "24_000MB", "8_192"):  # Python's grouping, in every number: read, exit 0
        out.append(("s33b number", ["cost", "-m", "llama3.1:8b", "-t", v.replace("MB", "")] + j(), {}))
        out.append(("s33b number", ["fit", "llama3.1:8b", "-H", f"custom:vram=24GB,bandwidth={v.replace('MB', '')}GB/s,"
                                    "fp16=80TFLOPS"] + j(), {}))
    for tp in ("0", "-1", "-64"):
        out.append(("s33b tp", ["fit", rng.choice(["gpt-oss:20b", "llama3.1:8b"]), "-H", "4x rtx4090", "--engine", "vllm",
                                "--tp", tp] + j(), bad))
    for m in ("lfm2.5", "lfm2", "granite4.1"):
        out.append(("s33b sizes", ["fit", m, "--vram", "24GB"] + j(), bad))
    for cols in ("1", "2", "5", "19", "39"):
        for argv in (["fit", "llama3.1:8b", "--vram", "24GB"], ["serve", "llama3.1:8b", "-H", "rtx4090"],
                     ["cost", "-m", "llama3.1:8b", "-t", "1e8"], ["hardware"], ["models", "-s", "qwen3"]):
            out.append(("s33b columns", argv, {"COLUMNS": cols}))
    return out


def session30_cases(d: Path, rng: random.Random, hub_env: dict[str, str]) -> list[tuple[str, list[str], dict[str, str]]]:
    out: list[tuple[str, list[str], dict[str, str]]] = []
    j = lambda: ["--json"] if rng.random() < .5 else []  # noqa: E731
    (d / "s30").mkdir(exist_ok=True)
    for name, path in _s30_ggufs(d / "s30", rng).items():
        t = rng.choice([["fit", str(path), "--vram", "24GB"], ["fit", str(path), "--vram", "24GB", "-c", "max"],
                        ["serve", str(path), "-H", "rtx4090"], ["fit", str(path), "--engine", "vllm", "-H", "h100-sxm"],
                        ["cost", "-t", "1e9", "-m", str(path), "-H", "rtx4090"], ["hardware", "--for", str(path)],
                        ["fit", str(path), "--engine", "ollama", "--vram", "24GB"]])
        out.append(("s30 gguf key" if not name.startswith("c1-") else "s30 c1 gguf", t + j(), {}))
    configs = _s30_configs(rng)
    (d / "s30-configs.json").write_text(json.dumps(configs))
    for i in range(len(configs)):
        eng = rng.choice(["llamacpp", "vllm", "ollama"])
        t = rng.choice([["fit", f"hostile/cfgz-{i}", "--engine", eng, "--vram", "24GB"],
                        ["serve", f"hostile/cfgz-{i}", "-H", "h100-sxm"], ["hardware", "--for", f"hostile/cfgz-{i}"]])
        out.append(("s30 config zoo", t + j(), dict(hub_env)))
    for name, path in _s30_probes(d / "s30").items():
        for t in (["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", str(path)], ["serve", "llama3.1:8b", "-H", str(path)],
                  ["models", "--fits", str(path)], ["cost", "-t", "1e9", "-H", str(path), "--gpu-price", "1000"],
                  ["models", "--installed", "-H", str(path)], ["fit", "llama3.1:8b", "-H", str(path), "--memory", "free"]):
            for jj in ([], ["--json"]):
                out.append(("s30 c1 probe", t + jj, {}))
    spec = "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS"
    for text in (C1, ESC + C1, "\u2028", "\u202e" * 50):
        for t in (["fit", "llama3.1:8b" + text], ["fit", "llama3.1:8b", "-H", "rtx4090" + text],
                  ["fit", "llama3.1:8b", "-H", f"{spec},name={text}"], ["models", "--search", text],
                  ["cost", "-t", "1e9", "--cloud", text], ["hardware", "show", text], ["models", "--family", text],
                  ["fit", "llama3.1:8b", "-q", text], ["serve", "llama3.1:8b", "--engine", text],
                  ["fit", f"./{text}.gguf"], ["fit", "llama3.1:8b", "-H", f"./{text}.json"]):
            out.append(("s30 c1 argv", t + j(), {}))
    for env in ({"_ADVISOR_COMPLETE": "x"}, {"_ADVISOR_COMPLETE": "complete_nosh"}, {"_ADVISOR_COMPLETE": ESC},
                {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit "},
                {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit ", "COMP_CWORD": "x"},
                {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit 'a", "COMP_CWORD": "2"},
                {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit " + ESC, "COMP_CWORD": "2"},
                {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit -H 2x", "COMP_CWORD": "99"},
                {"_ADVISOR_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "advisor cost --cloud " + C1},
                {"_ADVISOR_COMPLETE": "complete_fish", "_TYPER_COMPLETE_ARGS": "advisor fit -q Q4,",
                 "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
                {"_ADVISOR_COMPLETE": "complete_pwsh", "_TYPER_COMPLETE_ARGS": "advisor fit",
                 "_TYPER_COMPLETE_WORD_TO_COMPLETE": "x" * 5000}):
        out.append(("s30 completion", ["fit", "llama3.1:8b"], env))
    # the boolean flags of each command together (the sweep above gives flags no values, so never combined them)
    from selfhost_advisor.cli import app
    import typer.main

    base = {"fit": ["llama3.1:8b", "-H", "rtx4090"], "cost": ["-t", "1e9"], "serve": ["llama3.1:8b", "-H", "rtx4090"],
            "models": ["--fits", "rtx4090"], "hardware": ["--for", "llama3.1:8b"], "probe": []}
    group = typer.main.get_command(app)
    for name, cmd in group.commands.items():
        flags = [o for p in cmd.params if getattr(p, "is_flag", False) for o in p.opts + list(p.secondary_opts)
                 if o not in ("--measure", "--help")]
        for _ in range(12):
            pick = rng.sample(flags, rng.randint(1, len(flags)))
            root = rng.sample(["--quiet", "--timestamp"], rng.randint(0, 2))  # not --debug: its traceback is asked for
            out.append(("s30 flags", root + [name, *base.get(name, []), *pick], {"COLUMNS": rng.choice(["0", "-5", "40"])}))
    # list options repeated or long: each value was a serving estimate or a priced API (5,000 levels: 7 s of CPU)
    for argv in (["serve", "llama3.1:8b", "-H", "rtx4090", "--concurrency", ",".join(map(str, range(1, 5001)))],
                 ["serve", "llama3.1:8b", "-H", "rtx4090", *[a for i in range(1, 2001) for a in ("--concurrency", str(i))]],
                 ["cost", "-t", "1e9", *["--cloud", "gpt-4o"] * 3000], ["cost", "-t", "1e9", "--cloud", ",".join(
                     f"openai:m{i}" for i in range(2000))], ["cost", "-t", "1e9", *["-H", "rtx4090"] * 3000],
                 ["fit", "llama3.1:8b", "--vram", "24GB", *["-q", "Q4_K_M"] * 5000],
                 ["models", "--family", ",".join(["qwen"] * 20000)], ["models", "--use-case", ",".join(["code"] * 20000)],
                 ["hardware", "--for", "llama3.1:8b", *["-q", "Q4_K_M,Q8_0"] * 3000]):
        out.append(("s30 long lists", argv + j(), {}))
    for env in ({"ALL_PROXY": "socks5://u:pw@127.0.0.1:1"}, {"HTTPS_PROXY": "http://" + ESC + ":1"},
                {"HTTPS_PROXY": "http://[::1"}, {"HTTP_PROXY": "ftp://x"}, {"SSL_CERT_FILE": "/nonexistent"},
                {"SSL_CERT_FILE": "/dev/zero"}, {"SSL_CERT_DIR": str(d / "fifo.json")}, {"HTTPS_PROXY": "http://127.0.0.1:1"},
                {"NO_PROXY": ESC, "HTTPS_PROXY": "http://127.0.0.1:1"}):
        for t in (["fit", "hostile/cfg-ok"], ["cost", "-t", "1e9", "-m", "hostile/cfg-ok", "--json"]):
            out.append(("s30 proxy env", t, {**hub_env, "HF_ENDPOINT": "https://hub.invalid", **env}))
    return out


# ------------------------------------------------------------------------------------------------------- hostile hub
SERVER = r'''
import json, struct, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, sys.argv[2])
sys.path.insert(0, sys.argv[2] + '/tests')
from benchmarks.hostile import ESC
from gguf_raw import gguf_bytes, base_kvs, nested, _kv, ARR, F32
OK = gguf_bytes(base_kvs())
CFG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
       "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256,
       "max_position_embeddings": 8192, "torch_dtype": "bfloat16"}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body, ctype="application/json", length=True):
        self.send_response(code); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def endless(self, head=b"", chunk=b"x" * 65536, total=4 << 30):
        self.send_response(200); self.send_header("Content-Length", str(total)); self.end_headers()
        try:
            self.wfile.write(head); sent = len(head)
            while sent < total:
                self.wfile.write(chunk); sent += len(chunk)
        except Exception: pass
    def do_GET(self):
        p = self.path
        repo = p.split("/api/models/")[-1].split("/revision")[0] if "/api/models/" in p else "/".join(p.lstrip("/").split("/")[:2])
        kind = repo.split("/")[-1]
        if "/api/models/" in p:
            files = ["config.json", "model.safetensors"] if kind.startswith("cfg") or kind.startswith("st") else ["model-Q4_K_M.gguf"]
            if kind == "info-huge": return self.endless(b'{"siblings": [' , b'{"rfilename": "a.gguf", "size": 1},' * 1000)
            if kind == "info-deep": return self.send(200, b"[" * 100000)
            if kind == "info-nan": return self.send(200, b'{"sha": NaN, "siblings": [{"rfilename": "config.json", "size": Infinity}], "safetensors": {"parameters": {"BF16": 1e400}}}')
            if kind == "info-esc": return self.send(200, json.dumps({"siblings": [{"rfilename": ESC + ".gguf", "size": 5}]}).encode())
            if kind == "st-params": return self.send(200, json.dumps({"siblings": [{"rfilename": "config.json"}], "safetensors": {"parameters": {"BF16": 10**30, ESC: 5}}}).encode())
            if kind == "redirect":
                self.send_response(302); self.send_header("Location", self.path); self.send_header("Content-Length", "0"); self.end_headers(); return
            return self.send(200, json.dumps({"sha": "0" * 40, "siblings": [{"rfilename": f, "size": 1000} for f in files]}).encode())
        if kind == "gguf-ignore-range": return self.endless(OK[:4096])
        if kind == "gguf-nested": return self.send(200, gguf_bytes(base_kvs(), extra_kv=_kv("x", ARR, nested(100000)), extra_n=1), "application/octet-stream")
        if kind == "gguf-esc": return self.send(200, gguf_bytes(base_kvs(**{"general.name": (8, struct.pack("<Q", len(ESC.encode())) + ESC.encode())})))
        if kind == "cfg-huge": return self.endless(b'{"a": "', b" " * 65536)
        if kind == "cfg-deep": return self.send(200, b'{"a":' + b"[" * 100000)
        if kind == "cfg-nan": return self.send(200, json.dumps({**CFG, "hidden_size": float("nan"), "num_hidden_layers": float("inf"), "max_position_embeddings": 1e300}).encode())
        if kind == "cfg-bigint": return self.send(200, json.dumps({**CFG, "hidden_size": 10**4000 if False else 2**200, "vocab_size": 10**30}).encode())
        if kind == "cfg-esc": return self.send(200, json.dumps({**CFG, "architectures": [ESC], "model_type": ESC, "_name_or_path": ESC}).encode())
        if kind == "cfg-ok" and p.endswith("config.json"): return self.send(200, json.dumps(CFG).encode())
        if kind.startswith("cfgx-") and p.endswith("config.json"):
            from benchmarks.hostile import new_arch_configs
            return self.send(200, json.dumps(new_arch_configs()[int(kind[5:])]).encode())
        if kind.startswith("cfgz-") and p.endswith("config.json"):  # session 30: the config zoo, one key hostile
            import os
            with open(os.environ["HOSTILE_CFG_FILE"]) as fh:
                return self.send(200, json.dumps(json.load(fh)[int(kind[5:])]).encode())
        if kind == "st-huge" and "safetensors" in p: return self.endless(struct.pack("<Q", 99 << 20) + b'{"a": "', b" " * 65536)
        if kind == "st-shape" and "safetensors" in p:
            h = json.dumps({"w": {"dtype": "BF16", "shape": [2**62, 2**62, 2**62], "data_offsets": [0, 0]}}).encode()
            return self.send(200, struct.pack("<Q", len(h)) + h)
        if kind.startswith("st") and p.endswith("config.json"): return self.send(200, json.dumps(CFG).encode())
        if kind.startswith("gguf") or p.endswith(".gguf"):
            return self.send(206 if "Range" in self.headers else 200, OK)
        self.send(404, b"{}")
ThreadingHTTPServer.daemon_threads = True
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
'''

HUB_REPOS = ["hostile/gguf-ignore-range", "hostile/gguf-nested", "hostile/gguf-esc", "hostile/cfg-huge",
             "hostile/cfg-deep", "hostile/cfg-nan", "hostile/cfg-bigint", "hostile/cfg-esc", "hostile/cfg-ok",
             "hostile/st-huge", "hostile/st-shape", "hostile/st-params", "hostile/info-huge", "hostile/info-deep",
             "hostile/info-nan", "hostile/info-esc", "hostile/redirect"]


def start_server() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, "x", str(ROOT)], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


# ------------------------------------------------------------------------------------------------------------ cases
def cases(d: Path, port: int, rng: random.Random) -> list[tuple[str, list[str], dict[str, str]]]:
    import typer

    from selfhost_advisor.cli import app

    ggufs, probes = make_ggufs(d / "g"), make_probes(d / "p")
    ollamas = make_ollama(d / "o", ggufs)
    paths = make_paths(d)
    group = typer.main.get_command(app)
    out: list[tuple[str, list[str], dict[str, str]]] = []
    hub_env = {"HF_HUB_OFFLINE": "", "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    files = list(paths.values()) + [str(p) for p in probes.values()] + [str(p) for p in ggufs.values()]
    models = ([str(p) for p in ggufs.values()] + list(paths.values()) + HUB_REPOS + [f"hf:{r}" for r in HUB_REPOS]
              + ["ollama:bad", "bad", "bad:latest", "good"])
    base = {"fit": ["llama3.1:8b"], "cost": ["-t", "1e9", "-H", "rtx4090"], "models": [], "probe": [],
            "hardware": ["--for", "llama3.1:8b"]}
    hw_flags = {"--hardware", "--vram", "--ram", "--gpus", "--fits"}
    for cmd in group.commands.values():
        VALUE_FLAGS.update(o for p in cmd.params if not getattr(p, "is_flag", False) for o in p.opts if o.startswith("-"))
    for name, cmd in group.commands.items():
        params = [p for p in cmd.params if p.name not in ("quiet_flag", "timestamp_flag", "as_json")]
        first_arg = next((p for p in cmd.params if not p.opts[0].startswith("-")), None)
        for p in params:
            flag = p.opts[0]
            if getattr(p, "is_flag", False):
                continue
            positional = not flag.startswith("-")
            if p.type.name in ("integer", "float") or "context" in flag or "tokens" in flag:
                values = NUMS + rng.sample(STRS, 5)
            elif flag in ("--hardware", "--fits", "--for", "--model", "--chart") or positional:
                values = NUMS[:12] + STRS + files + (models if flag in ("--for", "--model") or positional else [])
            else:
                values = NUMS[:10] + STRS
            for v in values:
                args = [name] + list(base.get(name, []))
                if positional and p is first_arg:
                    args = [name, v] + (base.get(name, [])[1:] if name == "fit" else [])
                elif positional:
                    args = [name, "show", v]
                else:
                    if flag in hw_flags:
                        args = [name] + [a for a in base.get(name, []) if a not in ("-H", "rtx4090")]
                    if name == "fit" and flag == "--gpus":
                        args += ["--vram", "24GB"]
                    if name == "models" and flag in ("--vram", "--ram", "--gpus", "--hardware"):
                        args += ["--installed"]
                    if name == "models" and flag in ("--min-tps",):
                        args += ["--fits", "rtx4090"]
                    if name == "fit" and flag not in hw_flags:
                        args += ["--vram", "24GB"]
                    args = [a for i, a in enumerate(args)]
                    if flag in args:
                        i = args.index(flag)
                        args[i + 1] = v
                    else:
                        args += [flag, v]
                env = dict(hub_env) if any(r in v for r in HUB_REPOS) else {}
                if v in ("bad", "bad:latest", "good", "ollama:bad"):
                    for o in ollamas.values():
                        out.append((f"{name} {flag}=ollama", args + (["--json"] if rng.random() < .5 else []),
                                    {"OLLAMA_MODELS": str(o)}))
                    continue
                out.append((f"{name} {flag}", args + (["--json"] if rng.random() < .5 else []), env))
    # custom specs inline and as files, each to one or two of the commands that take --hardware (session 11)
    targets = [["fit", "llama3.1:8b"], ["cost", "-t", "1e9"], ["models", "--fits"], ["serve", "llama3.1:8b"]]
    specs = custom_specs() + [f"./specs/{n}" for n in make_specs_cached(d)]
    for spec in specs:
        for t in rng.sample(targets, 2):
            argv = t + [spec] if t[-1] == "--fits" else t + ["--hardware", spec]
            out.append(("custom spec" if spec.startswith(("custom", "CUSTOM")) else "spec file",
                        argv + (["--json"] if rng.random() < .5 else []), {}))
    # this session's new architectures from a hostile Hub config.json, on each engine
    for i in range(len(new_arch_configs())):
        eng = rng.choice(["llamacpp", "vllm", "ollama", "mlx"])
        argv = ["fit", f"hostile/cfgx-{i}", "--engine", eng] + (["-H", "m4-max-128gb"] if eng == "mlx" else ["--vram", "24GB"])
        out.append(("new arch config", argv + (["--json"] if rng.random() < .5 else []), dict(hub_env)))
    out += session12_cases(d, rng)
    out += session13_cases(d, rng)
    out += session18_cases(d, rng)
    out += session20_cases(d, rng)
    out += session21_cases(d, rng)
    out += session22_cases(d, rng)
    out += session23_cases(d, rng)
    out += session30_cases(d, rng, hub_env)
    out += session32_cases(d, rng)
    out += session33_cases(d, rng)
    out += session33b_cases(rng)
    # models --installed over every broken Ollama folder, text and JSON
    for o in ollamas.values():
        for j in ([], ["--json"]):
            out.append(("models --installed", ["models", "--installed", "--vram", "24GB"] + j, {"OLLAMA_MODELS": str(o)}))
    # environments
    envs = [{"XDG_CACHE_HOME": str(probes["ok"]), "ADVISOR_HOME": ""}, {"ADVISOR_HOME": str(probes["ok"])},
            {"ADVISOR_HOME": "/dev/null"}, {"ADVISOR_HOME": str(d / "fifo.json")}, {"ADVISOR_HOME": str(d / "ro")},
            {"ADVISOR_HOME": "", "XDG_CACHE_HOME": "", "HOME": "/nonexistent"}, {"ADVISOR_HOME": "\udcff"},
            {"HF_ENDPOINT": "notaurl"}, {"HF_ENDPOINT": "http://[::1"}, {"HF_ENDPOINT": "ftp://x"},
            {"HF_ENDPOINT": "http://127.0.0.1:1"}, {"HF_ENDPOINT": "http://" + "a" * 5000}, {"HF_ENDPOINT": ""},
            {"HF_ENDPOINT": "http://x\u00e9\u0000"}, {"HF_ENDPOINT": "http://127.0.0.1:99999"},
            {"HF_TOKEN": "abc\r\nX-Injected: 1"}, {"HF_TOKEN": "\u0442\u043e\u043a\u0435\u043d"}, {"HF_TOKEN": "x" * 100_000},
            {"HF_TOKEN": "\n"}, {"HF_TOKEN": "\udcff"}, {"HF_HUB_OFFLINE": "1", "ADVISOR_HOME": str(probes["ok"])},
            {"OLLAMA_MODELS": str(probes["ok"])}, {"OLLAMA_MODELS": str(d / "fifo.json")}, {"OLLAMA_MODELS": "/dev/zero"},
            {"COLUMNS": "0"}, {"COLUMNS": "-5"}, {"COLUMNS": "99999999999999999999"}, {"LINES": "nan"}, {"COLUMNS": "x"}]
    targets = [["fit", "Qwen/Qwen3-8B"], ["fit", "hf:bartowski/x-GGUF", "--quant", "Q4_K_M"], ["fit", "llama3.1:8b"],
               ["probe"], ["cost", "-t", "1e9", "-m", "Qwen/Qwen3-8B"], ["hardware", "--for", "acme/x"],
               ["models", "--installed"], ["models"], ["fit", "hostile/cfg-ok"]]
    for e in envs:
        for t in targets:
            for j in ([], ["--json"]):
                env = {"HF_HUB_OFFLINE": "", **e}
                if "HF_ENDPOINT" not in e:
                    env.setdefault("HF_ENDPOINT", f"http://127.0.0.1:{port}")
                out.append((f"env {sorted(e)[0]}", t + j, env))
    return out


STREAMS = [
    ("closed stdout", "closed", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("closed stdout json", "closed", ["fit", "llama3.1:8b", "--vram", "24GB", "--json"]),
    ("closed stdout models", "closed", ["models"]),
    ("dev full", "full", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("dev full json", "full", ["hardware", "--json"]),
    ("dev full models", "full", ["models"]),
    ("head -1", "head", ["models"]),
    ("head -1 json", "head", ["models", "--json"]),
    ("head -1 fit", "head", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("head -1 hardware", "head", ["hardware"]),
    ("head -1 cost", "head", ["cost", "-t", "1e9"]),
    ("ascii", "ascii", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("ascii cost", "ascii", ["cost", "-t", "1e9"]),
    ("ascii models", "ascii", ["models"]),
    ("ascii hardware", "ascii", ["hardware", "--for", "llama3.1:8b"]),
    ("ascii probe", "ascii", ["probe"]),
    ("latin1 cost", "latin1", ["cost", "-t", "1e9"]),
    ("C locale", "C", ["cost", "-t", "1e9"]),
    ("C locale fit", "C", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("closed stderr", "closed2", ["fit", "nosuchmodel"]),
    # session 18: every command with its stdout closed or cut by `head -1`, and locales / encodings other than UTF-8
    ("closed stdout serve", "closed", ["serve", "llama3.1:8b", "-H", "rtx4090"]),
    ("closed stdout cost", "closed", ["cost", "-t", "1e9"]),
    ("closed stdout probe", "closed", ["probe", "--json"]),
    ("closed stdout hardware", "closed", ["hardware", "show", "rtx4090"]),
    ("head -1 serve", "head", ["serve", "llama3.1:8b", "-H", "rtx4090"]),
    ("head -1 probe json", "head", ["probe", "--json"]),
    ("head -1 help", "head", ["fit", "--help"]),
    ("closed stderr cost", "closed2", ["cost", "-t", "nan"]),
    ("tr_TR", "env:LC_ALL=tr_TR.UTF-8,LANG=tr_TR.UTF-8", ["fit", "llama3.1:8b", "-H", "ARC B580", "-q", "Q4_K_M"]),
    ("de_DE", "env:LC_ALL=de_DE.UTF-8,LC_NUMERIC=de_DE.UTF-8", ["cost", "-t", "1e9"]),
    ("POSIX", "env:LC_ALL=POSIX,LANG=,PYTHONUTF8=0,PYTHONCOERCECLOCALE=0", ["models", "--fits", "rtx4090"]),
    ("eucJP", "env:PYTHONIOENCODING=euc_jp", ["serve", "llama3.1:8b", "-H", "rtx4090"]),
    ("cp1252", "env:PYTHONIOENCODING=cp1252", ["hardware", "--for", "llama3.1:8b"]),
    ("utf-16", "env:PYTHONIOENCODING=utf-16", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("ascii strict help", "env:PYTHONIOENCODING=ascii:strict", ["cost", "--help"]),
    ("COLUMNS superscript", "env:COLUMNS=²,LINES=¹²", ["serve", "llama3.1:8b", "-H", "rtx4090"]),
    ("TERM dumb", "env:TERM=dumb,FORCE_COLOR=", ["cost", "-t", "1e9"]),
    # session 30: stdin closed (a file named /dev/stdin is then nothing, and nothing else reads stdin), and Ctrl-C
    # (SIGINT) at a random moment after Python has started: exit 130 and one line, or 0 if the command had finished
    ("closed stdin", "closed0", ["fit", "llama3.1:8b", "-H", "/dev/stdin"]),
    ("closed stdin model", "closed0", ["fit", "/dev/stdin", "--vram", "24GB"]),
    ("closed stdin probe", "closed0", ["probe", "--json"]),
    ("closed stdin cost", "closed0", ["cost", "-t", "1e9"]),
    ("sigint measure", "sigint:0.3", ["probe", "--measure"]),
    ("sigint measure late", "sigint:1.5", ["probe", "--measure", "--json"]),
    ("sigint fit", "sigint:0.15", ["fit", "llama3.1:8b", "--vram", "24GB"]),
    ("sigint cost", "sigint:0.25", ["cost", "-t", "1e9", "--json"]),
    ("sigint serve", "sigint:0.2", ["serve", "llama3.1:8b", "-H", "rtx4090"]),
]


# ------------------------------------------------------------------------------------------------------------ running
# Whole stdout for the JSON check: `models --fits --json` over the catalog is ~0.5 MB and `cost --json` with many
# boxes more; cutting it at 200 kB made valid JSON look broken (8 false badjson before session 10).
OUT_LIMIT = 64 << 20
# DEL, C1, bidirectional marks / overrides / isolates, line and paragraph separators: json.dumps leaves them raw, and
# before session 30 the escape class looked for ESC, BEL, BS and CR only (--json printed U+009B and U+202E from a GGUF)
RAW_CONTROL = __import__("re").compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
VALUE_FLAGS: set[str] = set()  # every option that takes a value (filled by cases() from the click app)


def wants_json(argv: list[str]) -> bool:
    """Whether the case asked for JSON: a trailing --json that is the flag, not the value of an option before it
    (`models --search --json` searches for the text '--json' and rightly prints a table)."""
    return bool(argv) and argv[-1] == "--json" and not (len(argv) >= 2 and argv[-2] in VALUE_FLAGS)


def classify(rc: int | None, sig: int | None, out: bytes, err: bytes, rss_mb: float, cpu_s: float, argv: list[str],
             rss_limit: float, timeout: float, expect_quiet_zero: bool = False,
             env: dict[str, str] | None = None) -> list[str]:
    bad = []
    text_err = err.decode("utf-8", "replace")
    if sig is not None:
        return ["hang" if sig in (signal.SIGALRM, signal.SIGPROF, signal.SIGKILL) else f"signal{sig}"]
    if "MemoryError" in text_err or rss_mb > rss_limit:
        bad.append("blowup")
    if "Traceback" in text_err or rc not in (0, 1, 2, 3) or (rc == 1 and "check failed" not in text_err):
        bad.append("traceback")
    if rc == 3:
        bad.append("internal")
    if rc == 2 and text_err.count("\n") != 1:
        bad.append("multiline")
    if rc == 2 and len(text_err) > 1500:  # a value quoted whole (a 40k-character '+' spec): termsafe.clipped
        bad.append("longline")
    if wants_json(argv) and rc in (0, 1) and out:
        try:
            json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
        except ValueError:
            bad.append("badjson")
    text_out = out.decode("utf-8", "replace")
    if any(c in text_out for c in "\x1b\x07\x08\r") or "\x1b" in text_err or "\x07" in text_err:
        bad.append("escape")
    elif RAW_CONTROL.search(text_out) or RAW_CONTROL.search(text_err):  # session 30: C1 (CSI U+009B), bidi, U+2028
        bad.append("escape")
    if cpu_s > 2:
        bad.append("slow")
    # session 33: an input llama.cpp refuses (or a unit slip), named refuse-* by the sweep, must not be sized
    if rc == 0 and any("/s33/refuse-" in a for a in argv):
        bad.append("accepted")
    # session 33 (audit33b): a case the sweep marks bad input (HOSTILE_EXPECT=2 in its environment, which the product
    # never reads) answered as a report (0) or a failed check (1)
    if rc in (0, 1) and (env or {}).get("HOSTILE_EXPECT") == "2":
        bad.append("accepted")
    # session 33 (audit33b): a text report drawn narrower than 20 columns (COLUMNS=1: one character a line)
    cols = (env or {}).get("COLUMNS", "")
    if rc == 0 and out.strip() and cols.isdecimal() and len(cols) < 4 and int(cols) < 20 and "--json" not in argv \
            and max(len(line) for line in out.decode("utf-8", "replace").splitlines()) < 20:
        bad.append("narrow")
    # session 32: exit 0 with nothing on stdout, where a report was asked for (COLUMNS=0 drew every table 0 wide)
    if rc == 0 and not out.strip() and "--quiet" not in argv and not any(k.endswith("_COMPLETE") for k in env or {}) \
            and argv and argv[0] in ("fit", "models", "cost", "hardware", "serve", "probe"):
        bad.append("empty")
    return bad


def seed_host_rates(d: Path, env: dict[str, str]) -> None:
    """Measure this host once, before the cases, into every writable ADVISOR_HOME they use. Why: the probe measures
    the host's read stream once per boot into ADVISOR_HOME with a buffer of 4x the last-level cache (1.2 GB on this
    VM: docs/methodology.md 4d, by design); in a fresh home that landed on whichever case ran first and read as its
    blowup. A home that cannot keep the figures is not seeded: there nothing may be measured (the product's rule)."""
    import shutil

    subprocess.run([sys.executable, "-m", "selfhost_advisor", "probe", "--json"], cwd=d, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env={**env, "PYTHONPATH": str(ROOT)}, timeout=120)
    made = d / "home" / "host_rates.json"
    # the other homes of the env cases that may be writable (the child runs in d); as root HOME=/nonexistent is one
    # too (the product creates /nonexistent/.cache/selfhost-advisor, where the first case measured: a 1.2 GB blowup)
    homes = [d / "ro", d / "\udcff"] + ([Path("/nonexistent/.cache/selfhost-advisor")] if os.geteuid() == 0 else [])
    for home in homes:
        try:
            home.mkdir(parents=True, exist_ok=True)
            shutil.copy(made, home / "host_rates.json")
        except OSError:  # not written (not root: ro is read-only): the product measures nothing there either
            pass


def run_forked(cases_, d: Path, jobs: int, timeout: float, rss_limit: float, as_limit: int):
    from selfhost_advisor.cli import main  # noqa: F401 - imported before forking so children start warm
    import rich.console, rich.table  # noqa: F401,E401
    from selfhost_advisor.catalog import models as _m, hardware as _h  # noqa: F401
    _m.all_models(); _h.profiles()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    base_env.update(NO_COLOR="1", COLUMNS="120", ADVISOR_HOME=str(d / "home"), OLLAMA_MODELS=str(d / "no-ollama"),
                    HF_HUB_OFFLINE="1")
    seed_host_rates(d, base_env)
    running: dict[int, tuple[int, float]] = {}
    results = [None] * len(cases_)
    started, done = time.monotonic(), 0
    i = 0
    sys.stdout.flush(); sys.stderr.flush()
    while i < len(cases_) or running:
        while i < len(cases_) and len(running) < jobs:
            label, argv, env = cases_[i]
            o, e = d / "out" / f"{i}.o", d / "out" / f"{i}.e"
            pid = os.fork()
            if pid == 0:  # child
                try:
                    os.environ.clear()
                    os.environ.update({**base_env, **{k: v for k, v in env.items()}})
                    for k, v in env.items():
                        if v == "":
                            os.environ.pop(k, None)
                    os.chdir(d)
                    fo = os.open(o, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                    fe = os.open(e, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                    os.dup2(fo, 1); os.dup2(fe, 2)
                    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="strict")
                    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace")
                    resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))
                    signal.setitimer(signal.ITIMER_PROF, timeout)  # CPU seconds
                    signal.alarm(int(timeout * 5))  # wall seconds: a read that blocks
                    from selfhost_advisor.cli import main
                    rc = main(argv)
                except SystemExit as exc:
                    rc = exc.code if isinstance(exc.code, int) else 1
                except BaseException:  # noqa: BLE001
                    traceback.print_exc()
                    rc = 99
                try:
                    sys.stdout.flush(); sys.stderr.flush()
                except BaseException:  # noqa: BLE001
                    pass
                os._exit(rc if isinstance(rc, int) and 0 <= rc < 256 else 98)
            running[pid] = (i, time.monotonic())
            i += 1
        pid, status, ru = os.wait4(-1, 0)
        idx, t0 = running.pop(pid)
        secs = time.monotonic() - t0
        done += 1
        if done % 100 == 0 or done == len(cases_):  # progress, to stderr
            print(f"hostile: {done}/{len(cases_)} cases, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        try:
            out = (d / "out" / f"{idx}.o").read_bytes()[:OUT_LIMIT]
            err = (d / "out" / f"{idx}.e").read_bytes()[:200_000]
        except OSError:
            out, err = b"", b"harness: the child wrote no output files"
        label, argv, env = cases_[idx]
        cpu_s = ru.ru_utime + ru.ru_stime
        results[idx] = (label, argv, env, rc, sig, cpu_s, ru.ru_maxrss / 1024,
                        classify(rc, sig, out, err, ru.ru_maxrss / 1024, cpu_s, argv, rss_limit, timeout, env=env),
                        err[-600:])
        for f in (d / "out" / f"{idx}.o", d / "out" / f"{idx}.e"):
            f.unlink(missing_ok=True)
    return results


STREAM_LABELS = {label for label, _, _ in STREAMS}


def run_streams(d: Path, timeout: float, only: str = ""):
    """The stream and locale cases as real subprocesses (wall time); with --filter, only those whose label has it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env.update(NO_COLOR="1", ADVISOR_HOME=str(d / "home"), OLLAMA_MODELS=str(d / "no-ollama"), HF_HUB_OFFLINE="1",
               PYTHONPATH=str(ROOT))
    res = []
    for label, mode, argv in STREAMS:
        if only and only not in label and only not in " ".join(argv):  # as --filter picks the forked cases
            continue
        cmd = [sys.executable, "-m", "selfhost_advisor", *argv]
        e = dict(env)
        t0 = time.monotonic()
        expect = 0
        try:  # a stream case past its wall limit (load 20 and more on the shared machine) is a hang, not the end of the run
            if mode == "closed":
                p = subprocess.run(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout * 3,
                                   preexec_fn=lambda: os.close(1))
                rc, out, err, expect = p.returncode, b"", p.stderr, 2
            elif mode == "closed2":
                p = subprocess.run(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=timeout * 3,
                                   preexec_fn=lambda: os.close(2))
                rc, out, err, expect = p.returncode, p.stdout, b"", 2
            elif mode == "full":
                with open("/dev/full", "wb") as full:
                    p = subprocess.run(cmd, env=e, stdout=full, stderr=subprocess.PIPE, timeout=timeout * 3)
                rc, out, err, expect = p.returncode, b"", p.stderr, 2
            elif mode == "closed0":
                p = subprocess.run(cmd, env=e, capture_output=True, timeout=timeout * 3, preexec_fn=lambda: os.close(0))
                rc, out, err, expect = p.returncode, p.stdout, p.stderr, 2 if "/dev/stdin" in argv else 0
            elif mode.startswith("sigint:"):
                p = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                time.sleep(float(mode[7:]))
                p.send_signal(signal.SIGINT)
                out, err = p.communicate(timeout=timeout * 3)
                # finished before the signal (0), or interrupted (130). -2 (killed by SIGINT, what a shell also reads as
                # 130) is clean too: CPython kills itself with SIGINT at exit when the interrupt passed through an
                # exec() / eval() of a string (dataclasses, namedtuple) before typer caught it (pythonrun.c
                # run_eval_code_obj sets _Py_UnhandledKeyboardInterrupt), after our one line was printed
                rc = 130 if p.returncode == -signal.SIGINT else p.returncode
                expect = 0 if rc == 0 else 130
                last = (err.rstrip().splitlines() or [b""])[-1]  # probe --measure's progress lines come before it
                if rc == 130 and not (last.startswith(b"advisor: ") and b"interrupted" in last):
                    err += b"\nharness: exit 130 without its one line"
            elif mode == "head":
                p = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                p.stdout.readline(); p.stdout.close()
                err = p.stderr.read(); rc = p.wait(timeout * 3); out = b""
            else:
                if mode.startswith("env:"):  # NAME=value pairs; an empty value removes the variable
                    for pair in mode[4:].split(","):
                        k, _, v = pair.partition("=")
                        if v:
                            e[k] = v
                        else:
                            e.pop(k, None)
                elif mode == "ascii":
                    e["PYTHONIOENCODING"] = "ascii"
                elif mode == "latin1":
                    e["PYTHONIOENCODING"] = "latin-1"
                else:
                    e.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
                p = subprocess.run(cmd, env=e, capture_output=True, timeout=timeout * 3)
                rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as ex:
            if mode == "head":
                p.kill(); p.wait()
            res.append((label, argv, {}, None, None, time.monotonic() - t0, 0.0, ["hang"],
                        (ex.stderr or b"")[-600:] if isinstance(ex.stderr, bytes) else b""))
            continue
        secs = time.monotonic() - t0
        bad = []
        if b"Traceback" in err:
            bad.append("traceback")
        if rc != expect:
            bad.append(f"rc{rc}")
        if expect == 2 and err.count(b"\n") != 1 and mode != "closed2":
            bad.append("multiline")
        if b"harness: exit 130 without its one line" in err:
            bad.append("multiline")
        if expect == 0 and mode == "head" and err:
            bad.append("noisy")
        if secs > 4:
            bad.append("slow")
        res.append((label, argv, {}, rc, None, secs, 0.0, bad, err[-600:]))
    return res


def per_label(cs: list, n: int) -> list:
    """The first `n` cases of each label, in the (shuffled) order given: the fast mode. Why per label and not the first
    N cases: labels are flags, file kinds and environments, and a plain sample of 600 of the 12,500 cases is a third
    'custom spec' and 'new arch config' rows and leaves most flags untried."""
    seen: Counter = Counter()
    out = []
    for c in cs:
        if seen[c[0]] < n:
            seen[c[0]] += 1
            out.append(c)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=8)
    ap.add_argument("--rss-mb", type=float, default=300)
    ap.add_argument("--show", default="", help="comma-separated classes to list case by case")
    ap.add_argument("--filter", default="", help="only cases whose label contains this")
    ap.add_argument("--out", default="")
    ap.add_argument("--fast", action="store_true", help="only --per-label cases of each label (every flag, file kind,"
                    " environment and stream case is still tried; another --seed picks other values)")
    ap.add_argument("--per-label", type=int, default=4)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        d = Path(tmp)
        for sub in ("g", "p", "o", "out", "home", "no-ollama"):
            (d / sub).mkdir()
        os.environ["HOSTILE_CFG_FILE"] = str(d / "s30-configs.json")  # the server reads it per request (session 30)
        server, port = start_server()
        try:
            cs = cases(d, port, rng)
            if a.filter:
                cs = [c for c in cs if a.filter in c[0] or a.filter in " ".join(c[1])]
            # argv and environment strings cannot hold NUL bytes (execve would refuse them)
            cs = [(l, [x.replace("\0", "") for x in argv], {k: v.replace("\0", "") for k, v in env.items()})
                  for l, argv, env in cs]
            rng.shuffle(cs)
            if a.fast:
                cs = per_label(cs, a.per_label)
            if a.limit:
                cs = cs[: a.limit]
            t0 = time.monotonic()
            as_limit = 3 << 30
            results = run_forked(cs, d, a.jobs, a.timeout, a.rss_mb, as_limit) + run_streams(d, a.timeout, a.filter or "")
            wall = time.monotonic() - t0
        finally:
            server.kill()
            (d / "ro").chmod(0o700)
    counts = Counter(c for r in results for c in r[7])
    print(f"{len(results)} cases in {wall:.0f} s; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    by_label = Counter((r[0], c) for r in results for c in r[7])
    for (label, c), n in sorted(by_label.items(), key=lambda kv: -kv[1]):
        print(f"  {c:10s} {n:4d}  {label}")
    show = set(filter(None, a.show.split(",")))
    for r in results:
        if show & set(r[7]):
            argv = [x if len(x) < 80 else x[:40] + f"...({len(x)})" for x in r[1]]
            print("---", r[7], r[0], argv, {k: (v[:60]) for k, v in r[2].items()}, f"rc={r[3]} sig={r[4]} {r[5]:.1f}s {'CPU' if r[0] not in STREAM_LABELS else 'wall'} {r[6]:.0f}MB")
            print("   ", r[8].decode("utf-8", "replace").strip().splitlines()[-1:] if r[8] else "")
    if a.out:
        Path(a.out).write_text(json.dumps([[r[0], r[1][:6], r[3], r[4], round(r[5], 2), round(r[6]), r[7]] for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
