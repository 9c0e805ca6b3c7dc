"""Every text table goes through `show`: it never cuts a value, at any width from 60 columns (issue 19).

rich shrinks a table that is wider than the console by truncating cells with '…', so a number, an id or the
recommended marker could be cut at 80 columns. `show(con, table, drop=...)` fits the table instead:

1. as it is, when its natural width fits;
2. else without its least important columns (`drop`, least important first) until it fits, a footer naming
   them (`--wide` shows all);
3. else with its wrappable columns (`no_wrap=False`) wrapped at word boundaries, a word longer than the
   column folded onto the next line, never cut;
4. else stacked: one block per row, `header: value` per line.

With `--wide` (set_wide, called by the CLI) the table is printed at its natural width, whatever the console's.
A command's tables get all of this by building a rich Table as usual and calling `show` instead of `con.print`.
"""
from __future__ import annotations

from typing import Any, Sequence

TABLE_STYLE = dict(show_edge=False, pad_edge=False, header_style="bold")
_settings = {"wide": False}  # set per command by cli_opts.Command (--wide); render/ imports nothing of the CLI


def is_wide() -> bool:
    """Whether --wide was given (a renderer may then add columns that only a wide table carries)."""
    return bool(_settings["wide"])


def set_wide(flag: bool) -> None:
    """--wide for the tables of this run (every table at its natural width, no column hidden)."""
    _settings["wide"] = bool(flag)


def label_line(con: Any, label: str, markup: str, indent: int) -> None:
    """One `Label   value` header line (fit, serve, cost): a value wider than the console wraps under itself, a
    hanging indent, where rich wrapped it at the left margin and its continuation read like another label (cost's
    Traffic and Owning lines at 80 columns). A line that fits prints as `[bold]Label[/]   value` did."""
    from rich.text import Text

    pad = " " * max(1, indent - len(label))
    width = con.width - indent
    if width < 20:  # too narrow to indent: rich wraps it as before
        con.print(f"[bold]{label}[/]{pad}{markup}")
        return
    for i, line in enumerate(Text.from_markup(markup, emoji=False).wrap(con, width)):
        line.rstrip()
        con.print((Text(label, style="bold") + pad if i == 0 else Text(" " * indent)) + line)


def new_table(*columns: tuple[str, str] | str, wrap: Sequence[str] = ()) -> Any:
    """A rich Table in our style; columns as names or (name, justify); `wrap`: the ones that may wrap."""
    from rich.table import Table

    t = Table(**TABLE_STYLE)
    for col in columns:
        name, justify = (col, "left") if isinstance(col, str) else col
        t.add_column(name, justify=justify, no_wrap=name not in wrap)
    return t


def _memoize(table: Any, memo: dict) -> Any:
    """Measure each column of `table` once per padding, however often rich asks (returns the table).

    Why: rich measures every cell of every column again on each call (Measurement.get of the table measures each
    column twice, printing once more), and `layout` measures the table once per dropped column: `advisor models`
    measured its 330 rows up to 20 times (0.5 s of its 0.75 s). A column's measurement depends only on its cells, the
    padding its position gives it and the width offered; for widths at or above its natural width (every call but
    rich's own shrinking, which goes to rich) it is the same Measurement, kept in `memo` under its cells' identity,
    so a column keeps it when `_without` moves it. Columns with a width, min_width or max_width go to rich."""
    from rich.table import Table

    def measure_column(console: Any, options: Any, column: Any) -> Any:
        if column.width is not None or column.min_width is not None or column.max_width is not None:
            return Table._measure_column(table, console, options, column)
        key = (id(column._cells), id(column.header), id(column.footer), table._get_padding_width(column._index))
        got = memo.get(key)
        if got is None:
            got = memo[key] = (Table._measure_column(table, console, options.update_width(_NATURAL), column), column)
        if options.max_width >= got[0].maximum and options.max_width >= 1:
            return got[0]
        return Table._measure_column(table, console, options, column)

    table._measure_column = measure_column  # an instance attribute: rich calls self._measure_column
    return table


_NATURAL = 10_000  # the width a table is measured at for its natural size (wider than any terminal we honour)


def _measure(con: Any, table: Any) -> tuple[int, int]:
    """(narrowest width that cuts nothing, natural width): no_wrap columns count whole, the others by their longest
    word (rich's own minimum counts a no_wrap column by its longest word too, and would cut it)."""
    from rich.measure import Measurement

    options = con.options.update(width=_NATURAL)
    m = Measurement.get(con, options, table)
    cols = [(c, table._measure_column(con, options, c)) for c in table.columns]
    lo = sum(w.maximum if c.no_wrap else w.minimum for c, w in cols)
    lo += max(0, len(cols) - 1) if table.box and table.show_header is not None else 0  # the column separators
    return max(lo, m.minimum), m.maximum


def _without(table: Any, names: set[str], memo: dict | None = None) -> Any:
    """A copy of `table` without the columns named in `names` (rows keep their other cells)."""
    import copy

    t = copy.copy(table)
    t.columns = [copy.copy(c) for c in table.columns if str(c.header) not in names]
    for i, c in enumerate(t.columns):
        c._index = i  # rich pads the first and last column by their index
    if memo is not None:
        _memoize(t, memo)
    elif "_measure_column" in vars(t):
        del t._measure_column  # the copy's padding is its own: never measure it with the original's closure
    return t


def layout(con: Any, table: Any, drop: Sequence[str] = (), *, width: int | None = None,
           wide: bool = False) -> tuple[str, Any, list[str]]:
    """How `table` fits `width`: ("natural" | "wrapped" | "stacked" | "wide", the table to print, dropped names)."""
    for c in table.columns:
        c.overflow = "fold"  # a cell that must shrink breaks onto the next line; never '…'
    memo: dict = {}
    _memoize(table, memo)
    width = width or con.width
    lo, hi = _measure(con, table)
    if wide or hi <= width:
        return ("wide" if hi > width else "natural"), table, []
    dropped: list[str] = []
    present = {str(c.header) for c in table.columns}
    current = table
    for name in drop:
        if name not in present:
            continue
        dropped.append(name)
        current = _without(table, set(dropped), memo)
        lo, hi = _measure(con, current)
        if hi <= width:
            return "natural", current, dropped
    if lo <= width:
        return "wrapped", current, dropped
    return "stacked", table, []


def show(con: Any, table: Any, drop: Sequence[str] = (), *, wide: bool | None = None) -> None:
    """Print `table` on `con` so that no value is cut (module docstring); `drop`: least important column first."""
    if wide is None:
        wide = _settings["wide"]
    how, t, dropped = layout(con, table, drop, wide=wide)
    if how == "wide":
        width = con.width
        con.width = _measure(con, t)[1]  # rich never renders wider than the console: widen it for this table
        try:
            con.print(t, crop=False)
        finally:
            con.width = width
    elif how == "stacked":
        _stacked(con, t)
    else:
        con.print(t)
    if dropped:
        con.print(hidden_footer(con.width, dropped), soft_wrap=True)


def hidden_footer(width: int, dropped: Sequence[str]) -> str:
    """The line naming the columns a narrow terminal hid, broken between column names (never inside one, never
    inside '--wide shows all') where it is longer than `width`: one line of 87 characters overflowed an 80-column
    terminal for `advisor cost`'s five hidden columns."""
    line = f"(hidden at {width} columns: {', '.join(dropped)}; --wide shows all)"
    if len(line) <= width or not dropped:
        return line
    words = [f"(hidden at {width} columns:", *(f"{n}," for n in dropped[:-1]), f"{dropped[-1]};", "--wide shows all)"]
    lines = [words[0]]
    for w in words[1:]:
        if len(lines[-1]) + 1 + len(w) <= width:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return "\n".join(lines)


def _stacked(con: Any, table: Any) -> None:
    """One block per row: the first cell as its title, then `header: value` lines (wrapped at words by rich)."""
    cols = list(table.columns)
    cells = [list(c.cells) for c in cols]
    for i in range(table.row_count):
        con.print(cells[0][i])
        for c, col_cells in zip(cols[1:], cells[1:]):
            value = col_cells[i]
            if str(value).strip():
                con.print(f"  {c.header}: ", end="")
                con.print(value, overflow="fold")
