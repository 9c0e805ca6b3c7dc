"""A published decode row measured through llama-server (`via: server`, benchmarks/published/llamabench_weak.yaml) is
scored against llama-bench's figure plus llama-server's per-token host sampling (estimate/server_host.py), the figure
`advisor fit` reports for llama-server: the server samples over the whole vocabulary between tokens, llama-bench does
not (session 21, sycl12: the Arc Pro B70 rows of steveseguin/b70-optimization-lab)."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import fit_speed  # noqa: E402

from selfhost_advisor.catalog.models import get as get_model  # noqa: E402
from selfhost_advisor.estimate.server_host import sampling_seconds  # noqa: E402


def _server_rows():
    return [r for r in fit_speed.published_rows() if r.via == "server"]


def test_server_rows_are_read_with_their_via_and_kept_out_of_every_fit():
    rows = _server_rows()
    assert len(rows) >= 8
    assert all(r.blind and r.kind == fit_speed.DECODE for r in rows)
    assert all(r.via == "llama-bench" for r in fit_speed.fit_rows() if r.source == "published")


def test_server_row_adds_one_sampling_pass_per_token_to_the_llama_bench_time():
    row = next(r for r in _server_rows() if r.model_id == "phi4-mini:3.8b" and r.quant == "Q4_K_M")
    bench = replace(row, via="llama-bench")
    t_server, t_bench = 1 / fit_speed.predict(row), 1 / fit_speed.predict(bench)
    # Phi-4-mini's 200,064-entry vocabulary at 4.07 ns an entry: 0.81 ms a token, in series with the decode
    assert abs((t_server - t_bench) - sampling_seconds(get_model(row.model_id))) < 1e-9
    assert 0.7e-3 < t_server - t_bench < 0.9e-3
