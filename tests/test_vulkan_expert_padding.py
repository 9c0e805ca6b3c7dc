"""Vulkan MoE prompts: the expert tiles' empty columns cost what the Vulkan prompt terms charge the experts per tile
(vulkan_path.expert_path_seconds, speed_terms._expert_tile_seconds; docs/methodology.md 5c-s29v). mul_mm.comp runs a
MUL_MAT_ID tile whole whatever share of its BN columns holds tokens: load_a_to_shmem dequantizes the whole BM x BK
weight slice and coopMatMulAdd covers every column at each k step."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate import speed_terms
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed_factors import efficiency
from selfhost_advisor.estimate.speed_gpu import _device_flops
from selfhost_advisor.estimate.speed_work import token_work
from selfhost_advisor.record import replace


def _vk(name: str, driver: str = ""):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan", vulkan_driver=driver)


def _work():
    return token_work(get_model("qwen3:30b-a3b"), get_quant("Q4_K_M"), "f16")


def _over_efficiencies(secs: dict) -> float:
    eff = efficiency("vulkan")
    paths = dict(eff.vulkan_paths)
    return sum(s / (vp.fixed_efficiency(p) or paths.get(p) or eff.compute_quant) for p, s in secs.items())


def _dense_only(layers: tuple, experts: tuple) -> tuple:
    """Each layer's matrices less its routed experts' (counts by type)."""
    out = []
    for mats, ex in zip(layers, experts):
        gone = {}
        for ty, n, b in ex:
            gone[ty] = (gone.get(ty, (0.0, 0.0))[0] + n, gone.get(ty, (0.0, 0.0))[1] + b)
        left = tuple((ty, n - gone.get(ty, (0.0, 0.0))[0], b - gone.get(ty, (0.0, 0.0))[1]) for ty, n, b in mats)
        out.append(tuple(m for m in left if m[1] > 0))
    return tuple(out)


def test_the_experts_part_is_what_the_layer_matmuls_lose_without_them():
    """expert_path_seconds is the share of the whole layer's Vulkan matmul time (every path over its efficiency) that
    the routed experts account for, at their own medium tile."""
    d, work = _vk("ryzen ai max+ 395 128gb", "radv"), _work()
    with vp.as_of_build("2026-02-13"):
        flops = _device_flops(d)
        whole = _over_efficiencies(vp.path_seconds(d, work.layer_matrices, flops, work.layer_expert_matrices))
        dense = _over_efficiencies(vp.path_seconds(d, _dense_only(work.layer_matrices, work.layer_expert_matrices),
                                                   flops))
        got = vp.expert_path_seconds(d, work.layer_expert_matrices, flops, efficiency("vulkan"),
                                     efficiency("vulkan").compute_quant)
    assert got == pytest.approx(whole - dense, rel=1e-6)


def test_on_amd_coopmat_the_per_tile_dequantization_makes_an_expert_weight_dearer_than_the_family_rate():
    """The coopmat_dequant path charges coopMatMulAdd plus the weight tile's dequantization per tile (64 / BN of a
    weight), so a padded column costs more than 2 FLOPs at the family's compute efficiency (the unit used before)."""
    d, work = _vk("ryzen ai max+ 395 128gb", "radv"), _work()
    eff = efficiency("vulkan")
    with vp.as_of_build("2026-02-13"):
        flops = _device_flops(d)
        got = vp.expert_path_seconds(d, work.layer_expert_matrices, flops, eff, eff.compute_quant)
    generic = sum(2 * n for mats in work.layer_expert_matrices for _, n, _ in mats) / (eff.compute_quant * flops)
    assert got > 1.5 * generic


def test_amdvlk_large_tile_share_leaves_the_experts_alone():
    """The routed experts keep the medium tile on AMD (mul_mat_id_l false), so AMDVLK's large-tile share (5f-halo4)
    does not touch what their padding multiplies: the same as RADV's."""
    work, eff = _work(), efficiency("vulkan")
    with vp.as_of_build("2026-05-16"):
        radv, amdvlk = (vp.expert_path_seconds(d, work.layer_expert_matrices, _device_flops(d), eff,
                                               eff.compute_quant)
                        for d in (_vk("ryzen ai max+ 395 128gb", "radv"), _vk("ryzen ai max+ 395 128gb", "amdvlk")))
    assert amdvlk == pytest.approx(radv, rel=1e-9)


def test_nv_coopmat2_keeps_its_own_padding_unit():
    """coopmat2_padding's decode_mma_units are in units of the family's rate (fitted so): no path base there."""
    d, work, eff = _vk("rtx 5090"), _work(), efficiency("vulkan")
    assert vp.expert_path_seconds(d, work.layer_expert_matrices, _device_flops(d), eff, eff.compute_quant) is None
    assert vp.expert_path_seconds(d, (), _device_flops(d), eff, eff.compute_quant) is None


def test_the_padding_multiplies_the_base_it_is_given():
    model, work = get_model("qwen3:30b-a3b"), _work()
    d, eff = _vk("ryzen ai max+ 395 128gb", "radv"), efficiency("vulkan")
    n = model.n_layers
    pad = speed_terms._padding(512, model.moe.experts, model.moe.active, "vulkan", d)
    assert pad > 2.0  # 32 tokens an expert in 64-wide tiles
    base = 1.0e-3
    got = speed_terms._expert_tile_seconds(model, work, 0, n, 512, eff, 1.0e30, None, None, d, base)
    assert got == pytest.approx((pad - 1.0) * base, rel=1e-9)
    # without a base the family's rate prices the expert FLOPs, as on CUDA
    flops = 1.0e14
    generic = sum(2 * w for mats in work.layer_expert_matrices for _, w, _ in mats) / flops
    assert speed_terms._expert_tile_seconds(model, work, 0, n, 512, eff, flops, None, None, d) == pytest.approx(
        (pad - 1.0) * generic, rel=1e-9)
