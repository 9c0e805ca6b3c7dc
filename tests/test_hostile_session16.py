"""Findings of the session 16 sweep over bad input on this session's additions (benchmarks/hostile.py --fast seeds 9
and 10, and ~2,900 in-process fit / serve / cost / models runs over kimi-k3:2.8t, mimo-v2.6-pro:1t, kolibri-1:78b,
minicpm5:2b with every engine, odd --context / --ubatch / --n-cpu-moe / --quant, a 1 MB custom GPU, Intel iGPUs,
Turing and Radeon under Vulkan with each driver word): no traceback, no exit outside 0 / 2 (serve's documented 1 for a
model that does not serve), no terminal escape. One message was cut:

- `fit kimi-k3:2.8t --engine ollama` said "(upstream since PR; size it for llama.cpp": data/engines.yaml gave the
  reason as a plain YAML scalar, where ' #26185)' starts a comment. The same cut, unsaid, in three more data values
  (a models.yaml note, two speed.yaml sources). Any plain scalar followed on its line by '#' and a letter or digit
  is now refused here, in every YAML file the product or the scores read.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_hostile_session12 import refused

ROOT = Path(__file__).resolve().parents[1]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FILES = sorted([*ROOT.glob("data/*.yaml"), *ROOT.glob("scripts/*.yaml"), *ROOT.glob("benchmarks/published/*.yaml")])


def _scalars(node):
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalars(child)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)


def cut_by_comment(text: str) -> list[str]:
    """Plain scalars that a ' #' on their own line ended: '#' then a letter or digit reads as the value's rest
    (a PR or issue number), not as a comment, which this repository writes as '# text' on a line of its own."""
    lines = text.split("\n")
    cut = []
    for doc in yaml.compose_all(text, Loader=LOADER):
        for node in _scalars(doc) if doc is not None else ():
            if node.style not in (None, "") or not node.value:
                continue
            rest = lines[node.end_mark.line][node.end_mark.column:]
            after = rest.lstrip(" ")
            if rest != after and after[:1] == "#" and after[1:2].isalnum():
                cut.append(f"line {node.end_mark.line + 1}: {node.value[-40:]!r} {after[:30]!r}")
    return cut


def test_the_check_finds_a_value_cut_by_a_hash_and_passes_comments_and_quoted_values():
    assert cut_by_comment("a: since PR #26185)\n") == ["line 1: 'since PR' '#26185)'"]
    assert cut_by_comment("a: 'since PR #26185'\nb: >-\n  PR\n  #1\nc: 3  # a comment\n# top\nd: [x, y]\n") == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_yaml_value_is_cut_at_a_hash(path):
    assert cut_by_comment(path.read_text(encoding="utf-8")) == []


def test_kimi_k3_on_ollama_names_the_pull_request_whole(capsys):
    err = refused(capsys, ["fit", "kimi-k3:2.8t", "-H", "8x b200", "--engine", "ollama"], "kimi-k3")
    assert "(upstream since PR #26185); size it for llama.cpp" in err, err
