"""Math functions in hardware: ``exp``, ``log``, ``log2``, ``log10``, ``tanh``, ``sin``, ``cos``
and ``power`` (Allo's ``allo.exp`` ... ``allo.power``), as pipelined Amaranth components.

Every unit follows the package conventions (``_format.py``): ports ``a`` (and ``b`` for
``power``), ``valid_in``, ``result``, ``valid_out``; ``latency`` registers (default: one per
stage, the result straight from a register; 0: combinational; fewer registers than stages
merge neighbouring stages); NaN results are the canonical quiet NaN. The datapaths are
sized for float32; float16 and bfloat16 use the same datapath and round straight to their
format (no double rounding). float64 is refused.

Every unit is range reduction, a small table and a short polynomial in fixed point with
guard bits, rounded once by ``round_pack``; the module of each says how. Each is written once
and runs on two backends (``_m_ops.py``): the Amaranth netlist and a bit-exact NumPy model
(:meth:`MathUnit.model`), which the accuracy sweeps use.

==========  ==========  =======  ===  ===============================================
unit        module      latency  DSP  max error measured (ulp, float32, vs exact)
==========  ==========  =======  ===  ===============================================
FloatExp    _m_exp.py         8    6  0.5001  (2 ulp from NumPy, itself 2.29 ulp off)
FloatLog    _m_log.py         9   11  0.5002  (3 ulp from NumPy, itself 3.19 ulp off)
FloatLog2   _m_log.py         9   11  0.5002  (2 ulp from NumPy)
FloatLog10  _m_log.py         9   11  0.5007  (3 ulp from NumPy, itself 3.49 ulp off)
FloatTanh   _m_tanh.py       13   20  0.5066  (1 ulp from NumPy)
FloatSin    _m_trig.py       16   31  0.5005  (every finite input: exact reduction)
FloatCos    _m_trig.py       16   31  0.5006
FloatPow    _m_pow.py        18   27  0.5038  (1 ulp from NumPy)
==========  ==========  =======  ===  ===============================================

DSP blocks are ECP5 ``MULT18X18D`` as yosys maps the units' multiplies
(:meth:`MathUnit.dsp_blocks`; multiplies by constants are shift-and-add logic). The errors
are the maxima of ``benchmarks/float_math_ulp.py`` (every 1024th float32 pattern of each
domain plus edge sweeps, 1.5 to 4.4 million inputs per function; see its docstring);
``tests/test_fp_math.py`` asserts them on a sparser sweep (and every float16 and bfloat16
input: at most 0.501 ulp) and checks the hardware against the model bit for bit. NumPy's own
float32 functions are up to 2.3 (exp) and 3.5 (log10) ulp off on AVX-512 machines, hence the
larger distances from NumPy's results.
"""

from __future__ import annotations

from ._m_exp import FloatExp
from ._m_log import FloatLog, FloatLog2, FloatLog10
from ._m_ops import MathUnit
from ._m_pow import FloatPow
from ._m_tanh import FloatTanh
from ._m_trig import FloatCos, FloatSin

__all__ = [
    "MATH_UNITS",
    "FloatCos",
    "FloatExp",
    "FloatLog",
    "FloatLog2",
    "FloatLog10",
    "FloatPow",
    "FloatSin",
    "FloatTanh",
    "MathUnit",
]

# Allo / NumPy function name -> unit class
MATH_UNITS: dict[str, type[MathUnit]] = {
    "exp": FloatExp,
    "log": FloatLog,
    "log2": FloatLog2,
    "log10": FloatLog10,
    "tanh": FloatTanh,
    "sin": FloatSin,
    "cos": FloatCos,
    "power": FloatPow,
}
