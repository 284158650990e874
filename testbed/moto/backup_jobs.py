"""AWS Backup on-demand jobs for moto (which has vaults and plans but no jobs), for EFS file systems.

StartBackupJob needs an existing vault in the region it is called in, an existing file system
there (ResourceArn) and an existing IAM role (IamRoleArn); otherwise it is refused with a code
botocore's model lists for it (ResourceNotFoundException, InvalidParameterValueException; backup
service-2.json). A job is CREATED, then RUNNING, then COMPLETED after JOB_SECONDS, with a recovery
point ARN in its vault; the recovery point holds the file system's files as they were when the
job started (GET /ghost-ha/recovery-point?arn=<arn> lists them). DescribeBackupJob of an unknown
id is ResourceNotFoundException. States as the API lists them (BackupJobState: CREATED, PENDING,
RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, PARTIAL).
"""

import json
import threading
import time
import uuid
from typing import Any

from moto.backup.exceptions import BackupClientError
from moto.backup.models import backup_backends
from moto.backup.responses import BackupResponse

import efs_replication

CREATED_SECONDS = 0.1
JOB_SECONDS = 0.5

_lock = threading.Lock()
_jobs: dict[str, dict[str, Any]] = {}
_recovery_points: dict[str, list[str]] = {}


def reset() -> None:
    with _lock:
        _jobs.clear()
        _recovery_points.clear()


class ResourceNotFound(BackupClientError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ResourceNotFoundException", message)


class InvalidParameterValue(BackupClientError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidParameterValueException", message)


def recovery_point_files(arn: str) -> list[str]:
    with _lock:
        if arn not in _recovery_points:
            raise KeyError(arn)
        return list(_recovery_points[arn])


def _state(job: dict[str, Any]) -> str:
    age = time.time() - job["created"]
    if age < CREATED_SECONDS:
        return "CREATED"
    if age < JOB_SECONDS:
        return "RUNNING"
    return "COMPLETED"


def start_backup_job(self: BackupResponse) -> Any:
    params = json.loads(self.body or "{}")
    vault_name = params.get("BackupVaultName")
    resource_arn = str(params.get("ResourceArn") or "")
    role_arn = str(params.get("IamRoleArn") or "")
    backend = backup_backends[self.current_account][self.region]
    vault = backend.vaults.get(vault_name)
    if vault is None:
        raise ResourceNotFound(f"Backup vault {vault_name} does not exist in {self.region}")
    parts = resource_arn.split(":")
    if len(parts) < 6 or parts[2] != "elasticfilesystem" or parts[3] != self.region:
        raise InvalidParameterValue(f"{resource_arn} is not a file system in {self.region}")
    file_system_id = parts[5].split("/")[-1]
    from moto.efs.models import efs_backends

    if file_system_id not in efs_backends[self.current_account][self.region].file_systems_by_id:
        raise ResourceNotFound(f"Resource {resource_arn} not found")
    from moto.iam.models import iam_backends

    role_name = role_arn.split(":role/")[-1].split("/")[-1] if ":role/" in role_arn else ""
    iam = iam_backends[self.current_account]["global"]
    if not role_name or not any(r.name == role_name for r in iam.roles.values()):
        raise InvalidParameterValue(f"IAM role {role_arn} cannot be assumed by AWS Backup (it does not exist)")
    job_id = str(uuid.uuid4()).upper()
    now = time.time()
    recovery_point = f"arn:aws:backup:{self.region}:{self.current_account}:recovery-point:{uuid.uuid4()}"
    with _lock:
        _jobs[job_id] = {
            "created": now,
            "vault": vault,
            "resource_arn": resource_arn,
            "role_arn": role_arn,
            "recovery_point": recovery_point,
            "region": self.region,
        }
        _recovery_points[recovery_point] = sorted(efs_replication.files_of(file_system_id))
    body = {"BackupJobId": job_id, "RecoveryPointArn": recovery_point, "CreationDate": now, "IsParent": False}
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def describe_backup_job(self: BackupResponse) -> Any:
    job_id = self.path.rstrip("/").split("/")[-1]
    with _lock:
        job = _jobs.get(job_id)
        if job is None or job["region"] != self.region:
            raise ResourceNotFound(f"Backup job {job_id} not found")
        state = _state(job)
        body = {
            "AccountId": self.current_account,
            "BackupJobId": job_id,
            "BackupVaultName": job["vault"].backup_vault_name,
            "BackupVaultArn": job["vault"].backup_vault_arn,
            "ResourceArn": job["resource_arn"],
            "ResourceType": "EFS",
            "IamRoleArn": job["role_arn"],
            "CreationDate": job["created"],
            "State": state,
            "PercentDone": "100.0" if state == "COMPLETED" else "0.0",
        }
        if state == "COMPLETED":
            body["RecoveryPointArn"] = job["recovery_point"]
            body["CompletionDate"] = job["created"] + JOB_SECONDS
    return 200, {"Content-Type": "application/json"}, json.dumps(body)


def install() -> None:
    from moto.backup import urls

    urls.url_paths["{0}/backup-jobs/?$"] = urls.response.dispatch
    urls.url_paths["{0}/backup-jobs/(?P<job_id>[^/]+)$"] = urls.response.dispatch
    BackupResponse.start_backup_job = start_backup_job
    BackupResponse.describe_backup_job = describe_backup_job
