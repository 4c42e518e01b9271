"""``PromptChain``: ordered prompts, each able to use the earlier answers by name.

Each prompt is one Task state that stores its uniform answer in a JSONata variable named after
the prompt (``Assign``), so a later prompt writes ``$outline.text`` (or, for a prompt with an
``output_schema``, ``$outline.json.sections``). There is no Pass state
between the steps: a chain of *n* prompts costs *n* state transitions (plus retries).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdaless._errors import at_path, invalid, require
from lambdaless.models import BedrockModel, ModelLike
from lambdaless.output_schema import OutputSchemaLike
from lambdaless.patterns.capacity import ModelCapacity
from lambdaless.prompts import Inference, check_text, is_expression
from lambdaless.retry import RetryPolicy
from lambdaless.steps._task import DirectTask, check_variable_name
from lambdaless.steps.bedrock import Converse, InvokeBedrock

_VARIABLE_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class ChainPrompt:
    """One prompt of a :class:`PromptChain`.

    Args:
        name: the answer's variable name (``$<name>.text`` in later prompts) and, capitalized,
            the Task state's name.
        prompt: literal text or a JSONata expression ``"{% ... %}"`` over ``$states.input``
            and the answers of earlier prompts.
        model: the model of this step; by default the chain's ``model``.
        system: a system prompt; by default the chain's ``system`` (none if that is unset).
        inference: inference parameters; by default the chain's ``inference``.
        converse: call the Converse API instead of InvokeModel (for a model lambdaless has no
            native body for); by default only when the model's family is unknown.
        output_schema: make this prompt's answer a JSON object in this schema (see
            ``InvokeBedrock``), read by later prompts as ``$<name>.json``; none by default.
    """

    name: str
    prompt: str
    model: ModelLike | None = None
    system: str | None = None
    inference: Inference | None = None
    converse: bool | None = None
    output_schema: OutputSchemaLike | None = None

    def __post_init__(self) -> None:
        require(isinstance(self.name, str), "name", self.name, "a variable name")
        check_variable_name("name", self.name)
        check_text("prompt", self.prompt)


class PromptChain(sfn.StateMachineFragment):
    """Run prompts in order; each answer is kept in a variable for the prompts after it.

    The fragment's output is the last prompt's uniform answer
    (``{"text", "stopReason", "usage"}``, plus ``json`` with an ``output_schema``); every answer
    stays readable as ``$<name>`` in later states of the workflow.

    With ``capacity=`` each step acquires its weight of a shared
    :class:`~lambdaless.ModelCapacity` before its call and releases it after, on every path
    (``steps[i].add_catch`` routes through a release too).

    Attributes:
        steps: the Task state of each prompt, in order (to add catches).
    """

    @at_path
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prompts: Sequence[ChainPrompt],
        model: ModelLike | None = None,
        system: str | None = None,
        inference: Inference | None = None,
        retry: Sequence[RetryPolicy] | None = None,
        timeout: cdk.Duration | None = None,
        capacity: ModelCapacity | None = None,
        cache_system: bool = False,
    ) -> None:
        """
        Args:
            prompts: the prompts, in order; at least one, with unique names.
            model: the default model of the steps; required unless every prompt has one.
            system: the default system prompt; none by default.
            cache_system: mark a prompt-cache checkpoint after the system prompt of every step
                (default ``False``), so the prompts of one model share one cached system prompt
                (the cache is per model: prompts on another model write their own). Needs a
                system prompt on every step and models with prompt caching (rule
                ``prompt-caching-model``; the error names the step's path).
            inference: the default inference parameters; ``Inference()`` by default.
            retry: retriers of every step; by default each step's own (transient errors and
                model timeouts of InvokeModel or Converse).
            timeout: TimeoutSeconds of every step; none by default.
            capacity: a :class:`~lambdaless.ModelCapacity` every step acquires before its call
                and releases after it (each weighted by its own ``max_tokens``; two more
                transitions and DynamoDB writes per step, plus one of each per wait); every
                step must call the capacity's model. None by default.
        """
        super().__init__(scope, id)
        require(
            capacity is None or isinstance(capacity, ModelCapacity),
            "capacity",
            capacity,
            "None or a ModelCapacity",
        )
        if system is not None:
            check_text("system", system)
        prompts = list(prompts)
        require(
            len(prompts) > 0 and all(isinstance(p, ChainPrompt) for p in prompts),
            "prompts",
            prompts,
            "at least one ChainPrompt",
        )
        names = [p.name for p in prompts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        require(not duplicates, "prompts", duplicates, "unique prompt names")
        for index, item in enumerate(prompts):
            later = set(names[index:])
            referenced = _references(item.prompt) | _references(item.system or system or "")
            forward = sorted(referenced & later)
            if forward:
                raise invalid(
                    f"prompts[{index}].prompt",
                    item.prompt,
                    f"references to earlier answers only; {', '.join('$' + n for n in forward)} "
                    f"is not answered before prompt {item.name!r}",
                )
            if item.model is None and model is None:
                raise invalid(
                    f"prompts[{index}].model", None, "a model, or a default model= for the chain"
                )
        require(isinstance(cache_system, bool), "cache_system", cache_system, "True or False")

        self.steps: list[DirectTask] = []
        for item in prompts:
            step_model = BedrockModel.of(item.model if item.model is not None else model)  # type: ignore[arg-type]
            use_converse = item.converse if item.converse is not None else step_model.family is None
            step_id = item.name[:1].upper() + item.name[1:]
            step_system = item.system if item.system is not None else system
            step_inference = item.inference or inference
            step_class: type[InvokeBedrock | Converse] = Converse if use_converse else InvokeBedrock
            step: DirectTask = step_class(
                self,
                step_id,
                model=step_model,
                prompt=item.prompt,
                system=step_system,
                inference=step_inference,
                cache_system=cache_system,
                retry=retry,
                timeout=timeout,
                assign_result_to=item.name,
                output_schema=item.output_schema,
                capacity=capacity,
            )
            if self.steps:
                self.steps[-1].next(step)
            self.steps.append(step)
        self.prompts = prompts

    @property
    def start_state(self) -> sfn.State:
        """The first prompt's Task state (its acquire with ``capacity=``)."""
        return self.steps[0].start_state

    @property
    def end_states(self) -> list[sfn.INextable]:
        """The last prompt's Task state (its release with ``capacity=``)."""
        return self.steps[-1].end_states


def _references(text: str) -> set[str]:
    """Variable names an expression reads (``$name``); literals read none."""
    if not is_expression(text.strip()):
        return set()
    return set(_VARIABLE_REFERENCE.findall(text))
