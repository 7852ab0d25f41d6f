"""Input names that look like the prover's own: x_t next to x on a shifted domain, and Dummy-like names."""

from __future__ import annotations

from autodiff import REALS, Interval, defop

defop(
    "nm_shifted",
    forward=lambda m, x, x_t: x * x_t,
    grad=lambda m, ans, x, x_t: (x - 2, x),
    domain=((Interval(2.0),), REALS),
    replace_existing=True,
)
defop(
    "nm_E",
    forward=lambda m, x, E: m.exp(x) * E,
    grad=lambda m, ans, x, E: (m.exp(x) * m.abs(E), m.exp(x)),
    replace_existing=True,
)
defop(
    "nm_shifted_right",
    forward=lambda m, x, x_t: x * x_t,
    grad=lambda m, ans, x, x_t: (x_t, x),
    domain=((Interval(2.0),), REALS),
    replace_existing=True,
)

WRONG = ["nm_shifted", "nm_E"]
RIGHT = ["nm_shifted_right"]
