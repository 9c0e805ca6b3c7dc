"""The quantization Ollama pulls for a bare family name and FAMILY:latest (data/ollama_default_quants.yaml).

Why per family: the library's older uploads are Q4_0, its newer ones Q4_K_M, and a few F16 or Q8_0 (deepscaler:latest
is the 1.5B at F16, 3.6 GB); assuming Q4_K_M for every default misreads those blobs by 6-50%. Each entry was read from
sized listings (the data file's `rule`; tests/test_ollama_default_quants.py re-derives it), and where none decides, the
family has no entry and `fit` sizes every quantization as before.
"""
from __future__ import annotations

from ..record import record
from .data import load


@record
class DefaultQuant:
    family: str
    quant: str  # a llama-quantize file type name: Q4_0, Q4_K_M, F16 ...
    source: str  # where it was read and how it was decided, one line


def default_quant(family: str) -> DefaultQuant | None:
    """FAMILY's default quantization in Ollama's library, or None where no source decides it."""
    data = load("ollama_default_quants")
    rec = data["families"].get(family.lower())
    if rec is None:
        return None
    src = dict(data["sources"])
    src["alpaca"] = src[rec.get("list", "alpaca")]  # the tag list the size was read in (a later copy for 2026 families)
    if rec["by"] == "size":
        how = (f"{family}:latest is {rec['size']} in {src['alpaca']}; {rec['quant']} is the only quantization whose "
               "estimated file lies within 1% of that size")
    elif rec["by"] == "exact":
        exact = "; ".join(f"{v} in {src[k]}" for k, v in rec["exact"].items())
        how = (f"{family}:latest is {rec['size']} in {src['alpaca']}, which Q4_0 and Q4_K_S both match; {exact} is "
               f"{rec['quant']} within 0.5% and no other")
    elif rec["by"] == "tag":  # 'llama-pro' had no branch of its own: KeyError 'also', exit 3 for `fit llama-pro`
        tags = ", ".join(f"{q} at {size}" for q, size in rec["tags"].items())
        how = (f"{family}:latest is {rec['size']} in {src['alpaca']}, which several quantizations match; the same list "
               f"prints the family's own tags ({tags}), so latest is the {rec['quant']} blob")
    else:
        how = (f"{rec['quant']} is printed for {family} in {src[rec['also']]}; {family}:latest is {rec['size']} in "
               f"{src['alpaca']}, which {rec['quant']} matches within 1%")
    if rec["by"] != "stated" and rec.get("also"):
        how += f"; also {src[rec['also']]}"
    if rec.get("note"):
        how += f" ({rec['note']})"
    return DefaultQuant(family.lower(), str(rec["quant"]), " ".join(how.split()))
