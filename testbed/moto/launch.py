"""moto_server with what the failover drill needs and moto lacks: Aurora global switchover and
failover (and the point-of-failure snapshot of an old primary), AWS Backup on-demand jobs of a
file system (test control: GET /ghost-ha/recovery-point?arn=... lists what a recovery point holds),
files on EFS file systems (POST /ghost-ha/efs-write/<fs>?name=..., refused when read-only; GET
/ghost-ha/efs-files/<fs>), the RDS Data API's heartbeat query (heartbeats written with POST
/ghost-ha/heartbeat/<region>?holder=...), CloudFront's IfMatch (ETag) on UpdateDistribution, EFS replication (both sides, with state) and file-system protection, and simulated
regional outages and stalled operations (POST /ghost-ha/stall?operation=REGEX, see outage.py); a restore from a global database member's snapshot (moto fails on it); ECS services whose tasks start and stop when the test says so (POST
/ghost-ha/ecs-service/<region>/<cluster>/<service> {"running": 1, "rolloutState": "COMPLETED"}), with their
deploymentConfiguration kept; timings set over HTTP (POST /ghost-ha/timing {"rebuild_seconds": 2}, reset by
moto's reset); EFS replication paused or in error on request (POST
/ghost-ha/efs-replication/<source fs>?status=PAUSED|ERROR|ENABLED); and S3 conditional writes (If-None-Match / If-Match) made atomic, as S3's are
(moto checks and stores in two steps, so two simultaneous writers could both win). Usage: python launch.py -H 127.0.0.1 -p PORT (moto_server's own options)."""

import json
import os
from urllib.parse import parse_qs
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backup_jobs  # noqa: E402
import cloudfront_if_match  # noqa: E402
import ecs_services  # noqa: E402
import efs_replication  # noqa: E402
import outage  # noqa: E402
import rds_data  # noqa: E402
import rds_global  # noqa: E402
import rds_restore  # noqa: E402
from moto import server  # noqa: E402


def main() -> None:
    backup_jobs.install()
    cloudfront_if_match.install()
    ecs_services.install()
    efs_replication.install()
    rds_global.install()
    rds_restore.install()
    rds_data.install()

    original_call = server.DomainDispatcherApplication.__call__

    def reset_extensions() -> None:
        backup_jobs.reset()
        ecs_services.reset()
        efs_replication.reset()
        outage.reset()
        rds_data.reset()
        rds_global.reset()

    conditional_writes = threading.Lock()

    def call(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == "/ghost-ha/timing" and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                timing = rds_global.configure(json.loads(environ["wsgi.input"].read(length) or b"{}"))
            except ValueError as error:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [json.dumps({"message": str(error)}).encode()]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(timing).encode()]
        path = environ.get("PATH_INFO", "")
        if path.startswith("/ghost-ha/efs-replication/") and environ.get("REQUEST_METHOD") == "POST":
            status = parse_qs(environ.get("QUERY_STRING", "")).get("status", [""])[0]
            try:
                body = efs_replication.set_status(path.rsplit("/", 1)[-1], status)
            except ValueError as error:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [json.dumps({"message": str(error)}).encode()]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        if path.startswith("/ghost-ha/efs-write/") and environ.get("REQUEST_METHOD") == "POST":
            name = parse_qs(environ.get("QUERY_STRING", "")).get("name", [""])[0]
            try:
                body = efs_replication.write_file(path.rsplit("/", 1)[-1], name)
            except PermissionError as error:
                start_response("409 Conflict", [("Content-Type", "application/json")])
                return [json.dumps({"message": str(error)}).encode()]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        if path.startswith("/ghost-ha/efs-files/") and environ.get("REQUEST_METHOD") == "GET":
            files = sorted(efs_replication.files_of(path.rsplit("/", 1)[-1]))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"files": files}).encode()]
        if path.startswith("/ghost-ha/heartbeat/") and environ.get("REQUEST_METHOD") == "POST":
            holder = parse_qs(environ.get("QUERY_STRING", "")).get("holder", ["task"])[0]
            try:
                body = rds_data.write_heartbeat(path.rsplit("/", 1)[-1], holder)
            except PermissionError as error:
                start_response("409 Conflict", [("Content-Type", "application/json")])
                return [json.dumps({"message": str(error)}).encode()]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        if path.startswith("/ghost-ha/ecs-service/") and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                _, _, _, region, cluster, name = path.split("/", 5)
                body = ecs_services.report(region, cluster, name, json.loads(environ["wsgi.input"].read(length) or b"{}"))
            except ValueError as error:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [json.dumps({"message": str(error)}).encode()]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        if path == "/ghost-ha/recovery-point" and environ.get("REQUEST_METHOD") == "GET":
            arn = parse_qs(environ.get("QUERY_STRING", "")).get("arn", [""])[0]
            try:
                files = backup_jobs.recovery_point_files(arn)
            except KeyError:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [json.dumps({"message": f"no recovery point {arn}"}).encode()]
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"files": files}).encode()]
        handle = outage.wrap(lambda e, s: original_call(self, e, s), reset_extensions)
        # Before the conditional-write lock: a stalled write must not hold up the others.
        stalled = outage.stall_if_asked(environ, start_response)
        if stalled is not None:
            return stalled
        conditional = environ.get("REQUEST_METHOD") == "PUT" and (
            "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MATCH" in environ
        )
        if not conditional:
            return handle(environ, start_response)
        with conditional_writes:
            # The whole answer is produced inside the lock: check and store are one step.
            return list(handle(environ, start_response))

    server.DomainDispatcherApplication.__call__ = call
    server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
