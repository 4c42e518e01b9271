"""Bedrock steps: ``InvokeBedrock`` (the optimized ``bedrock:invokeModel`` integration) and
``Converse`` (the ``aws-sdk:bedrockruntime:converse`` SDK integration).

Both return the uniform answer of :mod:`lambdaless.prompts`, extracted by the Task's own
``Output`` (no Pass state), and retry transient errors with :class:`RetryPolicy` presets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless._stack_env import StackEnv
from lambdaless.managed_prompts import BedrockPrompt, prompt_variables_argument
from lambdaless.models import BedrockModel, ModelLike
from lambdaless.output_schema import OutputSchemaLike, json_schema_of
from lambdaless.prompts import (
    Inference,
    answer_expression,
    check_text,
    converse_answer_expression,
    converse_arguments,
    converse_tool_config,
    is_expression,
    request_body,
)
from lambdaless.retry import (
    BEDROCK_PERMANENT_ERRORS,
    BEDROCK_TRANSIENT_ERRORS,
    CONVERSE_PERMANENT_ERRORS,
    CONVERSE_TRANSIENT_ERRORS,
    RetryPolicy,
)
from lambdaless.rules import prompt_management as prompt_rules
from lambdaless.rules.expressions import check_value
from lambdaless.rules.inference import check_for_model
from lambdaless.rules.performance import check_cache_system, check_performance
from lambdaless.rules.structured import check_structured_model
from lambdaless.steps._task import DirectTask, StepCapacity, check_variable_name

# AWS docs, "Invoke and customize Amazon Bedrock models with Step Functions".
INVOKE_MODEL_RESOURCE = "arn:{partition}:states:::bedrock:invokeModel"
# AWS SDK integrations: arn:aws:states:::aws-sdk:<service>:<action>; Bedrock checks
# bedrock:InvokeModel for Converse (AWS docs, "Carry out a conversation with the Converse API
# operations"), not the "bedrockruntime:converse" aws-cdk-lib's CallAwsService would derive.
CONVERSE_RESOURCE = "arn:{partition}:states:::aws-sdk:bedrockruntime:converse"
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
_GUARDRAIL = re.compile(
    r"^([a-z0-9]{12}|arn:aws(-[a-z]+)*:bedrock:[a-z0-9-]+:\d{12}:guardrail/[a-z0-9]{12})$"
)
_GUARDRAIL_VERSION = re.compile(r"^(DRAFT|[1-9][0-9]{0,7})$")


def _uniform_options(
    *, prompt: str | None, system: str | None, inference: Inference, assign_result_to: str | None
) -> None:
    if prompt is not None:
        check_text("prompt", prompt)
    if system is not None:
        check_text("system", system)
    require(
        isinstance(inference, Inference), "inference", inference, "a lambdaless.Inference value"
    )
    check_variable_name("assign_result_to", assign_result_to)


def _assign(assign_result_to: str | None, expression: Any) -> dict[str, Any] | None:
    return {assign_result_to: expression} if assign_result_to else None


#: What a structured answer that came without the answer tool's call fails with: a JSONata
#: ``$error`` in the Task's Output, which Step Functions reports as States.QueryEvaluationError
#: (its Cause starts with ``StructuredAnswerInvalid:``). Retry or catch it by this name.
STRUCTURED_ANSWER_ERRORS = ("States.QueryEvaluationError",)


class InvokeBedrock(DirectTask):
    """Invoke a Bedrock model directly, with its family's native body and a uniform answer.

    Output (unless ``output_s3_uri`` is set)::

        {"text": "...", "stopReason": "end_turn", "usage": {"inputTokens": 12, "outputTokens": 80}}

    With ``output_schema``, the answer also has ``json``, the object the model answered with.

    Errors are named ``Bedrock.<Exception>``; :attr:`TRANSIENT_ERRORS` are retried by default and
    :attr:`PERMANENT_ERRORS` are not: route them with ``add_catch(handler,
    errors=InvokeBedrock.PERMANENT_ERRORS)``; the handler receives ``{"Error", "Cause"}``. A
    structured answer without the answer tool's call fails with
    :attr:`STRUCTURED_ANSWER_ERRORS`.
    """

    TRANSIENT_ERRORS: ClassVar[list[str]] = list(BEDROCK_TRANSIENT_ERRORS)
    PERMANENT_ERRORS: ClassVar[list[str]] = list(BEDROCK_PERMANENT_ERRORS)
    STRUCTURED_ANSWER_ERRORS: ClassVar[list[str]] = list(STRUCTURED_ANSWER_ERRORS)

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: ModelLike,
        prompt: str | None = None,
        system: str | None = None,
        inference: Inference | None = None,
        output_schema: OutputSchemaLike | None = None,
        body: Mapping[str, Any] | str | None = None,
        input_s3_uri: str | None = None,
        output_s3_uri: str | None = None,
        s3_bucket: s3.IBucket | None = None,
        guardrail_id: str | None = None,
        guardrail_version: str | None = None,
        cache_system: bool = False,
        service_tier: str | None = None,
        latency: str | None = None,
        timeout: cdk.Duration | None = None,
        retry: Sequence[RetryPolicy] | None = None,
        assign_result_to: str | None = None,
        comment: str | None = None,
        capacity: StepCapacity | None = None,
    ) -> None:
        """
        Args:
            model: a :class:`BedrockModel`, or any id :meth:`BedrockModel.of` accepts.
            prompt: the user message: literal text or a JSONata expression ``"{% ... %}"`` over
                ``$states.input`` and variables. Required unless ``body`` or ``input_s3_uri``.
            system: an optional system prompt (literal or expression).
            inference: max tokens (default 1024), temperature, top-p and stop sequences; by
                default ``Inference()``.
            output_schema: make the model answer in this JSON Schema (a dict, or a dataclass,
                TypedDict or class with ``model_json_schema()``; its root is an object): the
                model is made to call one tool whose input schema it is, and the answer gains
                ``json``, that input. Anthropic Claude (3 and later) and Amazon Nova models,
                with ``prompt``; none by default.
            body: a raw request body (a dict, or one JSONata expression), sent as is: the escape
                hatch for models or options lambdaless does not model. The answer is then the raw
                ``Body`` unless the model's family is known.
            input_s3_uri: read the request body from S3 instead (for bodies over 256 KiB).
            output_s3_uri: write the response body to S3; the step's output is then
                ``{"outputS3Uri": ...}``.
            s3_bucket: the bucket of an S3 URI given as an expression, to scope IAM to it;
                literal ``s3://`` URIs are scoped to their exact object without it.
            guardrail_id: a guardrail id or ARN to apply; needs ``guardrail_version``.
            guardrail_version: ``DRAFT`` or a version number.
            cache_system: mark a prompt-cache checkpoint after ``system`` (Anthropic
                ``cache_control``, Nova ``cachePoint``), so calls sharing the system prompt read
                it from the cache; the answer's ``usage`` then reports ``cacheReadInputTokens``
                and ``cacheWriteInputTokens``. Default ``False``; refused for models without
                prompt caching (rule ``prompt-caching-model``).
            service_tier: refused here: the optimized integration cannot carry it (rule
                ``performance-integration``); use :class:`Converse`. Default ``None``.
            latency: refused here likewise; use :class:`Converse`. Default ``None``.
            timeout: the Task's TimeoutSeconds; by default none, so Bedrock's own
                ``ModelTimeoutException`` bounds a call.
            retry: retriers; by default ``RetryPolicy.bedrock_transient()`` and
                ``RetryPolicy.bedrock_model_timeout()``. Pass ``[]`` for none.
            assign_result_to: also store the uniform answer in this JSONata variable, for
                later states (``$name.text``).
            comment: the state's Comment.
            capacity: a :class:`~lambdaless.ModelCapacity` shared with every workflow calling
                the model: the step then stands for ``acquire -> call -> release`` (chain it as
                usual; see :class:`~lambdaless.CapacityGuard`), weighted by the prompt's
                reservation. None by default.
        """
        if isinstance(model, BedrockPrompt):
            raise prompt_rules.PROMPT_CONVERSE_ONLY.refuse(
                "model",
                model.arn,
                "a model: call a Prompt management prompt with Converse(model=BedrockPrompt"
                "(...), prompt_variables={...})",
            )
        bedrock_model = BedrockModel.of(model)
        bedrock_model.check_end_of_life(scope, "model", model)
        inference = inference if inference is not None else Inference()
        require(
            capacity is None or prompt is not None,
            "capacity",
            capacity,
            "None with body= or input_s3_uri= (the weight is the prompt's reservation: "
            "input + max_tokens)",
        )
        _uniform_options(
            prompt=prompt, system=system, inference=inference, assign_result_to=assign_result_to
        )
        sources = {"prompt": prompt, "body": body, "input_s3_uri": input_s3_uri}
        given = {name: value for name, value in sources.items() if value is not None}
        if len(given) != 1:
            raise invalid("prompt/body/input_s3_uri", given, "exactly one of the three")
        if system is not None and prompt is None:
            raise invalid("system", system, "None unless prompt is given (body is sent as is)")
        check_performance(
            bedrock_model.foundation_model_id,
            service_tier=service_tier,
            latency=latency,
            region=None,
            converse=False,
        )
        if cache_system is not False and prompt is None:
            raise invalid("cache_system", cache_system, "False unless prompt is given")
        check_cache_system(
            bedrock_model.foundation_model_id, cache_system=cache_system, system=system
        )
        family = bedrock_model.family
        if prompt is not None and family is None:
            raise invalid(
                "model",
                bedrock_model.identifier,
                "a model of a known family (Anthropic, Amazon Nova, Amazon Titan Text, Meta Llama"
                " 3, Mistral, Cohere Command R, AI21 Jamba, OpenAI gpt-oss) - or pass body=",
            )
        if (guardrail_id is None) != (guardrail_version is None):
            raise invalid(
                "guardrail_id/guardrail_version",
                (guardrail_id, guardrail_version),
                "both or neither",
            )
        if guardrail_id is not None:
            require(
                isinstance(guardrail_id, str) and bool(_GUARDRAIL.match(guardrail_id)),
                "guardrail_id",
                guardrail_id,
                "a 12-character guardrail id or a guardrail ARN",
            )
            require(
                isinstance(guardrail_version, str)
                and bool(_GUARDRAIL_VERSION.match(guardrail_version)),
                "guardrail_version",
                guardrail_version,
                "'DRAFT' or a version number like '1'",
            )

        schema = None
        if output_schema is not None:
            if prompt is None or output_s3_uri is not None:
                raise invalid(
                    "output_schema",
                    output_schema,
                    "None unless prompt is given and output_s3_uri is not (the answer is read "
                    "from the response body lambdaless builds)",
                )
            schema = json_schema_of("output_schema", output_schema)
            check_structured_model(
                "model",
                family.value if family is not None else None,
                bedrock_model.foundation_model_id,
                converse=False,
            )
        arguments: dict[str, Any] = {"ModelId": bedrock_model.invoke_arn(scope)}
        if prompt is not None:
            assert family is not None
            check_for_model(bedrock_model.foundation_model_id, inference, converse=False)
            arguments["Body"] = request_body(
                family,
                prompt=prompt,
                system=system,
                inference=inference,
                output_schema=schema,
                cache_system=cache_system,
            )
        elif body is not None:
            require(
                isinstance(body, Mapping) or is_expression(body),
                "body",
                body,
                "a dict, or a JSONata expression '{% ... %}'",
            )
            check_value("body", body)
            arguments["Body"] = dict(body) if isinstance(body, Mapping) else body
        statements = bedrock_model.policy_statements(scope)
        if input_s3_uri is not None:
            arguments["Input"] = {"S3Uri": input_s3_uri}
            statements.append(
                _s3_statement(scope, "input_s3_uri", input_s3_uri, s3_bucket, "s3:GetObject")
            )
        if output_s3_uri is not None:
            arguments["Output"] = {"S3Uri": output_s3_uri}
            statements.append(
                _s3_statement(scope, "output_s3_uri", output_s3_uri, s3_bucket, "s3:PutObject")
            )
        if guardrail_id is not None:
            arguments["GuardrailIdentifier"] = guardrail_id
            arguments["GuardrailVersion"] = guardrail_version
            statements.append(
                StackEnv.of(scope).statement(
                    ["bedrock:ApplyGuardrail"], [_guardrail_arn(scope, guardrail_id)]
                )
            )

        output: dict[str, str] | str
        if output_s3_uri is not None:
            output = {"outputS3Uri": output_s3_uri}
        elif family is not None:
            output = answer_expression(family, structured=schema is not None, cache=cache_system)
        else:
            output = "{% $states.result.Body %}"
        self.model = bedrock_model
        #: the JSON Schema the answer's ``json`` follows (None without ``output_schema``)
        self.output_schema: dict[str, Any] | None = schema
        #: the request's max_tokens (what Bedrock reserves beside the input); None for body=
        #: and input_s3_uri=, whose request lambdaless does not read.
        self.max_tokens: int | None = inference.max_tokens if prompt is not None else None
        super().__init__(
            scope,
            id,
            resource=INVOKE_MODEL_RESOURCE.format(partition=StackEnv.of(scope).partition),
            arguments=arguments,
            output=output,
            policy_statements=statements,
            retries=(
                retry
                if retry is not None
                else [RetryPolicy.bedrock_transient(), RetryPolicy.bedrock_model_timeout()]
            ),
            timeout=timeout,
            # the variable holds what the step outputs (``{"outputS3Uri"}`` with output_s3_uri)
            assign=_assign(assign_result_to, output),
            comment=comment,
            capacity=capacity,
        )


class Converse(DirectTask):
    """Call any Bedrock chat model through the Converse API, with the uniform answer.

    With ``output_schema``, the answer also has ``json``, the object the model answered with.
    ``model`` may also be a Prompt management prompt (:class:`BedrockPrompt`), whose variables
    ``prompt_variables`` fills.

    Errors are named ``BedrockRuntime.<Exception>`` (the SDK integration's naming);
    :attr:`TRANSIENT_ERRORS` are retried by default, :attr:`PERMANENT_ERRORS` are not. A
    structured answer without the answer tool's call fails with
    :attr:`STRUCTURED_ANSWER_ERRORS`.
    """

    TRANSIENT_ERRORS: ClassVar[list[str]] = list(CONVERSE_TRANSIENT_ERRORS)
    PERMANENT_ERRORS: ClassVar[list[str]] = list(CONVERSE_PERMANENT_ERRORS)
    STRUCTURED_ANSWER_ERRORS: ClassVar[list[str]] = list(STRUCTURED_ANSWER_ERRORS)

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: ModelLike | BedrockPrompt,
        prompt: str | None = None,
        system: str | None = None,
        inference: Inference | None = None,
        output_schema: OutputSchemaLike | None = None,
        prompt_variables: Mapping[str, str] | None = None,
        cache_system: bool = False,
        service_tier: str | None = None,
        latency: str | None = None,
        timeout: cdk.Duration | None = None,
        retry: Sequence[RetryPolicy] | None = None,
        assign_result_to: str | None = None,
        comment: str | None = None,
        capacity: StepCapacity | None = None,
    ) -> None:
        """
        Args:
            model: a :class:`BedrockModel` or id; any family Converse supports, known or not.
                Or a :class:`BedrockPrompt` of Prompt management: its ARN is the ``ModelId``,
                and the prompt defines the messages, system prompt and inference settings.
            prompt: the user message (literal text or ``"{% ... %}"``). Required with a model;
                with a managed prompt, optional and appended after the prompt's own messages.
            system: an optional system prompt; refused with a managed prompt.
            inference: max tokens (default 1024), temperature, top-p and stop sequences;
                refused with a managed prompt (its own inference configuration applies).
            output_schema: make the model answer in this JSON Schema (a dict, or a dataclass,
                TypedDict or class with ``model_json_schema()``; its root is an object) through
                a forced call of one tool (``ToolConfig``); the answer gains ``json``. Anthropic
                Claude and Amazon Nova models; none by default; refused with a managed prompt.
            prompt_variables: with a managed prompt, its ``{{variable}}`` values by name, each
                literal text or a JSONata expression; by default none.
            cache_system: put a ``CachePoint`` block after ``system`` (default ``False``);
                ``usage`` then reports the cache tokens. Refused for models without prompt
                caching (rule ``prompt-caching-model``).
            service_tier: ``"priority"``, ``"default"`` or ``"flex"`` (Converse
                ``serviceTier``); by default none is sent and Bedrock uses Standard. Refused for
                models AWS does not list for Priority and Flex (rule ``service-tier-model``).
            latency: ``"standard"`` or ``"optimized"`` (Converse ``performanceConfig``); by
                default none is sent (standard). ``"optimized"`` is refused for models and
                Regions AWS does not list (rule ``latency-optimized-model``).
            timeout: the Task's TimeoutSeconds; none by default.
            retry: retriers; by default ``RetryPolicy.converse_transient()`` and
                ``RetryPolicy.converse_model_timeout()``. Pass ``[]`` for none.
            assign_result_to: also store the uniform answer in this JSONata variable.
            comment: the state's Comment.
            capacity: a :class:`~lambdaless.ModelCapacity`: acquire before the call, release
                after it (as ``InvokeBedrock``'s). None by default.
        """
        managed: BedrockPrompt | None = None
        if isinstance(model, BedrockPrompt):
            # API_runtime_Converse: with a prompt ARN, "you can't include ...
            # additionalModelRequestFields, inferenceConfig, system, or toolConfig"
            # (output_schema is a toolConfig).
            prompt_rules.check_request_fields(
                {"system": system, "inference": inference, "output_schema": output_schema}
            )
            managed = model
            bedrock_model = model.model
        else:
            bedrock_model = BedrockModel.of(model)
            require(prompt is not None, "prompt", prompt, "text or a JSONata expression")
        bedrock_model.check_end_of_life(scope, "model", model)
        variables = prompt_rules.check_prompt_variables(
            "prompt_variables",
            prompt_variables,
            managed=managed is not None,
            declared=managed.variables if managed is not None else None,
            check_text=check_text,
        )
        resolved = inference if inference is not None else Inference()
        _uniform_options(
            prompt=prompt, system=system, inference=resolved, assign_result_to=assign_result_to
        )
        check_cache_system(
            bedrock_model.foundation_model_id, cache_system=cache_system, system=system
        )
        env = StackEnv.of(scope)
        check_performance(
            bedrock_model.foundation_model_id,
            service_tier=service_tier,
            latency=latency,
            region=env.region if env.region_known else None,
            converse=True,
        )
        schema = None
        arguments: dict[str, Any]
        if managed is not None:
            arguments = {"ModelId": managed.arn}
            if prompt is not None:  # appended after the prompt's own messages
                arguments["Messages"] = [{"Role": "user", "Content": [{"Text": prompt}]}]
            if variables:
                arguments["PromptVariables"] = prompt_variables_argument(variables)
            # serviceTier and performanceConfig are not among the fields Converse refuses
            # beside a prompt ARN (API_runtime_Converse)
            if service_tier is not None:
                arguments["ServiceTier"] = {"Type": service_tier}
            if latency is not None:
                arguments["PerformanceConfig"] = {"Latency": latency}
            statements = managed.policy_statements(scope)
        else:
            assert prompt is not None
            check_for_model(
                bedrock_model.foundation_model_id, resolved, converse=True, system=system
            )
            if output_schema is not None:
                schema = json_schema_of("output_schema", output_schema)
                check_structured_model(
                    "model",
                    bedrock_model.family.value if bedrock_model.family is not None else None,
                    bedrock_model.foundation_model_id,
                    converse=True,
                )
            arguments = {
                "ModelId": bedrock_model.invoke_arn(scope),
                **converse_arguments(
                    prompt=prompt,
                    system=system,
                    inference=resolved,
                    cache_system=cache_system,
                    service_tier=service_tier,
                    latency=latency,
                ),
                **({"ToolConfig": converse_tool_config(schema)} if schema is not None else {}),
            }
            statements = bedrock_model.policy_statements(scope)
        output = converse_answer_expression(structured=schema is not None, cache=cache_system)
        self.model = bedrock_model
        #: the Prompt management prompt this step calls, if any.
        self.managed_prompt: BedrockPrompt | None = managed
        #: the JSON Schema the answer's ``json`` follows (None without ``output_schema``)
        self.output_schema: dict[str, Any] | None = schema
        #: the request's maxTokens (what Bedrock reserves beside the input); a managed prompt's
        #: when it is known, else None.
        self.max_tokens: int | None = (
            managed.max_tokens if managed is not None else resolved.max_tokens
        )
        super().__init__(
            scope,
            id,
            resource=CONVERSE_RESOURCE.format(partition=StackEnv.of(scope).partition),
            arguments=arguments,
            output=output,
            policy_statements=statements,
            retries=(
                retry
                if retry is not None
                else [RetryPolicy.converse_transient(), RetryPolicy.converse_model_timeout()]
            ),
            timeout=timeout,
            assign=_assign(assign_result_to, output),
            comment=comment,
            capacity=capacity,
        )


def _s3_statement(
    scope: Construct, argument: str, uri: str, bucket: s3.IBucket | None, action: str
) -> iam.PolicyStatement:
    """``action`` on the exact object of a literal URI, or on ``bucket``'s objects."""
    match = _S3_URI.match(uri) if isinstance(uri, str) else None
    env = StackEnv.of(scope)
    if match:
        return env.statement(
            [action], [f"arn:{env.partition}:s3:::{match['bucket']}/{match['key']}"]
        )
    if is_expression(uri) and bucket is not None:
        return env.statement([action], [bucket.arn_for_objects("*")])
    raise invalid(
        argument,
        uri,
        "'s3://bucket/key', or a JSONata expression together with s3_bucket= to scope IAM",
    )


def _guardrail_arn(scope: Construct, guardrail_id: str) -> str:
    if guardrail_id.startswith("arn:"):
        return guardrail_id
    return StackEnv.of(scope).arn("bedrock", f"guardrail/{guardrail_id}")
