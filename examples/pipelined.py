"""Pipelined kernels of the acceptance figures (benchmarks/pipeline_cycles.py measures them).

Each ``schedule_*`` function customizes one kernel and returns the schedule.
"""

import allo_rtl as allo
from allo_rtl.ir.types import int32

N = 1024
M = 16


def vadd(A: int32[N], B: int32[N]) -> int32[N]:
    C: int32[N] = 0
    for i in range(N):
        C[i] = A[i] + B[i]
    return C


def dot(A: int32[N], B: int32[N]) -> int32:
    acc: int32 = 0
    for i in range(N):
        acc += A[i] * B[i]
    return acc


def gemm16(A: int32[M, M], B: int32[M, M]) -> int32[M, M]:
    C: int32[M, M] = 0
    for i, j in allo.grid(M, M, name="C"):
        acc: int32 = 0
        for k in allo.reduction(M):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc
    return C


def schedule_vadd() -> allo.Schedule:
    s = allo.customize(vadd)
    s.pipeline("i")
    return s


def schedule_dot() -> allo.Schedule:
    s = allo.customize(dot)
    s.pipeline("i")
    return s


def schedule_gemm16() -> allo.Schedule:
    s = allo.customize(gemm16)
    s.pipeline("k")  # flattened with i and j: one multiply-accumulate per cycle
    return s
