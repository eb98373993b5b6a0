"""Lowering: kernel IR -> FSMD (scheduled controller and datapath over IR expressions)."""

from ._fsmd import (
    Branch,
    CallStart,
    Fsmd,
    Goto,
    Level,
    Memory,
    Pipeline,
    PipeOp,
    ReadPort,
    RunPipeline,
    SetReg,
    State,
    WaitCall,
    WritePort,
)
from ._lower import lower
from ._report import ArrayReport, LoopReport, Report, build_report
from ._timing import TargetModel, target_model

__all__ = [
    "Branch", "CallStart", "Fsmd", "Goto", "Level", "Memory", "PipeOp", "Pipeline", "ReadPort",
    "RunPipeline", "SetReg", "State", "WaitCall", "WritePort", "lower", "ArrayReport", "LoopReport", "Report", "build_report", "TargetModel", "target_model",
]  # fmt: skip
