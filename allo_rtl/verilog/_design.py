"""``VerilogDesign``: a kernel in its shell as Verilog text, with its address map and ports."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from amaranth.hdl import Shape
from amaranth.lib import wiring

from .._errors import AlloRTLError
from ..hw._info import KernelInfo
from ..hw._shell import Shell
from ._readme import MARKER, readme
from ._shared import convert

__all__ = ["MARKER", "OutputExistsError", "VerilogDesign", "build_verilog", "signature_ports"]


class OutputExistsError(AlloRTLError, FileExistsError):
    """``save()`` would overwrite a file that allo_rtl did not write."""


def signature_ports(component: wiring.Component) -> list[tuple[str, str, int]]:
    """``(name, "in" | "out", width)`` of every Verilog port of ``component``: ``clk`` and
    ``rst`` of the ``sync`` domain, then the signature's members (``A__rd_addr`` for ``A.rd_addr``)."""
    ports = [("clk", "in", 1), ("rst", "in", 1)]
    for path, member, _ in component.signature.flatten(component):
        direction = "in" if member.flow == wiring.In else "out"
        ports.append(("__".join(map(str, path)), direction, Shape.cast(member.shape).width))
    return ports


class VerilogDesign:
    """A kernel component wrapped in its :class:`~allo_rtl.hw._shell.Shell`, as Verilog.

    ``verilog`` is the text of the shell (top module ``top`` = ``<kernel>_shell``) and of the
    kernel (module ``<kernel>_shell.kernel``); ``kernel_verilog`` is the bare kernel alone as
    module ``<kernel>`` (docs/interface.md), for use without the shell. ``ports`` lists the
    shell's ports and ``kernel_ports`` the kernel's, as ``(name, direction, width)``.
    ``address_map`` is the shell's address map (``allo_rtl.hw._shell.address_map``).
    """

    def __init__(
        self,
        component: wiring.Component,
        info: KernelInfo,
        ir_module: Any = None,
        *,
        word_bits: int | None = None,
        emit_src: bool = False,
    ) -> None:
        self.component = component
        self.info = info
        self.ir_module = ir_module
        self.name = info.name
        self.shell = Shell(component, info, word_bits)
        self.top = self.shell.address_map["top"]
        self.address_map: dict[str, Any] = self.shell.address_map
        self._emit_src = emit_src
        text = convert(self.shell, name=self.top, emit_src=emit_src)  # instances shared
        self.verilog = f"// {MARKER}: kernel {self.name} in its shell {self.top}\n{text}"
        self.ports = signature_ports(self.shell)
        self.kernel_ports = signature_ports(component)

    def __repr__(self) -> str:
        return f"<VerilogDesign {self.top}: {len(self.verilog.splitlines())} lines>"

    @functools.cached_property
    def kernel_verilog(self) -> str:
        """The kernel without the shell, as module ``<kernel>`` (converted on first use)."""
        text = convert(self.component, name=self.name, emit_src=self._emit_src)
        return f"// {MARKER}: kernel {self.name} (docs/interface.md)\n{text}"

    def files(self) -> dict[str, str]:
        """File name -> content of everything :meth:`save` writes."""
        amap = {"generator": MARKER, **self.address_map}
        return {
            f"{self.top}.v": self.verilog,
            f"{self.name}.v": self.kernel_verilog,
            "address_map.json": json.dumps(amap, indent=2) + "\n",
            "README.md": readme(self),
        }

    def save(self, directory: str | Path) -> list[Path]:
        """Write :meth:`files` into ``directory`` (created if needed); returns their paths.

        Files written by allo_rtl before are replaced; any other existing file of the same
        name raises :class:`OutputExistsError` before anything is written. Other files in the
        directory are never touched.
        """
        directory = Path(directory)
        files = self.files()
        for name in files:
            path = directory / name
            if path.exists() and not _generated(path):
                raise OutputExistsError(
                    f"{path} exists and was not written by allo_rtl; not overwriting it",
                    hint="save into a new or empty directory, or remove the file",
                )
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in files.items():
            (directory / name).write_text(text)
            written.append(directory / name)
        return written


def _generated(path: Path) -> bool:
    try:
        with path.open(errors="replace") as f:
            return MARKER in f.read(300)
    except (OSError, IsADirectoryError):
        return False


def build_verilog(
    component: wiring.Component,
    info: KernelInfo,
    ir_module: Any = None,
    *,
    word_bits: int | None = None,
    emit_src: bool = False,
) -> VerilogDesign:
    """The Verilog of ``component`` (described by ``info``) in its shell.

    ``word_bits`` is the host bus width (default: 32 or the widest element or scalar);
    ``emit_src=True`` keeps Amaranth's ``(* src = ... *)`` attributes. ``ir_module`` (the
    kernel's IR, optional) is kept for the simulation targets.
    """
    return VerilogDesign(component, info, ir_module, word_bits=word_bits, emit_src=emit_src)
