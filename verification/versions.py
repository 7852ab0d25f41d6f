"""The versions a run's results depend on, recorded in ``run.json`` (the layout is :mod:`runstore`)."""

from __future__ import annotations

import platform

__all__ = ["versions"]


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a run's results depend on, for run.json."""
    import hypothesis
    import mpmath
    import sympy

    from autodiff import __version__

    out = {
        "python": platform.python_version(),
        "gradproof": __version__,
        "sympy": sympy.__version__,
        "mpmath": mpmath.__version__,
        "hypothesis": hypothesis.__version__,
    }
    try:
        import symengine

        out["symengine"] = symengine.__version__
    except ImportError:
        pass
    return out
