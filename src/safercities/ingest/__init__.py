"""Ingest: turn the files a city has into the canonical tables, all or nothing."""
