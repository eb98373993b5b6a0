"""Exact integer feasibility of small systems of linear constraints: the decision procedure
behind the dependence tests of ``reorder`` and ``compute_at`` (``_dependence.py``).

A :class:`System` holds integer variables with finite bounds and constraints
``sum(c * x) + k == 0`` or ``sum(c * x) + k <= 0`` (integer coefficients). ``feasible`` decides
whether an integer point satisfies them all:

1. equalities are eliminated exactly: a gcd test, then substitution of a variable with a unit
   coefficient, or a unimodular change of variables that shrinks the coefficients (Euclid);
2. Fourier-Motzkin elimination decides the rational relaxation of the inequalities. A step that
   eliminates a variable whose lower (or upper) bounds all have the coefficient 1 is exact for
   integers too (Pugh's exact shadow), so when every step is exact the answer is exact;
3. otherwise the search bisects the range of one variable and decides both halves.

Every answer is exact, but the work is bounded: beyond ``NODE_LIMIT`` branches or
``CONSTRAINT_LIMIT`` constraints the answer is ``None`` ("unknown"), which callers must treat as
"a solution may exist".
"""

from __future__ import annotations

from math import gcd

__all__ = ["Lin", "System", "feasible"]

NODE_LIMIT = 400
CONSTRAINT_LIMIT = 2000

Cons = dict[tuple[tuple[int, int], ...], int]  # coefficients -> constant of `sum + k <= 0`


class Lin:
    """An affine form ``sum(coeffs[v] * x_v) + const`` over the variables of a System."""

    __slots__ = ("coeffs", "const")

    def __init__(self, coeffs: dict[int, int] | None = None, const: int = 0) -> None:
        self.coeffs = {v: c for v, c in (coeffs or {}).items() if c}
        self.const = const

    def __add__(self, other: Lin | int) -> Lin:
        other = other if isinstance(other, Lin) else Lin(None, other)
        coeffs = dict(self.coeffs)
        for v, c in other.coeffs.items():
            coeffs[v] = coeffs.get(v, 0) + c
        return Lin(coeffs, self.const + other.const)

    def __sub__(self, other: Lin | int) -> Lin:
        return self + (other if isinstance(other, Lin) else Lin(None, other)) * -1

    def __mul__(self, k: int) -> Lin:
        return Lin({v: c * k for v, c in self.coeffs.items()}, self.const * k)

    @property
    def is_const(self) -> bool:
        return not self.coeffs


class System:
    """Integer variables with bounds, and linear constraints over them."""

    def __init__(self) -> None:
        self.bounds: list[tuple[int, int]] = []
        self.eqs: list[Lin] = []
        self.les: list[Lin] = []

    def var(self, lo: int, hi: int) -> Lin:
        """A new variable ranging over ``lo .. hi`` (inclusive)."""
        self.bounds.append((lo, hi))
        return Lin({len(self.bounds) - 1: 1})

    def range(self, form: Lin) -> tuple[int, int]:
        """The least and greatest value of ``form`` over the variables' bounds."""
        lo = hi = form.const
        for v, c in form.coeffs.items():
            a, b = c * self.bounds[v][0], c * self.bounds[v][1]
            lo, hi = lo + min(a, b), hi + max(a, b)
        return lo, hi

    def eq(self, form: Lin) -> None:
        """Require ``form == 0``."""
        self.eqs.append(form)

    def le(self, form: Lin) -> None:
        """Require ``form <= 0``."""
        self.les.append(form)


class _GiveUp(Exception):
    pass


def feasible(system: System) -> bool | None:
    """Whether some integer point satisfies ``system``; ``None`` if the search gave up."""
    les = [Lin({v: 1}, -hi) for v, (_, hi) in enumerate(system.bounds)]
    les += [Lin({v: -1}, lo) for v, (lo, _) in enumerate(system.bounds)]
    les += system.les
    try:
        reduced = _eliminate_equalities(list(system.eqs), les, len(system.bounds))
        if reduced is None:
            return False
        cons: Cons = {}
        if not all(_add(cons, form.coeffs, form.const) for form in reduced):
            return False
        return _search(cons, [0])
    except _GiveUp:
        return None


def _substitute(form: Lin, v: int, value: Lin) -> Lin:
    c = form.coeffs.get(v, 0)
    if not c:
        return form
    rest = Lin({u: k for u, k in form.coeffs.items() if u != v}, form.const)
    return rest + value * c


def _eliminate_equalities(eqs: list[Lin], les: list[Lin], nvars: int) -> list[Lin] | None:
    """The inequalities with every equality solved exactly, or ``None`` if none has an integer
    solution."""
    while eqs:
        form = eqs.pop()
        if form.is_const:
            if form.const:
                return None
            continue
        g = gcd(*form.coeffs.values())
        if form.const % g:
            return None
        form = Lin({u: c // g for u, c in form.coeffs.items()}, form.const // g)
        v = min(form.coeffs, key=lambda u: abs(form.coeffs[u]))
        a = form.coeffs[v]
        if a < 0:
            form, a = form * -1, -a
        if a == 1:  # x_v = -(rest)
            value = (form - Lin({v: 1})) * -1
        else:  # x_v = t - sum((c // a) x_u) - const // a, with t new: shrinks the coefficients
            t, nvars = nvars, nvars + 1
            value = Lin(
                {u: -(c // a) for u, c in form.coeffs.items() if u != v}, -(form.const // a)
            )
            value = value + Lin({t: 1})
            eqs.append(_substitute(form, v, value))
        eqs = [_substitute(e, v, value) for e in eqs]
        les = [_substitute(e, v, value) for e in les]
    return les


def _add(cons: Cons, coeffs: dict[int, int], const: int) -> bool:
    """Add ``sum + const <= 0`` (tightened for integers); False if it is a false constant."""
    coeffs = {v: c for v, c in coeffs.items() if c}
    if not coeffs:
        return const <= 0
    g = gcd(*coeffs.values())
    if g > 1:
        coeffs = {v: c // g for v, c in coeffs.items()}
        const = -(-const // g)
    key = tuple(sorted(coeffs.items()))
    cons[key] = max(cons.get(key, const), const)
    return True


def _eliminate(cons: Cons) -> tuple[bool, bool]:
    """Fourier-Motzkin: (the rational relaxation is feasible, every step was integer-exact)."""
    exact = True
    while cons:
        occurs: dict[int, list[int]] = {}
        for key in cons:
            for v, c in key:
                occurs.setdefault(v, [0, 0])[c > 0] += 1
        v = min(occurs, key=lambda u: (occurs[u][0] * occurs[u][1], u))
        lower: list[tuple[dict[int, int], int]] = []
        upper: list[tuple[dict[int, int], int]] = []
        for key, k in cons.items():
            c = dict(key).get(v, 0)
            if c < 0:
                lower.append((dict(key), k))
            elif c > 0:
                upper.append((dict(key), k))
        exact = exact and (
            all(lo[v] == -1 for lo, _ in lower) or all(up[v] == 1 for up, _ in upper)
        )
        new: Cons = {key: k for key, k in cons.items() if dict(key).get(v, 0) == 0}
        for lo, kl in lower:
            for up, ku in upper:
                a, b = -lo[v], up[v]
                coeffs = {u: b * lo.get(u, 0) + a * up.get(u, 0) for u in lo.keys() | up.keys()}
                if not _add(new, coeffs, b * kl + a * ku):
                    return False, exact
        if len(new) > CONSTRAINT_LIMIT:
            raise _GiveUp
        cons = new
    return True, exact


def _ranges(cons: Cons) -> dict[int, tuple[float, float]]:
    """Bounds of each variable implied by the constraints (a few rounds of propagation)."""
    inf = float("inf")
    rng: dict[int, list[float]] = {v: [-inf, inf] for key in cons for v, _ in key}
    for _ in range(4):
        for key, k in cons.items():
            for v, c in key:
                others = k
                for u, d in key:
                    if u != v:
                        others += min(d * rng[u][0], d * rng[u][1])
                if others in (inf, -inf) or others != others:
                    continue
                others = int(others)  # c * x <= -others
                if c > 0:
                    rng[v][1] = min(rng[v][1], -others // c)
                else:
                    rng[v][0] = max(rng[v][0], -(-others // -c))
    return {v: (lo, hi) for v, (lo, hi) in rng.items()}


def _fix(cons: Cons, values: dict[int, int]) -> Cons | None:
    """``cons`` with the variables in ``values`` replaced by their values (None: infeasible)."""
    if not values:
        return cons
    out: Cons = {}
    for key, k in cons.items():
        rest = {v: c for v, c in key if v not in values}
        if not _add(out, rest, k + sum(c * values[v] for v, c in key if v in values)):
            return None
    return out


def _search(cons: Cons, nodes: list[int]) -> bool:
    nodes[0] += 1
    if nodes[0] > NODE_LIMIT:
        raise _GiveUp
    rng = _ranges(cons)
    if any(lo > hi for lo, hi in rng.values()):
        return False
    cons = _fix(cons, {v: int(lo) for v, (lo, hi) in rng.items() if lo == hi})
    if cons is None:
        return False
    for v, (lo, hi) in rng.items():
        if lo < hi:
            if hi < float("inf"):
                _add(cons, {v: 1}, -int(hi))
            if lo > -float("inf"):
                _add(cons, {v: -1}, int(lo))
    ok, exact = _eliminate(dict(cons))
    if not ok or exact:
        return ok
    finite = [(hi - lo, v) for v, (lo, hi) in rng.items() if lo < hi and hi - lo < float("inf")]
    if not finite:
        raise _GiveUp
    _, v = min(finite)
    mid = int(rng[v][0] + rng[v][1]) // 2
    for coeffs, const in (({v: 1}, -mid), ({v: -1}, mid + 1)):
        branch = dict(cons)
        if _add(branch, coeffs, const) and _search(branch, nodes):
            return True
    return False
