"""Every engine's --json validates against its schema: `--engine mlx` printed "engine": "mlx", which the fit, hardware
and models --fits schemas did not list (they enumerated llamacpp, ollama, vllm)."""
from __future__ import annotations

import json
from pathlib import Path

import schemakit

from cliproc import isolated_env, run_inprocess

SCHEMAS = Path(__file__).resolve().parents[1] / "docs/schema"


def test_mlx_outputs_validate(tmp_path):
    env = isolated_env(tmp_path / "home", tmp_path / "no-ollama")
    jobs = [(["fit", "llama3.2:1b", "-H", "m2-ultra-192gb", "--engine", "mlx", "--json"], "fit"),
            (["hardware", "--for", "llama3.2:1b", "--engine", "mlx", "--json"], "hardware"),
            (["models", "--fits", "m2-ultra-192gb", "--engine", "mlx", "--search", "llama3.2", "--json"], "models-fits")]
    for ran, (_, schema) in zip(run_inprocess([(argv, env) for argv, _ in jobs], tmp_path), jobs):
        assert ran.returncode == 0, ran.stderr
        doc = json.loads(ran.stdout)
        assert doc["engine"] == "mlx"
        schemakit.validate(doc, json.loads((SCHEMAS / f"{schema}.schema.json").read_text()))
