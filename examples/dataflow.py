"""Dataflow designs: streams between concurrent kernels, a systolic array, two GEMMs
overlapped with ``s.to`` + ``s.dataflow``, and a dataflow loop with a ping-pong buffer.

Run ``python examples/dataflow.py`` to check each on the NumPy target (and on Verilator when
it is installed); ``benchmarks/dataflow_cycles.py`` measures their cycles.
"""

from __future__ import annotations

import numpy as np

import allo_rtl as allo
import allo_rtl.dataflow as df
from allo_rtl.ir.types import Stream, int8, int32

# ruff: noqa: F821, B007 - streams are declared without a value (they look undefined); loop
# variables name the loops for the schedule even where the body does not read them

M, N = 16, 16


@df.region()
def producer_consumer(A: int32[M, N], B: int32[M, N]):
    pipe: Stream[int32, 4]

    @df.kernel(mapping=[1], args=[A])
    def producer(local_A: int32[M, N]):
        for i, j in allo.grid(M, N):
            pipe.put(local_A[i, j])

    @df.kernel(mapping=[1], args=[B])
    def consumer(local_B: int32[M, N]):
        for i, j in allo.grid(M, N):
            local_B[i, j] = pipe.get() + 1


def schedule_producer_consumer(pipelined: bool = True) -> allo.Schedule:
    s = df.customize(producer_consumer)
    if pipelined:
        s.pipeline("producer:j")
        s.pipeline("consumer:j")
    return s


# Output-stationary R x C systolic array (Allo's tests/dataflow/test_systolic.py, int8 -> int32):
# column 0 loads rows of A, row 0 loads columns of B, the PEs multiply-accumulate and pass their
# operands on, the last row and column drain what comes out.
R, C, K = 4, 4, 64
P0, P1 = R + 2, C + 2


@df.region()
def systolic(A: int8[R, K], B: int8[K, C], Cm: int32[R, C]):
    fifo_A: Stream[int8, 4][P0, P1]
    fifo_B: Stream[int8, 4][P0, P1]

    @df.kernel(mapping=[P0, P1], args=[A, B, Cm])
    def gemm(local_A: int8[R, K], local_B: int8[K, C], local_C: int32[R, C]):
        i, j = df.get_pid()
        with allo.meta_if(i in {0, R + 1} and j in {0, C + 1}):
            pass  # corners: no instance
        with allo.meta_elif(j == 0):
            for k in range(K):
                fifo_A[i, j + 1].put(local_A[i - 1, k])
        with allo.meta_elif(i == 0):
            for k in range(K):
                fifo_B[i + 1, j].put(local_B[k, j - 1])
        with allo.meta_elif(i == R + 1 and j > 0):
            for k in range(K):
                fifo_B[i, j].get()
        with allo.meta_elif(j == C + 1 and i > 0):
            for k in range(K):
                fifo_A[i, j].get()
        with allo.meta_else():
            c: int32 = 0
            for k in range(K):
                a: int8 = fifo_A[i, j].get()
                b: int8 = fifo_B[i, j].get()
                c += a * b
                fifo_A[i, j + 1].put(a)
                fifo_B[i + 1, j].put(b)
            local_C[i - 1, j - 1] = c


def schedule_systolic(pipelined: bool = True) -> allo.Schedule:
    """Every loader and PE gets its own bank of A, B and C; every loop is pipelined."""
    s = df.customize(systolic)
    s.partition("systolic:A", dim=1)
    s.partition("systolic:B", dim=2)
    s.partition("systolic:Cm", dim=0)
    if pipelined:
        s.pipeline("gemm:k")
    return s


# 2mm, D = (A @ B) @ C, as two GEMM kernels. gemm1 finishes a row of T every N * N cycles;
# gemm2 reads T once per element in row order (into a row buffer), so T can be a stream.
G = 16


def gemm1(A: int32[G, G], B: int32[G, G], T: int32[G, G]):
    for i, j in allo.grid(G, G, name="row"):
        acc: int32 = 0
        for k in range(G):
            acc += A[i, k] * B[k, j]
        T[i, j] = acc


def gemm2(T: int32[G, G], C: int32[G, G], D: int32[G, G]):
    row: int32[G] = 0
    for i in range(G):
        for k in range(G):
            row[k] = T[i, k]
        for j in range(G):
            acc: int32 = 0
            for k2 in range(G):
                acc += row[k2] * C[k2, j]
            D[i, j] = acc


def mm2(A: int32[G, G], B: int32[G, G], C: int32[G, G], D: int32[G, G]):
    T: int32[G, G]
    gemm1(A, B, T)
    gemm2(T, C, D)


def schedule_mm2(overlapped: bool = True) -> allo.Schedule:
    """Both GEMMs pipelined; ``overlapped`` streams T and runs the two as dataflow tasks."""
    s = allo.customize(mm2)
    s.pipeline("gemm1:k")
    s.pipeline("gemm2:k")
    s.pipeline("gemm2:k2")
    if overlapped:
        s.to("T", "gemm2", depth=G)
        s.dataflow("mm2")
    return s


# A dataflow loop: for each tile t, `square` writes the squares of row t of X into a buffer and
# `prefix` writes their running sums to row t of Y. `s.dataflow("t")` double-buffers B, so tile
# t + 1 is squared while tile t is summed.
TILES = 8


def square(X: int32[TILES, N], B: int32[N], t: int32):
    for i in range(N):
        B[i] = X[t, i] * X[t, i]


def prefix(B: int32[N], Y: int32[TILES, N], t: int32):
    acc: int32 = 0
    for i in range(N):
        acc += B[i]
        Y[t, i] = acc


def tiles(X: int32[TILES, N], Y: int32[TILES, N]):
    for t in range(TILES):
        B: int32[N] = 0
        square(X, B, t)
        prefix(B, Y, t)


def schedule_tiles(overlapped: bool = True) -> allo.Schedule:
    """Both kernels pipelined; ``overlapped`` makes the tile loop a dataflow loop."""
    s = allo.customize(tiles)
    s.pipeline("square:i")
    s.pipeline("prefix:i")
    if overlapped:
        s.dataflow("t")
    return s


def main() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(-100, 100, (M, N)).astype(np.int32)
    b = np.zeros((M, N), np.int32)
    schedule_producer_consumer().build()(a, b)
    assert (b == a + 1).all()
    a8 = rng.integers(-128, 128, (R, K)).astype(np.int8)
    b8 = rng.integers(-128, 128, (K, C)).astype(np.int8)
    c = np.zeros((R, C), np.int32)
    schedule_systolic().build()(a8, b8, c)
    assert (c == a8.astype(np.int32) @ b8.astype(np.int32)).all()
    x, y, z = (rng.integers(-50, 50, (G, G)).astype(np.int32) for _ in range(3))
    d = np.zeros((G, G), np.int32)
    schedule_mm2().build()(x, y, z, d)
    assert (d == (x.astype(np.int64) @ y @ z).astype(np.int32)).all()
    xt, yt = rng.integers(-99, 99, (TILES, N)).astype(np.int32), np.zeros((TILES, N), np.int32)
    schedule_tiles().build()(xt, yt)
    assert (yt == np.cumsum(xt * xt, axis=1)).all()
    print("producer/consumer, systolic array, 2mm and the tile loop match NumPy")


if __name__ == "__main__":
    main()
