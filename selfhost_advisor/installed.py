"""`models --installed`: every model an Ollama install holds, read from its GGUF blob, with its fit here.

Why: "what I already have, will it run with this context?" is answered from the exact tensors in each blob
(header only; blobs are never read beyond it).
"""
from __future__ import annotations

from pathlib import Path

from .catalog.gguf_header import read_file_header
from .catalog.gguf_model import from_headers, ggml_type_ids
from .catalog.ollama import Installed, installed, models_dir
from .catalog.resolve import quant_of
from .domain import FitRequest, FitResult, Machine
from .errors import AdvisorError
from .estimate.fit import fit
from .record import record


@record
class InstalledFit:
    name: str  # as `ollama list` prints it
    blob: str | None
    file_bytes: int | None
    quant: str | None
    result: FitResult | None  # None when the blob could not be read
    problem: str = ""


def installed_fits(machine: Machine, request: FitRequest, *, host_ram_known: bool = True,
                   root: Path | None = None) -> tuple[Path, list[InstalledFit]]:
    root = root or models_dir()
    out = []
    for inst in installed(root):
        out.append(_one(inst, machine, request, host_ram_known))
    return root, out


def _one(inst: Installed, machine: Machine, request: FitRequest, host_ram_known: bool) -> InstalledFit:
    name = inst.tag.short
    if inst.problem or inst.blob is None:
        return InstalledFit(name, str(inst.blob) if inst.blob else None, inst.blob_bytes, None, None, inst.problem)
    try:
        header = read_file_header(str(inst.blob), ggml_type_ids())
        gm = from_headers([header], model_id=name, source=str(inst.blob), files=(str(inst.blob),))
        result = fit(gm.model, machine, request, (quant_of(gm.quant),), host_ram_known=host_ram_known)
    except AdvisorError as err:  # one bad blob (corrupt, a FIFO, beyond a limit) is marked, the others still listed
        return InstalledFit(name, str(inst.blob), inst.blob_bytes, None, None, str(err))
    return InstalledFit(name, str(inst.blob), inst.blob_bytes, gm.quant, result)
