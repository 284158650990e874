"""ECS services that do not start or stop tasks the moment they are asked to.

moto sets runningCount to desiredCount inside UpdateService and calls the deployment COMPLETED:
a tool that waits for a task to run or stop never waits. A service becomes "driven" once a test
reports its tasks (POST /ghost-ha/ecs-service/<region>/<cluster>/<service> with
{"running": 0|1, "rolloutState": "IN_PROGRESS"|"COMPLETED"|"FAILED", "reason": "..."}): from then
on UpdateService changes only what ECS changes at once (desired count, task definition, a new
PRIMARY deployment IN_PROGRESS, pendingCount = desired - running) and the counts move only when
the test reports what its tasks did. FAILED is what the deployment circuit breaker sets when the
new tasks keep failing to start
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).

moto also drops a service's deploymentConfiguration; it is kept here as CreateService and
UpdateService give it (UpdateService merges: an omitted member keeps its value, as in ECS).
"""

import threading
from typing import Any

from moto.core.utils import utcnow
from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.ecs.responses import EC2ContainerServiceResponse

_lock = threading.Lock()
# (region, cluster, service) -> {"running": int, "rollout": str, "reason": str}
_driven: dict[tuple[str, str, str], dict[str, Any]] = {}
ROLLOUT_STATES = ("IN_PROGRESS", "COMPLETED", "FAILED")


def reset() -> None:
    with _lock:
        _driven.clear()


def _apply(service: Service, state: dict[str, Any]) -> None:
    running = int(state["running"])
    service.running_count = running
    service.pending_count = max(service.desired_count - running, 0)
    for deployment in service.deployments[:1]:
        deployment.update(
            {
                "runningCount": running,
                "pendingCount": service.pending_count,
                "desiredCount": service.desired_count,
                "rolloutState": state["rollout"],
                "rolloutStateReason": state["reason"],
                "taskDefinition": service.task_definition,
                "updatedAt": utcnow(),
            }
        )


def report(region: str, cluster: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Test control: what the service's tasks did. Returns the service's counts."""
    from moto.ecs.models import ecs_backends

    running = body.get("running")
    rollout = body.get("rolloutState", "COMPLETED")
    if not isinstance(running, int) or running < 0 or rollout not in ROLLOUT_STATES:
        raise ValueError(f"running must be a count and rolloutState one of {ROLLOUT_STATES}")
    with _lock:
        for backends in ecs_backends.values():
            backend = backends.get(region)
            service = backend.services.get(f"{cluster}:{name}") if backend else None
            if service is None:
                continue
            state = {"running": running, "rollout": rollout, "reason": str(body.get("reason", ""))}
            _driven[(region, cluster, name)] = state
            _apply(service, state)
            return {"desiredCount": service.desired_count, "runningCount": service.running_count}
    raise ValueError(f"no ECS service {cluster}/{name} in {region}")


# ECS's defaults for a service created without a deploymentConfiguration (API reference, DeploymentConfiguration).
DEFAULT_CONFIGURATION = {
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
}


def install() -> None:
    original_create = EC2ContainerServiceResponse.create_service
    original_update = EC2ContainerServiceBackend.update_service

    def create_service(self: EC2ContainerServiceResponse) -> Any:
        result = original_create(self)
        cluster = self._get_param("cluster", "default").split("/")[-1]
        service = self.ecs_backend.services.get(f"{cluster}:{self._get_param('serviceName')}")
        if service is not None:
            service.deployment_configuration = {
                **DEFAULT_CONFIGURATION,
                **(self._get_param("deploymentConfiguration") or {}),
            }
        return result

    def update_service(self: EC2ContainerServiceBackend, properties: dict[str, Any]) -> Service:
        cluster = properties.get("cluster", "default").split("/")[-1]
        name = properties.get("service", "").split("/")[-1]
        configuration = properties.pop("deployment_configuration", None)
        before = self.services.get(f"{cluster}:{name}")
        kept = dict(getattr(before, "deployment_configuration", None) or {}) if before else {}
        service = original_update(self, properties)
        if configuration:
            kept.update(configuration)
        service.deployment_configuration = kept
        with _lock:
            state = _driven.get((self.region_name, cluster, name))
            if state is not None:
                changed = service.desired_count != state["running"]
                state["rollout"] = "IN_PROGRESS" if changed else state["rollout"]
                state["reason"] = "ECS deployment in progress." if changed else state["reason"]
                _apply(service, state)
        return service

    EC2ContainerServiceResponse.create_service = create_service
    EC2ContainerServiceBackend.update_service = update_service
