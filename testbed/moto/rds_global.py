"""Aurora global database switchover and failover for moto, as strict as AWS documents them.

moto keeps the global database's members and a writer flag on each; these calls move the flag,
over time and through the states AWS reports:

- While a switchover or failover runs, the global database's Status is switching-over or
  failing-over and its FailoverState says pending first, then switching-over or failing-over
  (FailoverState in the RDS API reference). The writer flag moves when it ends.
- A switchover needs every member's region to answer: AWS synchronises the secondaries first. If a
  member's region stops answering while it runs, Aurora cancels it: FailoverState cancelling, then
  the old writer stays the writer.
- A failover (AllowDataLoss) leaves the old writer a member whose SynchronizationStatus is
  pending-resync: Aurora rebuilds it as a secondary once its region has recovered, and the rebuild
  takes time (REBUILD_SECONDS after the region answers again; minutes to hours on AWS). See the
  Aurora user guide, "Using switchover or failover in Amazon Aurora Global Database"
  (AuroraUserGuide/aurora-global-database-disaster-recovery.html).
- Refusals, with only the error codes botocore's model lists for SwitchoverGlobalCluster and
  FailoverGlobalCluster (GlobalClusterNotFoundFault, InvalidGlobalClusterStateFault,
  InvalidDBClusterStateFault, DBClusterNotFoundFault; RDS API reference, APIReference/
  API_SwitchoverGlobalCluster.html and API_FailoverGlobalCluster.html): a target that is not a
  secondary member, a target with no DB instance (a headless secondary cannot be promoted), a
  target that is still pending-resync, a target whose region does not answer, engine versions that
  differ (a switchover needs the same engine version in both clusters; a failover the same major
  and minor version), and a global database that is already switching over or failing over.
- When an old primary's region answers again after a failover, Aurora takes a snapshot of it
  before rebuilding it: rds:unplanned-global-failover-<old primary cluster>-<timestamp>, a system
  (automated) snapshot (same user guide page, "Recovering an Amazon Aurora global database from an
  unplanned outage").
"""

import os
import time
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse

import outage

# Seconds the switchover or failover runs (the first PENDING_SECONDS of it in state pending), and
# the cancellation of a switchover lasts.
TIMING: dict[str, float] = {
    "transition_seconds": 1.0,
    "pending_seconds": 0.3,
    "cancel_seconds": 0.5,
    # The rebuild of an old primary as a secondary, counted from when its region answers again.
    "rebuild_seconds": float(os.environ.get("GHOST_HA_MOTO_REBUILD_SECONDS", "5")),
}
DEFAULT_TIMING = dict(TIMING)


def configure(values: dict[str, Any]) -> dict[str, float]:
    """Sets timings (tests make them short or long); unknown names are refused."""
    for name, value in values.items():
        if name not in TIMING or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"unknown timing or bad value: {name}={value!r}")
    TIMING.update({k: float(v) for k, v in values.items()})
    return dict(TIMING)


def reset() -> None:
    TIMING.clear()
    TIMING.update(DEFAULT_TIMING)


def _region_of(cluster: Any) -> str:
    return cluster.db_cluster_arn.split(":")[3]


def _state(global_cluster: Any) -> dict[str, Any]:
    return global_cluster.__dict__.setdefault("_ghost_ha", {"transition": None, "resync": {}})


def _sync_status(global_cluster: Any, member: Any) -> str:
    """connected, or pending-resync while an old primary is down or being rebuilt."""
    resync = _state(global_cluster)["resync"]
    failed_over_at = resync.get(member.db_cluster_arn)
    if failed_over_at is None:
        return "connected"
    region = _region_of(member)
    if outage.is_down(region):
        return "pending-resync"
    _take_point_of_failure_snapshot(global_cluster, member, failed_over_at)
    rebuild_from = max(failed_over_at, outage.ended_at(region))
    if time.time() >= rebuild_from + TIMING["rebuild_seconds"]:
        del resync[member.db_cluster_arn]
        return "connected"
    return "pending-resync"


def _take_point_of_failure_snapshot(global_cluster: Any, member: Any, failed_over_at: float) -> None:
    taken = _state(global_cluster).setdefault("snapshots", set())
    if member.db_cluster_arn in taken:
        return
    taken.add(member.db_cluster_arn)
    from moto.rds.models import rds_backends

    account, region = member.db_cluster_arn.split(":")[4], _region_of(member)
    stamp = time.strftime("%Y-%m-%d-%H-%M", time.gmtime(failed_over_at))
    rds_backends[account][region].create_auto_cluster_snapshot(
        member.db_cluster_identifier, f"rds:unplanned-global-failover-{member.db_cluster_identifier}-{stamp}"
    )


def _settle(global_cluster: Any) -> None:
    state = _state(global_cluster)
    transition = state["transition"]
    if not transition:
        return
    now = time.time()
    if not transition["allow_data_loss"] and not transition.get("cancelled_at"):
        if any(outage.is_down(_region_of(m)) for m in global_cluster.members):
            # A member stopped answering during the switchover: Aurora cancels it.
            transition["cancelled_at"] = now
    if transition.get("cancelled_at"):
        if now >= transition["cancelled_at"] + TIMING["cancel_seconds"]:
            state["transition"] = None
        return
    if now >= transition["until"]:
        for m in global_cluster.members:
            m.is_writer = m is transition["target"]
        if transition["allow_data_loss"]:
            state["resync"][transition["source"].db_cluster_arn] = transition["until"]
        state["transition"] = None


def _status(global_cluster: Any) -> str:
    _settle(global_cluster)
    transition = _state(global_cluster)["transition"]
    return transition["status"] if transition else global_cluster.__dict__.get("_ghost_ha_status", "available")


def _failover_state(global_cluster: Any) -> Any:
    _settle(global_cluster)
    transition = _state(global_cluster)["transition"]
    if not transition:
        return None
    if transition.get("cancelled_at"):
        status = "cancelling"
    elif time.time() < transition["started"] + TIMING["pending_seconds"]:
        status = "pending"
    else:
        status = transition["status"]
    return {
        "Status": status,
        "FromDbClusterArn": transition["source"].db_cluster_arn,
        "ToDbClusterArn": transition["target"].db_cluster_arn,
        "IsDataLossAllowed": transition["allow_data_loss"],
    }


class GlobalClusterNotFound(RDSClientError):
    def __init__(self, identifier: str):
        super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found")


class DBClusterNotFound(RDSClientError):
    def __init__(self, identifier: str):
        super().__init__("DBClusterNotFoundFault", f"DBCluster {identifier} not found")


class InvalidGlobalClusterState(RDSClientError):
    def __init__(self, message: str):
        super().__init__("InvalidGlobalClusterStateFault", message)


class InvalidDbClusterState(RDSClientError):
    def __init__(self, message: str):
        super().__init__("InvalidDBClusterStateFault", message)


def _without_patch(version: str) -> str:
    return version.rsplit(".", 1)[0]


def _cluster_exists(target: str) -> bool:
    from moto.rds.models import rds_backends

    for regions in rds_backends.values():
        for backend in regions.values():
            for cluster in backend.clusters.values():
                if target in (cluster.db_cluster_arn, cluster.db_cluster_identifier):
                    return True
    return False


def _promote(self: RDSResponse, allow_data_loss: bool) -> Any:
    params = self.params
    identifier = params["GlobalClusterIdentifier"]
    target = params["TargetDbClusterIdentifier"]
    backend = self.global_backend
    global_cluster = next(
        (g for g in backend.global_clusters.values() if g.global_cluster_identifier == identifier.lower()),
        None,
    )
    if global_cluster is None:
        raise GlobalClusterNotFound(identifier)
    member = next(
        (m for m in global_cluster.members if target in (m.db_cluster_arn, m.db_cluster_identifier)),
        None,
    )
    if member is None:
        if not _cluster_exists(target):
            raise DBClusterNotFound(target)
        raise InvalidDbClusterState(f"{target} is not a member of {identifier}")
    _settle(global_cluster)
    if _state(global_cluster)["transition"]:
        raise InvalidGlobalClusterState(f"{identifier} is already switching over or failing over")
    if member.is_writer:
        raise InvalidDbClusterState(f"{target} is already the primary cluster of {identifier}")
    if outage.is_down(_region_of(member)):
        raise InvalidDbClusterState(f"{target} cannot be promoted: {_region_of(member)} does not answer")
    if not member.members:
        raise InvalidDbClusterState(
            f"{target} has no DB instance: a headless secondary cluster cannot be promoted; add an instance first"
        )
    if _sync_status(global_cluster, member) != "connected":
        raise InvalidDbClusterState(
            f"{target} is pending-resync (being rebuilt as a secondary); wait until it is connected"
        )
    source = next((m for m in global_cluster.members if m.is_writer), None)
    if source is None:
        raise InvalidGlobalClusterState(f"{identifier} has no primary cluster")
    if allow_data_loss:
        if _without_patch(member.engine_version) != _without_patch(source.engine_version):
            raise InvalidDbClusterState(
                f"{target} runs {member.engine_version}, the primary {source.engine_version}: "
                "a failover needs the same major and minor engine version"
            )
    else:
        if member.engine_version != source.engine_version:
            raise InvalidDbClusterState(
                f"{target} runs {member.engine_version}, the primary {source.engine_version}: "
                "a switchover needs the same engine version in both clusters"
            )
        down = [_region_of(m) for m in global_cluster.members if outage.is_down(_region_of(m))]
        if down:
            raise InvalidGlobalClusterState(
                f"Switchover needs every member to answer; {', '.join(down)} does not (use a failover)"
            )
    now = time.time()
    _state(global_cluster)["transition"] = {
        "started": now,
        "until": now + TIMING["transition_seconds"],
        "status": "failing-over" if allow_data_loss else "switching-over",
        "source": source,
        "target": member,
        "allow_data_loss": allow_data_loss,
    }
    return ActionResult({"GlobalCluster": global_cluster})


def switchover_global_cluster(self: RDSResponse) -> Any:
    return _promote(self, allow_data_loss=False)


def failover_global_cluster(self: RDSResponse) -> Any:
    # Without AllowDataLoss (or with Switchover) AWS requires a healthy global database, as for a switchover.
    allow = str(self.params.get("AllowDataLoss")).lower() == "true" and not self.params.get("Switchover")
    return _promote(self, allow_data_loss=allow)


def install() -> None:
    from moto.rds.models import GlobalCluster

    RDSResponse.switchover_global_cluster = switchover_global_cluster
    RDSResponse.failover_global_cluster = failover_global_cluster
    members = GlobalCluster.global_cluster_members.fget

    def global_cluster_members(self: Any) -> list[dict[str, Any]]:
        # Writer flags, status and failover state as of now (the transition may have ended).
        _settle(self)
        described = members(self)
        for entry, member in zip(described, self.members):
            entry["SynchronizationStatus"] = _sync_status(self, member)
        return described

    GlobalCluster.global_cluster_members = property(global_cluster_members)
    GlobalCluster.status = property(
        _status, lambda self, value: self.__dict__.__setitem__("_ghost_ha_status", value)
    )
    GlobalCluster.failover_state = property(_failover_state)
