"""The ``"verilog"`` target: a kernel in its shell as Verilog, with address map and README."""

from ._design import OutputExistsError, VerilogDesign, build_verilog, signature_ports

__all__ = ["OutputExistsError", "VerilogDesign", "build_verilog", "signature_ports"]
