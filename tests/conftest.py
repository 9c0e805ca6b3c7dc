from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT.parent / "shared" / "calibration"
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="session")
def calibration() -> Path:
    if not (CALIBRATION / "gguf_sizes.csv").exists():
        pytest.skip("../shared/calibration is not beside this checkout")
    return CALIBRATION


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "advisor-home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")  # text output fits the terminal's width: the same for every test run
    # No test sees this machine's Ollama models or reaches the real Hub (tests/hubfake.py serves recorded answers).
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "no-ollama-models"))
    from selfhost_advisor.catalog import hub

    def _no_network():
        raise hub.NetworkError("tests never reach the network; install tests/hubfake.FakeHub")

    monkeypatch.setattr(hub, "transport_factory", _no_network)
