"""Running the real `advisor` in a subprocess, isolated from this machine's caches, tokens and network."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def isolated_env(home: Path, ollama: Path) -> dict[str, str]:
    """This process's environment without Hub tokens, with a scratch ADVISOR_HOME and Ollama dir, no Hub network,
    no colour, a fixed width, and this checkout first on the import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env.update(NO_COLOR="1", COLUMNS="120", ADVISOR_HOME=str(home), OLLAMA_MODELS=str(ollama), HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env
