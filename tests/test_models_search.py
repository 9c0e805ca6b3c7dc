"""`advisor models` search and filters (issue 17 item 5): ranking, each filter, their combination with --fits,
the empty result, bad values and completion. The order rules are catalog/search.py's docstring and docs/cli.md."""
from __future__ import annotations

import json
from pathlib import Path

import schemakit
import pytest

from selfhost_advisor import cli_complete
from selfhost_advisor.catalog.models import USE_CASES, all_models, licenses
from selfhost_advisor.catalog.search import ModelFilter, apply, build, family
from selfhost_advisor.cli import main
from selfhost_advisor.errors import BadOptionError
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
CATALOG = all_models()


def _json(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    name = "models-fits" if "--fits" in argv or "--vram" in argv else "models"
    schemakit.validate(data, json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text()))
    return data


def _fake(mid: str, name: str, hf: str, params: int = 10**9, aliases=()):
    return replace(CATALOG[0], id=mid, name=name, hf_id=hf, params=params, aliases=tuple(aliases))


def test_tiers_rank_exact_before_prefix_before_substring():
    models = [_fake("zeta-coder:7b", "Zeta Coder", "z/Zeta-Coder-7B"),  # substring 'coder'
              _fake("coder:1b", "Coder 1B", "c/Coder-1B"),                # exact: the family is 'coder'
              _fake("coderx:3b", "CoderX", "c/CoderX-3B")]                # prefix
    got = apply(models, ModelFilter(search="coder"))
    assert [(m.model.id, m.tier) for m in got] == [("coder:1b", "exact"), ("coderx:3b", "prefix"),
                                                   ("zeta-coder:7b", "substring")]


def test_fuzzy_only_when_nothing_contains_the_text():
    got = apply(CATALOG, ModelFilter(search="mistrl"))
    assert "mistral:7b" in [m.model.id for m in got] and {m.tier for m in got} == {"fuzzy"}
    # 'qwen3' is contained in many entries, so its close spelling qwen2 is not dragged in
    qwen3 = apply(CATALOG, ModelFilter(search="qwen3"))
    assert qwen3 and not any(m.model.id.startswith("qwen2") for m in qwen3)
    assert {m.model.id for m in qwen3 if m.tier == "exact"} == {m.id for m in CATALOG if family(m) == "qwen3"}
    assert qwen3[0].tier == "exact" and "prefix" in [m.tier for m in qwen3]  # qwen3-next, qwen3.5 after the family


def test_several_words_must_all_match_and_search_is_case_insensitive():
    got = apply(CATALOG, ModelFilter(search="qwen coder"))
    assert got and all("qwen" in m.model.id and "coder" in m.model.id for m in got)
    assert [m.model.id for m in apply(CATALOG, ModelFilter(search="QWEN/QWEN2.5-CODER-7B-INSTRUCT"))][:1] == ["qwen2.5-coder:7b"]


def test_search_coder_finds_every_coder_in_the_catalog(capsys):
    data = _json(capsys, "models", "--search", "coder", "--json")
    ids = [m["id"] for m in data["models"]]
    expected = {m.id for m in CATALOG if "coder" in (m.id + m.hf_id).lower()}
    assert set(ids) == expected and len(ids) >= 4
    assert data["query"] == "coder" and data["filters"]["search"] == "coder" and "match" in data["order"]


def test_family_license_context_and_use_case_each_filter(capsys):
    fam = _json(capsys, "models", "--family", "qwen2.5-coder,codellama", "--json")["models"]
    assert {m["family"] for m in fam} == {"qwen2.5-coder", "codellama"}
    assert len(fam) == sum(m.id.split(":")[0] in ("qwen2.5-coder", "codellama") for m in CATALOG) >= 6
    mit = _json(capsys, "models", "--license", "MIT", "--json")["models"]
    assert mit and all(m["license"] == "mit" for m in mit)
    assert len(mit) == sum(m.license == "mit" for m in CATALOG)
    long = _json(capsys, "models", "--min-context", "128k", "--json")["models"]
    assert long and all(m["max_context"] >= 131072 for m in long)
    assert not any(m["id"] == "llama2:7b" for m in long)  # 4,096 tokens
    both = _json(capsys, "models", "--use-case", "reasoning", "--use-case", "vision", "--json")["models"]
    assert both and all({"reasoning", "vision"} <= set(m["use_cases"]) for m in both)


def test_filters_combine_and_plain_order_is_family_then_size(capsys):
    data = _json(capsys, "models", "--use-case", "code", "--license", "apache-2.0", "--min-context", "32k", "--json")
    rows = data["models"]
    assert rows and all("code" in m["use_cases"] and m["license"] == "apache-2.0" and m["max_context"] >= 32768
                        for m in rows)
    keys = [(m["family"], m["params"]) for m in rows]
    assert keys == sorted(keys) and data["order"].startswith("family")


def test_fits_takes_the_same_filters_and_honours_every_hardware_flag(capsys):
    base = ["models", "--fits", "rtx3060-12gb", "--family", "codellama", "--json"]
    one = _json(capsys, *base)
    assert {m["id"] for m in one["models"]} == {"codellama:7b", "codellama:13b", "codellama:34b"}
    assert one["filters"]["family"] == ["codellama"]
    fit = {m["id"]: m["option"]["placement"]["fit"] if m["option"] else None for m in one["models"]}
    assert fit["codellama:13b"] is None  # 40 KV heads: 13B does not fit 12 GB at 8k context (exit 0: no --min-tps)
    two = {m["id"]: m["option"] for m in _json(capsys, *base, "--gpus", "2")["models"]}
    assert two["codellama:13b"]["placement"]["fit"] == "gpu"  # --gpus doubles the VRAM
    ram = {m["id"]: m["option"] for m in _json(capsys, *base, "--ram", "64GB")["models"]}
    assert ram["codellama:13b"]["placement"]["fit"] == "partial"  # --ram allows partial offload
    custom = _json(capsys, "models", "--vram", "12GB", "--family", "codellama", "--json")  # --vram alone: a custom GPU
    assert custom["hardware"]["devices"][0]["memory_bytes"] == 12 * 10**9
    vision = _json(capsys, "models", "--fits", "rtx4090", "--use-case", "vision", "--json")["models"]
    assert vision and all("vision" in next(m for m in CATALOG if m.id == r["id"]).use_cases for r in vision)


def test_nothing_matching_is_an_empty_list_not_a_failure(capsys):
    data = _json(capsys, "models", "--search", "zzqqxx", "--json")
    assert data["models"] == []
    assert main(["models", "--search", "zzqqxx"]) == 0
    assert "0 models matching 'zzqqxx'" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs,named", [
    ({"use_case": "vizion"}, "chat, code, reasoning, vision, embedding"),
    ({"license_": "gpl-9"}, "apache-2.0"),
    ({"family_": "qwen25"}, "qwen2.5"),
    ({"min_context": "max"}, "--min-context"),
])
def test_bad_values_name_the_valid_ones(kwargs, named):
    with pytest.raises(BadOptionError) as err:
        build(**kwargs)
    assert named in f"{err.value} {err.value.hint}"


def test_completion_of_the_new_values():
    assert cli_complete.use_cases("re") == ["reasoning"]
    assert cli_complete.use_cases("code,v") == ["code,vision"]
    assert "apache-2.0" in cli_complete.licenses("apa") and set(cli_complete.licenses("")) == set(licenses())
    assert "qwen2.5-coder" in cli_complete.families("qwen2.5-c")


def test_every_catalog_value_is_offered():
    assert {u for m in CATALOG for u in m.use_cases} <= set(USE_CASES)
    assert {m.license for m in CATALOG} <= set(licenses())


def test_library_list_models_is_what_the_cli_prints(capsys):
    import selfhost_advisor as sa

    cli = _json(capsys, "models", "--search", "coder", "--use-case", "code", "--json")
    assert sa.as_json(sa.list_models("coder", use_case=["code"])) == cli


def test_text_output_says_which_filters_were_applied(capsys):
    assert main(["models", "--fits", "rtx4090", "--family", "codellama", "--min-context", "16k"]) == 0
    assert "models run (family codellama, context >= 16,384)." in capsys.readouterr().out
    assert main(["models", "--use-case", "code", "--license", "mit"]) == 0
    out = capsys.readouterr().out
    n = sum(1 for m in CATALOG if m.license == "mit" and "code" in m.use_cases)
    assert f"{n} model{'s' if n != 1 else ''} license mit, use case code" in out
