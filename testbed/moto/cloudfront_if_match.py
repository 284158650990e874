"""CloudFront's optimistic locking for moto: UpdateDistribution must carry, in IfMatch, the ETag
that GetDistribution or GetDistributionConfig returned, and every update gives the distribution a
new ETag. moto accepts any IfMatch value and never changes the ETag, so a tool that updates from a
stale read (and overwrites a concurrent edit) would pass against it. CloudFront API reference,
API_UpdateDistribution.html: IfMatch is "the value of the ETag header that you received when
retrieving the distribution's configuration"; a value that does not match is refused with
PreconditionFailed (HTTP 412), a missing one with InvalidIfMatchVersion; both are codes botocore's
model lists for UpdateDistribution.
"""

from typing import Any

from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion
from moto.cloudfront.models import CloudFrontBackend
from moto.moto_api._internal import mock_random


class PreconditionFailed(CloudFrontException):
    def __init__(self) -> None:
        super().__init__(
            "PreconditionFailed",
            "The precondition given in one or more of the request header fields evaluated to false.",
        )


def install() -> None:
    original = CloudFrontBackend.update_distribution

    def update_distribution(self: CloudFrontBackend, dist_config: dict[str, Any], _id: str, if_match: Any) -> Any:
        distribution = self.distributions.get(_id)
        if distribution is not None:
            if not if_match:
                raise InvalidIfMatchVersion
            if if_match != distribution.etag:
                raise PreconditionFailed
        result = original(self, dist_config, _id, if_match)
        if distribution is not None:
            distribution.etag = mock_random.get_random_hex(13).upper()
        return result

    CloudFrontBackend.update_distribution = update_distribution
