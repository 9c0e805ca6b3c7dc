"""The package has no import circles (issue 19: fit <-> serving <-> speed, quantize <-> tensors), counting imports
inside functions too (a lazy import is still a dependency), and the layers point one way: render/ and the core
(estimate/, cost/, catalog/) never import the CLI modules.

Left out: the package root `selfhost_advisor`, whose only import is the lazy API entry (`__getattr__` -> api.py);
the modules below it read its constants (SCHEMA_VERSION).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "selfhost_advisor"


@lru_cache(maxsize=1)  # the package parsed once for both checks (~0.8 s of CPU each; suite time); neither changes it
def _graph() -> dict[str, set[str]]:
    mods: dict[str, Path] = {}
    for f in ROOT.rglob("*.py"):
        name = ".".join(f.relative_to(ROOT.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = f
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        pkg = m if f.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                parts = pkg.split(".")
                target = ".".join(parts[: len(parts) - node.level + 1]) + (f".{node.module}" if node.module else "")
            else:
                target = node.module or ""
            for alias in node.names:
                dep = f"{target}.{alias.name}" if f"{target}.{alias.name}" in mods else target
                if dep in mods and dep != m and "selfhost_advisor" not in (m, dep):
                    graph[m].add(dep)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    # none at all: the last one (catalog/hardware <-> hw_names <-> custom_hw) went with catalog/profiles.py
    assert _cycles(_graph()) == []


def test_the_checker_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_render_and_core_never_import_the_cli():
    graph = _graph()
    layer = {m: (m.split(".") + [""])[1] for m in graph}
    cli = {m for m in graph if layer[m].startswith("cli")}
    for m, deps in graph.items():
        if layer[m] in ("render", "estimate", "cost", "catalog", "engines", "probe"):
            assert not deps & cli, (m, deps & cli)


def test_render_formats_the_parameter_counts_the_records_carry(monkeypatch, capsys):
    """fit, serve and hardware --for results carry the model's counted parameters; their JSON and text only format
    them (issue 19: render computed parameter counts)."""
    from selfhost_advisor import api
    from selfhost_advisor.estimate import tensors
    from selfhost_advisor.render.text import render_fit

    results = [api.fit("qwen3:30b", "rtx4090"), api.serve("llama3.1:8b", "h100-sxm"),
               api.hardware_for("llama3.1:8b", min_tps=100)]
    moe = results[0].params
    assert moe == tensors.param_counts(results[0].model) and moe.active < moe.total / 5  # 3B of 30B active
    assert all(r.params is not None and r.params.total > 0 for r in results)

    def counted(*args, **kwargs):
        raise AssertionError("render counted parameters itself")

    monkeypatch.setattr(tensors, "count_params", counted)
    monkeypatch.setattr(tensors, "active_params", counted)
    tensors.param_counts.cache_clear()  # any call would now reach the two above
    shown = [api.as_json(r)["model"] for r in results]
    assert [(m["params"], m["active_params"]) for m in shown] == [(r.params.total, r.params.active) for r in results]
    render_fit(results[0])
    assert "active" in capsys.readouterr().out
    tensors.param_counts.cache_clear()


def test_the_models_list_carries_active_parameters_and_render_only_formats_them(monkeypatch, capsys):
    """`advisor models` rows (api.list_models) carry each MoE model's active parameters; JSON and text format them."""
    from selfhost_advisor import api
    from selfhost_advisor.estimate import tensors
    from selfhost_advisor.render.text import render_models

    listed = api.list_models("qwen3:30b")
    moe = next(mt for mt in listed.matches if mt.model.id == "qwen3:30b")
    assert moe.active_params == tensors.active_params(moe.model) and moe.active_params < moe.model.params / 5

    def counted(*args, **kwargs):
        raise AssertionError("render counted parameters itself")

    monkeypatch.setattr(tensors, "count_params", counted)
    monkeypatch.setattr(tensors, "active_params", counted)
    tensors.param_counts.cache_clear()
    rows = api.as_json(listed)["models"]
    assert {r["id"]: r["active_params"] for r in rows}["qwen3:30b"] == moe.active_params
    render_models(listed)
    assert "active" in capsys.readouterr().out
    tensors.param_counts.cache_clear()
