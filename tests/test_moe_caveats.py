"""MoE paths the published rows contradict and no source sizes are qualified where the user reads the figure (fit's
notes and --json caveats; docs/methodology.md 5c-s26). BF16 routed experts under Vulkan: ggml-vulkan's MUL_MAT_ID
mat-vec takes F32, F16 and quantized experts only, so BF16 experts decode through the tiled matmul, on AMD GPUs without
BF16 cooperative matrices the FP32 scalar shader; the Strix Halo rows of that path (kyuz0/amd-strix-halo-toolboxes,
builds 6735-8577) decode ~3x and prompt ~2x slower than the estimate (data/speed.yaml vulkan_bf16_experts). 16-bit
experts prompting under ROCm: ggml_cuda_should_use_mmf gives MUL_MAT_ID the mmf kernel only up to 512 tokens for an
expert matrix of up to 1024 rows and 128 above, past that one hipBLAS call per expert after host syncs; the Strix Halo
ROCm rows of a BF16 MoE prompt ~3x slower (rocm_16bit_experts). Neither charged time when written; since session 28
the Vulkan decode is charged per MUL_MAT_ID on RDNA 3.5, where that call was measured (5f-halo5), and qualified only
elsewhere."""
from __future__ import annotations

import json

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.cli import main
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace

STRIX = "ryzen ai max+ 395 128gb"
STRIX_VULKAN = STRIX + " vulkan"  # fit's --hardware takes the backend word after the name


def _caveats(model_id: str, quant: str, hw: str, backend: str | None = None, cpu_moe: int = 0,
             n_ubatch: int = 512) -> tuple[str, ...]:
    model = get_model(model_id)
    n = model.n_layers
    machine = machine_from_profile(hw_names.resolve(hw), 1)
    if backend:
        machine = replace(machine, devices=tuple(replace(d, backend=backend) for d in machine.devices))
    place = Placement("gpu" if not cpu_moe else "partial", n + 1, n + 1, 0, 0, per_device_layers=(n,),
                      cpu_moe_layers=cpu_moe)
    return estimate_speed(model, get_quant(quant), place, machine, n_ubatch=n_ubatch).caveats


def _ours(caveats) -> list[str]:
    return [c for c in caveats if "BF16 experts" in c]


def _rocm(caveats) -> list[str]:
    return [c for c in caveats if "one expert at a time" in c]


def test_bf16_experts_on_strix_halo_vulkan_are_qualified_once_in_json_and_text(capsys):
    """Strix Halo (RDNA 3.5): the decode is charged per MUL_MAT_ID as measured there (5f-halo5), so only the prompt is
    qualified; an RDNA 3 card runs the same tile unmeasured, so its decode is qualified too."""
    main(["fit", "qwen3:30b-a3b", "-q", "BF16", "-H", STRIX_VULKAN, "--json"])
    d = json.loads(capsys.readouterr().out)
    caveats = _ours(d["options"][0]["speed"]["caveats"])
    assert [c.split(":")[0] for c in caveats] == ["prefill"], caveats
    # the rows' ratio, not a figure of ours: ~2x in prefill (the log figures: 352-369 t/s)
    assert "1.9-2.0x slower" in caveats[0]
    main(["fit", "qwen3:30b-a3b", "-q", "BF16", "-H", STRIX_VULKAN])
    text = " ".join(capsys.readouterr().out.split())
    assert text.count("runs BF16 experts through its tiled matmul") == 0 and text.count("prompt 1.9-2.0x slower") == 1
    rdna3 = _ours(_caveats("qwen3:30b-a3b", "BF16", "rx 7900 xtx", "vulkan"))
    assert [c.split(":")[0] for c in rdna3] == ["decode", "prefill"], rdna3
    # the streamed estimate's ratio on the 8060S logs (9.2-10.6 t/s), and that this GPU's calls are not charged
    assert "3.0-3.4x slower" in rdna3[0] and "on this one it is not measured" in rdna3[0]


@pytest.mark.parametrize("model_id, quant, hw, backend", [
    ("qwen3:30b-a3b", "Q4_K_M", STRIX, "vulkan"),       # quantized experts: the mat-vec
    ("qwen3:30b-a3b", "Q8_0", STRIX, "vulkan"),
    ("qwen3:30b-a3b", "F16", STRIX, "vulkan"),          # F16 is one of the mat-vec's types
    ("gemma3:27b", "BF16", STRIX, "vulkan"),             # a dense BF16 model: the dense mat-vec takes BF16
    ("qwen3:30b-a3b", "BF16", STRIX, "rocm"),  # ggml-cuda under HIP: another path
    ("qwen3:30b-a3b", "BF16", "rx 9070 xt", "vulkan"),      # RDNA 4: BF16 cooperative matrices, not the FP32 shader
])
def test_no_caveat_off_that_path(model_id, quant, hw, backend):
    assert _ours(_caveats(model_id, quant, hw, backend)) == []


def test_the_api_qualifies_what_fit_qualifies():
    assert len(_ours(_caveats("qwen3:30b-a3b", "BF16", STRIX, "vulkan"))) == 1
    assert len(_ours(_caveats("qwen3:30b-a3b", "BF16", "rx 7900 xtx", "vulkan"))) == 2


def test_the_caveat_follows_the_experts_onto_the_gpu():
    """--n-cpu-moe: with every routed expert in RAM the GPU runs no BF16 MUL_MAT_ID, so nothing to qualify; with some
    layers' experts on the GPU it is qualified; an RDNA 3 discrete card runs the same FP32 shader as Strix Halo."""
    n = get_model("qwen3:30b-a3b").n_layers
    assert _ours(_caveats("qwen3:30b-a3b", "BF16", "rx 7900 xtx", "vulkan", cpu_moe=n)) == []
    assert len(_ours(_caveats("qwen3:30b-a3b", "BF16", "rx 7900 xtx", "vulkan", cpu_moe=n - 8))) == 2


def test_bf16_experts_prompting_under_rocm_are_qualified_once(capsys):
    main(["fit", "qwen3:30b-a3b", "-q", "BF16", "-H", STRIX + " rocm", "--json"])
    caveats = _rocm(json.loads(capsys.readouterr().out)["options"][0]["speed"]["caveats"])
    assert len(caveats) == 1 and caveats[0].startswith("prefill") and "2,048 rows" in caveats[0], caveats
    # the rows' ratio (kyuz0's pp512 466-576 t/s at builds 7423-8577), not a figure of ours
    assert "2.6-3.2x slower" in caveats[0]
    main(["fit", "qwen3:30b-a3b", "-q", "BF16", "-H", STRIX + " rocm"])
    assert " ".join(capsys.readouterr().out.split()).count("one expert at a time") == 1


def test_the_rocm_caveat_follows_mmf_s_token_limit():
    """ggml_cuda_should_use_mmf(mul_mat_id): more than 1024 rows (Qwen3-30B-A3B's 2048-row down experts) -> mmf up to
    128 tokens; up to 1024 rows (Granite 3.0 1B-A400M: hidden 1024, experts 512) -> up to 512 tokens."""
    assert _rocm(_caveats("qwen3:30b-a3b", "BF16", STRIX, "rocm", n_ubatch=128)) == []
    assert len(_rocm(_caveats("qwen3:30b-a3b", "BF16", STRIX, "rocm", n_ubatch=129))) == 1
    assert _rocm(_caveats("granite3-moe:1b", "F16", STRIX, "rocm", n_ubatch=512)) == []
    assert len(_rocm(_caveats("granite3-moe:1b", "F16", STRIX, "rocm", n_ubatch=1024))) == 1


@pytest.mark.parametrize("quant, backend", [("Q8_0", "rocm"), ("Q4_K_M", "rocm"), ("BF16", "vulkan")])
def test_no_rocm_caveat_off_that_path(quant, backend):
    """Quantized experts run MMQ; under Vulkan the Vulkan caveat speaks instead."""
    assert _rocm(_caveats("qwen3:30b-a3b", quant, STRIX, backend)) == []


def test_the_ratio_is_said_of_the_published_rows_estimate_not_the_users():
    """The ratios come from our estimate for the Strix Halo rows' own model; on another model or GPU the caveat said
    "slower than this estimate", a claim about the user's figure no row measured (rev27, session 26)."""
    texts = _ours(_caveats("granite3-moe:1b", "BF16", "rx 7900 xtx", backend="vulkan"))
    assert texts and all("than this estimate" not in t and "than our estimate for them" in t for t in texts)
