"""Beyond one machine: the aggregations that grow with the number of incidents, on Apache Spark.

:func:`~safercities.scale.export.export_geoparquet` writes a workspace's incidents as GeoParquet files
partitioned by the local year of occurrence, with the areas, their lineage and the offence table alongside.
:mod:`safercities.scale.spark` computes the count cube and the formula indicators of the audit framework from
those files with Spark SQL (local mode on a laptop, ``spark-submit`` on a cluster), and
:mod:`safercities.scale.duckdb_parquet` the same cube with DuckDB over the same files, so that the engines are
compared like with like. docs/scale.md says how a national deployment runs it.
"""
