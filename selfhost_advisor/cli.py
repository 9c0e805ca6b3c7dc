"""The `advisor` command line: parse options, call one core function, render text or JSON.

No arithmetic here. Exit codes (errors.ExitCode): 0 ok, 1 a requested check failed, 2 bad input or environment,
3 internal error (a bug, caught by main's top-level guard);
each command's --help ends with the checks that can give 1 (docs/cli.md lists them all).
--quiet prints nothing on stdout in text mode and no line for a failed check: the exit code is the answer;
--json output and exit-2 error lines are still printed. Tests call `main(argv)`; only `run()` calls sys.exit.
"""
from __future__ import annotations

import sys

try:  # Ctrl-C while these load (the first ~0.2 s of every command: the app and its commands too) was a traceback
    import copy
    import os
    import traceback
    from typing import Optional

    import typer

    from . import cli_complete as complete
    from ._compat import ABORT_ERRORS, EXIT_ERRORS, NO_ARGS_ERRORS, USAGE_ERRORS
    from .cli_app import app
    from .cli_opts import harden
    from .cli_opts import state as _state
    from .errors import AdvisorError, CheckFailed, ExitCode, Interrupted
    from .termsafe import plain
except KeyboardInterrupt:  # 130 = 128 + SIGINT, as probe --measure exits when interrupted; nothing was done
    sys.stderr.write("advisor: interrupted\n")
    raise SystemExit(130) from None

_INTERRUPTED = 130  # the exit code of Ctrl-C (128 + SIGINT), wherever it lands


_ROOT_FLAGS = ("--debug", "--quiet", "--timestamp")


def _command_name(info: typer.models.CommandInfo) -> str:
    return info.name or info.callback.__name__.lower().replace("_", "-")  # typer's own rule (get_command_name)


def app_for(args: list[str]) -> typer.Typer:
    """The app to run for argv: only the command it names, when it names one.

    Why: typer builds the click parameters of every registered command on each run (5 ms for our five, a tenth of
    `fit --json`'s own time; issue 8). A command's parsing, help and errors do not depend on its siblings, so
    `advisor [--debug] [--quiet] [--timestamp] <command> ...` gets an app holding that command alone; anything else (root help,
    completion, a misspelt command, which should list its neighbours) gets the full app.
    tests/test_cli_contract.py checks every command's parameters and help are the same either way.
    """
    i = 0
    while i < len(args) and args[i] in _ROOT_FLAGS:
        i += 1
    if i == len(args) or any(k.endswith("_COMPLETE") for k in os.environ):
        return app
    matches = [c for c in app.registered_commands if _command_name(c) == args[i]]
    if len(matches) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = matches
    return one


_BUILT: dict[tuple[int, ...], object] = {}


def click_command(chosen: typer.Typer):  # noqa: ANN201 - typer's click group
    """typer's click command for `chosen` (hardened: cli_opts.harden), built once per set of registered commands.

    Why: building it (typer reads every callback's signature and makes its click parameters) is the same work each
    time, and main() runs many times in one process where tests and the library call it: ~4% of the test suite's CPU
    time was typer rebuilding the same group. A process running `advisor` builds it once either way. The key is the
    identity of the registered CommandInfo records (kept by `app` for the life of the process), so app_for's
    one-command app and the full app each get their own, and a command registered later gets a fresh build."""
    key = tuple(id(c) for c in chosen.registered_commands) + tuple(id(g) for g in chosen.registered_groups)
    command = _BUILT.get(key)
    if command is None:
        command = _BUILT[key] = typer.main.get_command(chosen)
        harden(command)
    return command


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI; return the exit code instead of exiting (tests call this).

    The one top-level guard: an AdvisorError is its one line and exit code (2, or 1 for a failed check); a closed
    pipe is a quiet 0; stdout that cannot be written is exit 2; Ctrl-C is 130 and 'advisor: interrupted' wherever it
    lands (it was a traceback while typer built the command); anything else is a bug, reported in one line with
    exit 3 (--debug adds the traceback), never 0 or 1, the codes scripts read as answers.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        try:
            sys.stderr.write("advisor: interrupted\n")
        except (OSError, ValueError, AttributeError):  # stderr closed: the exit code says it
            pass
        return _INTERRUPTED


def _main(argv: Optional[list[str]]) -> int:
    from .streams import GuardedStdout, OutputError, PipeClosed, silence_stdout, stdout_is_closed, write_err

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _state.update(debug=False, quiet=False, timestamp=False, wide=False)  # module state: reset for each call (tests call main repeatedly)
    if stdout_is_closed():
        write_err("advisor: cannot write the output: stdout is closed; run it with stdout open (or > /dev/null)\n")
        return int(ExitCode.BAD_INPUT)
    from .termsafe import drop_unreadable_terminal_sizes

    drop_unreadable_terminal_sizes(os.environ)  # COLUMNS=²: rich's int() would be exit 3 before any output
    if os.environ.get("_ADVISOR_COMPLETE"):
        problem = complete.request_problem(os.environ)
        if problem:
            write_err(f"advisor: {plain(problem)}\n")
            return int(ExitCode.BAD_INPUT)
    real_stdout = sys.stdout
    sys.stdout = GuardedStdout(real_stdout)
    try:
        command = click_command(app_for(args))
        rv = command.main(args=args, prog_name="advisor", standalone_mode=False)
        if rv == _INTERRUPTED:  # typer's answer to Ctrl-C in a command (Exit(130), returned): said in one line
            raise Interrupted("interrupted")
        sys.stdout.flush()
        return int(rv or 0) if isinstance(rv, int) else 0
    except (PipeClosed, BrokenPipeError):  # `advisor ... | head -1`: the reader has what it wanted
        silence_stdout()
        return 0
    except AdvisorError as err:
        if isinstance(err, OutputError):
            silence_stdout()
        if debug and not isinstance(err, CheckFailed):
            write_err(traceback.format_exc())
        if not (isinstance(err, CheckFailed) and _state["quiet"]):
            write_err(f"advisor: {plain(clip_args(str(err), args))}\n")
        return int(err.exit_code)
    except NO_ARGS_ERRORS as err:  # bare `advisor`: the help as click formats it, not flattened into one line
        write_err(err.format_message().rstrip("\n") + "\n")
        return int(ExitCode.BAD_INPUT)
    except USAGE_ERRORS as err:
        # One line, like AdvisorError: click's own usage text is several lines.
        ctx = getattr(err, "ctx", None)
        where = ctx.command_path if ctx is not None and ctx.command_path else "advisor"
        named = [a for a in args if a not in _ROOT_FLAGS][:1]
        if where == "advisor" and named and any(_command_name(c) == named[0] for c in app.registered_commands):
            where = f"advisor {named[0]}"  # 'fit --context' with no value pointed at the root help
        msg = " ".join(plain(clip_args(err.format_message(), args)).split()).rstrip(".")
        write_err(f"advisor: {msg}{' ' if msg.endswith('?') else '; '}see '{where} --help'\n")
        return int(ExitCode.BAD_INPUT)
    except ABORT_ERRORS:
        write_err("advisor: aborted\n")
        return int(ExitCode.BAD_INPUT)
    except EXIT_ERRORS as exc:
        return int(exc.exit_code or 0)
    except Exception as exc:  # noqa: BLE001 - the top-level guard: a bug, never a traceback by default
        if debug:
            write_err(traceback.format_exc())
        write_err(f"advisor: internal error: {internal_summary(exc)}; this is a bug: please report it with the "
                  f"command line{'' if debug else ' and the output of the same command with --debug'}\n")
        return int(ExitCode.INTERNAL)
    finally:
        if isinstance(sys.stdout, GuardedStdout):
            sys.stdout = real_stdout


def clip_args(message: str, args: list[str]) -> str:
    """`message` with every long command-line value it quotes cut to 60 characters (termsafe.clipped): a 20,000-character
    --quant or model name came back whole in the one-line error of each of some 36 options. A value with a control
    character is quoted escaped (!r writes ESC as '\\x1b'), so its escaped forms are looked for too (session 20: a
    5,000-character model name with an escape sequence was quoted whole)."""
    from .termsafe import clipped, plain

    for arg in sorted({a for a in args if len(a) > 120}, key=len, reverse=True):
        for form in dict.fromkeys(f for text in (arg, arg.strip(), arg.lower(), arg.strip().lower())
                                  for f in (text, repr(text)[1:-1], plain(text))):
            if len(form) > 120 and form in message:
                message = message.replace(form, clipped(form))
    return message


def internal_summary(exc: BaseException) -> str:
    """'TypeError: ...' in one safe line of at most about 200 characters."""
    text = " ".join(plain(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."


def run() -> None:
    """The `advisor` entry point: main() in a process that is about to end, so its garbage collector stays off.

    Why (issue 19, start-up): a command allocates many small objects and frees them by reference counting; the
    cycle collector's passes over them, and the interpreter's collections at shutdown over everything the command
    left, were ~12 ms of `fit --json`'s ~35 ms over `import typer` (the shutdown part ~8 ms). Collection is off while
    the command runs (a command makes no cycles worth collecting before exit) and what is left is frozen before
    exiting, so shutdown skips it; exiting is otherwise unchanged (flushes, atexit handlers). Tests and the library
    call main() and the API, which leave the collector alone."""
    import gc

    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)
