"""The seed network's Hessian at its trained point, certified: the worked example of docs/second_order.md.

Run: ``python docs/seed_hessian.py`` (about a minute; sympy takes most of it).
"""

from __future__ import annotations

import time
from typing import Any

import mpmath
import sympy
from mpmath import iv

from autodiff import Value, gradients, hessian_of, hvp_of, mpmath_backend
from autodiff.nn import MLP
from autodiff.training import seed_loss, seed_model, train_seed_example
from verification.number_systems import INTERVALS
from verification.numeric import compile_exprs
from verification.second_truth import enclosure_of


def loss_at(mlp: MLP, datas: list[Any]) -> Value:
    """sum (pred - target)**2 over the four samples, at parameters ``datas`` (any backend)."""
    for p, d in zip(mlp.parameters(), datas):
        p.data, p.grad = d, 0 * d
    return seed_loss(mlp)


def ulps(a: float, exact: Any) -> float:
    """|a - exact| in units of the last place of ``exact`` rounded to float64."""
    e = float(exact)
    spacing = abs(e - float(mpmath.mpf(e) * (1 + mpmath.mpf(2) ** -52))) or 5e-324
    return float(abs(mpmath.mpf(a) - exact) / spacing)


def main() -> None:
    mlp = seed_model(42)
    result = train_seed_example(mlp, iterations=100)
    p0 = [p.data for p in mlp.parameters()]
    n = len(p0)
    print(f"seed network MLP(3, [4, 4, 1]), {n} parameters, trained 100 steps: loss {result.losses[-1]:.6f}")

    start = time.perf_counter()
    h64 = hessian_of(loss_at(mlp, list(p0)), mlp.parameters())
    t64 = time.perf_counter() - start
    m50, m60 = mpmath_backend(50), mpmath_backend(60)
    start = time.perf_counter()
    h50 = hessian_of(loss_at(mlp, [m50.num(p) for p in p0]), mlp.parameters())
    t50 = time.perf_counter() - start
    print(f"Hessian {n}x{n}: float64 in {t64:.2f} s, 50 digits in {t50:.2f} s (reverse over reverse)")

    # independent of the second-order code: central differences of exact 60-digit gradients
    step = m60.ctx.mpf(10) ** -25
    worst_fd = mpmath.mpf(0)
    for j in range(n):
        plus = [m60.num(p) + (step if k == j else 0) for k, p in enumerate(p0)]
        minus = [m60.num(p) - (step if k == j else 0) for k, p in enumerate(p0)]
        gp = gradients(loss_at(mlp, plus), mlp.parameters())
        gm = gradients(loss_at(mlp, minus), mlp.parameters())
        for i in range(n):
            worst_fd = max(worst_fd, abs(h50[i][j] - (gp[i] - gm[i]) / (2 * step)))
    print(f"50-digit Hessian vs finite differences of 60-digit gradients (h = 1e-25): max |diff| {float(worst_fd):.1e}")

    # certified by sympy: v . H v along v, from the loss over sympy symbols
    v = [(-1) ** k * (1 + k % 4) / 4 for k in range(n)]
    t = sympy.Symbol("t", real=True)
    ps = sympy.symbols(f"p0:{n}", real=True)
    sym_loss = loss_at(mlp, [p + t * sympy.Rational(c) for p, c in zip(ps, v)])
    second = sympy.diff(sym_loss.data, t, 2).subs(t, 0)
    iv.prec = 256
    truth = enclosure_of(compile_exprs([second], ps)(INTERVALS, [iv.mpf(p) for p in p0])[0])
    hv50 = hvp_of(loss_at(mlp, [m50.num(p) for p in p0]), mlp.parameters(), v)
    vhv = sum(c * x for c, x in zip(v, hv50))
    print(f"v.Hv certified by sympy in [{mpmath.nstr(truth.lo, 30)}, ...] (width {float(truth.width):.0e})")
    print(f"v.Hv from the engine's 50-digit HVP differs by {float(abs(vhv - truth.mid)):.1e}")

    scale = max(abs(x) for row in h50 for x in row)
    errors = [abs(mpmath.mpf(h64[i][j]) - h50[i][j]) for i in range(n) for j in range(n)]
    eps = 2.0**-52
    rel = float(max(errors) / (eps * scale))
    print(f"float64 Hessian vs 50-digit: max error {rel:.1f} eps * max|H| (max|H| = {float(scale):.3g})")
    pairs = [(h64[i][j], h50[i][j]) for i in range(n) for j in range(n)]
    zeros = sum(1 for a, b in pairs if a == 0 and b == 0)
    off = sorted(ulps(a, b) for a, b in pairs if b != 0)
    print(f"  {zeros} entries exactly 0 in both; of the other {len(off)}, median {off[len(off) // 2]:.1f} ULPs,")
    print(f"  {sum(1 for u in off if u <= 4)} within 4 ULPs, worst {off[-1]:.0f} ULPs (an entry far below max|H|)")
    ctx = mpmath.MPContext()
    ctx.dps = 50
    eig = sorted(ctx.eigsy(ctx.matrix([[ctx.mpf(x) for x in row] for row in h50]), eigvals_only=True))
    print(f"eigenvalues: smallest {mpmath.nstr(eig[0], 6)}, largest {mpmath.nstr(eig[-1], 6)}")
    print(f"  {sum(1 for e in eig if e < 0)} negative, {sum(1 for e in eig if e > 0)} positive")


if __name__ == "__main__":
    main()
