"""The RDS Data API's ExecuteStatement for the Aurora stand-in, for the one query the switch makes:
the newest row of the health-sidecar's heartbeat table (ghost_ha_heartbeat) as a cluster holds it.

Heartbeats: tests write them as a region's sidecar does (POST /ghost-ha/heartbeat/<region>?holder=...):
the row lands in that region's cluster only if it is the global writer (a secondary is read-only:
409 otherwise), and reaches the other members LAG_SECONDS later, unless the writer's region is
down when it is written (partly down: its Ghost still writes, nothing replicates).

ExecuteStatement is refused as AWS documents (Aurora user guide, data-api.limitations.html and
data-api.html), with codes botocore's model lists for it (rds-data service-2.json): a cluster
without the Data API enabled (HttpEndpointNotEnabledException: EnableHttpEndpoint on the cluster,
as the data stack sets it), a secondary cluster of a global database ("a secondary cluster doesn't
have a writer instance until it's promoted"; BadRequestException), a secret that does not exist in
the region (SecretsErrorException), SQL this stand-in does not model (BadRequestException).
moto itself keeps EnableHttpEndpoint false for provisioned clusters; here it is kept as requested.
"""

import datetime
import json
import threading
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.rdsdata.responses import RDSDataServiceResponse

import outage

LAG_SECONDS = 0.1

_lock = threading.Lock()
_heartbeats: list[dict[str, Any]] = []


def reset() -> None:
    with _lock:
        _heartbeats.clear()


class DataApiError(JsonRESTError):
    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = 400


def _clusters() -> list[Any]:
    from moto.rds.models import rds_backends

    return [c for regions in rds_backends.values() for b in regions.values() for c in b.clusters.values()]


def _global_of(cluster: Any) -> Any:
    from moto.rds.models import rds_backends

    for regions in rds_backends.values():
        for backend in regions.values():
            for g in backend.global_clusters.values():
                if any(m is cluster for m in g.members):
                    return g
    return None


def _is_writer(cluster: Any) -> bool:
    global_cluster = _global_of(cluster)
    if global_cluster is None:
        return True
    global_cluster.global_cluster_members  # settles a finished switchover or failover
    return bool(cluster.is_writer)


def _stamp(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def write_heartbeat(region: str, holder: str) -> dict[str, Any]:
    """Test control: the sidecar in `region` writes its heartbeat row. PermissionError on a secondary."""
    cluster = next((c for c in _clusters() if c.db_cluster_arn.split(":")[3] == region), None)
    if cluster is None or not _is_writer(cluster):
        raise PermissionError(f"the cluster in {region} is not the writer: the heartbeat write is refused")
    now = time.time()
    with _lock:
        _heartbeats.append(
            {"holder": holder, "t": now, "origin": cluster.db_cluster_arn, "replicated": not outage.is_down(region)}
        )
    return {"holder": holder, "writtenAt": datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()}


def execute_statement(self: RDSDataServiceResponse) -> Any:
    resource_arn = str(self._get_param("resourceArn") or "")
    secret_arn = str(self._get_param("secretArn") or "")
    sql = str(self._get_param("sql") or "")
    cluster = next((c for c in _clusters() if c.db_cluster_arn == resource_arn), None)
    if cluster is None or resource_arn.split(":")[3] != self.region:
        raise DataApiError("BadRequestException", f"DB cluster {resource_arn} not found in {self.region}")
    if not cluster.__dict__.get("_ghost_ha_http_endpoint"):
        raise DataApiError("HttpEndpointNotEnabledException", f"HTTP endpoint not enabled for {resource_arn}")
    if not _is_writer(cluster):
        raise DataApiError(
            "BadRequestException",
            f"{resource_arn} is a secondary cluster of a global database: it has no writer instance until it is promoted",
        )
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        secretsmanager_backends[self.current_account][self.region].describe_secret(secret_arn)
    except Exception as error:
        raise DataApiError("SecretsErrorException", f"secret {secret_arn}: {error}") from error
    if "ghost_ha_heartbeat" not in sql or not sql.lstrip().upper().startswith("SELECT"):
        raise DataApiError("BadRequestException", "this stand-in models only the heartbeat query")
    now = time.time()
    with _lock:
        visible = [
            h
            for h in _heartbeats
            if h["origin"] == resource_arn or (h["replicated"] and now >= h["t"] + LAG_SECONDS)
        ]
    newest = max(visible, key=lambda h: h["t"], default=None)
    records = [] if newest is None else [[{"stringValue": newest["holder"]}, {"stringValue": _stamp(newest["t"])}]]
    return json.dumps({"records": records, "numberOfRecordsUpdated": 0})


def install() -> None:
    from moto.rds.models import DBCluster

    RDSDataServiceResponse.execute_statement = execute_statement
    original = DBCluster.enable_http_endpoint

    def set_http_endpoint(self: Any, value: Any) -> None:
        original.fset(self, value)
        self.__dict__["_ghost_ha_http_endpoint"] = str(value).lower() == "true"

    DBCluster.enable_http_endpoint = property(original.fget, set_http_endpoint)
