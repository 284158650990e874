"""EFS replication and file-system protection for moto, with state across regions.

A replication configuration has two sides, one in the source's region and one in the
destination's; DescribeReplicationConfigurations in a region sees the side held there.
DeleteReplicationConfiguration with DeletionMode LOCAL_CONFIGURATION_ONLY removes only the side
of the region it is called in, as AWS does; the other side stays until it is deleted there. A file
system can take part in one replication only. A destination is read-only (protection
REPLICATING); it needs ReplicationOverwriteProtection DISABLED to become one, and gets ENABLED
back when its side is deleted. Protection as the EFS API reference defines it
(API_UpdateFileSystemProtection.html, ReplicationOverwriteProtection): ENABLED, the file system is
writable and cannot become a destination; DISABLED, it can become a destination and is read-only;
REPLICATING, it is a destination and read-only. DescribeFileSystems reports it.

Statuses as the API lists them (ReplicationStatus: ENABLING, ENABLED, PAUSING, PAUSED, DELETING,
ERROR): tests pause a replication or put it in ERROR over HTTP (POST
/ghost-ha/efs-replication/<source fs>?status=PAUSED|ERROR|ENABLED), as a disabled KMS key or an
opt-in region being disabled would on AWS; it is PAUSING for PAUSING_SECONDS first. Nothing is
replicated while it is paused or in error, nor while the source's region is down: the
destination's LastReplicatedTimestamp stays at the last round finished before.

Content: tests write files as Ghost would (POST /ghost-ha/efs-write/<fs>?name=<file>); a file
system whose protection is not ENABLED is read-only and refuses the write ("DISABLED – ... The file
system is read-only and can only be modified by EFS replication", API_UpdateFileSystemProtection.html).
A new replication overwrites its destination's files with the source's; every finished round
copies the source's files into the destination. GET /ghost-ha/efs-files/<fs> lists them.

UpdateFileSystemProtection is refused for a file system that takes part in any replication, as its
source or its destination (ReplicationAlreadyExists: "the file system is already included in a
replication configuration", efs service-2.json).

Errors use only the codes botocore's model lists for each operation (efs service-2.json).
"""

import json
import math
import threading
import time
from typing import Any

from moto.efs.exceptions import EFSError
from moto.efs.models import FileSystem, efs_backends
from moto.efs.responses import EFSResponse

import outage

# Seconds a new replication stays ENABLING, and a deleted one DELETING (so that waits poll).
ENABLING_SECONDS = 0.3
DELETING_SECONDS = 0.3
PAUSING_SECONDS = 0.3
# EFS replicates continuously in rounds; here a round ends every second.
ROUND_SECONDS = 1.0

_lock = threading.Lock()
_replications: list[dict[str, Any]] = []
_protection: dict[str, str] = {}
# Files written to each file system: name -> when (epoch seconds).
_files: dict[str, dict[str, float]] = {}


def reset() -> None:
    with _lock:
        _replications.clear()
        _protection.clear()
        _files.clear()


def files_of(file_system_id: str) -> dict[str, float]:
    """The file system's files as of now (finished replication rounds applied)."""
    with _lock:
        _apply_rounds()
        return dict(_files.get(file_system_id, {}))


def write_file(file_system_id: str, name: str) -> dict[str, Any]:
    """Test control: Ghost writes a file. Refused (PermissionError) on a read-only file system."""
    with _lock:
        protection = protection_of(file_system_id)
        if protection != "ENABLED":
            raise PermissionError(f"{file_system_id} is read-only (replication overwrite protection {protection})")
        _files.setdefault(file_system_id, {})[name] = time.time()
        return {"FileSystemId": file_system_id, "name": name}


def _apply_rounds() -> None:
    """Copies, for each replication, the source's files as of its last finished round into the destination."""
    now = time.time()
    for replication in _replications:
        if "destination" not in replication["sides"] or "destination" in replication["deleting"]:
            continue
        first_done = replication["created"] + ENABLING_SECONDS
        stopped = _stopped_at(replication)
        until = now if stopped is None else min(now, stopped)
        if until < first_done:
            continue
        last_round = max(first_done, math.floor(until / ROUND_SECONDS) * ROUND_SECONDS)
        source = _files.get(replication["source_id"], {})
        _files[replication["dest_id"]] = {n: t for n, t in source.items() if t <= last_round}


class ReplicationNotFound(EFSError):
    code = 404

    def __init__(self, file_system_id: str):
        super().__init__(
            "ReplicationNotFound",
            f"File system {file_system_id} does not have a replication configuration.",
        )


class ReplicationConflict(EFSError):
    code = 409

    def __init__(self, message: str):
        super().__init__("ConflictException", message)


class ValidationError(EFSError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ValidationException", message)


class RegionUnavailable(EFSError):
    # InternalServerError: the code CreateReplicationConfiguration and DeleteReplicationConfiguration
    # list for a failure on AWS's side (the other region not answering is one).
    code = 500

    def __init__(self, region: str):
        super().__init__("InternalServerError", f"{region} does not answer")


class ReplicationAlreadyExists(EFSError):
    # The code UpdateFileSystemProtection lists for a file system that is a replication destination.
    code = 409

    def __init__(self, file_system_id: str):
        super().__init__(
            "ReplicationAlreadyExists",
            f"File system {file_system_id} is already included in a replication configuration; its protection cannot change",
        )


def _file_system(account: str, region: str, file_system_id: str) -> FileSystem:
    backend = efs_backends[account][region]
    fs = backend.file_systems_by_id.get(file_system_id)
    if fs is None:
        from moto.efs.exceptions import FileSystemNotFound

        raise FileSystemNotFound(file_system_id)
    return fs


def protection_of(file_system_id: str) -> str:
    return _protection.get(file_system_id, "ENABLED")


def _forced_status(replication: dict[str, Any], now: float) -> str | None:
    forced = replication.get("forced")
    if forced is None:
        return None
    if forced["status"] == "PAUSED" and now - forced["since"] < PAUSING_SECONDS:
        return "PAUSING"
    return str(forced["status"])


def _stopped_at(replication: dict[str, Any]) -> float | None:
    """Since when nothing is replicated: deletion, a pause or error, or the source region down."""
    stops = [
        replication.get("frozen_at"),
        (replication.get("forced") or {}).get("since"),
        outage.down_since(replication["source_region"]),
    ]
    present = [t for t in stops if t is not None]
    return min(present) if present else None


def _sides_in(region: str, file_system_id: str) -> list[dict[str, Any]]:
    now = time.time()
    # Deletions whose time has come are gone.
    for replication in list(_replications):
        for side in list(replication["sides"]):
            until = replication["deleting"].get(side)
            if until is not None and now >= until:
                replication["sides"].remove(side)
                del replication["deleting"][side]
                if side == "destination":
                    _protection[replication["dest_id"]] = "ENABLED"
        if not replication["sides"]:
            _replications.remove(replication)
    found = []
    for replication in _replications:
        if (
            replication["source_id"] == file_system_id
            and replication["source_region"] == region
            and "source" in replication["sides"]
        ):
            found.append(replication)
        elif (
            replication["dest_id"] == file_system_id
            and replication["dest_region"] == region
            and "destination" in replication["sides"]
        ):
            found.append(replication)
    return found


def _in_any_replication(file_system_id: str) -> bool:
    return any(
        r["source_id"] == file_system_id or r["dest_id"] == file_system_id
        for r in _replications
        if r["sides"]
    )


def _description(replication: dict[str, Any], region: str) -> dict[str, Any]:
    now = time.time()
    side = "source" if region == replication["source_region"] else "destination"
    forced = _forced_status(replication, now)
    if side in replication["deleting"]:
        status = "DELETING"
    elif now - replication["created"] < ENABLING_SECONDS:
        status = "ENABLING"
    elif forced is not None:
        status = forced
    else:
        status = "ENABLED"
    destination: dict[str, Any] = {
        "Status": status,
        "FileSystemId": replication["dest_id"],
        "Region": replication["dest_region"],
    }
    first_done = replication["created"] + ENABLING_SECONDS
    stopped = _stopped_at(replication)
    until = now if stopped is None else min(now, stopped)
    if status != "ENABLING" and until >= first_done:
        # The last round that finished before replication stopped (or now).
        last_round = math.floor(until / ROUND_SECONDS) * ROUND_SECONDS
        destination["LastReplicatedTimestamp"] = max(first_done, last_round)
    return {
        "SourceFileSystemId": replication["source_id"],
        "SourceFileSystemRegion": replication["source_region"],
        "SourceFileSystemArn": replication["source_arn"],
        "OriginalSourceFileSystemArn": replication["source_arn"],
        "CreationTime": replication["created"],
        "Destinations": [destination],
    }


def create_replication_configuration(self: EFSResponse) -> Any:
    source_id = self._get_param("SourceFileSystemId")
    destinations = self._get_param("Destinations") or []
    if len(destinations) != 1:
        raise ValidationError("Exactly one destination is supported")
    dest = destinations[0]
    dest_region = dest.get("Region") or self.region
    dest_id = dest.get("FileSystemId")
    if not dest_id:
        raise ValidationError("This stand-in needs an existing destination FileSystemId")
    with _lock:
        source = _file_system(self.current_account, self.region, source_id)
        if outage.is_down(dest_region):
            raise RegionUnavailable(dest_region)
        _file_system(self.current_account, dest_region, dest_id)
        for fs_id in (source_id, dest_id):
            if _in_any_replication(fs_id):
                raise ReplicationConflict(
                    f"File system {fs_id} is already a source or destination of a replication configuration"
                )
        if protection_of(dest_id) != "DISABLED":
            raise ReplicationConflict(
                f"The destination file system {dest_id} has replication overwrite protection enabled"
            )
        replication = {
            "source_id": source_id,
            "source_region": self.region,
            "source_arn": source.file_system_arn,
            "dest_id": dest_id,
            "dest_region": dest_region,
            "created": time.time(),
            "sides": {"source", "destination"},
            "deleting": {},
        }
        _apply_rounds()
        _replications.append(replication)
        _protection[dest_id] = "REPLICATING"
        # The destination's own files are gone: replication overwrites it.
        _files[dest_id] = {}
        body = _description(replication, self.region)
    return json.dumps(body), {"status": 200, "Content-Type": "application/json"}


def describe_replication_configurations(self: EFSResponse) -> Any:
    file_system_id = self._get_param("FileSystemId")
    with _lock:
        _file_system(self.current_account, self.region, file_system_id)
        found = _sides_in(self.region, file_system_id)
        if not found:
            raise ReplicationNotFound(file_system_id)
        body = {"Replications": [_description(r, self.region) for r in found]}
    return json.dumps(body), {"status": 200, "Content-Type": "application/json"}


def delete_replication_configuration(self: EFSResponse) -> Any:
    source_id = self._get_param("SourceFileSystemId")
    mode = self._get_param("DeletionMode") or self.querystring.get("deletionMode", ["ALL_CONFIGURATIONS"])[0]
    with _lock:
        matching = [r for r in _replications if r["source_id"] == source_id]
        local = None
        for replication in matching:
            side = "source" if self.region == replication["source_region"] else "destination"
            if side in replication["sides"]:
                local = (replication, side)
        if local is None:
            raise ReplicationNotFound(source_id)
        replication, side = local
        _apply_rounds()
        other = "destination" if side == "source" else "source"
        other_region = replication["dest_region" if other == "destination" else "source_region"]
        until = time.time() + DELETING_SECONDS
        if mode == "LOCAL_CONFIGURATION_ONLY":
            replication["deleting"][side] = until
        else:
            if other in replication["sides"] and outage.is_down(other_region):
                raise RegionUnavailable(other_region)
            for s in replication["sides"]:
                replication["deleting"][s] = until
        # Nothing more is replicated once a side is being deleted.
        replication["frozen_at"] = replication.get("frozen_at") or time.time()
    return "", {"status": 204, "Content-Type": "application/json"}


def update_file_system_protection(self: EFSResponse) -> Any:
    file_system_id = self._get_param("FileSystemId")
    wanted = self._get_param("ReplicationOverwriteProtection")
    with _lock:
        _file_system(self.current_account, self.region, file_system_id)
        # Its own region's view: a side deleted there no longer counts (the other may remain).
        if _sides_in(self.region, file_system_id) or protection_of(file_system_id) == "REPLICATING":
            raise ReplicationAlreadyExists(file_system_id)
        _protection[file_system_id] = wanted
    body = {"ReplicationOverwriteProtection": wanted}
    return json.dumps(body), {"status": 200, "Content-Type": "application/json"}


def set_status(source_id: str, status: str) -> dict[str, Any]:
    """Test control: PAUSED or ERROR stop the replication of source_id; ENABLED resumes it."""
    if status not in ("PAUSED", "ERROR", "ENABLED"):
        raise ValueError(f"status must be PAUSED, ERROR or ENABLED, not {status!r}")
    with _lock:
        matching = [r for r in _replications if r["source_id"] == source_id and r["sides"]]
        if not matching:
            raise ValueError(f"{source_id} is not the source of a replication")
        for replication in matching:
            replication["forced"] = None if status == "ENABLED" else {"status": status, "since": time.time()}
    return {"SourceFileSystemId": source_id, "Status": status}


def install() -> None:
    from moto.efs import urls

    # moto's server routes only the paths its EFS module lists.
    for path in (
        "/2015-02-01/file-systems/<file_system_id>/replication-configuration",
        "/2015-02-01/file-systems/<file_system_id>/protection",
    ):
        urls.url_paths[path] = urls.response.dispatch
    EFSResponse.create_replication_configuration = create_replication_configuration
    EFSResponse.describe_replication_configurations = describe_replication_configurations
    EFSResponse.delete_replication_configuration = delete_replication_configuration
    EFSResponse.update_file_system_protection = update_file_system_protection
    original_info_json = FileSystem.info_json

    def info_json(fs: FileSystem) -> dict[str, Any]:
        info = original_info_json(fs)
        info["FileSystemProtection"] = {
            "ReplicationOverwriteProtection": protection_of(fs.file_system_id)
        }
        return info

    FileSystem.info_json = info_json
