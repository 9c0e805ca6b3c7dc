"""serve and cost say the Vulkan driver note fit says (session 18).

fit printed 'Intel GPU under Vulkan, driver not stated ...' (and AMD's RADV/AMDVLK note) for the machine it sized; serve
and cost sized the same machine on the same assumption and said nothing."""
import pytest

from selfhost_advisor.api import cost, fit, serve


def _fit_driver_notes(hardware: str) -> list[str]:
    return [w for w in fit("llama3.1:8b", hardware=hardware, quant=["Q4_K_M"]).warnings if "under Vulkan" in w]


@pytest.mark.parametrize("hardware", ["arc b580 vulkan", "arc b580 vulkan mesa"])
def test_serve_says_fits_intel_vulkan_driver_note(hardware):
    notes = _fit_driver_notes(hardware)
    assert len(notes) == 1  # the premise: fit says it
    assert notes[0] in serve("llama3.1:8b", hardware=hardware, engine="llamacpp").warnings


def test_cost_says_it_once_naming_the_boxes_it_concerns():
    note = _fit_driver_notes("arc b580 vulkan mesa")[0]
    said = [w for w in cost("2e9", model="llama3.1:8b", hardware="arc b580 vulkan mesa", engine="llamacpp",
                            min_quant="any").warnings if note in w]
    assert len(said) == 1 and said[0].startswith("arc-b580 vulkan mesa") and said[0].endswith(note)


def test_no_driver_note_off_vulkan():
    assert not _fit_driver_notes("rtx 4090")
    assert not any("under Vulkan" in w for w in serve("llama3.1:8b", hardware="rtx 4090", engine="llamacpp").warnings)
    assert not any("under Vulkan" in w for w in cost("2e9", model="llama3.1:8b", hardware="rtx 4090",
                                                       engine="llamacpp").warnings)
