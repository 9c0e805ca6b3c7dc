"""Error types: each maps to an exit code and carries a one-line hint.

The CLI catches AdvisorError once, prints ``str(err)`` to stderr and exits with ``err.exit_code``.
Anything else is a bug: one line and exit 3 (ExitCode.INTERNAL); --debug adds the traceback.
"""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses (documented in README and docs/cli.md)."""

    OK = 0
    CHECK_FAILED = 1  # a requested check failed: does not fit, too slow, too expensive
    BAD_INPUT = 2  # bad input or environment: unknown model, malformed value, unreadable file
    INTERNAL = 3  # a bug: an unexpected exception, caught by cli.main's top-level guard (--debug: the traceback)


class AdvisorError(Exception):
    """Base class: a problem with the user's input or environment, never a bug."""

    exit_code: int = ExitCode.BAD_INPUT

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message}; {self.hint}"
        # One line, always: a multi-line message would break scripts that read stderr.
        return " ".join(text.split())


class UnknownModelError(AdvisorError):
    pass


class NotSizedModelError(UnknownModelError):
    """A model the catalog knows but the chosen engine (release) does not run, so it is not sized there
    (data/engines.yaml vision_projectors.not_sized: Llama 3.2 Vision outside Ollama 0.4.0-0.29.x)."""


class UnknownHardwareError(AdvisorError):
    pass


class UnknownQuantError(AdvisorError):
    pass


class BadSizeError(AdvisorError):
    pass


class BadNumberError(AdvisorError):
    pass


class BadOptionError(AdvisorError):
    pass


class VllmOptionError(BadOptionError):
    """A vLLM option (--max-num-seqs, --tp, ...) given to an engine without a paged KV pool; its hint depends on
    whether vLLM serves a GPU of the machine (engines/interface.py vllm_option_hint)."""


class BadFileError(AdvisorError):
    pass


class DataError(AdvisorError):
    """Shipped data is inconsistent (a packaging bug, but reported without a traceback)."""


class CheckFailed(AdvisorError):
    """A requested gate (e.g. --require-fit gpu) was not met: exit 1."""

    exit_code = ExitCode.CHECK_FAILED


class Interrupted(AdvisorError):
    """Ctrl-C (SIGINT): exit 130, 128 + the signal's number, as shells report it; one line, nothing half written."""

    exit_code = 130


class UnknownCloudModelError(AdvisorError):
    """A --cloud name that neither data/prices.yaml nor genai-prices knows."""
