"""Second-order findings of a foreign engine as defects: wrong, inaccurate, fragile, broken or missing.

An entry outside its bound (:mod:`verification.second_foreign`) says the
engine lost more than a careful implementation of our rules would; it does
not yet say why. The finding is localised on the engine as a black box:

1. each op application is run *alone* by the engine at the float64 inputs the
   engine itself computed there, in the finding's mode, and its first and
   second partials are judged against the certified truth of that op alone
   (:func:`verification.localjudge.classify_error`: within what a careful
   formula loses is fine, within what any correct textbook formula loses is
   ``inaccurate``, beyond it ``wrong`` at ordinary inputs, ``fragile`` at
   extreme ones);
2. the chain rule of second order is applied in exact rational arithmetic to
   the engine's own local values, partials and second partials (a Taylor jet
   of order 2 per node: ``g = sum_j p_j g_j``, ``H = sum_j p_j H_j + sum_jk
   q_jk g_j g_k^T``).

If the engine's entry is farther from that recomposition than the bound
allows, the engine does not combine its own local derivatives by the chain
rule: a ``wrong`` graph fault. Where the recomposition cannot be made (an op
alone fails) and no op alone is wrong, the finding stays *unexplained*:
listed, and failing the run, never called inaccurate. Otherwise the local derivatives explain the
entry, and the worst of them names the defect: ``wrong`` for a wrong
second-derivative rule (a backward that computes with a detached saved
tensor), ``inaccurate`` for a right one that loses bits (``1 - tanh(x)**2``
at large ``x``), and ``inaccurate`` for the whole expression when every op
alone is careful and only their combination loses more than the bound.
A non-finite entry where the truth is finite is ``broken`` at ordinary
inputs, ``fragile`` at extreme ones; a mode the engine refuses for an op
(``NotImplementedError``, a ``torch.autograd.Function`` without forward-mode
support) is ``missing``, found once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from autodiff import get_op
from verification.bounds import SAFETY
from verification.defect_kinds import SEVERITY_ORDER, Form, Severity
from verification.defects import Observation
from verification.expr import Apply, Expr, ops_in, to_source, walk
from verification.forms import form_of
from verification.localjudge import ordinary
from verification.metrics import bits_of_error, ulp, ulp_distance
from verification.probe import is_refusal
from verification.second_check import Mode, SecondRow
from verification.second_foreign import ForeignCheck, Order2Engine
from verification.second_local import Local, alone, depends, judge_alone, recompose, unit

__all__ = ["ASPECTS", "SecondClassifier", "is_mode_refusal"]

ASPECTS: dict[Mode, str] = {
    Mode.HESSIAN: "second derivative (reverse over reverse)",
    Mode.HVP_REV: "second derivative (reverse over reverse)",
    Mode.HVP_FWD: "second derivative (forward over reverse)",
    Mode.JVP: "forward mode",
}
"""A defect's aspect per mode: the Hessian and H v reverse over reverse run the same double backward."""

_REFUSED = ("setup_context", "not implemented", "not supported", "notimplemented")


def is_mode_refusal(error: str) -> bool:
    """Whether an engine's error says it does not offer the mode (rather than failing at it)."""
    return is_refusal(error) or any(word in error.lower() for word in _REFUSED)


class SecondClassifier:
    """Turns one foreign engine's second-order findings into observations (see the module doc)."""

    def __init__(self, engine: Order2Engine) -> None:
        self.engine = engine
        self.reproductions: dict[tuple[Expr, tuple[float, ...]], tuple[tuple[float, ...], Mode]] = {}
        self._refused: dict[tuple[str, Mode], str] = {}
        self.unexplained: list[str] = []
        """Findings no cause could be given for (an op alone failed and none is wrong): never a pass."""

    # --- running one op alone ---------------------------------------------------------

    def _partials(self, tree: Apply, inputs: tuple[float, ...], mode: Mode) -> tuple[tuple[float, ...], ...] | None:
        """Gradient row then Hessian rows of the op alone, by ``mode`` (None: the engine failed)."""
        n = len(inputs)
        if mode is Mode.JVP:
            cols = [self.engine.second(tree, inputs, unit(n, k), frozenset({mode}))[mode] for k in range(n)]
            if any(isinstance(c, str) for c in cols):
                return None
            return (tuple(float(c[0]) for c in cols if not isinstance(c, str)),)
        grads = self.engine.gradient(tree, inputs)
        if grads is None:
            return None
        if mode is Mode.HESSIAN:
            flat = self.engine.second(tree, inputs, unit(n, 0), frozenset({mode}))[mode]
            if isinstance(flat, str):
                return None
            return (grads, *(tuple(flat[i * n : (i + 1) * n]) for i in range(n)))
        cols = [self.engine.second(tree, inputs, unit(n, k), frozenset({mode}))[mode] for k in range(n)]
        if any(isinstance(c, str) for c in cols):
            return None
        return (grads, *(tuple(float(c[i]) for c in cols if not isinstance(c, str)) for i in range(n)))

    def local(self, node: Apply, values: dict[Expr, float], point: Sequence[float], mode: Mode) -> Local | None:
        """``node``'s op alone by ``mode``, judged (None when the engine fails on it or there is no variable)."""
        tree, inputs = alone(node, values, point)
        if not inputs:
            return None
        found = self._partials(tree, inputs, mode)
        if found is None:
            return None
        grads = found[0]
        hess = found[1:] if mode is not Mode.JVP else tuple((0.0,) * len(inputs) for _ in inputs)
        severity, detail, ulps = judge_alone(tree, inputs, grads, hess if mode is not Mode.JVP else None)
        return Local(node, tree, inputs, values[node], grads, hess, severity, detail, ulps)

    # --- classifying --------------------------------------------------------------------

    def observations(
        self, tree: Expr, point: tuple[float, ...], v: tuple[float, ...], check: ForeignCheck
    ) -> list[Observation]:
        """One observation per finding of ``check`` (rows outside their bound, modes that raised)."""
        out: list[Observation] = []
        by_mode: dict[Mode, list[SecondRow]] = {}
        for row in check.rows:
            if row.verdict in ("bug", "exception_mismatch"):
                by_mode.setdefault(row.mode, []).append(row)
        for mode, rows in by_mode.items():
            out.extend(self._mode_findings(tree, point, v, mode, rows))
        for mode, error in check.errors.items():
            out.append(self._raised(tree, point, v, mode, error))
        return out

    def _mode_findings(
        self, tree: Expr, point: tuple[float, ...], v: tuple[float, ...], mode: Mode, rows: list[SecondRow]
    ) -> list[Observation]:
        values = self.engine.values(tree, point)
        nodes = [n for n in dict.fromkeys(walk(tree)) if isinstance(n, Apply) and depends(n)]
        locals_ = {n: self.local(n, values, point, mode) for n in nodes}
        jet = recompose(tree, point, v, mode, {n: loc for n, loc in locals_.items() if loc is not None})
        out = []
        for row in rows:
            obs = self._finding(tree, point, v, mode, row, locals_, jet)
            if obs is not None:
                out.append(obs)
        return out

    def _finding(
        self,
        tree: Expr,
        point: tuple[float, ...],
        v: tuple[float, ...],
        mode: Mode,
        row: SecondRow,
        locals_: dict[Apply, Local | None],
        jet: list[Fraction] | None,
    ) -> Observation | None:
        truth = float(row.truth.mid)
        computed = float(row.computed)
        where = f"{mode.value} entry {row.index} of {to_source(tree)}: engine {computed!r}, true {truth!r}"
        plain = ordinary(point, [truth])
        if not math.isfinite(computed):
            severity = Severity.BROKEN if ordinary(point, [truth], failure=True) else Severity.FRAGILE
            return self._observe(
                severity,
                ops_in(tree),
                Form.GRAPH,
                f"non-number ({mode.value})",
                tree,
                point,
                v,
                mode,
                where,
                computed,
                truth,
            )
        k = row.index[0] * len(point) + row.index[1] if mode is Mode.HESSIAN else (row.index[0] if row.index else 0)
        allowed = SAFETY * Fraction(float(row.bound)) + Fraction(ulp(computed))
        if jet is not None and abs(Fraction(computed) - jet[k]) > allowed:
            severity = Severity.WRONG if plain else Severity.FRAGILE
            detail = f"{where}; the engine's own local derivatives combined by the chain rule give {float(jet[k])!r}"
            return self._observe(
                severity, ops_in(tree), Form.GRAPH, ASPECTS[mode], tree, point, v, mode, detail, computed, truth
            )
        judged = [loc for loc in locals_.values() if loc is not None and loc.severity is not None]
        if jet is None and not any(loc.severity is Severity.WRONG for loc in judged):
            self.unexplained.append(f"{where}; an op alone could not be run, so the chain rule cannot be checked")
            return None
        if judged:
            worst = min(judged, key=lambda loc: (SEVERITY_ORDER[loc.severity or Severity.MISSING], -loc.ulps))
            op = get_op(worst.node.op)
            shape = tuple(depends(a) for a in worst.node.args)
            detail = f"{worst.detail}; found as {where}"
            assert worst.severity is not None
            return self._observe(
                worst.severity,
                (op.name,),
                form_of(op, shape),
                ASPECTS[mode],
                worst.tree,
                worst.inputs,
                unit(len(worst.inputs), 0),
                mode,
                detail,
                computed,
                truth,
                context=tree,
                ulps=worst.ulps,
            )
        detail = (
            f"{where}; every op alone is within a careful formula's error, their combination loses more than the bound"
        )
        return self._observe(
            Severity.INACCURATE, ops_in(tree), Form.GRAPH, ASPECTS[mode], tree, point, v, mode, detail, computed, truth
        )

    def _observe(
        self,
        severity: Severity,
        ops: Sequence[str],
        form: Form,
        aspect: str,
        tree: Expr,
        point: tuple[float, ...],
        v: tuple[float, ...],
        mode: Mode,
        detail: str,
        computed: float,
        truth: float,
        *,
        context: Expr | None = None,
        ulps: float | None = None,
    ) -> Observation:
        self.reproductions.setdefault((tree, point), (v, mode))
        u = ulp_distance(computed, truth) if ulps is None else ulps
        return Observation(
            severity=severity,
            ops=tuple(sorted(set(ops))),
            form=form,
            aspect=aspect,
            tree=tree,
            point=point,
            detail=detail,
            found_in=to_source(context if context is not None else tree),
            engine_value=computed,
            true_value=truth,
            ulps=u,
            bits=bits_of_error(u),
            context=context if context is not None else tree,
            blamed=None,
        )

    def _raised(
        self, tree: Expr, point: tuple[float, ...], v: tuple[float, ...], mode: Mode, error: str
    ) -> Observation:
        """A mode that raised: ``missing`` for the op that refuses it alone, else broken (fragile at extreme inputs)."""
        values = self.engine.values(tree, point)
        for node in (n for n in dict.fromkeys(walk(tree)) if isinstance(n, Apply) and depends(n)):
            single, inputs = alone(node, values, point)
            key = (node.op, mode)
            if key not in self._refused:
                got = self.engine.second(single, inputs, unit(len(inputs), 0), frozenset({mode}))[mode]
                self._refused[key] = got if isinstance(got, str) and is_mode_refusal(got) else ""
            if self._refused[key]:
                op = get_op(node.op)
                detail = f"{op.name} has no {mode.value}: {self._refused[key].splitlines()[0][:160]}"
                form = form_of(op, tuple(depends(a) for a in node.args))
                return self._observe(
                    Severity.MISSING,
                    (op.name,),
                    form,
                    ASPECTS[mode],
                    single,
                    inputs,
                    unit(len(inputs), 0),
                    mode,
                    detail,
                    math.nan,
                    math.nan,
                )
        severity = Severity.BROKEN if ordinary(point, [], failure=True) else Severity.FRAGILE
        return self._observe(
            severity,
            ops_in(tree),
            Form.GRAPH,
            f"raises ({mode.value})",
            tree,
            point,
            v,
            mode,
            f"{mode.value} of {to_source(tree)} raised {error.splitlines()[0][:200]}",
            math.nan,
            math.nan,
        )
