"""The shipped data (data/*.yaml) keeps its promises: every constant sourced and dated, required fields present, units
sane, every alias naming exactly one entry, every cross-reference pointing at something that exists.

STYLE.md: "Numbers about the world live in data/*.yaml with source: and as_of:". Files say it three ways, and each
is accepted where the file uses it: a `source`/`sources` on the entry (models, hardware, prices, cost defaults), a
`source_<key>` beside the value (engines, probe, speed), or one `source` for the whole file (generated or
single-origin tables: ggml_types, quants, gguf_arch, hf_architectures). Files are read with PyYAML's safe loader
here (libyaml's where built: the same documents as yaml.safe_load for every data file, a seventh of the time, and
both xdist workers collect this file), not through the package's loader, so a loader change cannot hide a data problem.
Stated parameter counts against the architecture are in test_catalog.py (3%, text_params honoured).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "data").glob("*.yaml"))
DATA = {p.stem: yaml.load(p.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        for p in FILES}
CATALOG_DATE = dt.date(2026, 12, 8)  # no as_of may pass the last compile (session 34 price34: cost.yaml electricity and engineer-hour re-read 2026-12-08; session 23 serving rows read 2026-12-07; session 14 rows read 2026-12-06; cost.yaml rental quotes, issue 14; gpu_specs.yaml, apple.yaml, issue 16)


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _walk(node, path=()):
    """(path, key, value, parent mapping or None) for every leaf and branch."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,), k, v, node
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,), i, v, None
            yield from _walk(v, path + (i,))


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _covered(doc, path) -> bool:
    """A number is sourced by a `source`/`sources` on a mapping along its path, or a `source_<prefix>` beside a key."""
    node = doc
    for key in path:
        if isinstance(node, dict):
            if node.get("source") or node.get("sources"):
                return True
            if isinstance(key, str) and any(s.startswith("source_") and key.startswith(s[len("source_"):])
                                            for s in node if node[s]):
                return True
        node = node[key]
    return False


def test_every_data_file_is_dated_and_no_date_is_after_the_catalog_date():
    assert len(FILES) >= 10
    for name, doc in DATA.items():
        assert "as_of" in doc, name
        dates = [(path, v) for path, k, v, _ in _walk(doc) if k == "as_of"]
        for path, value in dates:
            assert _date(value) <= CATALOG_DATE, (name, path, value)


@pytest.mark.parametrize("name", sorted(DATA))
def test_every_number_in_the_data_has_a_source(name):
    doc = DATA[name]
    unsourced = [path for path, _, v, _ in _walk(doc) if _is_number(v) and not _covered(doc, path)]
    assert not unsourced, f"data/{name}.yaml: numbers without a source: {unsourced[:10]}"


@pytest.mark.parametrize("name,key", [("models", "models"), ("hardware", "hardware"), ("prices", "candidates")])
def test_every_catalog_entry_carries_its_own_source_and_date(name, key):
    for e in DATA[name][key]:
        src = e.get("source") or e.get("sources")
        assert src and e.get("as_of"), (name, e.get("id"))
        texts = src.values() if isinstance(src, dict) else [src]
        assert all(isinstance(t, str) and len(t.strip()) > 10 for t in texts), (name, e["id"])


def test_cost_defaults_and_hosts_each_carry_source_and_date():
    cost = DATA["cost"]
    for group in ("defaults", "host_systems"):
        for key, e in cost[group].items():
            assert e.get("source") and e.get("as_of"), (group, key)
    for key in ("rental", "recommendation"):
        assert cost[key].get("source") and cost[key].get("as_of"), key


# Every hardware figure names its own source (data/hardware.yaml: "every figure has a source"); derived figures
# say how in `notes`.
FIGURE_SOURCE = {"memory_bytes": "memory", "memory_bandwidth_gbps": "bandwidth", "fp16_tflops": "tflops",
                 "fp16_acc16_tflops": "tflops", "fp8_tflops": "tflops", "int8_tops": "tflops", "tdp_watts": "tdp",
                 "price_usd": "price", "interconnect_gbps": "interconnect", "gpu_cores": "tflops", "sm_count": "sm",
                 "boost_clock_mhz": "sm", "cuda_cores": "sm", "usable_memory_gib": "usable_memory",
                 "cpu_cores": "cpu", "cpu_clock_ghz": "cpu", "flops_per_cycle": "cpu", "sockets": "cpu"}


@pytest.mark.parametrize("e", DATA["hardware"]["hardware"], ids=lambda e: e["id"])
def test_every_hardware_figure_names_its_source(e):
    numbers = {k for k, v in e.items() if _is_number(v)}
    assert numbers <= set(FIGURE_SOURCE), f"new figure without a source rule: {numbers - set(FIGURE_SOURCE)}"
    for figure in numbers:
        assert e["sources"].get(FIGURE_SOURCE[figure]) or figure in e.get("notes", ""), (e["id"], figure)


# --- required fields and sane units -------------------------------------------------------------------------------

MODEL_INTS = ("params", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim",
              "vocab_size", "max_context")


@pytest.mark.parametrize("e", DATA["models"]["models"], ids=lambda e: e["id"])
def test_model_entries_have_positive_integer_shapes(e):
    for key in MODEL_INTS + ("hf_id", "arch", "hf_architecture", "params_source", "license", "released", "name"):
        assert e.get(key) not in (None, ""), key
    for key in MODEL_INTS:
        assert isinstance(e[key], int) and e[key] > 0, key
    assert isinstance(e["tied_embeddings"], bool)
    assert e["n_heads"] % e["n_kv_heads"] == 0  # grouped-query attention shares each KV head among whole query groups
    # BERT-style embedding models are trained on 512 positions (mxbai-embed-large); chat models on 2048 or more
    assert (512 if e.get("use_cases") == ["embedding"] else 2048) <= e["max_context"] <= 2**24
    assert _date(f"{e['released']}-01"[:10]) <= _date(e["as_of"])
    assert e["hf_architecture"] in DATA["hf_architectures"]["architectures"]
    moe = e.get("moe")
    if moe:
        assert 1 <= moe["active"] <= moe["experts"] and moe["expert_intermediate_size"] > 0
    if e["hf_architecture"] == "DeepseekV32ForCausalLM":  # sparse attention: the indexer cache is part of its KV
        assert {"index_n_heads", "index_head_dim", "index_topk"} <= set(e.get("dsa") or {}), "dsa: from config.json"
    if e.get("text_params"):
        # the one declared reason stated and computed params may differ: a non-text part (vision tower ...)
        assert e["text_params"] < e["params"]
        assert re.search(r"vision|projector|multimodal|MTP", e["params_source"], re.I), e["params_source"]


# --- license and use_cases (issue 17: `advisor models --license/--use-case` filter on them) ---------------------------

@pytest.mark.parametrize("e", DATA["models"]["models"], ids=lambda e: e["id"])
def test_model_license_and_use_cases_come_from_the_declared_sets(e):
    licenses = DATA["models"]["licenses"]["values"]
    use_cases = DATA["models"]["use_cases"]["values"]
    assert e["license"] in licenses, f"{e['license']!r}: add it to licenses.values with what it is, or say unknown"
    assert isinstance(e["use_cases"], list) and e["use_cases"], "use_cases: at least one of " + ", ".join(use_cases)
    assert set(e["use_cases"]) <= set(use_cases) and len(set(e["use_cases"])) == len(e["use_cases"])
    hf = e["hf_id"].lower()
    # the stated purpose the card's name carries: a Coder / Code Llama checkpoint is a code model, an R1 distill or
    # QwQ a reasoning one, a vision-language checkpoint (-VL, or a ConditionalGeneration class whose params include a
    # vision tower) takes images, an embedding model embeds
    if re.search(r"coder|codellama|codestral|devstral", hf):
        assert "code" in e["use_cases"]
    if re.search(r"-r1\b|-r1-|qwq|thinking", hf):
        assert "reasoning" in e["use_cases"]
    if re.search(r"-vl\b|-vl-", hf) or (e.get("text_params") and "vision" in e["params_source"].lower()):
        assert "vision" in e["use_cases"]
    if "embed" in hf:
        assert e["use_cases"] == ["embedding"]


def test_use_case_values_are_the_ones_the_cli_offers():
    from selfhost_advisor.catalog.models import USE_CASES

    assert tuple(DATA["models"]["use_cases"]["values"]) == USE_CASES
    assert DATA["models"]["licenses"]["source"] and DATA["models"]["licenses"]["as_of"]
    assert DATA["models"]["use_cases"]["source"] and DATA["models"]["use_cases"]["as_of"]


HARDWARE_KINDS = {"gpu", "apple", "apu", "cpu", "host"}


@pytest.mark.parametrize("e", DATA["hardware"]["hardware"], ids=lambda e: e["id"])
def test_hardware_entries_have_sane_units(e):
    for key in ("id", "name", "kind", "vendor", "backend", "memory_bytes", "memory_bandwidth_gbps"):
        assert e.get(key) not in (None, ""), key
    assert e["kind"] in HARDWARE_KINDS
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", e["id"]), "DESIGN.md: ids are lowercase with dashes"
    assert isinstance(e["memory_bytes"], int) and 2**30 <= e["memory_bytes"] <= 2**44
    assert 10 <= e["memory_bandwidth_gbps"] <= 20_000  # GB/s: a laptop DIMM pair to an HBM3e package
    for key in ("fp16_tflops", "fp16_acc16_tflops", "tdp_watts"):
        assert e.get(key) is None or e[key] > 0, key
    if e.get("price_usd") is not None:
        assert e["price_usd"] > 0 and e.get("price_kind"), "a price says what kind (msrp, used ...)"
    if e.get("fp16_acc16_tflops") and e.get("fp16_tflops"):
        assert e["fp16_acc16_tflops"] >= e["fp16_tflops"]  # FP16 accumulate is never slower than FP32 accumulate


def test_cloud_prices_and_cost_defaults_are_non_negative():
    for e in DATA["prices"]["candidates"]:
        assert e["input_usd_per_mtok"] >= 0 and e["output_usd_per_mtok"] >= 0, e["id"]
        assert e.get("provider") and e.get("tier") is not None and e.get("name"), e["id"]
        assert _date(e["as_of"]) <= CATALOG_DATE
    for key, e in DATA["cost"]["defaults"].items():
        assert _is_number(e["value"]) and e["value"] >= 0, key
    for pid, quotes in DATA["cost"]["rental"]["quotes"].items():
        assert quotes, pid
        for q in quotes:  # each quote: a provider, a positive rate, the page it was read on and its date
            assert q["usd"] > 0 and q["provider"] and q["url"].startswith("http") and q["published"], (pid, q)
    for key in ("usd_per_gpu", "active_watts_per_gpu", "idle_watts_per_gpu"):
        assert DATA["cost"]["host_systems"]["server"][key] > 0
    ws = DATA["cost"]["host_systems"]["workstation"]
    assert ws["active_watts"] > ws["idle_watts"] > 0


def test_engine_constants_are_positive_and_each_engine_has_the_same_keys():
    engines = DATA["engines"]["engines"]
    keys = {name: {k for k in e if not k.startswith("source")} for name, e in engines.items()}
    common = set.intersection(*keys.values())
    assert {"n_ubatch", "kv_pad", "flash_attention", "parallel_multiplies_context"} <= common
    for name, e in engines.items():
        assert e["n_ubatch"] > 0 and e["kv_pad"] > 0, name
    assert 0 < engines["vllm"]["gpu_memory_utilization"] < 1
    for key, value in DATA["engines"]["runtime"].items():
        if not key.startswith("source"):
            assert value >= 0 and DATA["engines"]["runtime"].get(f"source_{key}"), key


# --- aliases: each names exactly one entry ---------------------------------------------------------------------

def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", str(text).strip().lower())


def test_no_hardware_name_or_alias_could_mean_two_profiles():
    seen: dict[str, str] = {}
    for e in DATA["hardware"]["hardware"]:
        for name in {e["id"], e["name"], *(e.get("aliases") or ())}:
            for key in {_norm(name), _norm(name).replace("-", "")}:  # the forms the resolver tries
                assert seen.setdefault(key, e["id"]) == e["id"], f"{name!r}: {seen[key]} and {e['id']}"


def test_every_hardware_name_and_alias_resolves_to_its_own_profile():
    from selfhost_advisor.catalog.hardware import find_profile

    for e in DATA["hardware"]["hardware"]:
        for name in (e["id"], e["name"], *(e.get("aliases") or ())):
            found = find_profile(str(name))
            assert found is not None and found.id == e["id"], (name, e["id"], found and found.id)


def test_every_model_alias_resolves_to_its_own_entry():
    from selfhost_advisor.catalog.models import resolve

    for e in DATA["models"]["models"]:
        for name in (e["id"], e["hf_id"], *(e.get("aliases") or ())):
            assert resolve(str(name)).model.id == e["id"], (name, e["id"])


def test_no_cloud_price_alias_could_mean_two_candidates():
    seen: dict[str, str] = {}
    for e in DATA["prices"]["candidates"]:
        for name in (e["id"], *(e.get("aliases") or ())):
            assert seen.setdefault(str(name).lower(), e["id"]) == e["id"], name


# --- cross-references --------------------------------------------------------------------------------------------

PROFILES = {e["id"] for e in DATA["hardware"]["hardware"]}


def test_profiles_named_elsewhere_exist():
    cost, probe, speed = DATA["cost"], DATA["probe"], DATA["speed"]
    named = set(cost["datacenter_profiles"]) | set(cost["rental"]["quotes"])
    named |= {spec.split()[-1] for spec in cost["default_hardware"]}
    named |= {cost["host_systems"]["workstation"]["usd_from_profile"], speed["default_host"]["profile"]}
    named |= {d["profile"] for d in probe["pci_devices"]} | {c["profile"] for c in probe["cpus"]}
    assert named <= PROFILES, named - PROFILES
    # a family prefix names curated profiles or spec-table rows (gh200: the GH200 rows of data/gpu_overrides.yaml)
    table = {r["id"] for r in DATA["gpu_specs"]["gpus"]}
    for prefix in speed["hardware_families"]:
        assert any(p.startswith(prefix) for p in PROFILES | table), prefix


def test_price_candidates_named_elsewhere_exist():
    prices = DATA["prices"]
    ids = {e["id"] for e in prices["candidates"]}
    assert set(prices["default_candidates"].values()) <= ids
    models = {e["id"] for e in DATA["models"]["models"]}
    for e in prices["candidates"]:
        assert e.get("open_weight_of") is None or e["open_weight_of"] in models, e["id"]
