"""A three-step article writer: outline, draft, then a headline, each reading earlier answers.

``PromptChain`` keeps each answer in a variable (``$outline``, ``$draft``), so the draft prompt
reads the outline and the headline prompt quotes the draft, with no Pass state in between. The
outline is a structured answer (``output_schema=Outline``): a JSON object the draft prompt reads
as ``$outline.json.sections``, parsed inside the outline's own Task state. It comes from a
small, fast model; the draft from a stronger one.

Every prompt shares one system prompt, the magazine's house style (``examples/house_style.py``),
marked for prompt caching (``cache_system=True``): the calls read it from Bedrock's cache instead
of paying for it as fresh input each time, and each answer's ``usage`` reports
``cacheReadInputTokens`` and ``cacheWriteInputTokens``. The cache is per model, so the two Nova
Lite prompts share one entry and the Claude draft writes its own; it lives five minutes after
its last hit, which a steady stream of articles keeps warm.

Input: ``{"topic": "..."}``. Output: the headline's uniform answer ``{"text", "stopReason",
"usage"}``; the outline and the draft stay in ``$outline`` and ``$draft``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from examples.house_style import HOUSE_STYLE
from lambdaless import BedrockModel, ChainPrompt, Inference, PromptChain, Workflow

FAST = BedrockModel.cross_region_profile("us.amazon.nova-lite-v1:0")
STRONG = BedrockModel.cross_region_profile("us.anthropic.claude-sonnet-4-5-20250929-v1:0")


@dataclass
class Outline:
    """The outline of a short article: its working title and its section headings, in order."""

    title: str
    sections: list[str]


class ArticleChainStack(cdk.Stack):
    """Outline -> draft -> headline, each prompt using the answers before it."""

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        chain = PromptChain(
            self,
            "Article",
            model=FAST,
            system=HOUSE_STYLE,
            cache_system=True,
            inference=Inference(max_tokens=600, temperature=0.3),
            prompts=[
                ChainPrompt(
                    name="outline",
                    prompt="{% 'Outline a short article about: ' & $states.input.topic %}",
                    output_schema=Outline,
                ),
                ChainPrompt(
                    name="draft",
                    model=STRONG,
                    inference=Inference(max_tokens=2000),
                    prompt=(
                        "{% 'Write the article titled ' & $outline.json.title & ', with these "
                        "sections in order:\\n- ' & $join($outline.json.sections, '\\n- ') %}"
                    ),
                ),
                ChainPrompt(
                    name="headline",
                    prompt="{% 'One headline for this article:\\n\\n' & $draft.text %}",
                ),
            ],
        )
        self.workflow = Workflow(self, "Writer", definition=chain)
