#!/usr/bin/python3
"""Checks HTTP exchanges with hasys-manager-api against docs/openapi.yaml (issue 11).

  check_openapi.py OPENAPI.yaml EXCHANGES.jsonl... [--all-operations]

An exchange is a JSON line {"method": M, "target": T, "status": S, "content_type": C,
"body": B} (tests/support/src/https_client.cpp writes them). Each is matched to its path (a
template with {parameters}, segment by segment, the most literal wins) and method; its status
must be listed for the operation or under x-any-route; a JSON body must validate against that
response's schema and carry no field the schema does not name (check_asyncapi.py's rules).
--all-operations: every operation of the document must have been called. Exit 0 when all is
well, 1 otherwise, naming each failure.
"""
import json
import sys

import yaml

from check_asyncapi import Checker, best_template


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    all_ops = "--all-operations" in argv
    files = [a for a in argv[2:] if a != "--all-operations"]
    c = Checker(doc)
    failures, called = [], set()
    count = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                x = json.loads(line)
                count += 1
                where = f"{path}:{n}: {x['method']} {x['target']} -> {x['status']}"
                route = x["target"].split("?")[0]
                template = best_template(doc["paths"], route, "/")
                op = doc["paths"].get(template, {}).get(x["method"].lower()) if template else None
                responses = dict(doc.get("x-any-route", {}).get("responses", {}))
                if op:
                    called.add((template, x["method"].lower()))
                    responses.update(op.get("responses", {}))
                response = responses.get(str(x["status"]))
                if response is None:
                    failures.append(f"{where}: status {x['status']} is not documented"
                                    + ("" if op else " (no such operation)"))
                    continue
                response = c.resolve(response)
                schema = (response.get("content", {}).get("application/json", {}) or {}).get("schema")
                if schema is None:
                    continue
                if not x["content_type"].startswith("application/json"):
                    failures.append(f"{where}: content type {x['content_type']}, documented JSON")
                    continue
                try:
                    body = json.loads(x["body"])
                except json.JSONDecodeError:
                    failures.append(f"{where}: the body is not JSON")
                    continue
                for e in c.errors(schema, body):
                    at = "/".join(str(p) for p in e.absolute_path) or "(body)"
                    failures.append(f"{where}: at {at}: {e.message}")
                for p, field in c.undocumented(schema, body, []):
                    failures.append(f"{where}: at {'/'.join(p) or '(body)'}: field '{field}' is "
                                    "not in the document")
    if all_ops:
        for template, item in doc["paths"].items():
            for method in item:
                # WebSocket routes are exercised by the stream tests, not over plain HTTPS.
                if method in ("get", "put", "post", "delete", "patch") and \
                        not item[method].get("x-websocket") and \
                        (template, method) not in called:
                    failures.append(f"{method.upper()} {template} was never called")
    print(f"checked {count} exchanges, {len(called)} operations called")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
