"""`advisor probe`: detect this machine's GPUs, memory and CPU (the typer command; registered in cli.py)."""
from __future__ import annotations

import typer

from .cli_opts import emit_json, quiet, quiet_option, timestamp, timestamp_option


def probe(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (docs/schema/probe.schema.json); "
                                 "save it and pass it to fit/cost as --hardware FILE."),
    show_ids: bool = typer.Option(False, "--show-ids", help="Include GPU UUIDs, serials and PCI bus ids "
                                  "(redacted by default so the file can be shared)."),
    measure: bool = typer.Option(False, "--measure", help="Also measure this machine's RAM read bandwidth, core clock and "
                                 "matrix-multiply rate (a few seconds, progress on stderr; needs numpy); fit then uses them "
                                 "for CPU layers."),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """Detect GPUs (NVIDIA via NVML, AMD via sysfs, Apple Silicon), unified memory, CPU and RAM."""
    from .probe import probe as run_probe

    quiet(quiet_flag)
    timestamp(timestamp_flag)
    report = run_probe()
    if measure:
        report = _measured(report)
    if as_json:
        from .render.probe_json import probe_dict

        emit_json(probe_dict(report, show_ids))
        return 0
    if quiet():
        return 0
    from .estimate.verdict import verdict, verdict_line
    from .render.text_probe import render_probe

    render_probe(report, verdict_line(report.machine, verdict(report.machine)), show_ids)
    return 0


def _measured(report):
    """The report with the host's measured bandwidth and GEMM rate; Ctrl-C exits 130 with nothing on stdout."""
    import sys

    from .errors import BadOptionError, Interrupted
    from .probe.measure import measure as run_measure, with_measurement

    def progress(line: str) -> None:
        if not quiet():
            sys.stderr.write(f"advisor: measuring {line}\n")
            sys.stderr.flush()

    try:
        m = run_measure(progress)
    except ImportError:
        raise BadOptionError("--measure needs numpy", "install the measure extra (pip install '.[measure]' in the "
                                                       "project folder) or numpy, then run 'advisor probe --measure' "
                                                       "again") from None
    except KeyboardInterrupt:
        raise Interrupted("measurement interrupted; nothing written") from None
    return with_measurement(report, m)
