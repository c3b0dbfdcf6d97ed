"""What changed between two audits of the same city: inputs, parameters, ranks beyond their intervals,
the selection, and the priorities.

A rank change means something only against the uncertainty of the ranks: a community that went from 12th to
9th while its rank interval was [6, 15] has not clearly moved. :func:`compare_audits` flags a community whose
later rank lies outside the earlier audit's rank interval (``beyond_interval``), and, more strictly, one whose
two intervals do not overlap (``disjoint``). Priorities are compared by their first ``top`` problems in each
scope (the city and each community): a problem that enters them is ``new``, one that leaves them ``dropped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from safercities.audit.run import AuditBundle, load_audit
from safercities.errors import InputError

__all__ = ["AuditComparison", "compare_audits"]

TOP = 3


@dataclass(frozen=True)
class AuditComparison:
    """The differences between an earlier audit (``before``) and a later one (``after``)."""

    before: AuditBundle
    after: AuditBundle
    imports: pd.DataFrame  # change (added/removed), kind, file, sha256
    parameters: pd.DataFrame  # parameter, before, after
    framework: dict[str, str]  # before / after "id version (sha)"
    ranks: pd.DataFrame  # area_id, name, dimension, rank/lower/upper before and after, shift, flags
    selection: pd.DataFrame  # area_id, name, change (added/removed), stratum
    priorities: pd.DataFrame  # scope, problem, change (new/dropped), rank_before, rank_after

    @property
    def same_content(self) -> bool:
        return self.before.content_sha256 == self.after.content_sha256

    def moved(self, dimension: str = "overall") -> pd.DataFrame:
        """Areas whose rank in ``dimension`` left the earlier audit's rank interval."""
        part = self.ranks[(self.ranks["dimension"] == dimension) & self.ranks["beyond_interval"]]
        return part.sort_values(["rank_after", "area_id"]).reset_index(drop=True)

    def new_priorities(self) -> pd.DataFrame:
        return self.priorities[self.priorities["change"] == "new"].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        return self.ranks

    def summary(self) -> str:
        if self.same_content:
            return f"the two audits are identical in content ({self.after.content_sha256[:12]})"
        lines = []
        if self.framework["before"] != self.framework["after"]:
            lines.append(f"framework: {self.framework['before']} -> {self.framework['after']}")
        for change in ("added", "removed"):
            part = self.imports[self.imports["change"] == change]
            if len(part):
                lines.append(f"imports {change}: " + ", ".join(f"{k} {f}" for k, f in zip(part["kind"], part["file"],
                                                                                          strict=True)))  # fmt: skip
        for row in self.parameters.itertuples(index=False):
            lines.append(f"parameter {row.parameter}: {row.before} -> {row.after}")
        moved = self.moved()
        if len(moved):
            lines.append(
                "overall ranks beyond the earlier interval: "
                + ", ".join(
                    f"{r.area_id} {r.rank_before:.0f} [{r.lower_before:.0f}–{r.upper_before:.0f}] -> {r.rank_after:.0f}"
                    for r in moved.itertuples(index=False)
                )
            )
        else:
            lines.append("no overall rank left its earlier interval")
        for change in ("added", "removed"):
            part = self.selection[self.selection["change"] == change]
            if len(part):
                lines.append(f"selection {change}: {', '.join(part['area_id'])}")
        new = self.new_priorities()
        if len(new):
            lines.append("new priorities: " + ", ".join(f"{s}: {p}" for s, p in zip(new["scope"], new["problem"],
                                                                                    strict=True)))  # fmt: skip
        return "\n".join(lines)


def _bundle(value: AuditBundle | Path | str) -> AuditBundle:
    return value if isinstance(value, AuditBundle) else load_audit(value)


def _imports(before: AuditBundle, after: AuditBundle) -> pd.DataFrame:
    columns = ["kind", "file", "sha256"]
    a = pd.DataFrame(before.manifest["inputs"]["imports"], columns=[*columns, "rows_accepted"])[columns]
    b = pd.DataFrame(after.manifest["inputs"]["imports"], columns=[*columns, "rows_accepted"])[columns]
    merged = a.merge(b, on=columns, how="outer", indicator=True)
    merged = merged[merged["_merge"] != "both"]
    change = np.where(merged["_merge"] == "right_only", "added", "removed")
    return merged.drop(columns="_merge").assign(change=change)[["change", *columns]].reset_index(drop=True)


def _parameters(before: AuditBundle, after: AuditBundle) -> pd.DataFrame:
    a, b = before.manifest["parameters"], after.manifest["parameters"]
    rows = [
        {"parameter": k, "before": repr(a.get(k)), "after": repr(b.get(k))}
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]
    return pd.DataFrame(rows, columns=["parameter", "before", "after"])


def _ranks(before: AuditBundle, after: AuditBundle) -> pd.DataFrame:
    keys = ["area_id", "dimension"]
    kept = [*keys, "rank", "rank_lower", "rank_upper"]
    a = before.table("dimension_scores")
    b = after.table("dimension_scores")
    names = pd.concat([a[["area_id", "name"]], b[["area_id", "name"]]]).drop_duplicates("area_id", keep="last")
    merged = a[kept].merge(b[kept], on=keys, how="outer", suffixes=("_before", "_after"))
    merged = merged.rename(
        columns={
            "rank_lower_before": "lower_before",
            "rank_upper_before": "upper_before",
            "rank_lower_after": "lower_after",
            "rank_upper_after": "upper_after",
        }
    )
    merged["shift"] = merged["rank_before"] - merged["rank_after"]  # positive: moved up towards rank 1 (worse)
    after_rank, lo_a, hi_a = merged["rank_after"], merged["lower_before"], merged["upper_before"]
    merged["beyond_interval"] = ((after_rank < lo_a) | (after_rank > hi_a)).fillna(False).astype(bool)
    merged["disjoint"] = ((merged["upper_after"] < lo_a) | (merged["lower_after"] > hi_a)).fillna(False).astype(bool)
    merged = merged.merge(names, on="area_id", how="left")
    order = [
        "area_id", "name", "dimension", "rank_before", "lower_before", "upper_before",
        "rank_after", "lower_after", "upper_after", "shift", "beyond_interval", "disjoint",
    ]  # fmt: skip
    return merged[order].sort_values(["dimension", "rank_after", "area_id"]).reset_index(drop=True)


def _selection(before: AuditBundle, after: AuditBundle) -> pd.DataFrame:
    a = before.table("selection")
    b = after.table("selection")
    chosen_a = a[a["selected"].astype(bool)][["area_id", "name", "stratum"]]
    chosen_b = b[b["selected"].astype(bool)][["area_id", "name", "stratum"]]
    added = chosen_b[~chosen_b["area_id"].isin(chosen_a["area_id"])].assign(change="added")
    removed = chosen_a[~chosen_a["area_id"].isin(chosen_b["area_id"])].assign(change="removed")
    return pd.concat([added, removed], ignore_index=True)[["area_id", "name", "change", "stratum"]]


def _priorities(before: AuditBundle, after: AuditBundle, top: int) -> pd.DataFrame:
    columns = ["scope", "problem", "rank"]
    empty = pd.DataFrame(columns=columns)
    a = before.table("priorities") if before.has("priorities") else empty
    b = after.table("priorities") if after.has("priorities") else empty
    a, b = a[columns], b[columns]
    merged = a.merge(b, on=["scope", "problem"], how="outer", suffixes=("_before", "_after"))
    in_before = merged["rank_before"] <= top
    in_after = merged["rank_after"] <= top
    merged["change"] = np.select([in_after & ~in_before, in_before & ~in_after], ["new", "dropped"], default="")
    changed = merged[merged["change"] != ""]
    order = {"new": 0, "dropped": 1}
    return (
        changed.assign(_o=changed["change"].map(order))
        .sort_values(["_o", "scope", "rank_after", "rank_before"])
        .drop(columns="_o")[["scope", "problem", "change", "rank_before", "rank_after"]]
        .reset_index(drop=True)
    )


def compare_audits(
    before: AuditBundle | Path | str, after: AuditBundle | Path | str, *, top: int = TOP
) -> AuditComparison:
    """Compare an earlier audit bundle with a later one (folders or loaded bundles)."""
    if not (isinstance(top, int) and top >= 1):
        raise InputError(f"The 'top' parameter of compare_audits must be an integer >= 1. Got {top!r} instead.")
    a, b = _bundle(before), _bundle(after)

    def framework(bundle: AuditBundle) -> str:
        fw = bundle.manifest["inputs"]["framework"]
        return f"{fw['id']} {fw['version']} ({fw['sha256'][:12]})"

    return AuditComparison(
        before=a,
        after=b,
        imports=_imports(a, b),
        parameters=_parameters(a, b),
        framework={"before": framework(a), "after": framework(b)},
        ranks=_ranks(a, b),
        selection=_selection(a, b),
        priorities=_priorities(a, b, top),
    )
