#!/usr/bin/python3
"""expected.json of one recorded scenario, for lab/rpc.sh, lab/proxy.sh and lab/udp.sh.

Usage: expectation.py NAME--FLAGS DESCRIPTION MUST_REPORT MUST_NOT_REPORT [VIEW...] PROBLEM_RULES_FILE

MUST_REPORT is "healthy" or rule IDs; each VIEW is HOST=healthy, HOST=rule,rule (any of them),
HOST=not:rule,rule (none of them) or "HOST=invisible: reason".
"""
import json, sys
name, description, must, must_not = sys.argv[1:5]
views_args, problems_file = sys.argv[5:-1], sys.argv[-1]
problems = [l for l in open(problems_file).read().split("\n") if l and not l.startswith("#")]
healthy = must == "healthy"
fault, flags = name.split("--")
doc = {"scenario": name, "description": description,
       "must_report": [] if healthy else must.split(),
       "must_not_report": problems if healthy else ["unparsed-lines"] + must_not.split(),
       "healthy": healthy, "fault": fault, "flags": flags}
views = {}
for arg in views_args:
    host, v = arg.split("=", 1)
    if v == "healthy":
        views[host] = {"healthy": True}
    elif v.startswith("not:"):
        views[host] = {"must_not_report": ["unparsed-lines"] + v[len("not:"):].split(",")}
    elif v.startswith("invisible: "):
        views[host] = {"invisible": v[len("invisible: "):]}
    else:
        views[host] = {"must_report_any": v.split(","), "must_not_report": ["unparsed-lines"]}
if views:
    doc["views"] = views
print(json.dumps(doc, indent=2))
