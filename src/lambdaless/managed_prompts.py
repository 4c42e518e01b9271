"""Prompts of Amazon Bedrock Prompt Management, invoked by the ``Converse`` step.

A :class:`BedrockPrompt` is a prompt ARN (optionally one of its versions) together with the
model its variant runs, so that the step's role can be granted exactly what the call needs.

AWS docs:

* Converse takes "the ARN of the prompt version" as ``modelId`` and fills the prompt's
  variables from ``promptVariables``; with a prompt it refuses ``additionalModelRequestFields``,
  ``inferenceConfig``, ``system`` and ``toolConfig`` ("these fields must be defined through
  Prompt management"), and appends ``messages`` after the prompt's own messages
  (Bedrock API reference, "Converse", API_runtime_Converse; Bedrock user guide,
  "prompt-management-test").
* The caller needs ``bedrock:RenderPrompt`` on the prompt resource (API_runtime_Converse,
  example "Run inference on a prompt resource from Prompt management"; "inference-prereq").
* Prompt ARNs: ``arn:<partition>:bedrock:<region>:<account>:prompt/<10 letters or digits>``,
  a version ``:<1 to 5 digits>`` after it (Bedrock API reference, PromptSummary.arn).
  Versions are numbered from 1; the unversioned ARN is the working draft, and production calls
  a version ("prompt-management-deploy").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from lambdaless._stack_env import StackEnv
from lambdaless.models import INVOKE_MODEL, BedrockModel, ModelLike
from lambdaless.rules import prompt_management as rules

RENDER_PROMPT = "bedrock:RenderPrompt"


@dataclass(frozen=True)
class BedrockPrompt:
    """A prompt of Bedrock Prompt Management, as what a ``Converse`` step invokes.

    Build one with :meth:`from_arn` or :meth:`from_cfn`.

    Attributes:
        arn: the ARN the step passes as ``ModelId`` (the version's ARN when a version is given).
        model: the model the prompt's variant runs: granted like a step's own model.
        variables: the prompt's input variables when known (from a ``CfnPrompt``), else ``None``.
        max_tokens: the prompt's ``maxTokens`` when known, else ``None``.
    """

    arn: str
    model: BedrockModel
    variables: tuple[str, ...] | None = None
    max_tokens: int | None = None

    @classmethod
    def from_arn(
        cls,
        arn: str,
        *,
        model: ModelLike,
        version: str | int | None = None,
        variables: Sequence[str] | None = None,
    ) -> BedrockPrompt:
        """A prompt by its ARN.

        Args:
            arn: ``arn:aws:bedrock:<region>:<account>:prompt/<id>``, with or without a version
                suffix ``:<n>`` (a token works).
            model: the model (or inference profile) the prompt's variant runs, as any
                :meth:`BedrockModel.of` accepts: the role must be allowed to invoke it.
            version: a version number (``"3"`` or ``3``) appended to ``arn``; by default none,
                so ``arn`` is called as given (without a version suffix, the working draft).
            variables: the prompt's ``{{variable}}`` names, checked against the step's
                ``prompt_variables``; by default unknown, so not checked.
        """
        rules.check_prompt_arn("arn", arn)
        if version is not None:
            version = rules.check_prompt_version("version", version, arn)
            arn = f"{arn}:{version}"
        return cls(arn, BedrockModel.of(model), rules.check_variable_names("variables", variables))

    @classmethod
    def from_cfn(
        cls,
        prompt: bedrock.CfnPrompt | bedrock.CfnPromptVersion,
        *,
        model: ModelLike | None = None,
        variables: Sequence[str] | None = None,
    ) -> BedrockPrompt:
        """aws-cdk-lib's ``aws_bedrock.CfnPrompt`` (its draft) or ``CfnPromptVersion``.

        The model, the variables and ``maxTokens`` are read from the default variant (or the
        only one) of the ``CfnPrompt`` (a version's prompt when it is a ``CfnPrompt`` of the same
        stack), when they are literal.

        Args:
            prompt: the prompt or prompt version construct.
            model: the model the variant runs; required when it cannot be read.
            variables: the prompt's variable names; by default read from the variant.
        """
        if isinstance(prompt, bedrock.CfnPromptVersion):
            source = _prompt_of_version(prompt)
        elif isinstance(prompt, bedrock.CfnPrompt):
            source = prompt
        else:
            raise rules.PROMPT_ARN.refuse(
                "prompt",
                prompt,
                "an aws_bedrock.CfnPrompt or CfnPromptVersion",
                wrong_type=True,
            )
        variant = _default_variant(source) if source is not None else None
        read_model = _field(variant, "model_id", "modelId")
        if model is None:
            rules.PROMPT_MODEL.require(
                isinstance(read_model, str) and not cdk.Token.is_unresolved(read_model),
                "model",
                model,
                "the model or inference profile the prompt's variant runs (the variant names "
                "none that can be read at synth): its invoke permissions must be granted",
            )
            model = _model_of_variant(str(read_model))
        if variables is None:
            variables = _variables_of(variant)
        return cls(
            prompt.attr_arn,
            BedrockModel.of(model),
            rules.check_variable_names("variables", variables),
            _max_tokens_of(variant),
        )

    def policy_statements(self, scope: IConstruct) -> list[iam.PolicyStatement]:
        """``bedrock:RenderPrompt`` on the prompt, and the model's invoke statements.

        ``bedrock:InvokeModel`` is granted on the prompt ARN too: Converse "requires permission
        for the bedrock:InvokeModel action" on its ``modelId`` (API_runtime_Converse).
        """
        env = StackEnv.of(scope)
        rules.check_prompt_in_stack(self.arn, env)
        return [
            env.statement([INVOKE_MODEL, RENDER_PROMPT], [self.arn]),
            *self.model.policy_statements(scope),
        ]


def _field(value: Any, python_name: str, json_name: str) -> Any:
    """A property of an L1 struct, given as the struct or as a dict."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value.get(json_name, value.get(python_name))
    return getattr(value, python_name, None)


def _prompt_of_version(version: bedrock.CfnPromptVersion) -> bedrock.CfnPrompt | None:
    """The ``CfnPrompt`` of the same stack whose ARN the version was created from."""
    stack = cdk.Stack.of(version)
    for child in stack.node.find_all():
        if isinstance(child, bedrock.CfnPrompt) and child.attr_arn == version.prompt_arn:
            return child
    return None


def _default_variant(prompt: bedrock.CfnPrompt) -> Any:
    variants = prompt.variants
    if not isinstance(variants, list) or not variants:
        return None
    default = prompt.default_variant
    named = [v for v in variants if _field(v, "name", "name") == default]
    if named:
        return named[0]
    return variants[0] if len(variants) == 1 else None


def _model_of_variant(model_id: str) -> BedrockModel:
    """A variant's ``modelId``: a model or profile id, or a model ARN."""
    if model_id.startswith("arn:") and ":application-inference-profile/" not in model_id:
        return BedrockModel._of_model_arn(model_id)
    return BedrockModel.of(model_id)


def _variables_of(variant: Any) -> tuple[str, ...] | None:
    template = _field(variant, "template_configuration", "templateConfiguration")
    for kind in ("text", "chat"):
        config = _field(template, kind, kind)
        inputs = _field(config, "input_variables", "inputVariables")
        if isinstance(inputs, list):
            names = [_field(v, "name", "name") for v in inputs]
            if all(isinstance(n, str) and not cdk.Token.is_unresolved(n) for n in names):
                return tuple(str(n) for n in names)
    return None


def _max_tokens_of(variant: Any) -> int | None:
    inference = _field(variant, "inference_configuration", "inferenceConfiguration")
    text = _field(inference, "text", "text")
    tokens = _field(text, "max_tokens", "maxTokens")
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None


def prompt_variables_argument(values: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Converse's ``PromptVariables``: each name to ``{"Text": value}`` (the SDK integration's
    PascalCase member of ``PromptVariableValues``; the names are the prompt's own)."""
    return {name: {"Text": value} for name, value in values.items()}
