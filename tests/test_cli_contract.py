"""The CLI contract of issue 8: --json is one object on stdout, --quiet, exit codes in every --help, NO_COLOR,
byte-identical output across processes, shell completion through our own entry point."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from cliproc import unmeasured_home

from selfhost_advisor.cli import app, main

ROOT = Path(__file__).resolve().parents[1]

# One invocation per command and mode; each prints a result, none needs fixtures or the network.
COMMANDS = [
    ["fit", "llama3.1:70b", "--hardware", "2x rtx4090"],
    ["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB"],
    ["models"],
    ["models", "qwen"],
    ["models", "qwen3", "--fits", "rtx4090", "--min-tps", "30"],  # a query: the --fits mode, not a catalog scan
    ["models", "--installed", "--vram", "8GB"],
    ["hardware"],
    ["hardware", "show", "rtx4090"],
    ["hardware", "--for", "llama3.1:8b", "--min-tps", "50"],
    ["probe"],
    ["cost", "--monthly-tokens", "2e9", "--hardware", "2x rtx4090", "--cloud", "gpt-4o"],
]
# Each of these fails its check (exit 1); the reason is in the name of the test id.
FAILING_CHECKS = {
    "fit --require-fit gpu (only partial)": ["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M",
                                             "--require-fit", "gpu"],
    "fit --min-tps beyond any GPU": ["fit", "llama3.1:8b", "--hardware", "rtx4090", "--min-tps", "100000"],
    "cost --max-monthly-usd 1": ["cost", "--monthly-tokens", "2e9", "--hardware", "rtx4090", "--max-monthly-usd", "1"],
    "hardware --for 405b at 500 tok/s": ["hardware", "--for", "llama3.1:405b", "--min-tps", "500"],
    "hardware --for under $100": ["hardware", "--for", "llama3.1:8b", "--max-price", "100"],
    "models --fits at 100000 tok/s": ["models", "llama3.1", "--fits", "rtx4090", "--min-tps", "100000"],  # a query: the gate, not the catalog scan
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _id(argv):
    return " ".join(argv)


@pytest.mark.parametrize("argv", COMMANDS, ids=_id)
def test_json_prints_one_object_and_nothing_else(capsys, argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    obj = json.loads(out)  # raises on anything before or after the object
    assert isinstance(obj, dict) and "schema_version" in obj
    assert out.endswith("}\n") and err == ""


@pytest.mark.parametrize("argv", FAILING_CHECKS.values(), ids=FAILING_CHECKS.keys())
def test_failed_check_exits_1_with_json_on_stdout_and_one_line_on_stderr(capsys, argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 1
    assert isinstance(json.loads(out), dict)
    assert err.startswith("advisor: check failed") and err.count("\n") == 1


@pytest.mark.parametrize("argv", FAILING_CHECKS.values(), ids=FAILING_CHECKS.keys())
def test_failed_check_without_quiet_still_prints_the_report(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out.strip() and "check failed" in err


@pytest.mark.parametrize("where", ["global", "per-command"])
@pytest.mark.parametrize("argv", FAILING_CHECKS.values(), ids=FAILING_CHECKS.keys())
def test_quiet_failed_check_prints_nothing_and_exits_1(capsys, argv, where):
    full = ["--quiet", *argv] if where == "global" else [*argv, "--quiet"]
    assert run(capsys, *full) == (1, "", "")


@pytest.mark.parametrize("where", ["global", "per-command"])
@pytest.mark.parametrize("argv", COMMANDS, ids=_id)
def test_quiet_text_mode_prints_nothing(capsys, argv, where):
    full = ["--quiet", *argv] if where == "global" else [*argv, "--quiet"]
    assert run(capsys, *full) == (0, "", "")


def test_quiet_passing_gate_is_silent_and_exits_0(capsys):
    assert run(capsys, "--quiet", "fit", "llama3.1:8b", "--hardware", "rtx4090", "--require-fit", "gpu") == (0, "", "")


def test_quiet_does_not_suppress_json(capsys):
    argv = ["fit", "llama3.1:8b", "--hardware", "rtx4090", "--json"]
    plain = run(capsys, *argv)
    assert run(capsys, "--quiet", *argv) == plain
    assert run(capsys, *argv, "--quiet") == plain


@pytest.mark.parametrize("argv", [["fit", "nosuchmodel"], ["fit", "llama3.1:8b", "--vram", "24XB"],
                                  ["hardware", "show", "nosuchgpu"], ["cost", "--monthly-tokens", "lots"]], ids=_id)
def test_quiet_still_reports_bad_input_in_one_line(capsys, argv):
    code, out, err = run(capsys, "--quiet", *argv)
    assert code == 2 and out == ""
    assert err.startswith("advisor: ") and err.count("\n") == 1


def test_quiet_is_not_sticky_between_calls(capsys):
    run(capsys, "--quiet", "models")
    code, out, _ = run(capsys, "models")
    assert code == 0 and out


def _commands():
    return typer.main.get_command(app).commands


def _help(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv, "--help")
    assert code == 0, err
    return out


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_help_ends_with_its_exit_codes(capsys, name):
    text = " ".join(_help(capsys, name).split())  # click wraps lines; compare words
    last = text[text.rindex("Exit codes:"):]
    assert text.endswith(last) and "0 ok" in last and "2 bad input" in last
    # Options whose own help promises exit 1 must be named in the exit-code line, and only then is 1 listed.
    gates = [p.opts[0] for p in _commands()[name].params if "exit 1" in (getattr(p, "help", None) or "").lower()]
    for opt in gates:
        assert opt in last, f"{name} --help: exit-code line does not name {opt}"
    assert ("; 1 " in last) == bool(gates)


def test_top_level_help_lists_all_three_exit_codes_and_quiet(capsys):
    text = " ".join(_help(capsys).split())
    assert all(f"{c} " in text[text.index("Exit codes:"):] for c in ("0", "1", "2"))
    assert "--quiet" in text


def test_bare_advisor_shows_the_help_unflattened_and_exits_2(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("Usage: advisor") and "\nCommands:\n" in err


def test_usage_error_message_has_no_doubled_punctuation(capsys):
    code, _, err = run(capsys, "fit")
    assert code == 2 and ".;" not in err and err.count("\n") == 1


def _plain_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE",
                                                               "TTY_INTERACTIVE", "COLUMNS")}
    env.update(TERM="xterm-256color", **extra)
    env["ADVISOR_HOME"] = unmeasured_home(env["ADVISOR_HOME"])
    return env


def _in_terminal(argv, env, python_args: bool = False) -> bytes:
    """Run `advisor argv` (or `python argv` with python_args) with stdout on a pseudo-terminal, as a person at a
    terminal would; return what it wrote."""
    pty = pytest.importorskip("pty")
    import select

    leader, follower = pty.openpty()
    cmd = [sys.executable, *argv] if python_args else [sys.executable, "-m", "selfhost_advisor", *argv]
    proc = subprocess.Popen(cmd, stdout=follower,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(leader)
    return b"".join(chunks)


# Commands whose text output carries styles (bold, reverse, coloured fit cells, panels).
STYLED = [["fit", "llama3.1:8b", "--hardware", "rtx4090"], ["hardware", "show", "rtx4090"],
          ["cost", "--monthly-tokens", "1e9", "--hardware", "rtx4090", "--cloud", "gpt-4o"], ["probe"]]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_terminal_gets_styles_without_no_color(no_color_runs):
    # The control for the test below: on this pseudo-terminal rich does style every command's output, also when one
    # process runs them one after the other (no_color_runs)
    assert all(b"\x1b[" in out for out in no_color_runs[None])


_SPLIT = "@@advisor-test-next-command@@"
# One process runs the STYLED commands one after the other through cli.main, its stdout on the terminal, a marker
# line between them (rich decides on colour per Console, from the environment and the stream, as in a fresh process)
_ON_TERMINAL = f"""
import os, sys
from selfhost_advisor.cli import main
for argv in {[list(a) for a in STYLED]!r}:
    try:
        main(argv)
    except SystemExit:
        pass
    sys.stdout.flush()
    os.write(1, b"\\n{_SPLIT}\\n")
"""


@pytest.fixture(scope="module")
def no_color_runs(tmp_path_factory):
    """NO_COLOR value -> what each STYLED command wrote on the terminal: one process per value (4 with the control,
    instead of 13 processes of one command each)."""
    runs = {}
    for value in (None, "1", "0", "yes"):  # None: NO_COLOR unset, the control
        home = str(tmp_path_factory.mktemp(f"no-color-{value}"))
        extra = {} if value is None else {"NO_COLOR": value}
        out = _in_terminal(["-c", _ON_TERMINAL], _plain_env(ADVISOR_HOME=home, **extra), python_args=True)
        parts = out.split(_SPLIT.encode())
        assert len(parts) == len(STYLED) + 1, out[-2000:]
        runs[value] = parts[:-1]
    return runs


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("value", ["1", "0", "yes"])
@pytest.mark.parametrize("argv", STYLED, ids=_id)
def test_no_color_means_no_escape_codes_even_on_a_terminal(no_color_runs, argv, value):
    out = no_color_runs[value][STYLED.index(argv)]
    assert out.strip() and b"\x1b[" not in out


@pytest.mark.parametrize("argv", STYLED, ids=_id)
def test_piped_output_has_no_escape_codes(argv):
    r = subprocess.run([sys.executable, "-m", "selfhost_advisor", *argv], capture_output=True, env=_plain_env(),
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0 and r.stdout.strip()
    assert b"\x1b[" not in r.stdout + r.stderr


DETERMINISTIC = [
    # cost prices API requests on today's date by design (issue 14: scheduled price changes must apply); the date is
    # an input, shown as assumptions.prices_date, and --price-date pins it
    ["cost", "--monthly-tokens", "2e9", "--price-date", "2026-12-05", "--json"],
    ["hardware", "--for", "llama3.1:70b", "--min-tps", "20", "--json"],
    ["models", "--fits", "m2-ultra-192gb", "--json"],
    ["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "--json"],
]

# Runs each command of the JSON list in argv[1] in turn, one process for all (each ends with a line giving its exit
# status); with MOVED=1 the clock is moved to 2033-05-18 first (time.*, datetime.now/today/utcnow, date.today): output
# that reads the clock would differ. Dates in the output must come from the data's as_of fields.
_RUN_ALL = """
import json, os, sys, time, datetime as dt
if os.environ.get("MOVED") == "1":
    T = 2_000_000_000.0
    lt, gm, sf = time.localtime, time.gmtime, time.strftime
    time.time, time.time_ns = (lambda: T), (lambda: int(T * 1e9))
    time.localtime = lambda s=None: lt(T if s is None else s)
    time.gmtime = lambda s=None: gm(T if s is None else s)
    time.strftime = lambda f, t=None: sf(f, time.localtime() if t is None else t)
    class DateTime(dt.datetime):
        now = classmethod(lambda cls, tz=None: cls.fromtimestamp(T, tz))
        utcnow = classmethod(lambda cls: cls.fromtimestamp(T, dt.timezone.utc).replace(tzinfo=None))
        today = classmethod(lambda cls: cls.fromtimestamp(T))
    class Date(dt.date):
        today = classmethod(lambda cls: cls.fromtimestamp(T))
    dt.datetime, dt.date = DateTime, Date
from selfhost_advisor.cli import main
for argv in json.loads(sys.argv[1]):
    code = main(argv)
    sys.stdout.flush()
    print(f"--- exit {code}", flush=True)
"""


def test_json_is_byte_identical_across_processes_hash_seeds_and_clocks(tmp_path):
    """Two processes, each running every DETERMINISTIC command in turn: one with hash seed 1 and the real clock, one
    with hash seed 2 and the clock moved. Another hash seed reorders iteration over sets of strings; another clock
    exposes timestamps. Was one pair of processes per command (8 processes, ~1.2 s of CPU start-up each); the
    two run side by side (suite time, issue 19)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(seed: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PYTHONHASHSEED=seed, ADVISOR_HOME=str(tmp_path / seed), MOVED=str(int(seed == "2")))
        return subprocess.run([sys.executable, "-c", _RUN_ALL, json.dumps(DETERMINISTIC)], capture_output=True,
                              env=env, cwd=ROOT, timeout=600)  # a hang guard: ~2.2 s CPU, minutes of wall under load

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(run, ("1", "2")))
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert r.stdout.count(b"--- exit 0\n") == len(DETERMINISTIC), r.stdout[-2000:]
    assert runs[0].stdout == runs[1].stdout


def _complete(words: str) -> list[str]:
    """Ask `advisor` (through `python -m selfhost_advisor`, i.e. cli.main) for bash completions of `words`."""
    env = dict(os.environ, _ADVISOR_COMPLETE="complete_bash", COMP_WORDS=words,
               COMP_CWORD=str(len(words.split()) - 1))
    r = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'advisor'; from selfhost_advisor.cli import run; "
                        "run()"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_shell_completion_answers_through_our_entry_point():
    assert _complete("advisor fi") == ["fit"]
    assert "--require-fit" in _complete("advisor fit llama3.1:8b --require-f")
    assert "--quiet" in _complete("advisor --qu")


# cli.app_for runs `advisor <command> ...` with an app holding that command alone (start-up, issue 8). It must not
# change what the command accepts, prints or refuses.
def _param_table(command) -> list[tuple]:
    return [(p.name, tuple(p.opts), tuple(p.secondary_opts), p.required, repr(p.default), getattr(p, "help", None),
             str(p.type), p.multiple, getattr(p, "is_flag", None)) for p in command.params]


@pytest.mark.parametrize("name", sorted(typer.main.get_command(app).commands))
def test_the_one_command_app_builds_the_same_command(name):
    from selfhost_advisor.cli import app_for

    full = typer.main.get_command(app)
    one = typer.main.get_command(app_for([name]))
    assert app_for([name]) is not app and list(one.commands) == [name]
    assert app_for(["--debug", "--quiet", name]).registered_commands == app_for([name]).registered_commands
    assert _param_table(one.commands[name]) == _param_table(full.commands[name])
    assert _param_table(one) == _param_table(full)  # the root options (--debug, --quiet, completion)
    assert (one.commands[name].epilog, one.commands[name].help) == (full.commands[name].epilog, full.commands[name].help)


@pytest.mark.parametrize("argv", [["--help"], [], ["fti"], ["--install-completion"], ["--debug"], ["--json", "fit"]])
def test_anything_but_a_known_command_gets_the_full_app(argv):
    from selfhost_advisor.cli import app_for

    assert app_for(argv) is app


def test_completion_always_gets_the_full_app(monkeypatch):
    from selfhost_advisor.cli import app_for

    monkeypatch.setenv("_ADVISOR_COMPLETE", "bash_complete")
    assert app_for(["fit"]) is app


@pytest.mark.parametrize("argv", [["fit", "--help"], ["hardware", "--help"], ["fit", "--bogus"], ["fit"],
                                  ["models", "--fits", "rtx4090", "--min-tps", "x"], ["cost", "--monthly-tokens", "-1"],
                                  ["--quiet", "fit", "llama3.1:8b", "--hardware", "rtx4090", "--json"]])
def test_output_and_exit_code_match_the_full_app(argv, capsys, monkeypatch):
    import selfhost_advisor.cli as cli

    rc_one = main(argv)
    one = capsys.readouterr()
    monkeypatch.setattr(cli, "app_for", lambda args: app)
    rc_full = main(argv)
    full = capsys.readouterr()
    assert (rc_one, one.out, one.err) == (rc_full, full.out, full.err)


def test_choice_options_take_any_case(capsys):
    gate = ["fit", "llama3.1:8b", "--hardware", "rtx4090", "--json", "--require-fit"]
    assert main([*gate, "GPU"]) == main([*gate, "gpu"]) == 0
    assert main([*gate, "Partial"]) == 0
    cost = ["cost", "--monthly-tokens", "2e9", "--hardware", "rtx4090", "--json", "--require"]
    assert main([*cost, "CLOUD"]) == main([*cost, "cloud"])
    assert main([*cost, "Self-Host"]) == main([*cost, "self-host"])
    assert main([*cost, "CLOUD"]) != main([*cost, "self-host"])  # one of the two verdicts fails its check


def test_hardware_with_a_profile_name_shows_it(capsys):
    assert main(["hardware", "rtx4090", "--json"]) == 0
    bare = capsys.readouterr().out
    assert main(["hardware", "show", "rtx4090", "--json"]) == 0
    assert bare == capsys.readouterr().out and '"rtx-4090"' in bare
