"""Check OCSF JSON lines as Compliance Finding (class 2003) events.

First the attributes OCSF 1.5.0 marks required for class 2003 (base_event,
finding, compliance_finding and the objects they hold, from ocsf-schema's
dictionaries); then pydantic validation by py-ocsf-models' ComplianceFinding.
Prints the number of events checked; exits 1 naming the first bad line."""
import json
import sys

from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

REQUIRED = {
    "": ["activity_id", "category_uid", "class_uid", "severity_id", "time", "type_uid",
         "metadata", "finding_info", "compliance"],
    "metadata": ["product", "version"],
    "metadata.product": ["vendor_name"],
    "finding_info": ["uid", "title"],
    "compliance": ["standards"],
}
ENUMS = {
    "activity_id": {0, 1, 2, 3, 99},
    "severity_id": {0, 1, 2, 3, 4, 5, 6, 99},
    "status_id": {0, 1, 2, 3, 4, 5, 6, 99},
}


def get(event, path):
    for part in filter(None, path.split(".")):
        event = event[part]
    return event


count = 0
with open(sys.argv[1]) as f:
    for number, line in enumerate(f, 1):
        where = f"{sys.argv[1]}:{number}"
        event = json.loads(line)
        for path, fields in REQUIRED.items():
            obj = get(event, path)
            for field in fields:
                if obj.get(field) in (None, "", []):
                    sys.exit(f"{where}: required {path + '.' if path else ''}{field} missing")
        if event["class_uid"] != 2003 or event["category_uid"] != 2:
            sys.exit(f"{where}: not a Compliance Finding")
        if event["type_uid"] != 2003 * 100 + event["activity_id"]:
            sys.exit(f"{where}: type_uid is not class_uid * 100 + activity_id")
        for field, allowed in ENUMS.items():
            if field in event and event[field] not in allowed:
                sys.exit(f"{where}: {field} {event[field]} is not in the enum")
        if not isinstance(event["time"], int) or event["time"] < 10**12:
            sys.exit(f"{where}: time must be epoch milliseconds")
        ComplianceFinding.model_validate(event)
        count += 1
print(count)
