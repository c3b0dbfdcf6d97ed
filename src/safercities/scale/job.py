"""The Spark job of a national deployment: ``spark-submit job.py cube|indicators EXPORT OUT ...``.

Also runs with plain Python: ``python -m safercities.scale.job export WORKSPACE FOLDER`` writes the
GeoParquet export of a city's workspace (no Spark needed), and ``cube`` / ``indicators`` start a local
Spark session when none is given by ``spark-submit``. Results are written by Spark as Parquet (one file)
to ``OUT``, a local folder or an object-storage URI. Mistakes in the arguments or the data end with one
line saying what is wrong (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from safercities.errors import SafercitiesError
from safercities.store.base import PERIODS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="safercities.scale.job", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    export = verbs.add_parser("export", help="write a workspace's GeoParquet export (no Spark needed)")
    export.add_argument("workspace", help="the workspace folder")
    export.add_argument("folder", help="the export folder (empty, or a former export with --overwrite)")
    export.add_argument("--overwrite", action="store_true", help="replace a former export in FOLDER")
    cube = verbs.add_parser("cube", help="the count cube: area x period x ICCS section, zeros included")
    cube.add_argument("export", help="the export folder or URI (s3a://..., hdfs://...)")
    cube.add_argument("out", help="where the cube goes (Parquet), a folder or URI")
    cube.add_argument("--by", choices=PERIODS, default="month", help="the period (default: month)")
    cube.add_argument("--level", default=None, help="the area level (default: the finest)")
    indicators = verbs.add_parser("indicators", help="the formula indicators of an audit framework")
    indicators.add_argument("export", help="the export folder or URI")
    indicators.add_argument("out", help="where the values go (Parquet), a folder or URI")
    indicators.add_argument("--framework", default="default", help="a shipped framework or a YAML file")
    indicators.add_argument("--period", action="append", default=None, help="2024, 2024-Q1 or 2024-03 (repeatable)")
    indicators.add_argument("--level", default=None, help="the area level (default: the finest)")
    indicators.add_argument("--indicator", action="append", default=None, help="an indicator id (repeatable)")
    return parser


def _session() -> SparkSession:
    """The session spark-submit set up (its master and resources), or a small local one under plain Python."""
    from pyspark.sql import SparkSession

    from safercities.scale.spark import configure, local_session

    if "PYSPARK_GATEWAY_PORT" in os.environ:  # launched by spark-submit: its JVM and configuration
        return configure(SparkSession.builder.appName("safercities").getOrCreate())
    return local_session()


def write_result(spark: SparkSession, frame: pd.DataFrame, out: str) -> None:
    """Write a result frame as one Parquet file under ``out`` (overwriting), through Spark.

    A cube's ``period`` is written as a DATE, as the store holds it."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if "period" in table.column_names and pa.types.is_timestamp(table.schema.field("period").type):
        table = table.set_column(table.column_names.index("period"), "period", table["period"].cast(pa.date32()))
    spark.createDataFrame(table).coalesce(1).write.mode("overwrite").parquet(
        out if "://" in out else str(Path(out).resolve())
    )


def run(argv: Sequence[str], spark: SparkSession | None = None) -> int:
    """Run one verb; ``spark`` is the session to use (else spark-submit's, else a local one)."""
    args = _parser().parse_args(list(argv))
    if args.verb == "export":
        from safercities.scale.export import export_geoparquet
        from safercities.workspace import open_workspace

        with open_workspace(args.workspace) as ws:
            manifest = export_geoparquet(ws, args.folder, overwrite=args.overwrite, progress=print)
        years = ", ".join(sorted(manifest.incidents_by_year))
        print(f"exported {manifest.incidents:,} incidents ({years}) to {args.folder}")
        return 0
    from safercities.scale.spark import spark_cube, spark_indicator_values

    spark = spark or _session()
    if args.verb == "cube":
        frame = spark_cube(spark, args.export, by=args.by, level=args.level)
    else:
        frame = spark_indicator_values(
            spark, args.export, args.framework, args.period, level=args.level, indicators=args.indicator
        )
    write_result(spark, frame, args.out)
    print(f"{args.verb}: {len(frame):,} rows written to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except SafercitiesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
