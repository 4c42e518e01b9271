"""Rules about prompts of Bedrock Prompt Management invoked by a step."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import aws_cdk as cdk

from lambdaless.rules._rule import Rule

_API = "https://docs.aws.amazon.com/bedrock/latest/APIReference/"
_GUIDE = "https://docs.aws.amazon.com/bedrock/latest/userguide/"

PROMPT_ARN = Rule(
    "prompt-arn",
    "a managed prompt that is not a prompt ARN (arn:<partition>:bedrock:<region>:<account>:"
    "prompt/<10 letters or digits>, optionally ':<version>'), a version outside 1-99999 or given "
    "twice, or a prompt in another partition or region than the stack",
    # PromptSummary.arn: the prompt ARN pattern with its optional version suffix.
    _API + "API_agent_PromptSummary.html",
    "construct",
)
PROMPT_MODEL = Rule(
    "prompt-model",
    "a managed prompt whose model cannot be known (an ARN without model=, a variant whose "
    "modelId is not literal): the role must be allowed to invoke the model the prompt runs",
    # "bedrock:InvokeModel - Required to carry out model invocation"; "bedrock:RenderPrompt".
    _GUIDE + "inference-prereq.html",
    "construct",
)
PROMPT_REQUEST_FIELDS = Rule(
    "prompt-request-fields",
    "a managed prompt called with system=, inference=, output_schema= (a tool) or another field "
    "Converse refuses beside a prompt ARN (additionalModelRequestFields, inferenceConfig, "
    "system, toolConfig: 'these fields must be defined through Prompt management')",
    _API + "API_runtime_Converse.html",
    "construct",
)
PROMPT_VARIABLES = Rule(
    "prompt-variables",
    "prompt_variables without a managed prompt, a variable name Prompt management cannot have, "
    "a value that is not text, or names that differ from the prompt's own variables",
    # Converse: promptVariables "Contains a map of variables in a prompt from Prompt
    # management"; PromptInputVariable.name: ([0-9a-zA-Z][_-]?){1,100}.
    _API + "API_runtime_Converse.html",
    "construct",
)
PROMPT_CONVERSE_ONLY = Rule(
    "prompt-converse-only",
    "a managed prompt given to InvokeBedrock: the optimized bedrock:invokeModel integration "
    "documents no field that fills a prompt's variables (Converse's promptVariables does); "
    "use Converse",
    "https://docs.aws.amazon.com/step-functions/latest/dg/connect-bedrock.html",
    "construct",
)

RULES: tuple[Rule, ...] = (
    PROMPT_ARN,
    PROMPT_MODEL,
    PROMPT_REQUEST_FIELDS,
    PROMPT_VARIABLES,
    PROMPT_CONVERSE_ONLY,
)

_PARTITION = r"aws(-cn|-us-gov|-eusc|-iso(-[b-f])?)?"
_PROMPT_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):bedrock:(?P<region>[a-z0-9-]{{1,20}}):"
    r"(?P<account>[0-9]{12}):prompt/(?P<id>[0-9a-zA-Z]{10})(:(?P<version>[0-9]{1,5}))?$"
)
_VERSION = re.compile(r"^[0-9]{1,5}$")
VARIABLE_NAME = re.compile(r"^([0-9a-zA-Z][_-]?){1,100}$")
_EXAMPLE = "a prompt ARN like 'arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT1234'"


class _Env(Protocol):
    """What the stack check reads of a ``StackEnv``."""

    @property
    def partition(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def region_known(self) -> bool: ...


def check_prompt_arn(argument: str, arn: Any) -> None:
    """A prompt ARN, with or without a version suffix (tokens pass)."""
    if isinstance(arn, str) and cdk.Token.is_unresolved(arn):
        return
    PROMPT_ARN.require(
        isinstance(arn, str) and bool(_PROMPT_ARN.match(arn)), argument, arn, _EXAMPLE
    )
    version = _PROMPT_ARN.match(arn)["version"]  # type: ignore[index]
    PROMPT_ARN.require(
        version is None or int(version) >= 1,
        argument,
        arn,
        "a version from 1 (versions are numbered from 1; the unversioned ARN is the draft)",
    )


def check_prompt_version(argument: str, version: Any, arn: str) -> str:
    """A version number 1-99999 for an ARN that has none yet; the version as text."""
    text = str(version) if isinstance(version, int) and not isinstance(version, bool) else version
    PROMPT_ARN.require(
        isinstance(text, str) and bool(_VERSION.match(text)) and int(text) >= 1,
        argument,
        version,
        "a version number from 1 to 99999, like '3' (versions are numbered from 1)",
    )
    match = _PROMPT_ARN.match(arn) if not cdk.Token.is_unresolved(arn) else None
    PROMPT_ARN.require(
        match is None or match["version"] is None,
        argument,
        version,
        f"None: arn already names version {match['version'] if match else ''}",
    )
    return str(text)


def check_prompt_in_stack(arn: str, env: _Env) -> None:
    """The prompt is called in the stack's partition and region (Converse runs in the region
    of its endpoint; a prompt ARN names its own)."""
    match = _PROMPT_ARN.match(arn) if not cdk.Token.is_unresolved(arn) else None
    if match is None or not env.region_known or cdk.Token.is_unresolved(env.region):
        return
    PROMPT_ARN.require(
        match["region"] == env.region,
        "arn",
        arn,
        f"a prompt in the stack's region {env.region!r} (this one is in {match['region']!r})",
    )
    if not cdk.Token.is_unresolved(env.partition):
        PROMPT_ARN.require(
            match["partition"] == env.partition,
            "arn",
            arn,
            f"a prompt in the stack's partition {env.partition!r}",
        )


def check_variable_names(argument: str, names: Sequence[str] | None) -> tuple[str, ...] | None:
    """Prompt variable names as Prompt management allows them, or ``None`` (unknown)."""
    if names is None:
        return None
    PROMPT_VARIABLES.require(
        isinstance(names, list | tuple)
        and all(isinstance(n, str) and bool(VARIABLE_NAME.match(n)) for n in names),
        argument,
        names,
        "a list of variable names of letters and digits, single '_' or '-' between them "
        "(PromptInputVariable.name)",
    )
    return tuple(names)


def check_prompt_variables(
    argument: str,
    values: Mapping[str, Any] | None,
    *,
    managed: bool,
    declared: Iterable[str] | None,
    check_text: Any,
) -> dict[str, Any]:
    """``prompt_variables``: only with a managed prompt; each name valid, each value text (a
    literal or a JSONata expression); the prompt's own names when they are known."""
    if values is None:
        values = {}
    PROMPT_VARIABLES.require(
        isinstance(values, Mapping), argument, values, "a dict of variable name to text"
    )
    PROMPT_VARIABLES.require(
        managed or not values,
        argument,
        values,
        "None unless model= is a BedrockPrompt (promptVariables fill a Prompt management "
        "prompt's variables)",
    )
    check_variable_names(argument, list(values))
    for name, value in values.items():
        PROMPT_VARIABLES.require(
            isinstance(value, str),
            f"{argument}[{name!r}]",
            value,
            "text: a literal or a JSONata expression '{% ... %}'",
        )
        check_text(f"{argument}[{name!r}]", value)
    if declared is not None:
        wanted, given = set(declared), set(values)
        PROMPT_VARIABLES.require(
            wanted == given,
            argument,
            dict(values),
            f"exactly the prompt's variables {sorted(wanted)} "
            f"(missing {sorted(wanted - given)}, unknown {sorted(given - wanted)})",
        )
    return dict(values)


def check_request_fields(given: Mapping[str, Any]) -> None:
    """No field Converse refuses beside a prompt ARN: each given one is named."""
    for argument, value in given.items():
        if value is not None:
            raise PROMPT_REQUEST_FIELDS.refuse(
                argument,
                value,
                "None with a managed prompt: Converse refuses additionalModelRequestFields, "
                "inferenceConfig, system and toolConfig beside a prompt ARN, which Prompt "
                "management defines",
            )
