"""Lowering: kernel IR -> FSMD (scheduled controller and datapath over IR expressions)."""

from ._bind import unit_instances
from ._float import UnitKey, unit_key
from ._fsmd import (
    Branch,
    CallStart,
    Fsmd,
    GetStream,
    Goto,
    Level,
    Memory,
    Pipeline,
    PipeOp,
    PutStream,
    ReadPort,
    RunPipeline,
    SetReg,
    State,
    StreamPort,
    Task,
    UnitIssue,
    WaitCall,
    WaitDataflow,
    WritePort,
)
from ._lower import lower
from ._report import ArrayReport, LoopReport, Report, build_report
from ._timing import TargetModel, target_model

__all__ = [
    "Branch", "CallStart", "Fsmd", "GetStream", "Goto", "Level", "Memory", "PipeOp", "Pipeline",
    "PutStream", "ReadPort", "RunPipeline", "SetReg", "State", "StreamPort", "Task", "UnitIssue", "WaitCall",
    "WaitDataflow", "WritePort", "lower", "ArrayReport", "LoopReport", "Report", "build_report", "TargetModel", "target_model", "UnitKey", "unit_key", "unit_instances",
]  # fmt: skip
