"""``allo_rtl.verilog._shared.share_modules``: equal RTLIL modules merge, modules whose
submodules differ do not."""

from allo_rtl.verilog._shared import share_modules


def design(width_a: int, width_b: int) -> str:
    return f"""attribute \\top 1
module \\top
  cell \\top.a \\a
  end
  cell \\top.b \\b
  end
end
attribute \\amaranth.hierarchy "top.a"
module \\top.a
  cell \\top.a.c \\c
  end
end
module \\top.a.c
  wire width {width_a} \\x
end
attribute \\amaranth.hierarchy "top.b"
module \\top.b
  cell \\top.b.c \\c
  end
end
module \\top.b.c
  wire width {width_b} \\x
end
"""


def modules(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.startswith("module ")]


def test_equal_modules_and_their_submodules_merge():
    out = share_modules(design(1, 1))
    assert modules(out) == ["\\top", "\\top.a", "\\top.a.c"]
    assert "  cell \\top.a \\a\n" in out and "  cell \\top.a \\b\n" in out


def test_modules_with_different_submodules_stay_apart():
    out = share_modules(design(1, 2))
    assert out == design(1, 2)
