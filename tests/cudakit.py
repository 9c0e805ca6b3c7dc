"""The CUDA kernel-path tests' one machine (test_cuda_mxfp4, test_cuda_gptoss_router each had this builder): a
hardware profile's first GPU under CUDA, with room for any model a test prices (128 GiB of VRAM at least, 256 GiB of
RAM), so the figure compared is the kernel path's and never a placement's."""
from __future__ import annotations

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.record import replace


def cuda_machine(name: str):
    m = machine_from_profile(hw_names.resolve(name), 1)
    d = replace(m.devices[0], backend="cuda", memory_bytes=max(m.devices[0].memory_bytes, 128 * 2**30))
    return replace(m, devices=(d,), ram_bytes=256 * 2**30)
