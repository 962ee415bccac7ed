"""Reading Prometheus text: the metric names a PromQL expression selects and the label names it matches
on, and what an exposition can carry; shared by the alert rules' and the dashboards' tests, which check
that every query names a metric `/metrics` really exports."""

from __future__ import annotations

import re

PROMETHEUS_SERIES = {"up"}
"""Series Prometheus writes itself for every scrape target (not in any /metrics)."""
EXPORTER_SERIES = {"pg_up"}
"""The PostgreSQL exporter's series (deploy/docker-compose.yml runs it, the tests cannot): a query using
one must also name an app metric saying the same, which the tests do check."""
TARGET_LABELS = {"job", "instance"}
"""Labels Prometheus adds to every scraped sample."""

_PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                 "offset", "inf", "nan"}  # fmt: skip
_SAMPLE_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                    "summary": ("", "_sum", "_count", "_created"), "gauge": ("",), "untyped": ("",)}  # fmt: skip
_STRING = r'"(?:[^"\\]|\\.)*"'


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers that are not functions or aggregations
    (followed by "("), label names (inside {} or the list after by/without/on/ignoring), durations ([5m])
    or keywords."""
    expr = re.sub(_STRING, '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(\s*\()?", expr):
        if match.group(2) is None and match.group(1).lower() not in _PROMQL_WORDS:
            names.add(match.group(1))
    return names


def matched_labels(expr: str) -> dict[str, set[str]]:
    """For each `metric{...}` selector of the expression, the label names its matchers name."""
    found: dict[str, set[str]] = {}
    for name, matchers in re.findall(r"([a-zA-Z_:][\w:]*)\{([^}]*)\}", re.sub(_STRING, '""', expr)):
        found.setdefault(name, set()).update(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", matchers))
    return found


def exported_samples(exposition: str) -> set[str]:
    """Every sample name the exposition can carry: a family's name with its type's suffixes (a histogram
    `x` is sampled as `x_bucket`, `x_sum`, `x_count`; a counter's family is `x_total` in the text format,
    `x` in OpenMetrics, sampled as `x_total` either way)."""
    names = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE):
        names.add(family)
        names.update(family + suffix for suffix in _SAMPLE_SUFFIXES.get(kind, ("",)))
    return names


def sampled_labels(exposition: str) -> dict[str, set[str]]:
    """Each sample name that has samples, with the label names they carry (`le` of a bucket included)."""
    labels: dict[str, set[str]] = {}
    for name, body in re.findall(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$", exposition, re.MULTILINE):
        labels.setdefault(name, set()).update(re.findall(r"([a-zA-Z_]\w*)=" + _STRING, body))
    return labels
