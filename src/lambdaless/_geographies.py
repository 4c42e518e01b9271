"""Destination regions of Bedrock's system-defined cross-region inference profiles, by geography."""

# Compiled 2026-11-21. AWS documents destination Regions per profile (per model, and
# sometimes per source Region), not per geography; this table is the union per prefix, a
# default that callers override per profile (``GetInferenceProfile`` returns the exact list
# as ``models[].modelArn``).
#
# Sources:
# - "Supported Regions and models for inference profiles" (Amazon Bedrock User Guide),
#   https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
# - "Geographic cross-Region inference" (IAM: profile ARN + foundation model in the source
#   Region + foundation model in every destination Region),
#   https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html
# - "Global cross-Region inference" (IAM: profile ARN + source-Region model ARN + model ARN
#   with empty Region and account, ``arn:aws:bedrock:::foundation-model/<id>``, the latter
#   matched with ``aws:RequestedRegion`` = ``unspecified``),
#   https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html
# - aws-cdk ``@aws-cdk/aws-bedrock-alpha`` ``CrossRegionInferenceProfileRegion`` (region lists
#   per geography, citing the first page above), v2.275.0-alpha.0,
#   packages/@aws-cdk/aws-bedrock-alpha/bedrock/inference-profiles/cross-region-inference-profile.ts
# - "Regional availability by endpoints" (Canadian Bedrock Regions),
#   https://docs.aws.amazon.com/bedrock/latest/userguide/endpoints-region-availability.html

from collections.abc import Mapping
from types import MappingProxyType

#: profile-id prefix -> destination regions (default table; users override per profile)
DESTINATION_REGIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # US profiles. us-west-1 is a destination for the Claude 4.5 generation; ca-central-1
        # is a *source* Region of US profiles, and AWS requires the model ARN in the source
        # Region too, so it is kept in the union.
        "us": ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1"),
        "us-gov": ("us-gov-east-1", "us-gov-west-1"),
        # Not confirmed in the AWS pages reachable when compiled; Canadian Bedrock Regions.
        "ca": ("ca-central-1", "ca-west-1"),
        "eu": (
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
        ),
        # APAC profiles also route to me-central-1 (UAE) for some models.
        "apac": (
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "me-central-1",
        ),
        "jp": ("ap-northeast-1", "ap-northeast-3"),
        "au": ("ap-southeast-2", "ap-southeast-4"),
        # Global routes to any commercial Region; AWS documents no Region list for IAM. The
        # grant is the source-Region model ARN plus the region-less model ARN (see below).
        "global": (),
    }
)

#: prefixes whose foundation-model grant AWS documents with no region (or a wildcard) — e.g. global
REGIONLESS_PREFIXES: frozenset[str] = frozenset({"global"})
