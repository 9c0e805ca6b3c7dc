"""conftest's rule for tests that read ../shared/calibration in a checkout without it: only a missing file inside that
absent folder turns into a skip; everything else still fails."""
from __future__ import annotations

import conftest


def _missing(path) -> FileNotFoundError:
    return FileNotFoundError(2, "No such file or directory", str(path))


def test_a_missing_calibration_file_is_a_skip_only_while_the_folder_is_absent(tmp_path, monkeypatch):
    absent = tmp_path / "shared" / "calibration"
    monkeypatch.setattr(conftest, "CALIBRATION", absent)
    # the path as the tests build it, with '..' in it
    assert conftest._calibration_missing(_missing(tmp_path / "repo" / ".." / "shared" / "calibration" / "x.csv"))
    assert not conftest._calibration_missing(_missing(tmp_path / "shared" / "calibrationx" / "x.csv"))
    assert not conftest._calibration_missing(_missing(tmp_path / "data" / "speed.yaml"))
    assert not conftest._calibration_missing(FileNotFoundError("no filename"))
    assert not conftest._calibration_missing(ValueError(str(absent / "x.csv")))
    absent.mkdir(parents=True)  # the folder here, a file of it missing: a real failure, whichever file
    assert not conftest._calibration_missing(_missing(absent / "llamacpp_speed.csv"))
    (absent / "llamacpp_speed.csv").write_text("present\n")
    assert not conftest._calibration_missing(_missing(absent / "gguf_sizes.csv"))
