"""Runs SAM's own translator (samtranslator) over a template, once per
parameter set: stdin is {"template": path, "runs": [{"parameters": {...},
"region": "..."}]}, stdout a JSON list of the transformed templates, or of
{"error": "..."} for a run the translator refused.

The code location is set to an S3 object, as `sam package` does; the
translator refuses a local folder. No AWS call is made: managed policies
are not looked up (this template names none SAM would resolve by name).
"""
import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


def main():
    req = json.load(sys.stdin)
    with open(req["template"]) as f:
        source = f.read()
    out = []
    for run in req["runs"]:
        os.environ["AWS_DEFAULT_REGION"] = run["region"]
        os.environ["AWS_REGION"] = run["region"]
        doc = yaml_parse(source)
        doc.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://werun-sam-test/code.zip"
        try:
            out.append(transform(doc, dict(run["parameters"]), NoManagedPolicies()))
        except InvalidDocumentException as e:
            out.append({"error": "; ".join(c.message for c in e.causes)})
    json.dump(out, sys.stdout)


main()
