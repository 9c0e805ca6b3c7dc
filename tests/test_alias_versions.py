"""Every alias names the model of its entry: an explicit version (v1.5, 1.6, V1.0), date stamp (2407, 2505) or size
tag (13b, 1.8b, 1t) in an alias must be one the entry itself names (its id, Hub id or name). Why: `llava:7b-v1.6-vicuna`
answered as LLaVA 1.5 (576 image tokens instead of up to 2880), `llava:13b-v1.5` as the 1.6 (2880), and
WizardLM-13B-V1.0 (LLaMA 1, 2048 tokens) as V1.2 (Llama 2, 4096): one entry held two versions that differ in what is
sized (session 31, docs/methodology.md "Session 31 (alias31)"). An alias of another version stays only where the two
are the same network: named in its entry's `other_releases` (data/models.yaml, with a reason and a source; such a name
resolves as that release "sized as" the entry), or listed below with the reason."""
import re

import pytest

from selfhost_advisor.catalog.models import entries, resolve

SIZE = re.compile(r"(?<![a-z0-9.])(?:\d+x)?(\d+(?:\.\d+)?[bmt])(?![a-z0-9])")  # 13b, 1.8b, 22m, 1t; 8x7b -> 7b
FORMAT = re.compile(r"(?<![a-z0-9])(?:nv)?(?:fp|bf|int|mxfp|w)\d+(?:a\d+)?(?![a-z0-9])|(?<![a-z0-9])\d+-?bit(?![a-z0-9])")
DATE = re.compile(r"(?<![0-9a-z.])(\d{4})(?![0-9a-z])")  # 2407, 2505, 0905
VERSION = re.compile(r"(?<![0-9a-z])v(\d+(?:[._]\d+)*)(?![0-9]|[._]\d)"  # v1.5, v1_5, V1.0, v2
                     r"|(?<![0-9.])(\d+[._]\d+(?:[._]\d+)*)(?![0-9]|[._]\d|[bmtkx](?![a-z]))")  # 1.5, 4.7 (not 1.5b)
NAME_NUMBER = re.compile(r"(?<![0-9a-z.])(\d+)(?![0-9.a-z])")  # the entry's own 'BakLLaVA 1', 'Moondream 2'

# (alias, entry id): the same network under another version's name, and where that is written down (names of another
# release that are not in the entry's other_releases, so they answer as the entry's own name)
SAME_NETWORK = {
    ("mistralai/Devstral-Small-2505", "devstral:24b"): "Devstral Small 1.0 (2505) and 1.1 (2507) are both text-only "
    "Mistral Small 3.1 fine-tunes, 131072 tokens (the entry's notes: the 2505 card)",
    ("devstral:24b-small-2505", "devstral:24b"): "as mistralai/Devstral-Small-2505",
    ("nvidia/Llama-3_3-Nemotron-Super-49B-v1_5", "nemotron-super:49b"): "v1.5 is v1 post-trained again: bartowski's "
    "v1.5 Q6_K equals the v1 file to 10 MB (the entry's notes)",
    ("llama-3_3-nemotron-super-49b-v1_5", "nemotron-super:49b"): "as nvidia/Llama-3_3-Nemotron-Super-49B-v1_5",
    ("nvidia/Llama-3_3-Nemotron-Super-49B-v1_5-FP8", "nemotron-super:49b"): "as nvidia/Llama-3_3-Nemotron-Super-49B-v1_5",
    ("google/codegemma-1.1-7b-it", "codegemma:7b"): "CodeGemma 1.1 re-trains the CodeGemma 7B network (a Gemma 7B); "
    "its config not re-read",
    ("google/codegemma-1.1-2b", "codegemma:2b"): "as google/codegemma-1.1-7b-it, the 2B (a Gemma 2B)",
    ("Phind/Phind-CodeLlama-34B-Python-v1", "phind-codellama:34b"): "both Phind 34B releases are Code Llama 34B "
    "fine-tunes (48 layers, 8192 wide, 8 KV heads); the Python-v1 config not re-read",
}


def _norm(v: str) -> str:
    v = v.replace("_", ".")
    while v.endswith(".0"):
        v = v[:-2]
    return v


def _tokens(text: str, own: bool = False) -> tuple[set, set, set]:
    s = text.lower()
    sizes = {m.group(1) for m in SIZE.finditer(s)}
    dates = {m.group(1) for m in DATE.finditer(s)}
    s = DATE.sub(" ", SIZE.sub(" ", FORMAT.sub(" ", s)))
    versions = {_norm(m.group(1) or m.group(2)) for m in VERSION.finditer(s)}
    if own:
        versions |= {_norm(m.group(1)) for m in NAME_NUMBER.finditer(s)}
    return sizes, dates, versions


def mismatches(catalog) -> list[str]:
    """'alias -> id: why' for each alias whose version, date or size token its entry does not name."""
    out = []
    for e in catalog:
        released = {str(n).lower() for rec in e.get("other_releases") or () for n in rec.get("names", ())}
        sizes, dates, versions = set(), set(), set()
        for text in (e["id"], e.get("hf_id") or "", e.get("name") or ""):
            a, b, c = _tokens(text, own=True)
            sizes, dates, versions = sizes | a, dates | b, versions | c
        for alias in e.get("aliases") or ():
            a, b, c = _tokens(alias)
            why = ([f"size {sorted(a - sizes)}"] if sizes and a - sizes else []) + \
                  ([f"date {sorted(b - dates)}"] if dates and b - dates else []) + \
                  ([f"version {sorted(c - versions)}"] if c - versions else [])
            if why and (alias, e["id"]) not in SAME_NETWORK and alias.lower() not in released:
                out.append(f"{alias} -> {e['id']}: {', '.join(why)} not in the entry's own names")
    return out


def test_no_alias_names_another_version_or_size_than_its_entry():
    assert mismatches(entries()) == []


def test_every_allowance_is_still_an_alias_of_that_entry():
    held = {(a, e["id"]) for e in entries() for a in e.get("aliases") or ()}
    assert set(SAME_NETWORK) <= held


@pytest.mark.parametrize("entry", [
    {"id": "llava:13b", "name": "LLaVA 1.6 Vicuna 13B", "hf_id": "liuhaotian/llava-v1.6-vicuna-13b",
     "aliases": ["llava:13b-v1.5"]},  # the session-31 finding itself
    {"id": "mistral-large:123b", "name": "Mistral Large 2411", "aliases": ["mistral-large:123b-instruct-2407"]},
    {"id": "qwen2.5:7b", "name": "Qwen2.5 7B", "aliases": ["qwen2.5:14b"]},
    {"id": "x:1b", "name": "X v2", "aliases": ["x:1b-v1.5"]},
    {"id": "x:1b", "name": "X v2", "aliases": ["x:1b-v1.5", "x:1b-v1.6"],  # other_releases covers its own names only
     "other_releases": [{"release": "X 1.6", "names": ["x:1b-v1.6"], "reason": "same shapes"}]},
])
def test_the_check_catches_a_wrong_version_date_or_size(entry):
    assert len(mismatches([entry])) == 1


@pytest.mark.parametrize("name,model_id,context,tokens", [
    # Ollama's llava tags name the LLaVA version and LLM (a stored table linking each ollama.com/library/llava tag,
    # code-index file id 25561721601; llava:13b-v1.5-q4_K_M in a stored `ollama list`, 37021519889). LLaVA 1.5 takes
    # one 336 px image, (336/14)^2 = 576 tokens; 1.6 adds AnyRes tiles, a base image + up to 4 tiles = 5 x 576
    ("llava:7b-v1.6-vicuna-q4_0", "llava:7b-v1.6-vicuna", 4096, 5 * 576),
    ("liuhaotian/llava-v1.6-vicuna-7b", "llava:7b-v1.6-vicuna", 4096, 5 * 576),
    ("llava:7b-v1.5-q4_0", "llava:7b-v1.5", 4096, 576),
    ("llava:13b-v1.5-q4_K_M", "llava:13b-v1.5", 4096, 576),
    ("llava-hf/llava-1.5-13b-hf", "llava:13b-v1.5", 4096, 576),
    ("llava:13b-v1.6-vicuna-q4_0", "llava:13b", 4096, 5 * 576),
    # Ollama's wizardlm: :13b-llama2-* is V1.2 on Llama 2 (4096 tokens), :13b-* the LLaMA-1 line (2048; the 2026-04
    # tag list, Jeffser/Alpaca src/ollama_models.py 0354e463); the Hub ids name their version
    ("wizardlm:13b-q4_0", "wizardlm:13b", 2048, None),
    ("WizardLMTeam/WizardLM-13B-V1.0", "wizardlm:13b", 2048, None),
    ("wizardlm:13b-llama2-q4_0", "wizardlm:13b-llama2", 4096, None),
    ("WizardLM/WizardLM-13B-V1.2", "wizardlm:13b-llama2", 4096, None),
])
def test_each_version_resolves_to_its_own_entry(name, model_id, context, tokens):
    from selfhost_advisor.estimate.projector import image_tokens

    m = resolve(name).model
    assert (m.id, m.max_context) == (model_id, context)
    assert image_tokens(m) == tokens
