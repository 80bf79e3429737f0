"""Parses the Prometheus text format with the Prometheus project's own Python client
(prometheus-client), not ours: reads the exposition on stdin, writes every sample as JSON
[{"name", "labels", "value"}] on stdout, and fails on anything the parser refuses."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    text = sys.stdin.read()
    samples = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples.append({"name": s.name, "labels": dict(s.labels), "value": s.value})
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
