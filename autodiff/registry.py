"""The op registry: every op is declared once, forward and backward rule together.

This module is longer than 400 lines: a declaration, its checks (signatures,
domains, kinks, parameter examples) and the registry belong together.

An op body is written against a backend namespace ``m`` (see
:mod:`autodiff.backends`), so the very code the engine runs on floats also runs
on mpmath numbers and on sympy symbols, where the prover checks it.

A declaration holds

* ``forward(m, *inputs, *params)`` -- the value;
* ``grad(m, ans, *inputs, *params)`` -- a tuple with one local partial
  derivative per input; ``ans`` is the forward result, as in HIPS autograd's
  ``defvjp``;
* ``domain`` -- per input, the union of intervals where the op is defined
  (used for domain errors, for sampling and as sympy assumptions);
* ``kinks`` -- points inside the domain where the op is not differentiable,
  with the value the rule returns there (the engine's convention);
* ``spec`` -- optionally, the mathematical definition in sympy's own
  functions, independent of the (numerically careful) forward;
* ``param_examples`` -- for ops with parameters, representative parameter
  values (one tuple per example) at which the prover checks the rule when the
  domain depends on the parameters;
* ``spelling`` -- how other engines write the op (see :mod:`autodiff.spelling`).

The module is longer than 400 lines by a few: every part of a declaration, its
checks and the registry stay together, so that an op is declared in one place.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from autodiff.errors import DomainError, OpDeclarationError, UnknownOpError

if TYPE_CHECKING:
    from autodiff.backends import Backend
    from autodiff.spelling import Spelling

__all__ = [
    "Interval",
    "Domain",
    "Kink",
    "Op",
    "REALS",
    "POSITIVE",
    "NONNEGATIVE",
    "NONZERO",
    "defop",
    "get_op",
    "all_ops",
    "op_names",
    "register",
    "unregister",
]


@dataclass(frozen=True)
class Interval:
    """An interval of the real line; ``lo``/``hi`` may be infinite (never included)."""

    lo: float = -math.inf
    hi: float = math.inf
    closed_lo: bool = False
    closed_hi: bool = False

    def __post_init__(self) -> None:
        if not self.lo <= self.hi:
            raise OpDeclarationError(f"empty interval: lo={self.lo!r} > hi={self.hi!r}")

    def contains(self, x: Any) -> bool:
        """Whether ``x`` (a float or mpmath number) lies in the interval."""
        lo_ok = x > self.lo or (self.closed_lo and x == self.lo)
        return bool(lo_ok and (x < self.hi or (self.closed_hi and x == self.hi)))

    def describe(self, var: str = "x") -> str:
        """Human form, e.g. ``x > 0`` or ``-1 < x <= 1``."""

        def num(v: float) -> str:
            return str(int(v)) if float(v).is_integer() else repr(v)

        has_lo, has_hi = math.isfinite(self.lo), math.isfinite(self.hi)
        lo_op = "<=" if self.closed_lo else "<"
        hi_op = "<=" if self.closed_hi else "<"
        if has_lo and has_hi:
            return f"{num(self.lo)} {lo_op} {var} {hi_op} {num(self.hi)}"
        if has_lo:
            return f"{var} {'>=' if self.closed_lo else '>'} {num(self.lo)}"
        if has_hi:
            return f"{var} {hi_op} {num(self.hi)}"
        return f"{var} real"


Domain = tuple[Interval, ...]
"""Where one input may lie: a union of intervals."""

REALS: Domain = (Interval(),)
POSITIVE: Domain = (Interval(0.0),)
NONNEGATIVE: Domain = (Interval(0.0, closed_lo=True),)
NONZERO: Domain = (Interval(hi=0.0), Interval(lo=0.0))

DomainSpec = Sequence[Domain] | Callable[..., Sequence[Domain]]


def describe_domain(domain: Domain, var: str = "x") -> str:
    """Human form of a union of intervals."""
    if domain == NONZERO:
        return f"{var} != 0"
    return " or ".join(iv.describe(var) for iv in domain)


def in_domain(domain: Domain, x: Any) -> bool:
    """Whether ``x`` lies in any interval of ``domain``."""
    return any(iv.contains(x) for iv in domain)


@dataclass(frozen=True)
class Kink:
    """A point where an op is not differentiable, and the engine's convention there.

    ``convention`` is the value the op's rule returns for the partial with respect to
    input ``input`` at ``at``; it should lie between the one-sided derivatives (the
    Clarke subdifferential), which the prover checks.
    """

    at: float
    convention: float
    input: int = 0


@dataclass(frozen=True, eq=False)
class Op:
    """One registered operation. Create with :func:`defop`; call it on Values."""

    name: str
    arity: int
    forward: Callable[..., Any]
    grad: Callable[..., tuple[Any, ...]]
    domain: DomainSpec = ()
    params: tuple[str, ...] = ()
    param_domain: tuple[Domain, ...] = ()
    kinks: tuple[Kink, ...] = ()
    spec: Callable[..., Any] | None = None
    template: str | None = None
    doc: str = ""
    param_examples: tuple[tuple[float, ...], ...] = ()
    spelling: Spelling | None = None
    is_restricted: bool = field(init=False, repr=False, default=False)

    def __post_init__(self) -> None:
        restricted = callable(self.domain) or any(d != REALS for d in self.domain)
        object.__setattr__(self, "is_restricted", restricted)

    def __call__(self, *args: Any) -> Any:
        """Apply the op: ``op(x, y, *params)`` with Values or numbers as inputs."""
        return _apply(self, *args)

    def __repr__(self) -> str:
        return f"<op {self.name}/{self.arity}>"

    def format(self, *args: str) -> str:
        """Source form of an application, e.g. ``(x + y)`` or ``tanh(x)``."""
        inputs, params = args[: self.arity], args[self.arity :]
        if self.template is not None:
            return self.template.format(*inputs, **dict(zip(self.params, params)))
        return f"{self.name}({', '.join(args)})"

    def input_names(self) -> tuple[str, ...]:
        """Names of the inputs as the forward function spells them."""
        try:
            names = list(inspect.signature(self.forward).parameters)[1 : 1 + self.arity]
        except (TypeError, ValueError):
            names = []
        if len(names) != self.arity:
            names = [f"x{i}" for i in range(self.arity)]
        return tuple(names)

    def domains(self, params: Sequence[Any] = ()) -> tuple[Domain, ...]:
        """Per-input domains, for the given parameter values."""
        spec = self.domain
        if callable(spec):
            doms = tuple(spec(*params))
        else:
            doms = tuple(spec)
        if not doms:
            return (REALS,) * self.arity
        return doms

    def check_params(self, params: Sequence[Any]) -> None:
        """Raise DomainError when a parameter lies outside its declared domain."""
        if len(params) != len(self.params):
            raise TypeError(
                f"{self.name} takes {self.arity} input(s) and {len(self.params)} parameter(s) "
                f"{self.params}, got {len(params)} parameter(s)"
            )
        for name, value, dom in zip(self.params, params, self.param_domain):
            if not in_domain(dom, value):
                raise DomainError(
                    f"{self.name}: parameter {name} = {value!r} is outside its domain {describe_domain(dom, name)}"
                )

    def check_domain(self, values: Sequence[Any], params: Sequence[Any] = ()) -> None:
        """Raise DomainError naming the op and value when an input is outside the domain."""
        for i, (value, dom) in enumerate(zip(values, self.domains(params))):
            if dom == REALS or in_domain(dom, value):
                continue
            name = self.input_names()[i]
            where = f" (with {', '.join(f'{p}={v!r}' for p, v in zip(self.params, params))})" if params else ""
            raise DomainError(
                f"{self.name}: {name} = {value!r} is outside the domain {describe_domain(dom, name)}{where}"
            )

    def evaluate(self, m: Backend, *args: Any) -> Any:
        """Forward on raw backend numbers: ``op.evaluate(m, x, ..., *params)``."""
        return self.forward(m, *args)

    def partials(self, m: Backend, ans: Any, *args: Any) -> tuple[Any, ...]:
        """Local partials on raw backend numbers, arity-checked."""
        out = self.grad(m, ans, *args)
        if not isinstance(out, tuple) or len(out) != self.arity:
            got = f"{len(out)} value(s)" if isinstance(out, tuple) else f"a {type(out).__name__}"
            raise OpDeclarationError(
                f"the rule of {self.name} returned {got}; it must return a tuple of "
                f"{self.arity} partial derivative(s), one per input"
            )
        return out

    def with_rule(self, grad: Callable[..., tuple[Any, ...]], *, name: str | None = None) -> Op:
        """A copy of this op with another rule (unregistered); mutation testing uses it."""
        new = replace(self, grad=grad, name=name or self.name)
        _check_signature(new)
        return new


def _apply(op: Op, *args: Any) -> Any:  # replaced by autodiff.engine on import
    raise RuntimeError("autodiff.engine is not loaded")


def _set_apply(fn: Callable[..., Any]) -> None:
    global _apply
    _apply = fn


def _positional_count(fn: Callable[..., Any]) -> int | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    count = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _check_signature(op: Op) -> None:
    n, k = op.arity, len(op.params)
    fwd = _positional_count(op.forward)
    if fwd is not None and fwd != 1 + n + k:
        raise OpDeclarationError(
            f"op {op.name!r}: forward must take (m, {_arglist(n, op.params)}); "
            f"it takes {fwd} positional argument(s), expected {1 + n + k}"
        )
    grd = _positional_count(op.grad)
    if grd is not None and grd != 2 + n + k:
        raise OpDeclarationError(
            f"op {op.name!r}: grad must take (m, ans, {_arglist(n, op.params)}); "
            f"it takes {grd} positional argument(s), expected {2 + n + k}"
        )


def _check_kink(name: str, kink: Kink, arity: int, domain: DomainSpec) -> None:
    """A kink names an input of the op, lies at a finite point of its domain, with a finite convention."""
    if not isinstance(kink, Kink):
        raise OpDeclarationError(f"op {name!r}: kinks must be Kink(at=..., convention=...), got {kink!r}")
    if isinstance(kink.input, bool) or not isinstance(kink.input, int) or not 0 <= kink.input < arity:
        raise OpDeclarationError(f"op {name!r}: kink on input {kink.input!r}, op has {arity}")
    for what, value in (("at", kink.at), ("convention", kink.convention)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise OpDeclarationError(f"op {name!r}: a kink's {what} must be a finite number, got {value!r}")
    if not callable(domain) and not in_domain(domain[kink.input], kink.at):
        raise OpDeclarationError(
            f"op {name!r}: kink at {kink.at!r} lies outside the domain of input {kink.input} "
            f"({describe_domain(domain[kink.input])})"
        )


def _arglist(n: int, params: Sequence[str]) -> str:
    return ", ".join([f"x{i}" for i in range(n)] + list(params))


_REGISTRY: dict[str, Op] = {}


def defop(  # noqa: C901 -- one flat check per declaration field, each with its own message
    name: str,
    *,
    forward: Callable[..., Any],
    grad: Callable[..., tuple[Any, ...]],
    arity: int | None = None,
    domain: DomainSpec | None = None,
    params: Sequence[str] = (),
    param_domain: Sequence[Domain] | None = None,
    kinks: Sequence[Kink] = (),
    spec: Callable[..., Any] | None = None,
    template: str | None = None,
    doc: str | None = None,
    param_examples: Sequence[Sequence[float]] = (),
    spelling: Spelling | None = None,
    register: bool = True,
    replace_existing: bool = False,
) -> Op:
    """Declare an op once: forward, rule, domain and kinks together.

    ``template`` is the op's source form with ``{0}``, ``{1}`` for inputs and
    ``{name}`` for parameters, e.g. ``"({0} + {1})"``; by default ``name(x, y)``.

    ``arity`` defaults to the number of inputs ``forward`` takes after ``m`` and
    the parameters. ``param_examples`` lists representative parameter tuples
    (each inside ``param_domain``) for the prover. ``spelling``: see :mod:`autodiff.spelling`. With
    ``register=False`` the op is usable (call it on Values) but not listed in the registry, as mutants are.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise OpDeclarationError(f"op name must be an identifier, got {name!r}")
    if not callable(forward) or not callable(grad):
        raise OpDeclarationError(f"op {name!r}: forward and grad must be callables")
    params = tuple(params)
    if arity is None:
        count = _positional_count(forward)
        if count is None:
            raise OpDeclarationError(f"op {name!r}: give arity= when forward takes *args")
        arity = count - 1 - len(params)
    if isinstance(arity, bool) or not isinstance(arity, int) or arity < 1:
        raise OpDeclarationError(f"op {name!r}: arity must be a positive integer, got {arity!r}")
    if domain is None:
        domain = (REALS,) * arity
    elif not callable(domain):
        domain = tuple(tuple(d) for d in domain)
        if len(domain) != arity:
            raise OpDeclarationError(f"op {name!r}: domain lists {len(domain)} input(s), the op has {arity}")
    if param_domain is None:
        param_domain = (REALS,) * len(params)
    param_domain = tuple(tuple(d) for d in param_domain)
    if len(param_domain) != len(params):
        raise OpDeclarationError(f"op {name!r}: param_domain must list one domain per parameter")
    for kink in kinks:
        _check_kink(name, kink, arity, domain)
    examples = tuple(tuple(float(v) for v in example) for example in param_examples)
    for example in examples:
        if len(example) != len(params) or not all(in_domain(dom, v) for dom, v in zip(param_domain, example)):
            raise OpDeclarationError(
                f"op {name!r}: param example {example!r} must give one value per parameter "
                f"{params}, each inside its param_domain"
            )
    op = Op(
        name=name,
        arity=arity,
        forward=forward,
        grad=grad,
        domain=domain,
        params=params,
        param_domain=param_domain,
        kinks=tuple(kinks),
        spec=spec,
        template=template,
        doc=doc if doc is not None else (inspect.getdoc(forward) or ""),
        param_examples=examples,
        spelling=spelling,
    )
    _check_signature(op)
    if register:
        _register(op, replace_existing=replace_existing)
    return op


def _register(op: Op, *, replace_existing: bool = False) -> Op:
    """Add ``op`` to the registry; a name already taken needs ``replace_existing``."""
    if op.name in _REGISTRY and not replace_existing and _REGISTRY[op.name] is not op:
        raise OpDeclarationError(
            f"an op named {op.name!r} is already registered; pass replace_existing=True to redefine it"
        )
    _REGISTRY[op.name] = op
    return op


register = _register


def unregister(name: str) -> Op:
    """Remove an op from the registry and return it."""
    try:
        return _REGISTRY.pop(name)
    except KeyError:
        raise UnknownOpError(_unknown(name)) from None


def _unknown(name: str) -> str:
    return f"unknown op {name!r}; known ops: {', '.join(sorted(_REGISTRY))}"


def get_op(name: str) -> Op:
    """The registered op called ``name``; UnknownOpError lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownOpError(_unknown(name)) from None


def all_ops() -> tuple[Op, ...]:
    """Every registered op, in registration order."""
    return tuple(_REGISTRY.values())


def op_names() -> tuple[str, ...]:
    """Names of every registered op, in registration order."""
    return tuple(_REGISTRY)
