"""Session 27 (rocm26): a published prompt row's micro-batch is never larger than its prompt (scripts/fit_speed.py
Row.micro_batch; docs/methodology.md 5f-rocm28).

llama-bench runs a ppN test as llama_decode calls of at most n_batch tokens, which llama_context splits into
micro-batches of at most n_ubatch: a pp512 test run with -ub 4096 is one micro-batch of 512 tokens. The Strix Halo
rows of llama.cpp discussion #15396 (Djip007, -ub 4096, build 7123) were predicted as 4096-token micro-batches, which
read each gpt-oss-120b expert once per 4096 tokens instead of once per 512 (benchmarks/unseen_s26.py: pp512 +73.3%).
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import fit_speed  # noqa: E402

UNSEEN = ROOT / "benchmarks" / "published" / "unseen_s26_weak.yaml"


def _strix_halo_rows() -> list:
    return [r for r in fit_speed.published_rows(UNSEEN)
            if r.backend == "rocm" and r.model_id == "gpt-oss:120b" and r.kind == fit_speed.PROMPT]


def test_micro_batch_is_the_smaller_of_ubatch_and_prompt():
    rows = {r.test: r for r in _strix_halo_rows()}
    assert rows["pp512"].n_ubatch == 4096 and rows["pp512"].micro_batch == 512  # the row as published: -ub 4096
    assert rows["pp2048"].micro_batch == 2048
    decode = replace(rows["pp512"], test="tg16")
    assert decode.micro_batch == decode.n_ubatch  # decode rows keep the flag (it does not enter decode)
    at_depth = replace(rows["pp512"], test="pp2048@d32768", n_ubatch=512)
    assert at_depth.micro_batch == 512  # the cached tokens do not count: 2048 prompt tokens in micro-batches of 512


def test_an_ubatch_above_the_prompt_predicts_as_the_prompt_itself():
    """The prediction of a pp512 row with -ub 4096 is that of the same row with -ub 512; before the fix the MoE floor
    and tile terms were charged per 4096 tokens, so the two differed (the test fails on the old harness)."""
    for r in _strix_halo_rows():
        as_prompt = fit_speed.predict(replace(r, n_ubatch=r.micro_batch))
        assert fit_speed.predict(r) == as_prompt
        assert fit_speed.predict(replace(r, n_ubatch=8192)) == as_prompt
    # a micro-batch of 4096 really is priced differently for this model, so the cap is what makes them equal
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.estimate.speed import estimate_speed

    r = next(x for x in _strix_halo_rows() if x.test == "pp512")
    with at_build(r.build_date):
        wide = estimate_speed(get_model(r.model_id), get_quant(r.quant), fit_speed._placement(r), r.machine,
                              decode_depth=r.depth, prefill_depth=r.depth, n_ubatch=4096).prefill_tokens_per_s
    assert wide != fit_speed.predict(r)
