#!/usr/bin/env python3
"""Copy AWS service models from the installed botocore into models/, without documentation.

Dockyard validates requests and shapes responses from these models (see src/aws/model.ts).
Run again after a botocore upgrade: python3 tools/import-models.py
"""
import gzip, json, os, sys
import botocore

SERVICES = {
    "ecs": "2014-11-13",
    "ecr": "2015-09-21",
    "iam": "2010-05-08",
    "sts": "2011-06-15",
    "elbv2": "2015-12-01",
    "acm": "2015-12-08",
    "ssm": "2014-11-06",
    "secretsmanager": "2017-10-17",
    "logs": "2014-03-28",
    "cloudwatch": "2010-08-01",
    "application-autoscaling": "2016-02-06",
}
DROP = {"documentation", "documentationUrl", "examples", "deprecatedMessage"}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


root = os.path.join(os.path.dirname(botocore.__file__), "data")
out = os.path.join(os.path.dirname(__file__), "..", "models")
for svc, version in SERVICES.items():
    base = os.path.join(root, svc, version, "service-2.json")
    data = json.load(gzip.open(base + ".gz")) if os.path.exists(base + ".gz") else json.load(open(base))
    model = strip(data)
    model["metadata"]["botocoreVersion"] = botocore.__version__
    with open(os.path.join(out, f"{svc}.json"), "w") as f:
        json.dump(model, f, separators=(",", ":"), sort_keys=True)
    print(svc, version, len(model["operations"]), "operations")
