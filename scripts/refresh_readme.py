"""Re-run the `$ advisor ...` examples in README.md and docs/cli.md and paste their real output (maintainers).

    python scripts/refresh_readme.py [FILE ...]        # default: README.md docs/cli.md

A ```text block whose first line is a `$ ` command running advisor (`$ advisor ...`, `$ VAR=x advisor ...`) is an
example; every `$ ` line in it is a command, run in bash (so `| head -n 12`, `> box.json`, `; echo "exit $?"` work)
with this checkout's `advisor`, NO_COLOR=1, COLUMNS=120, a scratch HOME and ADVISOR_HOME, stdout and stderr
interleaved as a terminal shows them. A block's commands share one scratch directory, in order. A block right after a
`<!-- no-refresh -->` line is left alone (its output needs fixtures this script does not set up, e.g. the fake Hub).
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = ("README.md", "docs/cli.md")
BLOCK = re.compile(r"(<!-- no-refresh -->\n)?```text\n(\$ [^\n]*\badvisor\b.*?)```", re.S)


def _env(scratch: Path) -> dict:
    bin_dir = scratch / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "advisor"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m selfhost_advisor "$@"\n')
    shim.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1", "COLUMNS": "120", "HOME": str(scratch), "ADVISOR_HOME": str(scratch / "advisor-home"),
            "LANG": "C.UTF-8"}


def _run_block(body: str) -> str:
    commands = [line[2:] for line in body.splitlines() if line.startswith("$ ")]
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        env = _env(scratch)
        work = scratch / "work"
        work.mkdir()
        for cmd in commands:
            out = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 cwd=work, env=env)
            text = out.stdout.rstrip("\n")
            parts.append(f"$ {cmd}\n{text}" if text else f"$ {cmd}")
    return "\n\n".join(parts)


def refresh(path: Path) -> None:
    def run(m: re.Match) -> str:
        if m.group(1):
            return m.group(0)
        return f"```text\n{_run_block(m.group(2))}\n```"

    path.write_text(BLOCK.sub(run, path.read_text()))


def main(argv: list[str]) -> int:
    for name in argv or DEFAULT_FILES:
        refresh(ROOT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
