"""RestoreDBClusterFromSnapshot of a global database member's snapshot, as Aurora does it.

moto copies the source cluster's settings into the new one and fails (an internal error) when the
source belongs to a global database: it never stored a master password for such a member. On AWS
the restored cluster takes its master user from the snapshot and stands alone: it is not a member
of the source's global database (RDS API reference, API_RestoreDBClusterFromSnapshot.html; Aurora
user guide, aurora-restore-snapshot.html). Refusals kept or added, with codes botocore's model lists
for the operation: a snapshot that is not available (InvalidDBClusterSnapshotStateFault), a cluster
identifier already taken (DBClusterAlreadyExistsFault, moto's own check).
"""

from typing import Any

from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBCluster, RDSBackend

# The restored cluster's master password comes from the snapshot; moto needs some value to hold.
SNAPSHOT_CREDENTIALS = "from-the-snapshot"


class InvalidSnapshotState(RDSClientError):
    def __init__(self, snapshot: str, status: str):
        super().__init__(
            "InvalidDBClusterSnapshotStateFault",
            f"Cannot restore from DB cluster snapshot {snapshot}: it is {status}, not available.",
        )


def install() -> None:
    original_get_cfg = DBCluster.get_cfg

    def get_cfg(self: DBCluster) -> dict[str, Any]:
        for name, value in (
            ("_master_user_password", SNAPSHOT_CREDENTIALS),
            ("_enable_http_endpoint", False),
            ("_vpc_security_group_ids", []),
        ):
            self.__dict__.setdefault(name, value)
        return original_get_cfg(self)

    def restore_db_cluster_from_snapshot(
        self: RDSBackend, from_snapshot_id: str, overrides: dict[str, Any]
    ) -> DBCluster:
        snapshot = self.describe_db_cluster_snapshots(
            db_cluster_identifier=None, db_snapshot_identifier=from_snapshot_id
        )[0]
        if snapshot.status != "available":
            raise InvalidSnapshotState(from_snapshot_id, snapshot.status)
        properties = dict(snapshot.cluster.get_cfg())
        # A restored cluster stands alone, whatever the source belonged to.
        properties["global_cluster_identifier"] = None
        properties["master_user_password"] = properties.get("master_user_password") or SNAPSHOT_CREDENTIALS
        for key, value in overrides.items():
            if value:
                properties[key] = value
        return self.create_db_cluster(properties)

    DBCluster.get_cfg = get_cfg
    RDSBackend.restore_db_cluster_from_snapshot = restore_db_cluster_from_snapshot
