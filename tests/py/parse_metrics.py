"""Parses an OpenMetrics scrape (stdin) with the Prometheus client library's own parser and
prints every sample as JSON: [{"name", "labels", "value"}]. A scrape that does not parse fails.

usage: parse_metrics.py < scrape.txt
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    samples = []
    for family in text_string_to_metric_families(sys.stdin.read()):
        for sample in family.samples:
            samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
