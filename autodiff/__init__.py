"""gradproof's scalar reverse-mode engine.

Every op is declared once (:func:`defop`), forward and backward rule together,
against a backend namespace, so the same code runs on floats, mpmath numbers
and sympy symbols. The public surface:

* :class:`Value` -- the graph node; ``backward()`` fills ``.grad``
  (``create_graph=True``: as Values, to differentiate again);
* :func:`gradients`, :func:`jvp`, :func:`push_tangents`, :func:`hessian`,
  :func:`hvp` -- reverse, forward and second-order derivatives;
* :func:`defop`, :class:`Op`, :func:`get_op`, :func:`all_ops` -- the registry;
* :class:`Interval`, :data:`REALS`, :data:`POSITIVE`, ... , :class:`Kink` -- domains;
* :data:`FLOAT`, :func:`mpmath_backend`, :func:`sympy_backend` -- backends;
* :mod:`autodiff.nn`, :mod:`autodiff.optim` -- networks and training.
"""

from autodiff import ops
from autodiff.backends import FLOAT, Backend, MpmathBackend, backend_of, mpmath_backend, sympy_backend
from autodiff.engine import Value, apply, topological_order, topological_order_of
from autodiff.errors import AutodiffError, DomainError, GradientError, OpDeclarationError, UnknownOpError
from autodiff.forward import jvp, push_tangents
from autodiff.graphmode import ValueBackend, gradients, value_backend
from autodiff.hessian import hessian, hessian_of, hvp, hvp_of
from autodiff.registry import (
    NONNEGATIVE,
    NONZERO,
    POSITIVE,
    REALS,
    Domain,
    Interval,
    Kink,
    Op,
    all_ops,
    defop,
    describe_domain,
    get_op,
    in_domain,
    op_names,
    register,
    unregister,
)
from autodiff.spelling import Spelling, spelling_of

__all__ = [
    "Value",
    "apply",
    "topological_order",
    "topological_order_of",
    "gradients",
    "jvp",
    "push_tangents",
    "hessian",
    "hessian_of",
    "hvp",
    "hvp_of",
    "ValueBackend",
    "value_backend",
    "Op",
    "defop",
    "get_op",
    "all_ops",
    "op_names",
    "register",
    "unregister",
    "Interval",
    "Domain",
    "Kink",
    "Spelling",
    "spelling_of",
    "REALS",
    "POSITIVE",
    "NONNEGATIVE",
    "NONZERO",
    "describe_domain",
    "in_domain",
    "Backend",
    "FLOAT",
    "MpmathBackend",
    "mpmath_backend",
    "sympy_backend",
    "backend_of",
    "AutodiffError",
    "DomainError",
    "GradientError",
    "OpDeclarationError",
    "UnknownOpError",
    "ops",
]

__version__ = "0.1.0"
