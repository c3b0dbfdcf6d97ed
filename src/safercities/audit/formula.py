"""A small, safe formula language for indicators computed from the workspace's tables.

A formula is an arithmetic expression read with Python's :mod:`ast` (never ``eval``): only numbers, the four
operations, parentheses, unary minus and the names below are allowed; anything else is refused with the
position it was found at.

* ``count(TABLE, COLUMN=VALUE, ...)`` -- rows of TABLE per area in the period (``iccs="04"`` selects ICCS codes
  by prefix; a list selects any of several values or prefixes).
* ``sum(TABLE.COLUMN, ...)`` and ``mean(TABLE.COLUMN, ...)`` -- a numeric column per area, with the same filters.
* ``areas.population`` and ``areas.area_km2`` -- the area's own figures.
* ``share(PART, WHOLE)`` -- PART / WHOLE; when both are counts its interval is Clopper-Pearson's exact one.
* a bare name -- the value of another indicator of the framework for the same area and period.

Every value carries its uncertainty: a count its exact Poisson (Garwood) interval, an imported value the interval
it came with. Through an operation with a fixed operand the interval follows the operation (the function is
monotone there) and the standard error the delta method; where two uncertain terms meet, other than in
``share``, the interval is unknown (NaN) rather than invented.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from safercities.stats.rates import exact_poisson_interval

FloatArray = NDArray[np.float64]

AGGREGATES = ("count", "sum", "mean")
FUNCTIONS = (*AGGREGATES, "share")
NUMERIC_TYPES = ("DOUBLE", "BIGINT", "INTEGER")
AREA_COLUMNS = {"population": "DOUBLE", "area_km2": "DOUBLE"}
"""What ``areas.X`` may name: the population and the area (km2, from the geometry in the workspace CRS)."""
ICCS_FILTER = "iccs"
"""The filter keyword that selects ICCS codes by prefix (on the table's ``iccs_code`` column)."""


class FormulaError(ValueError):
    """A formula that does not parse or names what does not exist; ``column`` is 1-based within the formula."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.column = column
        super().__init__(f"{message} (at character {column})" if column else message)


# -- the parsed form ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class AreaColumn:
    column: str


@dataclass(frozen=True)
class IndicatorRef:
    indicator_id: str


@dataclass(frozen=True)
class Aggregate:
    func: str
    table: str
    column: str | None
    filters: tuple[tuple[str, tuple[str | float, ...]], ...]


@dataclass(frozen=True)
class Share:
    part: Node
    whole: Node


@dataclass(frozen=True)
class BinaryOp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


Node = Number | AreaColumn | IndicatorRef | Aggregate | Share | BinaryOp | Negate

_OPERATORS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, its tree, and what it reads."""

    text: str
    tree: Node

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(n.table for n in walk(self.tree) if isinstance(n, Aggregate)) | (
            frozenset({"areas"}) if any(isinstance(n, AreaColumn) for n in walk(self.tree)) else frozenset()
        )

    @property
    def indicators(self) -> frozenset[str]:
        """The indicator ids the formula refers to."""
        return frozenset(n.indicator_id for n in walk(self.tree) if isinstance(n, IndicatorRef))


def walk(node: Node) -> list[Node]:
    """Every node of a tree, the root first."""
    out: list[Node] = [node]
    if isinstance(node, BinaryOp):
        out += walk(node.left) + walk(node.right)
    elif isinstance(node, Share):
        out += walk(node.part) + walk(node.whole)
    elif isinstance(node, Negate):
        out += walk(node.operand)
    return out


def parse_formula(text: str) -> Formula:
    """Parse a formula into its tree, or raise :class:`FormulaError` saying what and where."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("the formula is empty")
    source = " ".join(text.split())
    try:
        expression = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"does not parse: {exc.msg}", exc.offset) from None
    return Formula(source, _node(expression.body))


def _where(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return offset + 1 if offset is not None else None


def _node(node: ast.expr) -> Node:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Number(float(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return BinaryOp(_OPERATORS[type(node.op)], _node(node.left), _node(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _node(node.operand)
        return Negate(inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Name):
        return IndicatorRef(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id != "areas":
            raise FormulaError(
                f"'{node.value.id}.{node.attr}' needs an aggregate: sum({node.value.id}.{node.attr}) or "
                f"mean({node.value.id}.{node.attr})",
                _where(node),
            )
        return AreaColumn(node.attr)
    if isinstance(node, ast.Call):
        return _call(node)
    what = type(node).__name__
    if isinstance(node, ast.Constant):
        what = f"the constant {node.value!r}"
    elif isinstance(node, ast.BinOp):
        what = f"the operator {type(node.op).__name__}"
    raise FormulaError(f"{what} is not allowed in a formula", _where(node))


def _call(node: ast.Call) -> Node:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise FormulaError(f"unknown function '{name}'; the functions are {', '.join(FUNCTIONS)}", _where(node))
    func = node.func.id
    if func == "share":
        if len(node.args) != 2 or node.keywords:
            raise FormulaError("share takes two arguments: share(PART, WHOLE)", _where(node))
        return Share(_node(node.args[0]), _node(node.args[1]))
    if len(node.args) != 1:
        raise FormulaError(f"{func} takes one table{' column' if func != 'count' else ''} argument", _where(node))
    target = node.args[0]
    if func == "count":
        if not isinstance(target, ast.Name):
            raise FormulaError("count takes a table name: count(incidents, ...)", _where(target))
        table, column = target.id, None
    else:
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            raise FormulaError(f"{func} takes a table column: {func}(TABLE.COLUMN, ...)", _where(target))
        table, column = target.value.id, target.attr
    filters = []
    for keyword in node.keywords:
        if keyword.arg is None:
            raise FormulaError("'**' is not allowed in a formula", _where(keyword.value))
        filters.append((keyword.arg, _filter_values(keyword.value)))
    return Aggregate(func, table, column, tuple(filters))


def _filter_values(node: ast.expr) -> tuple[str | float, ...]:
    items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
    values: list[str | float] = []
    for item in items:
        if not isinstance(item, ast.Constant) or not isinstance(item.value, str | int | float):
            raise FormulaError("a filter value must be a text, a number or a list of them", _where(item))
        values.append(item.value if isinstance(item.value, str) else float(item.value))
    if not values:
        raise FormulaError("a filter needs at least one value", _where(node))
    return tuple(values)


# -- checking against the workspace's tables -----------------------------------------------------------
def check_references(
    formula: Formula, tables: Mapping[str, Mapping[str, str]], indicator_ids: frozenset[str] | set[str]
) -> list[str]:
    """What the formula names that does not exist: tables, columns, filter columns, indicators."""
    problems: list[str] = []
    for node in walk(formula.tree):
        if isinstance(node, AreaColumn) and node.column not in AREA_COLUMNS:
            problems.append(f"unknown column 'areas.{node.column}' (areas offer {', '.join(AREA_COLUMNS)})")
        elif isinstance(node, IndicatorRef) and node.indicator_id not in indicator_ids:
            problems.append(f"unknown indicator or name '{node.indicator_id}'")
        elif isinstance(node, Aggregate):
            problems += _check_aggregate(node, tables)
    return problems


def _check_aggregate(node: Aggregate, tables: Mapping[str, Mapping[str, str]]) -> list[str]:
    if node.table not in tables:
        return [f"unknown table '{node.table}'"]
    columns = tables[node.table]
    problems = []
    if "area_id" not in columns:
        problems.append(f"table '{node.table}' has no area_id column: a formula aggregates by area")
    if node.column is not None:
        if node.column not in columns:
            problems.append(f"unknown column '{node.table}.{node.column}'")
        elif not columns[node.column].split()[0].upper().startswith(NUMERIC_TYPES):
            problems.append(f"column '{node.table}.{node.column}' is not numeric ({columns[node.column].split()[0]})")
    for name, _ in node.filters:
        wanted = "iccs_code" if name == ICCS_FILTER else name
        if wanted not in columns:
            problems.append(f"unknown column '{node.table}.{wanted}' in a filter")
    return problems


# -- evaluation -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """Values per area with their interval and standard error (None: exact; NaN: unknown)."""

    value: FloatArray
    lower: FloatArray | None = None
    upper: FloatArray | None = None
    se: FloatArray | None = None
    is_count: bool = False
    smallest_count: FloatArray | None = None
    """The smallest raw count behind each value (for small-cell suppression)."""

    @property
    def uncertain(self) -> bool:
        return self.lower is not None


class Source:
    """What a formula reads, for one period and one level (see :mod:`safercities.audit.indicators`)."""

    n_areas: int

    def aggregate(self, node: Aggregate) -> FloatArray:  # pragma: no cover - interface
        raise NotImplementedError

    def area_column(self, column: str) -> FloatArray:  # pragma: no cover - interface
        raise NotImplementedError

    def indicator(self, indicator_id: str) -> Estimate:  # pragma: no cover - interface
        raise NotImplementedError


def evaluate(formula: Formula, source: Source, confidence: float = 0.95) -> Estimate:
    """The formula's value for every area of ``source``, with its uncertainty."""
    return _evaluate(formula.tree, source, confidence)


def _evaluate(node: Node, source: Source, confidence: float) -> Estimate:
    if isinstance(node, Number):
        return Estimate(np.full(source.n_areas, node.value))
    if isinstance(node, AreaColumn):
        return Estimate(np.asarray(source.area_column(node.column), dtype=np.float64))
    if isinstance(node, IndicatorRef):
        return source.indicator(node.indicator_id)
    if isinstance(node, Aggregate):
        values = np.asarray(source.aggregate(node), dtype=np.float64)
        if node.func != "count":
            return Estimate(values)
        return _count(values, confidence)
    if isinstance(node, Negate):
        inner = _evaluate(node.operand, source, confidence)
        return _apply("-", Estimate(np.zeros(source.n_areas)), inner)
    if isinstance(node, Share):
        return _share(_evaluate(node.part, source, confidence), _evaluate(node.whole, source, confidence), confidence)
    left = _evaluate(node.left, source, confidence)
    right = _evaluate(node.right, source, confidence)
    return _apply(node.op, left, right)


def _count(values: FloatArray, confidence: float) -> Estimate:
    known = ~np.isnan(values)
    lower, upper = np.full(values.shape, np.nan), np.full(values.shape, np.nan)
    lo, hi = exact_poisson_interval(values[known], confidence)
    lower[known], upper[known] = lo, hi
    return Estimate(values, lower, upper, np.sqrt(values), is_count=True, smallest_count=values)


def _divide(a: FloatArray, b: FloatArray) -> FloatArray:
    """a / b with NaN (never infinity) where b is zero or missing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((b != 0) & ~np.isnan(b), a / np.where(b == 0, 1.0, b), np.nan)
    return np.asarray(out, dtype=np.float64)


_ARITHMETIC: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": _divide,
}


def _smallest(left: Estimate, right: Estimate) -> FloatArray | None:
    if left.smallest_count is None:
        return right.smallest_count
    if right.smallest_count is None:
        return left.smallest_count
    return np.fmin(left.smallest_count, right.smallest_count)


def _apply(op: str, left: Estimate, right: Estimate) -> Estimate:
    f = _ARITHMETIC[op]
    value = f(left.value, right.value)
    smallest = _smallest(left, right)
    if not left.uncertain and not right.uncertain:
        return Estimate(value, smallest_count=smallest)
    if left.uncertain and right.uncertain:
        unknown = np.full(value.shape, np.nan)
        return Estimate(value, unknown, unknown.copy(), unknown.copy(), smallest_count=smallest)
    random, fixed = (left, right) if left.uncertain else (right, left)
    r_lower = random.lower if random.lower is not None else np.full(value.shape, np.nan)
    r_upper = random.upper if random.upper is not None else np.full(value.shape, np.nan)

    def at(x: FloatArray) -> FloatArray:
        return f(x, fixed.value) if left.uncertain else f(fixed.value, x)

    a, b = at(r_lower), at(r_upper)
    lower, upper = np.fmin(a, b), np.fmax(a, b)
    lower[np.isnan(a) | np.isnan(b)] = np.nan
    upper[np.isnan(a) | np.isnan(b)] = np.nan
    if op == "/" and not left.uncertain:  # c / x is monotone only where x's interval stays off zero
        spans_zero = (r_lower <= 0) & (r_upper >= 0)
        lower[spans_zero], upper[spans_zero] = np.nan, np.nan
    slope = {
        "+": np.ones_like(value),
        "-": np.full_like(value, 1.0 if left.uncertain else -1.0),
        "*": fixed.value,
        "/": _divide(np.ones_like(value), fixed.value)
        if left.uncertain
        else -_divide(fixed.value, random.value * random.value),
    }[op]
    se = None if random.se is None else np.abs(slope) * random.se
    return Estimate(value, lower, upper, se, smallest_count=smallest)


def _share(part: Estimate, whole: Estimate, confidence: float) -> Estimate:
    """PART / WHOLE; two counts get Clopper-Pearson's exact binomial interval (PART is taken to lie in WHOLE)."""
    if not (part.is_count and whole.is_count):
        return _apply("/", part, whole)
    k, n = part.value, whole.value
    value = _divide(k, n)
    ok = (n > 0) & (k >= 0) & (k <= n) & ~np.isnan(k) & ~np.isnan(n)
    alpha = 1.0 - confidence
    lower, upper, se = (np.full(k.shape, np.nan) for _ in range(3))
    kk, nn = k[ok], n[ok]
    lower[ok] = np.where(kk > 0, stats.beta.ppf(alpha / 2, np.maximum(kk, 1e-12), nn - kk + 1), 0.0)
    upper[ok] = np.where(kk < nn, stats.beta.ppf(1 - alpha / 2, kk + 1, np.maximum(nn - kk, 1e-12)), 1.0)
    se[ok] = np.sqrt(value[ok] * (1 - value[ok]) / nn)
    return Estimate(value, lower, upper, se, smallest_count=_smallest(part, whole))


def describe(formula: Formula) -> dict[str, Any]:
    """What a formula reads, for listings: tables and indicators."""
    return {"tables": sorted(formula.tables), "indicators": sorted(formula.indicators)}
