"""Hand-computed checks of the reference model in tests/intref.py (no allo_rtl needed)."""

import pytest
from intref import (
    BOOL,
    INT32,
    Fixed,
    Int,
    UFixed,
    UInt,
    binop,
    convert,
    float_to_raw,
    get_bit,
    get_slice,
    literal_type,
    raw_to_py,
    result_type,
    reverse_bits,
    set_bit,
    set_slice,
    unop,
    wrap,
)


def test_wrap_and_convert():
    assert wrap(200, Int(8)) == -56
    assert wrap(-1, UInt(8)) == 255
    assert wrap(256, UInt(8)) == 0
    assert wrap(1, Int(1)) == -1
    assert convert(300, Int(32), UInt(8)) == 44
    # Fixed(8, 4) raw -24 is -1.5; to Int(8) floors to -2
    assert convert(-24, Fixed(8, 4), Int(8)) == -2
    assert convert(24, Fixed(8, 4), Int(8)) == 1
    # 1.75 (raw 28 in Fixed(8,4)) to Fixed(6, 1): floor to 1.5 -> raw 3
    assert convert(28, Fixed(8, 4), Fixed(6, 1)) == 3
    # Int(8) 5 to Fixed(8, 6): 5 * 64 = 320 wraps to 64 -> 1.0
    assert convert(5, Int(8), Fixed(8, 6)) == 64


def test_literal_type():
    assert literal_type(0) == INT32
    assert literal_type(2**31 - 1) == INT32
    assert literal_type(2**31) == Int(33)
    assert literal_type(-(2**31) - 1) == Int(33)
    assert literal_type(2**40) == Int(42)


def test_result_types():
    assert result_type("+", Int(8), Int(8)) == Int(9)
    assert result_type("+", Int(8), UInt(8)) == Int(10)
    assert result_type("+", UInt(8), UInt(8)) == UInt(9)
    assert result_type("-", UInt(8), UInt(8)) == UInt(9)
    assert result_type("+", Int(4), UInt(8)) == Int(10)
    assert result_type("+", Fixed(8, 4), Int(8)) == Fixed(13, 4)
    assert result_type("+", Fixed(8, 4), UFixed(6, 2)) == Fixed(10, 4)
    assert result_type("+", UFixed(8, 4), UFixed(6, 2)) == UFixed(9, 4)
    assert result_type("*", Int(8), UInt(3)) == Int(11)
    assert result_type("*", Fixed(8, 4), UFixed(6, 2)) == Fixed(14, 6)
    assert result_type("*", Int(8), Fixed(6, 2)) == Fixed(14, 2)
    assert result_type("/", Int(8), UInt(16)) == Int(8)
    assert result_type("/", UInt(8), Int(16)) == Int(8)
    assert result_type("//", UInt(8), UInt(16)) == UInt(8)
    assert result_type("/", Fixed(8, 4), Fixed(6, 2)) == Fixed(14, 8)
    assert result_type("/", Fixed(8, 4), Int(6)) == Fixed(14, 10)
    assert result_type("/", UFixed(8, 4), UInt(6)) == UFixed(14, 10)
    assert result_type("/", Int(8), Fixed(6, 2)) == Fixed(14, 6)
    assert result_type("%", Int(8), UInt(8)) == Int(9)
    assert result_type("%", UInt(8), UInt(3)) == UInt(8)
    assert result_type("%", Fixed(8, 4), Int(3)) == Fixed(8, 4)
    assert result_type("min", UInt(8), Int(4)) == Int(9)
    assert result_type("max", Fixed(8, 6), UFixed(8, 2)) == Fixed(13, 6)
    assert result_type("<<", UInt(5), Int(64)) == UInt(5)
    assert result_type("&", Int(4), UInt(8)) == Int(8)
    assert result_type("^", UInt(4), UInt(8)) == UInt(8)
    assert result_type("<", Fixed(8, 4), UInt(80)) == BOOL
    with pytest.raises(TypeError):
        result_type("&", Fixed(8, 4), Int(8))
    with pytest.raises(ValueError):
        result_type("/", Int(2), Fixed(8, 6))  # Allo's rule gives negative fraction bits


def test_add_sub_mul():
    assert binop("+", 127, Int(8), 127, Int(8)) == (254, Int(9))
    assert binop("-", 3, UInt(8), 5, UInt(8)) == (510, UInt(9))
    assert binop("-", 3, Int(8), 5, UInt(8)) == (-2, Int(10))
    assert binop("*", -128, Int(8), 255, UInt(8)) == (-32640, Int(16))
    # 1.5 + (-2) in Fixed(8,4) + Int(8): -0.5 -> raw -8 at 4 fraction bits
    assert binop("+", 24, Fixed(8, 4), -2, Int(8)) == (-8, Fixed(13, 4))
    # 1.5 * 0.25 = 0.375 with 4 + 2 fraction bits: raw 24
    assert binop("*", 24, Fixed(8, 4), 1, UFixed(6, 2)) == (24, Fixed(14, 6))


def test_division():
    assert binop("/", -7, Int(8), 2, Int(8)) == (-3, Int(8))
    assert binop("%", -7, Int(8), 2, Int(8)) == (-1, Int(8))
    assert binop("//", -7, Int(8), 2, Int(8)) == (-4, Int(8))
    assert binop("%", 7, Int(8), -2, Int(8)) == (1, Int(8))
    assert binop("//", 7, Int(8), -2, Int(8)) == (-4, Int(8))
    assert binop("/", -128, Int(8), -1, Int(8)) == (-128, Int(8))
    assert binop("/", 200, UInt(8), 1, Int(8)) == (-56, Int(8))
    assert binop("/", -100, Int(8), 200, UInt(8)) == (0, Int(8))
    # division by zero
    assert binop("/", 5, Int(8), 0, Int(8)) == (-1, Int(8))
    assert binop("//", 5, UInt(8), 0, Int(3)) == (-1, Int(8))
    assert binop("/", 5, UInt(8), 0, UInt(3)) == (255, UInt(8))
    assert binop("%", -5, Int(8), 0, UInt(3)) == (-5, Int(8))
    # fixed: 1.5 / 0.5 = 3 in Fixed(14, 8)
    assert binop("/", 24, Fixed(8, 4), 2, Fixed(6, 2)) == (3 * 256, Fixed(14, 8))
    # 1 / 3 in Fixed(8,4)/Int(4) -> Fixed(12, 8): trunc(256/3) = 85; -1/3 -> -85
    assert binop("/", 16, Fixed(8, 4), 3, Int(4)) == (85, Fixed(12, 8))
    assert binop("/", -16, Fixed(8, 4), 3, Int(4)) == (-85, Fixed(12, 8))
    # fixed remainder on aligned raw values: 1.75 % 0.5 = 0.25, -1.75 % 0.5 = -0.25
    assert binop("%", 28, Fixed(8, 4), 2, Fixed(6, 2)) == (4, Fixed(8, 4))
    assert binop("%", -28, Fixed(8, 4), 2, Fixed(6, 2)) == (-4, Fixed(8, 4))


def test_shifts():
    assert binop("<<", 1, Int(8), 7, Int(8)) == (-128, Int(8))
    assert binop("<<", 3, UInt(8), 7, Int(8)) == (128, UInt(8))
    assert binop("<<", 3, UInt(8), 8, Int(8)) == (0, UInt(8))
    assert binop(">>", -128, Int(8), 3, UInt(3)) == (-16, Int(8))
    assert binop(">>", -128, Int(8), 100, UInt(8)) == (-1, Int(8))
    assert binop(">>", 200, UInt(8), 100, UInt(8)) == (0, UInt(8))
    assert binop(">>", 200, UInt(8), 2, Int(8)) == (50, UInt(8))
    # negative amount is huge (unsigned in its own width)
    assert binop("<<", 1, Int(32), -1, Int(32)) == (0, Int(32))
    assert binop(">>", -5, Int(32), -1, Int(32)) == (-1, Int(32))
    # -1 as Int(3) is 7
    assert binop("<<", 1, Int(16), -1, Int(3)) == (128, Int(16))


def test_bitwise_unary():
    # Int(4) -1 & UInt(8) 0x0f: both to Int(8): -1 & 15 = 15
    assert binop("&", -1, Int(4), 15, UInt(8)) == (15, Int(8))
    # UInt(8) 255 -> Int(8) -1; | 0 -> -1
    assert binop("|", 255, UInt(8), 0, Int(4)) == (-1, Int(8))
    assert binop("^", 5, UInt(4), 3, UInt(8)) == (6, UInt(8))
    assert unop("-", -128, Int(8)) == (-128, Int(8))
    assert unop("-", 200, UInt(8)) == (56, Int(8))
    assert unop("-", 0, UInt(8)) == (0, Int(8))
    assert unop("~", 5, UInt(8)) == (-6, Int(8))
    assert unop("~", 0, UInt(1)) == (-1, Int(1))
    assert unop("-", 24, Fixed(8, 4)) == (-24, Fixed(8, 4))
    assert unop("-", 24, UFixed(8, 4)) == (232, UFixed(8, 4))  # UFixed stays unsigned
    assert unop("int", -24, Fixed(8, 4)) == (-2, INT32)


def test_compare_minmax():
    assert binop("<", 255, UInt(8), -1, Int(8)) == (0, BOOL)
    assert binop("==", 16, Fixed(8, 4), 1, Int(2)) == (1, BOOL)
    assert binop(">", 17, Fixed(8, 4), 1, UInt(2)) == (1, BOOL)
    assert binop("min", 255, UInt(8), -1, Int(4)) == (-1, Int(9))
    assert binop("max", 255, UInt(8), -1, Int(4)) == (255, Int(9))
    assert binop("max", 1, UFixed(4, 1), 3, Fixed(6, 3)) == (4, Fixed(7, 3))


def test_bits():
    assert get_bit(-2, Int(8), 0) == 0
    assert get_bit(-2, Int(8), 1) == 1
    assert get_bit(-2, Int(8), 20) == 1
    assert get_bit(255, UInt(8), 8) == 0
    assert get_slice(-2, Int(8), 0, 4) == (14, UInt(4))
    assert get_slice(-2, Int(8), 4, 12) == (255, UInt(8))
    assert get_slice(0xAB, UInt(8), 4, 12) == (0xA, UInt(8))
    assert set_bit(0, Int(8), 7, 1) == -128
    assert set_bit(-1, Int(8), 0, 0) == -2
    assert set_bit(5, UInt(8), 9, 1) == 5
    assert set_slice(0, UInt(8), 6, 10, 0xF) == 0xC0
    assert set_slice(0xFF, UInt(8), 2, 4, 0x6) == 0xFB  # 0x6 -> UInt(2) 2 -> bits 3..2 = 10
    assert reverse_bits(1, UInt(8)) == 128
    assert reverse_bits(1, Int(8)) == -128
    assert reverse_bits(0b0011, UInt(4)) == 0b1100
    assert reverse_bits(-2, Int(3)) == 3  # 110 -> 011


def test_float_conversion():
    assert float_to_raw(1.99, Fixed(8, 4)) == 31
    assert float_to_raw(-1.99, Fixed(8, 4)) == -31
    assert float_to_raw(100.0, Fixed(8, 4)) == 127
    assert float_to_raw(-100.0, UFixed(8, 4)) == 0
    assert float_to_raw(float("nan"), Int(8)) == 0
    assert raw_to_py(-24, Fixed(8, 4)) == -1.5
    assert raw_to_py(-24, Int(8)) == -24
