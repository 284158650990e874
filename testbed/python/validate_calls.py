"""Checks AWS API inputs against AWS's own service models (the ones botocore ships).

Reads a JSON list of calls from stdin, each {"service": "efs", "operation":
"DeleteReplicationConfiguration", "input": {...}}, and writes a JSON list of the same length:
null for a valid input, else the validator's report (missing required members, unknown members,
wrong types, values below a minimum). botocore's ParamValidator is what boto3 runs before it sends
a request, so an input it refuses is one AWS would refuse.
"""

import json
import sys

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationNotFoundError
from botocore.validate import ParamValidator


def main() -> None:
    calls = json.load(sys.stdin)
    session = botocore.session.get_session()
    validator = ParamValidator()
    models = {}
    results = []
    for call in calls:
        service, operation = call["service"], call["operation"]
        try:
            if service not in models:
                models[service] = session.get_service_model(service)
            shape = models[service].operation_model(operation).input_shape
        except (UnknownServiceError, OperationNotFoundError) as error:
            results.append(f"unknown operation {service}:{operation} ({error})")
            continue
        report = validator.validate(call["input"], shape)
        results.append(report.generate_report() if report.has_errors() else None)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
