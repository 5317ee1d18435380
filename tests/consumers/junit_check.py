"""Parse a JUnit XML file with junitparser and print what it holds as JSON:
per test case its name, class, result kind and message."""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped

xml = JUnitXml.fromfile(sys.argv[1])
cases = []
suites = []
for suite in xml:
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                   "errors": suite.errors, "skipped": suite.skipped})
    for case in suite:
        kind, message, text = "pass", None, None
        for result in case.result:
            if isinstance(result, Failure):
                kind = "failure"
            elif isinstance(result, Error):
                kind = "error"
            elif isinstance(result, Skipped):
                kind = "skipped"
            message, text = result.message, result.text
        cases.append({"name": case.name, "classname": case.classname, "kind": kind,
                      "message": message, "text": text})
print(json.dumps({"suites": suites, "cases": cases}))
