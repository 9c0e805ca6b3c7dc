"""Maintainer script: regenerate data/models.yaml architecture fields from each model's Hub config.json.

Not run by users or CI. For every catalog entry with an hf_id (or only --only IDS), it reads config.json (and the
safetensors parameter count) through selfhost_advisor.catalog.hub, maps it with hf_config.model_from_config (the
same mapping `advisor fit hf:...` uses), prints every field that differs from the catalog, and with --write
replaces those fields, setting `source` to the config.json URL at the commit read and `as_of` to today.
Architecture blocks: moe, ssm, layer_pattern, mla and dsa (DeepSeek V3.2's indexer: index_n_heads, index_head_dim,
index_topk). `license` comes from the model card's metadata (README.md front matter: `license:`, or `license_name`
where it is `other`, as data/models.yaml `licenses.source` says); a tag not in `licenses.values` is reported, never
written (its description must be added first).
Entries whose config is gated need HF_TOKEN. --fixtures DIR reads recorded <owner>--<repo>/config.json files
instead of the network (tests/fixtures/hub), to check the mapping offline.

    python scripts/refresh_catalog.py                 # report differences
    python scripts/refresh_catalog.py --write --only qwen3:30b,gemma3:12b
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog import hub  # noqa: E402
from selfhost_advisor.catalog.hf_config import model_from_config  # noqa: E402
from selfhost_advisor.errors import AdvisorError  # noqa: E402

FIELDS = ("arch", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size",
          "tied_embeddings", "max_context", "attention_bias", "qk_norm", "sliding_window", "sliding_window_pattern")


def entry_fields(model) -> dict:
    out = {f: getattr(model, f) for f in FIELDS}
    if model.moe:
        m = model.moe
        out["moe"] = {"experts": m.experts, "active": m.active, "shared_experts": m.shared_experts,
                      "expert_intermediate_size": m.expert_intermediate_size,
                      "shared_intermediate_size": m.shared_intermediate_size,
                      "first_dense_layers": m.first_dense_layers, "moe_layer_step": m.moe_layer_step}
    if model.ssm:
        s = model.ssm
        out["ssm"] = {"kind": s.kind, "d_conv": s.d_conv, "d_inner": s.d_inner, "d_state": s.d_state,
                      "n_group": s.n_group, "dt_rank": s.dt_rank}
    if model.layer_pattern:
        out["layer_pattern"] = model.layer_pattern
    if model.mla:
        a = model.mla
        out["mla"] = {"kv_lora_rank": a.kv_lora_rank, "q_lora_rank": a.q_lora_rank, "qk_rope_head_dim": a.qk_rope_head_dim,
                      "qk_nope_head_dim": a.qk_nope_head_dim, "v_head_dim": a.v_head_dim}
    if model.dsa:
        d = model.dsa
        out["dsa"] = {"index_n_heads": d.index_n_heads, "index_head_dim": d.index_head_dim, "index_topk": d.index_topk}
    return out


def card_license(card: str | None) -> str | None:
    """The licence tag of a model card (README.md): its YAML front matter's `license`, or `license_name` when that
    is `other`; None when the card or the tag is missing."""
    if not card or not card.startswith("---"):
        return None
    end = card.find("\n---", 3)
    if end < 0:
        return None
    try:
        meta = yaml.safe_load(card[3:end])
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict):
        return None
    lic = meta.get("license")
    if isinstance(lic, list):
        lic = lic[0] if lic else None
    if lic == "other" and meta.get("license_name"):
        lic = meta["license_name"]
    return str(lic).strip().lower() if lic else None


def fetch_card(repo: str, fixtures: Path | None) -> str | None:
    if fixtures is not None:
        path = fixtures / repo.replace("/", "--") / "README.md"
        return path.read_text() if path.is_file() else None
    client = hub.HubClient(repo)
    try:
        return client._get(client._file_url("README.md"), "model card").decode("utf-8", "replace")
    except AdvisorError:
        return None


def fetch(repo: str, fixtures: Path | None) -> tuple[dict, str, int | None]:
    """(config, source URL, stated params)."""
    if fixtures is not None:
        cfg = json.loads((fixtures / repo.replace("/", "--") / "config.json").read_text())
        return cfg, f"https://huggingface.co/{repo}/blob/main/config.json", None
    client = hub.HubClient(repo)
    info = client.info()
    counts = client.safetensors_params()
    sha = info.get("sha") or "main"
    return client.config(), f"https://huggingface.co/{repo}/blob/{sha}/config.json", (sum(counts.values()) if counts else None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated catalog ids")
    ap.add_argument("--write", action="store_true", help="update data/models.yaml")
    ap.add_argument("--fixtures", type=Path, help="read recorded config.json files from this folder")
    args = ap.parse_args(argv)
    path = ROOT / "data" / "models.yaml"
    # libyaml's safe loader where built (as catalog/data.py reads the same file): the pure-Python one takes ~2 s here
    doc = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders
    only = set(args.only.split(",")) if args.only else None
    known_licenses = set((doc.get("licenses") or {}).get("values") or {})
    today, changed, failed, checked = dt.date.today().isoformat(), 0, 0, 0
    for e in doc["models"]:
        if (only and e["id"] not in only) or not e.get("hf_id"):
            continue
        if args.fixtures and not (args.fixtures / e["hf_id"].replace("/", "--")).is_dir():
            continue
        try:
            cfg, source, params = fetch(e["hf_id"], args.fixtures)
            new = entry_fields(model_from_config(cfg, e["hf_id"]))
        except AdvisorError as err:
            print(f"{e['id']}: {err}", file=sys.stderr)
            failed += 1
            continue
        checked += 1
        lic = card_license(fetch_card(e["hf_id"], args.fixtures))
        if lic is not None and lic != e.get("license"):
            if lic in known_licenses:
                new["license"] = lic
            else:
                print(f"{e['id']}: license: card says {lic!r}, not in licenses.values: add it there first")
        diffs = {k: (e.get(k), v) for k, v in new.items() if _norm(e.get(k)) != _norm(v)}
        for k, (old, v) in diffs.items():
            print(f"{e['id']}: {k}: {old!r} -> {v!r}")
        if args.write and diffs:
            e.update({k: v for k, (_, v) in diffs.items()})
            e["source"], e["as_of"] = source, today
            if params:
                e["params"], e["params_source"] = params, "safetensors header metadata (Hub API)"
            changed += 1
    if args.write and changed:
        header = "".join(line + "\n" for line in path.read_text().splitlines() if line.startswith("#"))
        path.write_text(header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120))
        import compile_data  # scripts/ is on sys.path when run as a script

        compile_data.main()
    print(f"{checked} entries checked, {changed} updated, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def _norm(v):
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items() if x not in (None, 0, False)}
    return None if v in (None, 0, False) else v


if __name__ == "__main__":
    sys.exit(main())
