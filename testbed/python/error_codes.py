"""Prints the error codes AWS's service model (the one botocore ships) lists for operations.

Reads a JSON list of {"service": "efs", "operation": "UpdateFileSystemProtection"} from stdin and
writes a JSON list of the same length: the codes each operation may answer with (an error shape's
code, or its name when the model gives none).
"""

import json
import sys

import botocore.session


def main() -> None:
    session = botocore.session.get_session()
    results = []
    for call in json.load(sys.stdin):
        operation = session.get_service_model(call["service"]).operation_model(call["operation"])
        results.append(sorted(shape.error_code or shape.name for shape in operation.error_shapes))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
