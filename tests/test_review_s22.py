"""Session 22 review (rev22): structured exclusion kinds, cost's default engine said, a speed caveat once in --json,
'h100' refused with its variants.

- cost/compare.py marked an unpriced purchase by the text 'buy: ...' of its reason, and text_cost / sensitivity decided
  by that prefix; each exclusion now has a kind (cost/types.py EXCLUSION_KINDS), in --json since schema 1.24.0.
- `cost` without --engine sizes a box no vLLM GPU serves with llama.cpp (cost/run.default_engine) and said only
  "served with llamacpp"; the header now says it was the default and why, --json's assumptions.engine too.
- fit --json listed each speed caveat twice (speed.note ended with it, speed.caveats held it): the --enforce-eager
  caveat 2 x 4 times for four options. Now in caveats only.
- 'h100' was an alias of the SXM5 card (3.35 TB/s), silently, while the PCIe card (2.0 TB/s) and the 94/96 GB
  variants differ; 'a100' and 'nvidia h100' were already refused with their choices.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from clikit import one_line_exit_2, run
from selfhost_advisor.catalog import hw_names
from selfhost_advisor.cost.types import EXCLUSION_KINDS
from selfhost_advisor.errors import UnknownHardwareError
from selfhost_advisor.estimate.serving.step import EAGER_CAVEAT

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schema"


def _json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_schema_lists_every_exclusion_kind_the_code_gives():
    schema = json.loads((SCHEMAS / "cost.schema.json").read_text())
    kind = schema["properties"]["excluded"]["items"]["properties"]["kind"]
    assert sorted(kind["enum"]) == sorted(EXCLUSION_KINDS)


def test_a_spec_table_gpu_is_excluded_as_an_unpriced_purchase_and_a_too_small_one_as_cannot_serve(capsys):
    # an RTX 4070 (12 GB, spec table: no price) serves Llama 3.1 8B but has no price: the price to win is searched for it
    d = _json(capsys, "cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx 4070", "--min-quant", "any")
    jsonschema.validate(d, json.loads((SCHEMAS / "cost.schema.json").read_text()))
    assert [(e["hardware"], e["kind"]) for e in d["excluded"]] == [("rtx-4070", "purchase-unpriced")]
    assert d["excluded"][0]["reason"].startswith("buy: ")  # the text as before
    assert [p["hardware"] for p in d["price_to_win"]] == ["rtx-4070"]
    d = _json(capsys, "cost", "-t", "1e9", "-m", "llama3.1:70b", "-H", "arc b580")
    assert [(e["hardware"], e["kind"]) for e in d["excluded"]] == [("arc-b580", "cannot-serve")]
    assert d["price_to_win"] == []  # a box that cannot serve the load has no price at which it would win


def test_cost_says_why_its_default_engine_is_llamacpp_and_when_the_engine_was_given(capsys):
    d = _json(capsys, "cost", "-t", "1e9", "-H", "m4-max-128gb")
    assert d["engine"] == "llamacpp" and d["assumptions"]["engine"]["value"] == "llamacpp"
    assert d["assumptions"]["engine"]["source"].startswith("default: llama.cpp, as no box named has a GPU vLLM serves")
    code, out, _ = run(capsys, "cost", "-t", "1e9", "-H", "m4-max-128gb")
    assert code == 0 and "served with llamacpp (the default where no box has a GPU vLLM serves" in " ".join(out.split())
    given = _json(capsys, "cost", "-t", "1e9", "-H", "m4-max-128gb", "--engine", "llamacpp")
    assert given["assumptions"]["engine"] == {"value": "llamacpp", "source": "given with --engine"}
    code, out, _ = run(capsys, "cost", "-t", "1e9", "-H", "m4-max-128gb", "--engine", "llamacpp")
    assert code == 0 and "the default where" not in " ".join(out.split())
    assert _json(capsys, "cost", "-t", "1e9", "-H", "rtx4090")["assumptions"]["engine"]["source"].startswith("default: vLLM")


def test_the_enforce_eager_caveat_is_once_per_option_in_fit_json(capsys):
    d = _json(capsys, "fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "--enforce-eager")
    speeds = [o["speed"] for o in d["options"] if o["speed"]]
    assert len(speeds) >= 2
    assert all(s["caveats"] == [EAGER_CAVEAT] and EAGER_CAVEAT not in s["note"] for s in speeds)
    assert json.dumps(d).count(EAGER_CAVEAT[:40]) == len(speeds)
    plain = _json(capsys, "fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm")
    assert EAGER_CAVEAT[:40] not in json.dumps(plain)


@pytest.mark.parametrize("name", ["h100", "H100", "2x h100", "nvidia h100"])
def test_h100_alone_is_refused_with_its_variants_as_a100_is(capsys, name):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", name)
    one_line_exit_2(code, out, err, "h100-pcie", "h100-sxm", "h100-nvl-94-gb")
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", name.replace("h100", "a100").replace("H100", "A100"))
    one_line_exit_2(code, out, err, "a100-80gb", "a100-40gb-pcie")


def test_h100_named_with_its_form_factor_resolves_to_that_card():
    assert hw_names.resolve("h100 sxm").id == "h100-sxm" and hw_names.resolve("h100-sxm").id == "h100-sxm"
    assert hw_names.resolve("h100 pcie").id == "h100-pcie"
    assert hw_names.resolve("NVIDIA H100 80GB HBM3").id == "h100-sxm"  # NVML's name for the SXM card (probe)
    with pytest.raises(UnknownHardwareError) as err:
        hw_names.resolve("h100")
    ids = {p.id for p in err.value.candidates}
    assert {"h100-pcie", "h100-sxm"} <= ids
    pcie, sxm = (next(p for p in err.value.candidates if p.id == i) for i in ("h100-pcie", "h100-sxm"))
    assert sxm.bandwidth_bytes_per_s > 1.6 * pcie.bandwidth_bytes_per_s  # why the pick mattered: 3.35 vs 2.0 TB/s


FIXTURE = Path(__file__).resolve().parent / "fixtures" / "probes" / "h200.probe.json"


@pytest.mark.parametrize("edit, said", [
    (lambda d: d.update(available_ram_bytes=4 * d["ram_bytes"]), "available_ram_bytes"),
    (lambda d: d["devices"][0].update(free_memory_bytes=3 * d["devices"][0]["memory_bytes"]), "free_memory_bytes"),
    (lambda d: d["devices"][0].update(usable_memory_bytes=5 * d["devices"][0]["memory_bytes"]), "usable_memory_bytes"),
])
def test_a_probe_file_claiming_more_free_memory_than_total_is_refused(capsys, tmp_path, edit, said):
    # a hand-edited probe was read as it stood: --memory free then planned a GPU against 3x its memory
    d = json.loads(FIXTURE.read_text())
    assert run(capsys, "fit", "llama3.1:8b", "--hardware", str(FIXTURE), "--memory", "free")[0] == 0
    edit(d)
    bad = tmp_path / "box.json"
    bad.write_text(json.dumps(d))
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--hardware", str(bad), "--memory", "free")
    one_line_exit_2(code, out, err, said, "is more than", "re-run 'advisor probe --json")


@pytest.mark.parametrize("name", ["NVIDIA Thor", "thor", "jetson thor"])
def test_a_driver_s_bare_thor_lists_both_thor_modules(name):
    # CUDA / NVML print 'NVIDIA Thor' on a Jetson Thor (llama.cpp issue #15969, vLLM issue #34470): named nothing before
    with pytest.raises(UnknownHardwareError) as err:
        hw_names.resolve(name)
    assert sorted(p.id for p in err.value.candidates) == ["jetson-t4000", "jetson-t5000"]


@pytest.mark.parametrize("name, pid", [("jetson agx thor", "jetson-t5000"),
                                       ("NVIDIA Jetson AGX Thor Developer Kit", "jetson-t5000"),  # devicetree model
                                       ("thor 128gb", "jetson-t5000"), ("nvidia thor 64gb", "jetson-t4000"),
                                       ("orin 64gb", "jetson-agx-orin-64-gb")])
def test_a_thor_name_with_its_kit_or_size_resolves_to_that_module(name, pid):
    assert hw_names.resolve(name).id == pid


def test_docs_cli_version_line_names_the_current_schema():
    # docs/cli.md said 'JSON schema 1.2.0' through 22 schema bumps
    from selfhost_advisor import SCHEMA_VERSION

    doc = (SCHEMAS.parent / "cli.md").read_text()
    assert f"(JSON schema {SCHEMA_VERSION})" in doc
