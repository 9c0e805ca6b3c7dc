"""What every `advisor` command shares: --quiet and --timestamp with their state, the JSON writer, and the exit-code
line ending each --help.

Kept apart from cli.py so the command modules (cli_cost, cli_plan, cli_probe) can use it at import time without a
circular import. Imports nothing but typer (and limits.py, constants only).
"""
from __future__ import annotations

import math
import sys

import typer
from typer.core import TyperCommand

from .limits import MAX_FLOAT, MAX_NUMBER_CHARS

QUIET_HELP = ("Print nothing on stdout in text mode and no line for a failed check; the exit code is the answer. "
              "--json output and errors (exit 2) are still printed.")
BAD_INPUT = ("2 bad input or environment (unknown model or hardware, malformed value, unreadable file, "
             "no network for an uncached Hub id); 3 internal error (a bug; --debug shows the traceback)")

TIMESTAMP_HELP = ("Add generated_at (UTC, ISO 8601) to --json output. Without it the same inputs give "
                  "byte-identical JSON.")

# Set by the root callback and the commands; reset by cli.main for each call.
state = {"debug": False, "quiet": False, "timestamp": False, "wide": False}


WIDE_HELP = "Text tables at their full width, every column (by default columns that do not fit are hidden, and named)."


class Command(TyperCommand):
    """Every `advisor` command: an option given an empty value is bad input (exit 2 naming it), not absent; and
    `--wide` (render/table.py: text tables at full width), added here so every command's tables get it.

    Why (issue 19): `--require-fit ""` turned the gate off and `--hardware ""` probed this machine instead.
    """

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        from typer.core import TyperOption

        if not any(p.name == "wide" for p in self.params):
            at = next((i for i, p in enumerate(self.params) if p.name == "quiet_flag"), len(self.params))
            self.params.insert(at, TyperOption(param_decls=["--wide"], is_flag=True, default=False, help=WIDE_HELP))

    def make_parser(self, ctx):  # type: ignore[no-untyped-def]
        """click's parser, refusing an option that takes one value given more than once.

        Why: click keeps the last of `-H rtx4090 -H rtx3090` (or `--vram 8GB --vram 16GB`, `-c 4096 -c 8192`) without a
        word, so the answer was for a box the user may not have meant. Options declared as lists (`multiple`: cost's
        -H, fit's --quant) and flags repeat as before."""
        parser = super().make_parser(ctx)
        parse = parser.parse_args

        def parse_args(args):  # type: ignore[no-untyped-def]
            opts, rest, order = parse(args=args)
            if not ctx.resilient_parsing:  # shell completion parses half-typed lines: leave them alone
                refuse_repeated(order)
            return opts, rest, order

        parser.parse_args = parse_args
        return parser

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        from .errors import BadOptionError

        state["wide"] = bool(ctx.params.pop("wide", False)) or state["wide"]
        table = sys.modules.get("selfhost_advisor.render.table")
        if state["wide"] or table is not None:  # not imported on the --json path unless asked (start-up)
            from .render.table import set_wide

            set_wide(state["wide"])

        for p in self.params:
            if p.param_type_name != "option" or getattr(p, "is_flag", False) or p.name is None:
                continue
            v = ctx.params.get(p.name)
            values = v if isinstance(v, (list, tuple)) else [v]
            source = ctx.get_parameter_source(p.name)  # typer vendors click: compare the enum's name
            # commas alone are empty too: "--cloud ," (or "$A,$B" with both unset) ran as if --cloud were not given
            empty = [x for x in values if isinstance(x, str) and not x.replace(",", " ").strip()]
            if empty and getattr(source, "name", "") in ("COMMANDLINE", "ENVIRONMENT"):
                flag = max(p.opts, key=len)
                raise BadOptionError(f"{flag} is empty" + (" (only commas)" if empty[0].strip() else ""),
                                     f"give a value, or leave {flag} out")
        return super().invoke(ctx)


def refuse_repeated(order: list) -> None:
    """Exit 2 naming the first single-value option that `order` (click's parameters in command-line order, one entry per
    occurrence) holds more than once. An on/off pair (--flash-attention/--no-flash-attention) is one value too: given
    both ways, the last silently won."""
    seen: set[int] = set()
    for p in order:
        pair = bool(getattr(p, "secondary_opts", None))
        if (getattr(p, "param_type_name", "") != "option" or getattr(p, "multiple", False) or getattr(p, "count", False)
                or (getattr(p, "is_flag", False) and not pair)):
            continue
        if id(p) in seen:
            from .errors import BadOptionError

            flag = max(p.opts, key=len)
            if pair:
                both = "/".join([flag, *p.secondary_opts])
                raise BadOptionError(f"{both} is given more than once (it is one on/off choice)", "give one of them once")
            short = [o for o in p.opts if o != flag]
            named = f"{flag} ({'/'.join(short)})" if short else flag
            raise BadOptionError(f"{named} is given more than once (it takes one value)", f"give {flag} once")
        seen.add(id(p))


def needs(needed: str, **given: object) -> None:
    """Refuse options given without the one they qualify (`hardware --min-tps` without `--for`): exit 2 naming both.

    `given` maps option names (python_style, as `min_tps`) to values; None means not given.
    """
    from .errors import BadOptionError

    flags = ["--" + k.replace("_", "-") for k, v in given.items() if v is not None and v is not False]
    if flags:
        raise BadOptionError(f"{', '.join(flags)} given without {needed}",
                             f"add {needed}, or drop {flags[0]}" + (" and the others" if len(flags) > 1 else ""))


def exit_codes(checks: str = "") -> str:
    """A command's help epilog: its exit codes, naming the checks that give 1 (click prints it last)."""
    return f"Exit codes: 0 ok; 1 {checks}; {BAD_INPUT}." if checks else f"Exit codes: 0 ok; {BAD_INPUT}."


def quiet_option():
    """The per-command --quiet (no -q: fit, hardware and cost use -q for --quant)."""
    return typer.Option(False, "--quiet", help=QUIET_HELP)


def ubatch_option(prefix: str = ""):
    """--ubatch, as fit, hardware --for, models --fits and serve take it (api._ubatch validates and refuses it)."""
    return typer.Option(None, "--ubatch", help=prefix + "llama.cpp: the physical batch -ub (default 512; more "
                        "compute-buffer memory, faster MoE prefill); Ollama: num_batch, which turns its automatic "
                        "batch off.")


def quiet(flag: bool = False) -> bool:
    """Record a command's --quiet; True when text output is suppressed (`advisor --quiet CMD` or `CMD --quiet`)."""
    state["quiet"] = state["quiet"] or flag
    return state["quiet"]


def timestamp_option():
    """The per-command --timestamp (also accepted before the command)."""
    return typer.Option(False, "--timestamp", help=TIMESTAMP_HELP)


def timestamp(flag: bool = False) -> bool:
    """Record a command's --timestamp; True when --json output gets generated_at."""
    state["timestamp"] = state["timestamp"] or flag
    return state["timestamp"]


def emit_json(obj: dict) -> None:
    """Print one --json object; with --timestamp it ends with generated_at, the only value taken from the clock."""
    from .render.jsonout import dumps

    if state["timestamp"]:
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        obj = {**obj, "generated_at": now}
    text = dumps(obj)  # refuses NaN and infinity: a non-finite figure is a bug (exit 3), never `Infinity` on stdout
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):  # an ascii or latin-1 stdout: the same JSON with \u escapes
        text = dumps(obj, ascii_only=True)
    sys.stdout.write(text + "\n")


_HARDENED: dict[type, type] = {}


def _hardened_type(base: type) -> type:
    """A subclass of click's INT or FLOAT type that bounds the text before converting it and the number after.

    Why: int('1' * 5000) raises past Python's digit limit, float('inf') and float('nan') convert fine, and
    --parallel 10**20 is a valid int; none is a real option value. Longer than MAX_NUMBER_CHARS, non-ASCII digits,
    non-finite or beyond MAX_FLOAT (ints: 2**53) is a usage error naming the option (exit 2, one line).
    """
    if base in _HARDENED:
        return _HARDENED[base]
    is_float = base.__name__.startswith("Float")

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            text = value.strip()
            if len(text) > MAX_NUMBER_CHARS or not text.isascii():
                shown = text[:20] + "..." if len(text) > 20 else text
                self.fail(f"{shown!r} is not a number (at most {MAX_NUMBER_CHARS} ASCII characters)", param, ctx)
        number = base.convert(self, value, param, ctx)
        if is_float and not (math.isfinite(number) and abs(number) <= MAX_FLOAT):
            self.fail(f"{value!r} is not a finite number of at most {MAX_FLOAT:g}", param, ctx)
        if not is_float and abs(number) > 2**53:
            self.fail(f"{value!r} is out of range (at most 2^53)", param, ctx)
        return number

    _HARDENED[base] = type(f"Bounded{base.__name__}", (base,), {"convert": convert})
    return _HARDENED[base]


def harden(command) -> None:
    """Bound every INT and FLOAT option and argument of `command` (and its subcommands), whoever declared them: a
    new flag is covered without remembering to. Per-option ranges (--gpus, --parallel) are checked by the commands."""
    for sub in getattr(command, "commands", {}).values():
        harden(sub)
    for param in getattr(command, "params", ()):
        kind = type(param.type)
        if kind.__name__ in ("IntParamType", "FloatParamType"):
            param.type = _hardened_type(kind)()
