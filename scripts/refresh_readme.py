"""Re-run every `$ advisor ...` example in README.md's ```text blocks and paste its real output (maintainers)."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    path = ROOT / "README.md"
    text = path.read_text()

    def run(m: re.Match) -> str:
        cmd = m.group(1)
        argv = shlex.split(cmd)
        out = subprocess.run([sys.executable, "-m", "selfhost_advisor", *argv[1:]], capture_output=True, text=True,
                             cwd=ROOT, env={"NO_COLOR": "1", "COLUMNS": "120", "PATH": "/usr/bin:/bin"})
        body = (out.stdout + out.stderr).rstrip("\n")
        return f"```text\n$ {cmd}\n{body}\n```"

    new = re.sub(r"```text\n\$ (advisor[^\n]*)\n.*?```", run, text, flags=re.S)
    path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
