"""Aurora global database switchover and failover for moto.

moto keeps the global database's members and a writer flag on each; these calls move the flag.
For TRANSITION_SECONDS the global database reports status switching-over or failing-over with a
FailoverState, then the target is the writer and the status available again. A switchover needs
every member's region to answer (AWS synchronises the secondaries first); a failover with
AllowDataLoss does not. The old writer stays a member as a secondary: AWS re-adds it once its
region has recovered.
"""

import time
from typing import Any

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse

import outage


TRANSITION_SECONDS = 0.5


def _settle(global_cluster: Any) -> None:
    transition = global_cluster.__dict__.get("_ghost_ha_transition")
    if transition and time.time() >= transition["until"]:
        for m in global_cluster.members:
            m.is_writer = m is transition["target"]
        global_cluster.__dict__["_ghost_ha_transition"] = None


def _status(global_cluster: Any) -> str:
    _settle(global_cluster)
    transition = global_cluster.__dict__.get("_ghost_ha_transition")
    return transition["status"] if transition else global_cluster.__dict__.get("_ghost_ha_status", "available")


def _failover_state(global_cluster: Any) -> Any:
    _settle(global_cluster)
    transition = global_cluster.__dict__.get("_ghost_ha_transition")
    if not transition:
        return None
    return {
        "Status": "switching-over" if transition["status"] == "switching-over" else "failing-over",
        "FromDbClusterArn": transition["source"].db_cluster_arn,
        "ToDbClusterArn": transition["target"].db_cluster_arn,
        "IsDataLossAllowed": transition["allow_data_loss"],
    }


class GlobalClusterNotFound(RDSClientError):
    def __init__(self, identifier: str):
        super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found")


class InvalidGlobalClusterState(RDSClientError):
    def __init__(self, message: str):
        super().__init__("InvalidGlobalClusterStateFault", message)


class InvalidDbClusterState(RDSClientError):
    def __init__(self, message: str):
        super().__init__("InvalidDBClusterStateFault", message)


def _region_of(cluster: Any) -> str:
    return cluster.db_cluster_arn.split(":")[3]


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
        raise InvalidDbClusterState(f"{target} is not a member of {identifier}")
    if not allow_data_loss:
        down = [_region_of(m) for m in global_cluster.members if outage.is_down(_region_of(m))]
        if down:
            raise InvalidGlobalClusterState(
                f"Switchover needs every member to answer; {', '.join(down)} does not (use a failover)"
            )
    _settle(global_cluster)
    if global_cluster.__dict__.get("_ghost_ha_transition"):
        raise InvalidGlobalClusterState(f"{identifier} is already switching over or failing over")
    source = next((m for m in global_cluster.members if m.is_writer), member)
    if source is not member:
        global_cluster.__dict__["_ghost_ha_transition"] = {
            "until": time.time() + TRANSITION_SECONDS,
            "status": "failing-over" if allow_data_loss else "switching-over",
            "source": source,
            "target": member,
            "allow_data_loss": allow_data_loss,
        }
    return ActionResult({"GlobalCluster": global_cluster})


def switchover_global_cluster(self: RDSResponse) -> Any:
    return _promote(self, allow_data_loss=False)


def failover_global_cluster(self: RDSResponse) -> Any:
    if not self.params.get("AllowDataLoss") and not self.params.get("Switchover"):
        # Without either flag AWS requires a healthy global database, as for a switchover.
        return _promote(self, allow_data_loss=False)
    return _promote(self, allow_data_loss=True)


def install() -> None:
    from moto.rds.models import GlobalCluster

    RDSResponse.switchover_global_cluster = switchover_global_cluster
    RDSResponse.failover_global_cluster = failover_global_cluster
    members = GlobalCluster.global_cluster_members.fget
    # Writer flags, status and failover state as of now (the transition may have ended).
    GlobalCluster.global_cluster_members = property(lambda self: (_settle(self), members(self))[1])
    GlobalCluster.status = property(
        _status, lambda self, value: self.__dict__.__setitem__("_ghost_ha_status", value)
    )
    GlobalCluster.failover_state = property(_failover_state)
