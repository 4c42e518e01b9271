"""Rules about Bedrock model references: ids, profiles, ARNs, families and stacks."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lambdaless._errors import LambdalessError
from lambdaless._geographies import DESTINATION_REGIONS
from lambdaless.analysis.asl import iter_states
from lambdaless.rules._graph import Machine, Violation
from lambdaless.rules._model_ids import KNOWN_MODEL_IDS, PROVIDERS
from lambdaless.rules._rule import Rule

_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"

MODEL_ID_SHAPE = Rule(
    "model-id-shape",
    "a model id with whitespace or control characters, or not of the form '<provider>.<model>'",
    # InvokeModel's modelId pattern: lowercase provider, '.', model name, optional ':' versions.
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html",
    "construct",
)
MODEL_PROVIDER = Rule(
    "model-provider",
    "a model id whose provider prefix (text, embedding, image or video model) is not a Bedrock "
    "provider",
    _GUIDE + "models-supported.html",
    "construct",
)
MODEL_GEOGRAPHY = Rule(
    "model-geography",
    "a cross-region inference profile id whose geography prefix does not exist",
    _GUIDE + "inference-profiles-support.html",
    "construct",
)
MODEL_VERSION = Rule(
    "model-version-suffix",
    "a model id missing the date or version suffix its provider uses ('-v1:0')",
    _GUIDE + "models-supported.html",
    "construct",
)
MODEL_ARN = Rule(
    "model-arn",
    "a provisioned-model or application-profile ARN that is malformed, or in another partition "
    "or region than the stack",
    _GUIDE + "inference-profiles-use.html",
    "construct",
)
MODEL_PROFILE_REGION = Rule(
    "model-profile-region",
    "a geographic cross-region inference profile called from a stack outside its geography",
    _GUIDE + "geographic-cross-region-inference.html",
    "construct",
)
MODEL_FAMILY = Rule(
    "model-family",
    "a family= that contradicts the foundation model id",
    _GUIDE + "model-parameters.html",
    "construct",
)
STEP_STACK = Rule(
    "step-stack",
    "a step built in one stack (its region, account, IAM and ARNs) used in a Workflow of another",
    # Steps resolve ARNs from their own stack; CloudFormation references stay in one stack and
    # region unless exported ("Referencing resources", AWS CDK developer guide).
    "https://docs.aws.amazon.com/cdk/v2/guide/resources.html",
    "synth",
)

TASK_MODEL_ID = Rule(
    "bedrock-task-model-id",
    "a Bedrock Task of the graph (aws-cdk-lib's BedrockInvokeModel, a CallAwsService to "
    "bedrockruntime) whose literal ModelId Bedrock does not serve: a cross-region profile id "
    "inside a foundation-model ARN (FoundationModelIdentifier('us.…')), an id without its "
    "version suffix, an unknown provider or geography",
    _GUIDE + "inference-profiles-use.html",
    "synth",
)

RULES: tuple[Rule, ...] = (
    MODEL_ID_SHAPE,
    MODEL_PROVIDER,
    MODEL_GEOGRAPHY,
    MODEL_VERSION,
    MODEL_ARN,
    MODEL_PROFILE_REGION,
    MODEL_FAMILY,
    STEP_STACK,
    TASK_MODEL_ID,
)

#: ``<provider>.<model>[:<version>...]``: lowercase provider, then the model name.
MODEL_ID = re.compile(r"^[a-z0-9-]+\.[a-z0-9][a-zA-Z0-9._:-]*$")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
# What follows a versionless id in a known one: an optional date stamp, then '-vN[:M]' or ':N'
# (and a provisioned-throughput ':<n>k' context suffix).
_VERSION_TAIL = re.compile(r"^(-\d{8})?(-v\d+(:\d+)?|:\d+)(:\d+k)?$")
_VERSION_AT_END = re.compile(r"(-v\d+(:\d+)?|:\d+)$")
# Anthropic's dated ids always carry a version ('anthropic.claude-3-haiku-20240307-v1:0').
_DATED_WITHOUT_VERSION = re.compile(r"^anthropic\.claude-.*-\d{8}$")
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")
_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):bedrock:(?P<region>[a-z0-9-]*):(?P<account>[^:]*):"
    r"(?P<kind>[a-z-]+)/(?P<id>[^/]*)$"
)
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_RESOURCE_ID = re.compile(r"^[a-zA-Z0-9]{1,64}$")


def _position_of_bad_character(text: str) -> str | None:
    match = _SPACE_OR_CONTROL.search(text)
    return None if match is None else f"{match.group()!r} at position {match.start()}"


def check_no_space(argument: str, value: str, rule: Rule = MODEL_ID_SHAPE) -> None:
    """Refuse whitespace and control characters anywhere in an id or ARN."""
    bad = _position_of_bad_character(value)
    rule.require(
        bad is None,
        argument,
        value,
        f"no whitespace or control characters (found {bad}); Bedrock ids and ARNs have none",
    )


def _nearest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_model_id(argument: str, model_id: Any) -> str:
    """A foundation model id: its shape, its provider, and its version suffix."""
    MODEL_ID_SHAPE.require(isinstance(model_id, str), argument, model_id, "a model id string")
    assert isinstance(model_id, str)
    check_no_space(argument, model_id)
    if model_id.startswith("arn:"):
        raise MODEL_ID_SHAPE.refuse(
            argument,
            model_id,
            "a model id, not an ARN: pass the part after 'foundation-model/' or "
            "'inference-profile/', or use BedrockModel.provisioned() / "
            "BedrockModel.application_profile() for those ARNs",
        )
    MODEL_ID_SHAPE.require(
        bool(MODEL_ID.match(model_id)),
        argument,
        model_id,
        "a Bedrock model id '<provider>.<model>' like 'anthropic.claude-haiku-4-5-20251001-v1:0'",
    )
    provider, _, rest = model_id.partition(".")
    if provider not in PROVIDERS:
        second = rest.partition(".")[0]
        if second in PROVIDERS and "." in rest:
            raise MODEL_GEOGRAPHY.refuse(
                argument,
                model_id,
                f"a geography prefix of {', '.join(sorted(DESTINATION_REGIONS))}"
                + _nearest(provider, DESTINATION_REGIONS),
            )
        raise MODEL_PROVIDER.refuse(
            argument,
            model_id,
            f"a model of a Bedrock provider: {', '.join(sorted(PROVIDERS))}"
            + _nearest(provider, PROVIDERS),
        )
    check_version_suffix(argument, model_id)
    return model_id


def check_version_suffix(argument: str, model_id: str) -> None:
    """Refuse an unknown id that is a known id without its date or version suffix."""
    if model_id in KNOWN_MODEL_IDS:
        return
    completions = sorted(
        (known for known in KNOWN_MODEL_IDS if known.startswith(model_id)),
        key=len,
    )
    completions = [c for c in completions if _VERSION_TAIL.match(c[len(model_id) :])]
    if completions:
        raise MODEL_VERSION.refuse(
            argument, model_id, f"the full model id with its version, e.g. {completions[0]!r}"
        )
    # A known model with a version it does not have ('...-20241022-v1:0' for '-v2:0').
    base = _VERSION_AT_END.sub("", model_id)
    if base != model_id:
        versions = sorted(
            known
            for known in KNOWN_MODEL_IDS
            if known.startswith(base)
            and _VERSION_TAIL.match(known[len(base) :])
            and not known.endswith("k")
        )
        MODEL_VERSION.require(
            not versions,
            argument,
            model_id,
            f"a version of this model that exists: {', '.join(map(repr, versions))}",
        )
    MODEL_VERSION.require(
        not _DATED_WITHOUT_VERSION.match(model_id),
        argument,
        model_id,
        f"the dated id with its version suffix, e.g. '{model_id}-v1:0'",
    )


def check_profile_id(argument: str, profile_id: Any) -> tuple[str, str]:
    """A system-defined profile id ``<geography>.<model id>``: its geography and its model."""
    MODEL_ID_SHAPE.require(isinstance(profile_id, str), argument, profile_id, "a profile id")
    assert isinstance(profile_id, str)
    check_no_space(argument, profile_id)
    geography, _, model_id = profile_id.partition(".")
    MODEL_GEOGRAPHY.require(
        geography in DESTINATION_REGIONS and "." in model_id,
        argument,
        profile_id,
        "'<geography>.<model id>' with a geography of "
        + ", ".join(sorted(DESTINATION_REGIONS))
        + _nearest(geography, DESTINATION_REGIONS),
    )
    check_model_id(argument, model_id)
    return geography, model_id


def _unresolved(value: Any) -> bool:
    """Whether ``value`` holds a CloudFormation token (aws-cdk-lib is imported on first use, so
    the graph rules of this module run in ``lambdaless inspect`` without it)."""
    import aws_cdk as cdk

    return bool(cdk.Token.is_unresolved(value))


def check_arn(argument: str, arn: Any, kind: str) -> None:
    """A ``provisioned-model`` or ``application-inference-profile`` ARN's form (tokens pass)."""
    if isinstance(arn, str) and _unresolved(arn):
        return  # e.g. CfnApplicationInferenceProfile.attr_inference_profile_arn
    example = f"an ARN like 'arn:aws:bedrock:us-east-1:123456789012:{kind}/abc123def456'"
    MODEL_ARN.require(isinstance(arn, str), argument, arn, example)
    assert isinstance(arn, str)
    check_no_space(argument, arn, MODEL_ARN)
    match = _ARN.match(arn)
    MODEL_ARN.require(match is not None and match["kind"] == kind, argument, arn, example)
    assert match is not None
    for part, ok, allowed in (
        ("partition", match["partition"] in _PARTITIONS, "one of " + ", ".join(_PARTITIONS)),
        ("region", bool(_REGION.match(match["region"])), "a region like 'us-east-1'"),
        ("account", bool(re.fullmatch(r"\d{12}", match["account"])), "12 digits"),
        ("resource id", bool(_RESOURCE_ID.match(match["id"])), "letters and digits"),
    ):
        MODEL_ARN.require(ok, argument, arn, f"{example}: its {part} must be {allowed}")


def check_arn_in_stack(
    argument: str, arn: str, *, partition: str, region: str, region_known: bool
) -> None:
    """A provisioned or application-profile ARN must be in the stack's partition and region:
    Bedrock runs them in the Region they were created in, and the stack's role and calls are
    in its own Region."""
    if _unresolved(arn) or not region_known:
        return
    match = _ARN.match(arn)
    if match is None:
        return
    if _unresolved(partition):
        partition = partition_of(region)
    MODEL_ARN.require(
        match["partition"] == partition,
        argument,
        arn,
        f"an ARN in the stack's partition {partition!r}",
    )
    MODEL_ARN.require(
        match["region"] == region,
        argument,
        arn,
        f"an ARN in the stack's region {region!r} (this one is in {match['region']!r}); "
        "create the resource in that region or deploy the stack there",
    )


def partition_of(region: str) -> str:
    """The partition of a region ("Partitions", AWS General Reference, aws-arns-and-namespaces)."""
    for prefix, partition in (
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-isof-", "aws-iso-f"),
    ):
        if region.startswith(prefix):
            return partition
    return "aws"


def check_profile_region(profile_id: str, geography: str, region: str) -> None:
    """A geographic profile is called from one of its geography's source regions."""
    allowed = DESTINATION_REGIONS.get(geography, ())
    MODEL_PROFILE_REGION.require(
        region in allowed,
        "profile_id",
        profile_id,
        f"a profile of the stack's geography: {geography}. profiles are called from "
        f"{', '.join(allowed)}, but the stack deploys to {region}",
    )


def check_family(family: Any, derived: Any, foundation_model_id: str | None) -> None:
    """``family=`` must agree with the family the foundation model id implies."""
    MODEL_FAMILY.require(
        family is None or derived is None or family is derived,
        "family",
        family,
        f"{derived} (the family of foundation_model_id={foundation_model_id!r}), or None",
    )


def check_steps_in_stack(workflow_env: Any, steps: Iterable[Any], *, where: str) -> None:
    """Every step of a Workflow was built in the Workflow's stack (same region and account)."""
    for step in steps:
        env = getattr(step, "stack_env", workflow_env)
        STEP_STACK.require(
            env is workflow_env,
            "step",
            getattr(step, "step_name", step),
            f"a step built in the stack of {where} (region {workflow_env.region}); this one was "
            f"built in another stack (region {env.region}): build it with a scope inside the "
            "Workflow's stack",
        )


# -- every Bedrock Task of a definition ----------------------------------------------------------
#: Integrations that take a ModelId: the optimized InvokeModel, and the AWS SDK runtime calls.
_MODEL_TASKS = (
    ":::bedrock:invokeModel",
    ":::aws-sdk:bedrockruntime:converse",
    ":::aws-sdk:bedrockruntime:converseStream",
    ":::aws-sdk:bedrockruntime:invokeModel",
)


def _task_model_problem(model: str) -> str | None:
    """Why Bedrock would refuse a literal ModelId (an id or a foundation-model or system
    inference-profile ARN), or ``None``; other ARNs (provisioned, custom, application
    profiles, prompts) are left to their owners."""
    kind, _, model_id = model.rpartition("/") if model.startswith("arn:") else ("", "", model)
    if kind and not kind.endswith((":foundation-model", ":inference-profile")):
        return None
    geography, _, rest = model_id.partition(".")
    profile = geography in DESTINATION_REGIONS and "." in rest
    if kind.endswith(":foundation-model") and profile:
        # "inference-profiles-use": a profile is called by its own ARN or id; the
        # foundation-model ARN of 'us.<model>' names no model.
        return (
            f"the profile's own ARN (arn:<partition>:bedrock:<region>:<account>:"
            f"inference-profile/{model_id}) or its id: {model_id!r} is a cross-region inference "
            "profile, not a foundation model (aws-cdk-lib's FoundationModelIdentifier builds a "
            "foundation-model ARN from any id; BedrockModel.cross_region_profile grants the "
            "profile and its models)"
        )
    try:
        if profile or kind.endswith(":inference-profile"):
            check_profile_id("ModelId", model_id)
        else:
            check_model_id("ModelId", model_id)
    except LambdalessError as error:
        # the inner rule's own "[rule ...; AWS: ...]" tag gives way to this rule's
        return (error.allowed or str(error)).split(" [rule ", 1)[0]
    return None


def check_machine(machine: Machine) -> list[Violation]:
    """``bedrock-task-model-id`` on every Bedrock Task whose ModelId is literal (``Arguments``
    in JSONata, ``Parameters`` in JSONPath; expressions and paths are read at run time)."""
    found: list[Violation] = []
    for _, name, state in iter_states(machine.definition):
        resource = str(state.get("Resource", ""))
        if state.get("Type") != "Task" or not resource.endswith(_MODEL_TASKS):
            continue
        field = "Arguments" if "Arguments" in state else "Parameters"
        request = state.get(field)
        model = request.get("ModelId") if isinstance(request, Mapping) else None
        if not isinstance(model, str) or model.strip().startswith("{%") or "${" in model[:4]:
            continue
        problem = _task_model_problem(model)
        if problem is not None:
            found.append(Violation(TASK_MODEL_ID, name, f"{field}.ModelId", model, problem))
    return found
