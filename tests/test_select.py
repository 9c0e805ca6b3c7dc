"""Gates agree (issue 19): fit's --require-fit/--min-tps, hardware --for and models --fits pick by one rule."""
import json

import pytest

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant, listed_quants
from selfhost_advisor.cli import main
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.fit import best_option, fit
from selfhost_advisor.estimate.plan import hardware_for, models_that_fit
from selfhost_advisor.estimate.quality import loss
from selfhost_advisor.estimate.select import REQUIRE_FIT, check, decode_tps, gate, meets


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_min_tps_passes_when_a_gpu_option_meets_it_as_hardware_for_says(capsys):
    # The case: 70B on one RTX PRO 6000 Blackwell. Q8_0 (recommended) decodes below 25 tokens/s but smaller
    # quantizations that still fit on the GPU are faster; hardware --for lists the card as meeting 25 tokens/s,
    # so fit --min-tps 25 must pass too, naming the same quantization.
    code, out, err = run(capsys, "fit", "llama3.1:70b", "-H", "rtx-pro-6000-blackwell", "--min-tps", "25", "--json")
    assert code == 0, err
    data = json.loads(out)
    gate = data["gate"]
    assert gate["passed"] and gate["min_tps"] == 25
    picked = next(o for o in data["options"] if o["quant"] == gate["quant"])
    # the recommendation (and the command printed for it) is the option that meets the gate, not a slower one
    assert data["recommended"] == gate["quant"] and "--min-tps 25" in data["recommended_reason"]
    code, out, err = run(capsys, "fit", "llama3.1:70b", "-H", "rtx-pro-6000-blackwell", "--json")
    ungated = json.loads(out)
    rec = next(o for o in ungated["options"] if o["quant"] == ungated["recommended"])
    assert rec["speed"]["decode_tokens_per_s"] < 25  # without the gate the better, slower option is recommended
    assert picked["speed"]["decode_tokens_per_s"] >= 25 and picked["placement"]["fit"] == "gpu"
    # every option that loses measurably less than the pick misses the speed or the GPU
    kld = picked["quality"]["kld"]
    better = [o for o in data["options"] if o["quality"]["kld"] < kld]
    assert better and all(o["placement"]["fit"] != "gpu" or o["speed"]["decode_tokens_per_s"] < 25 for o in better)

    code, out, _ = run(capsys, "hardware", "--for", "llama3.1:70b", "--min-tps", "25", "--quant",
                       ",".join(o["quant"] for o in data["options"]), "--json")
    row = next(c for c in json.loads(out)["candidates"] if c["hardware"] == "rtx-pro-6000-blackwell")
    assert row["meets_target"] and row["option"]["quant"] == gate["quant"]

    code, out, _ = run(capsys, "fit", "llama3.1:70b", "-H", "rtx-pro-6000-blackwell", "--min-tps", "25")
    assert code == 0 and f"met by {gate['quant']}" in out and f"Recommended: {gate['quant']}" in out


def test_a_gate_nothing_meets_leaves_the_ungated_recommendation(capsys):
    args = ("fit", "llama3.1:70b", "-H", "rtx4090", "--ram", "64GB", "--json")
    code, out, _ = run(capsys, *args)
    plain = json.loads(out)
    code, out, _ = run(capsys, *args, "--min-tps", "500")
    gated = json.loads(out)
    assert code == 1 and not gated["gate"]["passed"] and gated["recommended"] == plain["recommended"]


def test_fit_min_tps_failure_names_the_fastest_option(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:70b", "-H", "rtx4090", "--ram", "64GB", "--min-tps", "500")
    assert code == 1 and "--min-tps 500" in err and "fastest is" in err
    code, out, err = run(capsys, "fit", "llama3.1:70b", "-H", "rtx4090", "-q", "Q8_0,Q4_K_M", "--require-fit", "gpu", "--min-tps", "5",
                         "--json")
    assert code == 1 and json.loads(out)["gate"] == {"require_fit": "gpu", "min_tps": 5, "passed": False,
                                                       "quant": None}


def test_empty_require_fit_is_bad_input_not_no_gate(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", "rtx4090", "--require-fit", "")
    assert code == 2 and out == "" and "--require-fit" in err


# (model, profile, units): models of several sizes on cards where some quantizations miss and others meet.
# a100-80gb x 70B at 10 tokens/s is the case a bisection got wrong: Q8_0 decodes faster than Q5_K_M there.
GRID = [("llama3.1:70b", "a100-80gb", 1), ("llama3.1:70b", "rtx4090", 2), ("gemma3:27b", "a100-40gb-pcie", 1),
        ("mistral-small:24b", "rtx-3060-12gb", 1), ("gemma2:27b", "t4", 1), ("qwen2.5:7b", "rtx4090", 1),
        ("mixtral:8x7b", "rtx4090", 1), ("llama3.1:70b", "m2-ultra-192gb", 1)]


@pytest.mark.parametrize("model_id,profile,units", GRID)
def test_planners_pick_what_fit_gates_pick(model_id, profile, units):
    m = resolve(model_id).model
    machine = machine_from_profile(find_profile(profile), units)
    quants = listed_quants()
    request = FitRequest(context=8192)
    options = fit(m, machine, request, quants).options
    for require in (None, "gpu", "partial"):
        for min_tps in (None, 5.0, 10.0, 25.0, 40.0):
            got = best_option(m, machine, request, quants, min_tps=min_tps, tiers=REQUIRE_FIT[require or "any"])
            want = check(options, require, min_tps).option
            assert (got and got.quant.name) == (want and want.quant.name), (require, min_tps)
            if want is not None:  # no better-quality option of the same tier meets the gate at least as fast
                g = gate(require, min_tps)
                for o in options:
                    if o.placement.fit == want.placement.fit and meets(o, g) and decode_tps(o) >= decode_tps(want):
                        assert (loss(o.quant.name), o.quant.rank) >= (loss(want.quant.name), want.quant.rank)


def test_a100_picks_q8_0_over_slower_smaller_k_quants():
    # On an A100, llama.cpp's K-quant kernels are compute-bound: Q8_0 (8.5 bits) decodes faster than Q6_K.
    # At 10 tokens/s the best quality that meets the speed is Q8_0; a bisection along the list found Q5_K_M.
    m = resolve("llama3.1:70b").model
    machine = machine_from_profile(find_profile("a100-80gb"), 1)
    opts = {o.quant.name: o for o in fit(m, machine, FitRequest(context=8192), listed_quants()).options}
    if not decode_tps(opts["Q8_0"]) >= 10 > decode_tps(opts["Q6_K"]):
        pytest.skip("the speed model no longer has Q8_0 above and Q6_K below 10 tokens/s on an A100")
    assert best_option(m, machine, FitRequest(context=8192), listed_quants(), min_tps=10).quant.name == "Q8_0"


def test_hardware_for_and_models_fits_agree_with_fit_on_one_machine():
    m = resolve("llama3.1:70b").model
    request = FitRequest(context=8192)
    floor = get_quant("Q4_K_M").rank
    quants = listed_quants()
    rows = {c.profile.id: c for c in hardware_for(m, quants, request, min_tps=20, max_rank=floor)}
    for label in ("rtx-pro-6000-blackwell", "h100-sxm", "a100-80gb", "rtx-4090"):
        c = rows[label]
        options = fit(m, machine_from_profile(c.profile, c.count), request, quants, host_ram_known=False).options
        want = check(options, "gpu", 20, max_rank=floor).option
        assert (c.option and c.option.quant.name) == (want and want.quant.name), label
    machine = machine_from_profile(find_profile("m2-ultra-192gb"), 1)
    (row,) = models_that_fit([m], machine, quants, request, min_tps=8)
    want = check(fit(m, machine, request, quants).options, None, 8).option
    assert (row.option and row.option.quant.name) == (want and want.quant.name)


def test_models_too_large_for_the_gpus_are_skipped_only_when_no_option_could_be_picked():
    """estimate.fit skips a model whose layers cannot fit the GPUs at any quantization (memory.layer_weights_floor):
    the floor is under the real layer weights (every model, a third of the quantizations from F32 to IQ1_S; it holds
    for all 35), and every option of a skipped model really is "no"
    without host RAM (nothing to pick), as evaluating them all shows."""
    from selfhost_advisor.catalog.models import all_models
    from selfhost_advisor.catalog.quants import all_quants, listed_quants
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.fit import _never_on_gpu, best_option, evaluate
    from selfhost_advisor.estimate.memory import layer_weights_floor, weights

    models = all_models()
    for m in models:
        floor = layer_weights_floor(m)
        assert 0 < floor <= min(sum(weights(m, q).layer_bytes) for q in all_quants()[::3]), m.id
    box = machine_from_profile(find_profile("rtx-4090"))
    request = FitRequest(context=8192)
    skipped = [m for m in models if _never_on_gpu(m, box, request)]
    assert len(skipped) >= 10 and {"llama3.1:405b", "deepseek-r1:671b"} <= {m.id for m in skipped}
    for m in skipped:
        req = FitRequest(context=min(8192, m.max_context))
        assert {evaluate(m, box, req, q, host_ram_known=False).placement.fit for q in listed_quants()} == {"no"}, m.id
        assert best_option(m, box, req, listed_quants(), host_ram_known=False) is None
    assert not _never_on_gpu(skipped[0], box, FitRequest(context=8192, engine="vllm"))  # llama.cpp only


@pytest.mark.parametrize("model_id,hw", [("qwen2.5:72b", ["m2-ultra-192gb"]), ("llama3.1:8b", ["rtx4090"]),
                                          ("deepseek-r1:70b", ["rtx4090", "--ram", "64GB"]),
                                          ("llama3.1:70b", ["2x rtx4090"])])
def test_fit_and_models_fits_pick_the_same_option_for_the_same_reason(capsys, model_id, hw):
    code, out, err = run(capsys, "fit", model_id, "-H", *hw, "--json")
    assert code == 0, err
    f = json.loads(out)
    code, out, err = run(capsys, "models", "--fits", *hw, model_id, "--json")
    assert code == 0, err
    row = next(m for m in json.loads(out)["models"] if m["id"] == model_id)
    assert (row["option"]["quant"], row["pick_rule"], row["pick_reason"]) == (
        f["recommended"], f["recommended_rule"], f["recommended_reason"])


def test_a_machine_without_gpus_scans_only_the_cpu_tier_and_picks_what_every_tier_would():
    """estimate.fit.best_pick scans only the "cpu" tier on a machine without GPUs (`models --fits` on a CPU box
    evaluated every quantization of every model in the empty GPU tiers first). The premise: every engine that takes
    such a machine places each option "cpu" or "no" (dense, MoE with expert offload, a vision model; at a long context
    and with --min-tps too); the pick is choose() over all options evaluated with every tier."""
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.engines import engine_names, get_engine
    from selfhost_advisor.errors import AdvisorError
    from selfhost_advisor.estimate.fit import best_pick, evaluate
    from selfhost_advisor.estimate.select import Gate, choose

    box = machine_from_profile(find_profile("desktop-ddr5-64gb"))
    assert not box.devices
    seen = 0
    for name in engine_names():
        eng = get_engine(name)
        try:
            eng.check_machine(box)
        except AdvisorError:
            continue  # vLLM and MLX need a GPU
        for model_id in ("llama3.2:1b", "llama3.1:8b", "qwen3:30b-a3b", "llama3.1:70b", "gemma3:27b"):
            m = get(model_id)
            for ctx, min_tps in ((8192, None), (min(131072, m.max_context), 8.0)):
                req = FitRequest(context=ctx, engine=eng.name)
                qs = eng.quants()
                every = [evaluate(m, box, req, q) for q in qs]
                assert {o.placement.fit for o in every} <= {"cpu", "no"}, (name, model_id)
                want = choose(every, Gate(min_tps=min_tps))
                got = best_pick(m, box, req, qs, min_tps=min_tps)
                assert (got.option and got.option.quant, got.rule) == (want.option and want.option.quant, want.rule)
                seen += 1
    assert seen >= 20  # llama.cpp and Ollama at least
