"""Verilog in which identical kernel instances share one module definition.

Amaranth gives every submodule instance a module of its own, named after its place in the
hierarchy (``top.f_0``, ``top.f_1``). A kernel called twice therefore appears twice in the
Verilog, with identical bodies. :func:`convert` converts like ``amaranth.back.verilog.convert``
but first merges the modules of the RTLIL text that are equal: same body once the module's own
name is set aside, and equal submodules (compared the same way, recursively). The first of
equal modules keeps its name and every instance of the others instantiates it; modules no
longer instantiated are dropped. Identical operator units inside different kernels merge too.

Before (RTLIL)::

    module \\top.f_0            module \\top            module \\top.f_1
      ...                        cell \\top.f_0 \\f_0     ...  (same body)
    end                          cell \\top.f_1 \\f_1   end

After::

    module \\top.f_0            module \\top
      ...                        cell \\top.f_0 \\f_0
    end                          cell \\top.f_0 \\f_1
"""

from __future__ import annotations

import hashlib
import re

from amaranth.back import rtlil
from amaranth.back import verilog as amaranth_verilog

__all__ = ["convert", "share_modules"]

_NAME = re.compile(r"(?m)^module \\(\S+)$")


def convert(elaboratable: object, name: str, *, emit_src: bool = False) -> str:
    """Verilog of ``elaboratable`` (a ``wiring.Component``) as module ``name``, identical
    instances sharing one module."""
    text = rtlil.convert(elaboratable, name=name, emit_src=emit_src)
    # Amaranth's own RTLIL -> Verilog step (yosys: proc, memory_collect, write_verilog)
    return amaranth_verilog._convert_rtlil_text(share_modules(text))


def share_modules(text: str) -> str:
    """``text`` (RTLIL) with modules of equal bodies merged into the first of them."""
    head, blocks = _split(text)
    by_name = {_name(b): b for b in blocks}
    keys: dict[str, str] = {}

    def key(name: str) -> str:
        """The module's body with its submodules' names replaced by their keys' digests and
        its own name set aside: equal keys, equal hardware."""
        if name not in keys:
            body = re.sub(r"cell \\(\S+) ", lambda m: f"cell {digest(m.group(1))} ", by_name[name])
            keys[name] = _own_name(name).sub("<self>", body)
        return keys[name]

    def digest(name: str) -> str:
        if name not in by_name:
            return name  # a primitive cell ($add, ...)
        return hashlib.sha1(key(name).encode()).hexdigest()

    kept: dict[str, str] = {}
    renames = {n: kept.setdefault(key(n), n) for n in by_name}
    blocks = [_rename(b, renames) for b in blocks]
    used = _reachable(blocks)
    return head + "".join(b for b in blocks if _name(b) in used)


def _split(text: str) -> tuple[str, list[str]]:
    """(the text outside modules, each module with the attribute lines before it)."""
    head: list[str] = []
    blocks: list[str] = []
    pending: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        if current is not None:
            current.append(line)
            if line.rstrip("\n") == "end":  # a module's end is not indented
                blocks.append("".join(current))
                current = None
        elif line.startswith("attribute "):
            pending.append(line)
        elif line.startswith("module "):
            current, pending = [*pending, line], []
        else:
            head, pending = [*head, *pending, line], []
    return "".join(head + pending), blocks


def _reachable(blocks: list[str]) -> set[str]:
    """The modules the top module (``attribute \\top 1``) instantiates, directly or not."""
    cells = {_name(b): set(re.findall(r"cell \\(\S+) ", b)) for b in blocks}
    todo = [_name(b) for b in blocks if re.search(r"(?m)^attribute \\top 1$", b)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [c for c in cells.get(name, ()) if c in cells]
    return seen


def _name(block: str) -> str:
    match = _NAME.search(block)
    return match.group(1) if match else ""


def _own_name(name: str) -> re.Pattern[str]:
    """A module's own name where it stands: after ``\\`` or ``"``, followed by ``.``, a
    quote or white space."""
    return re.compile(rf'(?<=[\\"]){re.escape(name)}(?=[."\s])')


def _rename(block: str, renames: dict[str, str]) -> str:
    """``block`` with its cells of merged modules instantiating the kept ones."""

    def cell(match: re.Match[str]) -> str:
        return f"cell \\{renames.get(match.group(1), match.group(1))} "

    return re.sub(r"cell \\(\S+) ", cell, block)
