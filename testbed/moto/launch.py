"""moto_server with what the failover drill needs and moto lacks: Aurora global switchover and
failover, EFS replication (both sides, with state) and file-system protection, and simulated
regional outages. Usage: python launch.py -H 127.0.0.1 -p PORT (moto_server's own options)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import efs_replication  # noqa: E402
import outage  # noqa: E402
import rds_global  # noqa: E402
from moto import server  # noqa: E402


def main() -> None:
    efs_replication.install()
    rds_global.install()

    original_call = server.DomainDispatcherApplication.__call__

    def reset_extensions() -> None:
        efs_replication.reset()
        outage.reset()

    def call(self, environ, start_response):  # type: ignore[no-untyped-def]
        return outage.wrap(lambda e, s: original_call(self, e, s), reset_extensions)(environ, start_response)

    server.DomainDispatcherApplication.__call__ = call
    server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
