"""The variables and domains of an estimate, as numeric columns ready for weighted sums.

Every estimate here is a ratio of two weighted totals (a mean is the total of ``y`` over the total
of ones, a proportion the mean of an indicator) or one weighted total. A variable becomes a
numerator column ``num`` and a denominator column ``den`` with missing values zeroed in both, so that
respondents without an answer drop out of that variable's domain (R's ``na.rm=TRUE``), without
subsetting the design. A categorical variable becomes one indicator column per level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError

KINDS = ("mean", "total", "proportion", "ratio")


@dataclass(frozen=True)
class Variables:
    """Numerator and denominator columns (respondents × k), the answered mask, names and levels."""

    names: list[str]
    levels: list[Any]
    num: NDArray[np.float64]
    den: NDArray[np.float64]
    answered: NDArray[np.float64]

    @property
    def k(self) -> int:
        return len(self.names)


def as_frame(values: Any, n: int, default: str) -> pd.DataFrame:
    """A DataFrame of ``n`` rows from a frame, series or one/two-dimensional array."""
    if isinstance(values, pd.DataFrame):
        frame = values.reset_index(drop=True)
    elif isinstance(values, pd.Series):
        frame = values.reset_index(drop=True).to_frame(values.name if values.name is not None else default)
    else:
        array = np.asarray(values)
        if array.ndim == 1:
            frame = pd.DataFrame({default: array})
        elif array.ndim == 2:
            frame = pd.DataFrame(array, columns=[f"{default}{j + 1}" for j in range(array.shape[1])])
        else:
            raise InputError(f"The {default} must be one- or two-dimensional; got {array.ndim} dimensions.")
    if len(frame) != n:
        raise InputError(f"The {default} has {len(frame)} rows for {n} respondents in the design.")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype)


def _indicators(name: str, series: pd.Series) -> tuple[list[str], list[Any], list[NDArray[np.float64]]]:
    """One 0/1 column per observed level (sorted); missing answers are NaN."""
    code, levels = pd.factorize(series, sort=True)
    missing = code < 0
    columns = []
    for j in range(len(levels)):
        column = (code == j).astype(np.float64)
        column[missing] = np.nan
        columns.append(column)
    return [name] * len(levels), list(levels), columns


def _is_indicator(values: NDArray[np.float64]) -> bool:
    present = values[~np.isnan(values)]
    return bool(np.isin(present, (0.0, 1.0)).all())


def prepare(y: Any, kind: str, denominator: Any, n: int) -> Variables:
    """Numerator/denominator columns for ``kind`` (see the module docstring)."""
    frame = as_frame(y, n, "y")
    names: list[str] = []
    levels: list[Any] = []
    columns: list[NDArray[np.float64]] = []
    for name in frame.columns:
        series = frame[name]
        numeric = _numeric(series) or pd.api.types.is_bool_dtype(series.dtype)
        if kind == "ratio" and not numeric:
            raise InputError(f"A ratio needs a numeric numerator; '{name}' is {series.dtype}.", column=name)
        values = series.to_numpy(dtype=np.float64, na_value=np.nan) if numeric else None
        if values is not None and (kind != "proportion" or _is_indicator(values)):
            if np.isinf(values).any():
                row = int(np.flatnonzero(np.isinf(values))[0])
                raise InputError("An infinite value cannot be estimated.", row=row, column=name)
            names.append(name)
            levels.append(None)
            columns.append(values)
        else:
            more_names, more_levels, more_columns = _indicators(name, series)
            names += more_names
            levels += more_levels
            columns += more_columns
    y_matrix = np.column_stack(columns) if columns else np.empty((n, 0))
    answered = ~np.isnan(y_matrix)
    if kind == "ratio":
        if denominator is None:
            raise InputError("A ratio needs its denominator.", hint="estimate(design, y, kind='ratio', denominator=x)")
        x_frame = as_frame(denominator, n, "denominator")
        if x_frame.shape[1] not in (1, y_matrix.shape[1]):
            raise InputError(
                f"The denominator has {x_frame.shape[1]} columns for {y_matrix.shape[1]} numerators; "
                "give one, or one each."
            )
        x_matrix = np.column_stack(
            [x_frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in x_frame.columns]
        ) * np.ones((1, y_matrix.shape[1]))
        answered &= ~np.isnan(x_matrix)
        den = np.where(answered, x_matrix, 0.0)
        x_names = np.broadcast_to(np.array(x_frame.columns), (len(names),))
        names = [f"{a}/{b}" for a, b in zip(names, x_names, strict=True)]
    else:
        if denominator is not None:
            raise InputError(f"A {kind} takes no denominator; use kind='ratio'.")
        den = answered.astype(np.float64)
    num = np.where(answered, y_matrix, 0.0)
    return Variables(names, levels, num, den, answered.astype(np.float64))


def domain_codes(domain: Any, n: int) -> tuple[NDArray[np.int64], list[Any]]:
    """Domain code per respondent (-1: no domain label) and the labels; one domain when ``None``."""
    if domain is None:
        return np.zeros(n, np.int64), [None]
    if isinstance(domain, pd.DataFrame):
        frame = domain.reset_index(drop=True)
        if len(frame) != n:
            raise InputError(f"The domain has {len(frame)} rows for {n} respondents in the design.", column="domain")
        if frame.shape[1] > 1:
            # a cross-classification: one domain per observed combination, labelled by its tuple
            code, levels = pd.factorize(pd.MultiIndex.from_frame(frame), sort=True)
            code = np.where(frame.isna().any(axis=1).to_numpy(), -1, code)
            used = np.unique(code[code >= 0])
            remap = np.full(len(levels) + 1, -1, np.int64)
            remap[used] = np.arange(used.size)
            return remap[code], [levels[j] for j in used]
        domain = frame.iloc[:, 0]
    labels = domain.to_numpy() if isinstance(domain, pd.Series) else np.asarray(domain)
    if len(labels) != n:
        raise InputError(f"The domain has {len(labels)} labels for {n} respondents in the design.", column="domain")
    code, levels = pd.factorize(pd.Series(labels), sort=True)
    return code.astype(np.int64), list(levels)


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"The kind of estimate must be one of {', '.join(KINDS)}; got {kind!r}.")


ArrayLikeOrFrame = ArrayLike | pd.DataFrame | pd.Series
