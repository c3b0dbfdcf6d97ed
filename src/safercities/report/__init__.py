"""Presentation: reports as HTML, JSON and terminal tables. Nothing here computes a figure of its own."""

from safercities.report.labels import LABELS, LANGUAGES, label
from safercities.report.quality import print_quality, write_quality

__all__ = ["LABELS", "LANGUAGES", "label", "print_quality", "write_quality"]
