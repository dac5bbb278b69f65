"""A small linear (and mixed-integer) program builder over HiGHS (``highspy``).

Variables and constraints are added with a key (any hashable naming what they stand for:
``("flow", lane, element, segment)``); the solution is read back by the same keys, with the
constraints' duals (shadow prices). Nothing of the supply-chain model is here: this is the
one place that talks to the solver, so a solver's status never reaches the user raw.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

INF = math.inf

#: Statuses the model layer understands; anything else from HiGHS is ``error``.
OPTIMAL, INFEASIBLE, UNBOUNDED, ERROR = "optimal", "infeasible", "unbounded", "error"


@dataclass(frozen=True, slots=True)
class Column:
    """One variable: its objective cost, bounds and whether it must be integral."""

    key: Hashable
    cost: float
    lower: float
    upper: float
    integer: bool


@dataclass(frozen=True, slots=True)
class Row:
    """One constraint ``lower <= Σ coef·x <= upper``."""

    key: Hashable
    coefs: Mapping[int, float]
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class Solution:
    """What the solver found. ``values``/``duals`` are by key; duals are those of an LP (for
    a MIP, of the LP with the integers fixed at their optimum)."""

    status: str
    objective: float
    values: Mapping[Hashable, float]
    duals: Mapping[Hashable, float]
    row_activity: Mapping[Hashable, float]
    message: str = ""

    def value(self, key: Hashable) -> float:
        """A variable's value (0.0 for a key that was never added)."""
        return self.values.get(key, 0.0)


@dataclass(slots=True)
class LinearProgram:
    """Columns and rows, added by key, minimised by :meth:`solve`."""

    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    index: dict[Hashable, int] = field(default_factory=dict)
    row_index: dict[Hashable, int] = field(default_factory=dict)

    def var(
        self,
        key: Hashable,
        *,
        cost: float = 0.0,
        lower: float = 0.0,
        upper: float = INF,
        integer: bool = False,
    ) -> int:
        """Add a variable (or return the existing one with this key)."""
        found = self.index.get(key)
        if found is not None:
            return found
        self.index[key] = len(self.columns)
        self.columns.append(Column(key, cost, lower, upper, integer))
        return self.index[key]

    def constrain(
        self, key: Hashable, coefs: Mapping[int, float], *, lower: float = -INF, upper: float = INF
    ) -> None:
        """Add ``lower <= Σ coefs[i]·x_i <= upper``; keys must be unique."""
        if key in self.row_index:
            raise KeyError(f"constraint {key!r} added twice")
        self.row_index[key] = len(self.rows)
        self.rows.append(Row(key, {i: c for i, c in coefs.items() if c != 0.0}, lower, upper))

    def add_term(self, key: Hashable, col: int, coef: float) -> None:
        """Add ``coef·x[col]`` to the constraint ``key``."""
        at = self.row_index[key]
        row = self.rows[at]
        coefs = dict(row.coefs)
        coefs[col] = coefs.get(col, 0.0) + coef
        self.rows[at] = Row(key, coefs, row.lower, row.upper)

    def has_integers(self) -> bool:
        """Whether any variable is integral (a MIP)."""
        return any(c.integer for c in self.columns)

    def solve(
        self,
        *,
        time_limit: float | None = None,
        var_cap: float | None = None,
        costs: list[float] | None = None,
    ) -> Solution:
        """Minimise (``costs`` replaces the columns' costs, by index); ``var_cap`` bounds
        every variable (used to show what runs away in an unbounded program)."""
        # The core class: highspy.Highs() prints a banner to stdout (it would corrupt --json).
        solver = highspy._Highs()  # type: ignore[attr-defined]
        solver.setOptionValue("output_flag", False)
        solver.setOptionValue("random_seed", 0)
        solver.setOptionValue("threads", 1)
        solver.setOptionValue("mip_rel_gap", 1e-9)
        if time_limit is not None:
            solver.setOptionValue("time_limit", float(time_limit))
        solver.passModel(self._lp(var_cap, costs))
        solver.run()
        status = _status(solver.getModelStatus())
        if status == ERROR and not self.has_integers():
            # an ambiguous "unbounded or infeasible" from presolve: ask the simplex
            solver.setOptionValue("presolve", "off")
            solver.run()
            status = _status(solver.getModelStatus())
        return self._solution(solver, status)

    def _lp(self, var_cap: float | None, costs: list[float] | None) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(self.columns), len(self.rows)
        cap = INF if var_cap is None else var_cap
        objective = costs if costs is not None else [c.cost for c in self.columns]
        lp.col_cost_ = np.array(objective, dtype=np.float64)
        lp.col_lower_ = np.array([max(-cap, c.lower) for c in self.columns], dtype=np.float64)
        lp.col_upper_ = np.array([min(cap, c.upper) for c in self.columns], dtype=np.float64)
        lp.row_lower_ = np.array([r.lower for r in self.rows], dtype=np.float64)
        lp.row_upper_ = np.array([r.upper for r in self.rows], dtype=np.float64)
        starts, indices, values = [0], [], []
        for row in self.rows:  # row-wise storage
            for i, coef in sorted(row.coefs.items()):
                indices.append(i)
                values.append(coef)
            starts.append(len(indices))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(indices, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values, dtype=np.float64)
        if self.has_integers():
            integer, continuous = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
            lp.integrality_ = [integer if c.integer else continuous for c in self.columns]
        return lp

    def _solution(self, solver: Any, status: str) -> Solution:
        if status != OPTIMAL:
            return Solution(status, math.nan, {}, {}, {}, solver.modelStatusToString(
                solver.getModelStatus()))  # fmt: skip
        sol = solver.getSolution()
        col_value, row_dual, row_value = sol.col_value, sol.row_dual, sol.row_value
        values = {c.key: float(col_value[i]) for i, c in enumerate(self.columns)}
        duals: dict[Hashable, float] = {}
        if sol.dual_valid:
            duals = {r.key: float(row_dual[i]) for i, r in enumerate(self.rows)}
        activity = {r.key: float(row_value[i]) for i, r in enumerate(self.rows)}
        return Solution(OPTIMAL, float(solver.getObjectiveValue()), values, duals, activity)


def _status(status: highspy.HighsModelStatus) -> str:
    if status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kModelEmpty):
        return OPTIMAL
    if status == highspy.HighsModelStatus.kInfeasible:
        return INFEASIBLE
    if status == highspy.HighsModelStatus.kUnbounded:
        return UNBOUNDED
    return ERROR
