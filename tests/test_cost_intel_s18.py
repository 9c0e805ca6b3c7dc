"""`advisor cost` on an Intel GPU under Ollama, and on a GPU without a price (session 18).

Fleet sized each box on engine_machine's machine (Ollama runs an Intel GPU on its Vulkan backend) but dropped its note,
which fit and serve print; and a GPU named from the spec table (data/gpu_specs.yaml: specs, no prices) was excluded as
'no price in data/hardware.yaml' while the verdict said no box could serve the load."""
import json

from selfhost_advisor.api import cost, fit
from selfhost_advisor.cli import main

B580 = dict(model="llama3.1:8b", hardware="arc b580")


def _vulkan_note() -> str:
    return next(w for w in fit("llama3.1:8b", hardware="arc b580", engine="ollama", quant=["Q4_K_M"]).warnings
                if "Ollama runs the Intel" in w)


def test_cost_with_ollama_on_an_intel_gpu_says_what_fit_says_in_text_and_json(capsys):
    note = _vulkan_note()
    c = cost("2e9", engine="ollama", **B580)  # re-planned to 2x arc-b580 at the BF16 floor: both were sized on Vulkan
    said = [w for w in c.warnings if note in w]
    assert len(said) == 1 and said[0].startswith("arc-b580, 2x arc-b580: ")
    assert main(["cost", "-t", "2e9", "-m", "llama3.1:8b", "-H", "arc b580", "--engine", "ollama", "--json"]) == 0
    assert said[0] in json.loads(capsys.readouterr().out)["warnings"]
    assert main(["cost", "-t", "2e9", "-m", "llama3.1:8b", "-H", "arc b580", "--engine", "ollama"]) == 0
    assert "note: " + said[0] in " ".join(capsys.readouterr().out.split())  # wrapped at 80 columns


def test_the_note_is_only_for_ollama_and_only_for_the_intel_box():
    assert not any("Ollama runs" in w for w in cost("2e9", engine="llamacpp", **B580).warnings)
    c = cost("2e9", engine="ollama", model="llama3.1:8b", hardware="rtx 4090,arc b580", min_quant="any")
    said = [w for w in c.warnings if "Ollama runs the Intel" in w]
    assert said == [f"arc-b580: {_vulkan_note()}"]  # the RTX 4090 is not named in it


def test_a_spec_table_gpu_is_unpriced_alike_as_one_card_and_as_a_box_of_them_and_says_why():
    one = cost("2e9", engine="llamacpp", min_quant="any", **B580)
    two = cost("2e9", engine="ollama", **B580)  # re-planned: 2x arc-b580
    reasons = {e.hardware: e.reason for e in (*one.excluded, *two.excluded)}
    assert set(reasons) == {"arc-b580", "2x arc-b580"}
    for why in reasons.values():
        assert "data/gpu_specs.yaml" in why and "--gpu-price" in why and "data/hardware.yaml" in why
    assert reasons["arc-b580"] == reasons["2x arc-b580"]  # the same source, whatever the count
    text = " ".join(r.text for r in two.recommendation.reasons)
    assert "no box in the comparison can serve" not in text and "2x arc-b580 serves this load" in text
    assert any("--gpu-price" in c for c in two.recommendation.what_would_change)


def test_given_a_price_one_card_and_the_box_are_priced_from_it():
    two = cost("2e9", engine="ollama", gpu_price=250, **B580)
    (box,) = [o.box for o in two.self_host]
    one = cost("2e9", engine="llamacpp", gpu_price=250, min_quant="any", **B580)
    (single,) = [o.box for o in one.self_host]
    assert (box.label, box.gpus, single.gpus) == ("2x arc-b580", 2, 1)
    assert box.gpu_price_usd == single.gpu_price_usd == 250.0


def test_a_curated_profile_without_a_price_still_names_data_hardware_yaml():
    c = cost("2e9", engine="llamacpp", model="llama3.1:8b", hardware="l4", min_quant="any")
    assert [e.reason for e in c.excluded if e.hardware == "l4"] == ["buy: no price in data/hardware.yaml"]
