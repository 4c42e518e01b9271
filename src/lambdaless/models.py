"""References to Bedrock models: what to invoke, what to grant, and which request format to speak.

Four kinds of reference, each with its ARN and its exact IAM resources:

* a foundation model by id (``anthropic.claude-haiku-4-5-20251001-v1:0``);
* a system-defined cross-region inference profile by id (``us.``, ``eu.``, ``apac.``, ``global.``
  ... followed by the model id);
* an application inference profile ARN, with the model or profile it was copied from;
* a provisioned-throughput ARN, with its model family.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from lambdaless._errors import LambdalessError, invalid, require
from lambdaless._geographies import DESTINATION_REGIONS, REGIONLESS_PREFIXES
from lambdaless._stack_env import StackEnv
from lambdaless.rules import lifecycle
from lambdaless.rules import models as rules


class ModelFamily(enum.Enum):
    """A request/response format of Bedrock's InvokeModel, shared by a group of models."""

    ANTHROPIC = "anthropic"  # Anthropic Claude, Messages API
    NOVA = "nova"  # Amazon Nova understanding models, messages-v1
    TITAN = "titan"  # Amazon Titan Text
    LLAMA = "llama"  # Meta Llama 3.x, text prompt with the Llama 3 chat template
    MISTRAL = "mistral"  # Mistral text completion (7B, Mixtral, Large 2402, Small)
    COHERE = "cohere"  # Cohere Command R / R+
    CHAT = "chat"  # OpenAI-style chat completions: AI21 Jamba, OpenAI gpt-oss, Mistral Large 2407


class ModelKind(enum.Enum):
    """Which of the four kinds of Bedrock reference a :class:`BedrockModel` is."""

    FOUNDATION_MODEL = "foundation-model"
    CROSS_REGION_PROFILE = "inference-profile"
    APPLICATION_PROFILE = "application-inference-profile"
    PROVISIONED = "provisioned-model"


# Model id -> family, first match wins. Ids follow "<provider>.<model>[:<version>]" (AWS docs,
# "Supported foundation models in Amazon Bedrock"). Image, video, speech and embedding models
# (Nova Canvas/Reel/Sonic, Titan Embeddings/Image) have no text family on purpose.
_FAMILY_RULES: tuple[tuple[re.Pattern[str], ModelFamily], ...] = tuple(
    (re.compile(pattern), family)
    for pattern, family in (
        (r"^anthropic\.claude", ModelFamily.ANTHROPIC),
        (r"^amazon\.nova-(?!canvas|reel|sonic)", ModelFamily.NOVA),
        (r"^amazon\.titan-text", ModelFamily.TITAN),
        (r"^meta\.llama3", ModelFamily.LLAMA),
        (r"^mistral\.(mistral-large-24(0[7-9]|1)|pixtral)", ModelFamily.CHAT),
        (r"^mistral\.", ModelFamily.MISTRAL),
        (r"^cohere\.command-r", ModelFamily.COHERE),
        (r"^ai21\.jamba", ModelFamily.CHAT),
        (r"^openai\.gpt-oss", ModelFamily.CHAT),
    )
)

_MODEL_ID = rules.MODEL_ID
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# The resource part of a model ARN, e.g. aws_bedrock.IModel.model_arn (partition and region may
# be tokens): ``...:foundation-model/<id>``, ``...:inference-profile/<id>``.
_MODEL_ARN_TAIL = re.compile(
    r":(?P<kind>foundation-model|inference-profile|provisioned-model)/(?P<name>[^/]+)$"
)
INVOKE_MODEL = "bedrock:InvokeModel"
INFERENCE_PROFILE_KEY = "bedrock:InferenceProfileArn"
_Grant = tuple[list[str], list[str], dict[str, dict[str, str | list[str]]] | None]


def family_of(model_id: str) -> ModelFamily | None:
    """The request format of a foundation model id, or ``None`` when it has no text family."""
    return next((family for rule, family in _FAMILY_RULES if rule.search(model_id)), None)


def _split_profile_id(identifier: str) -> tuple[str, str] | None:
    """``("us", "anthropic.claude...")`` for a system profile id; ``None`` otherwise."""
    prefix, _, rest = identifier.partition(".")
    if prefix in DESTINATION_REGIONS and _MODEL_ID.match(rest):
        return prefix, rest
    return None


@dataclass(frozen=True)
class BedrockModel:
    """A model to invoke. Build one with a classmethod, or with :meth:`of` from any id."""

    kind: ModelKind
    identifier: str
    foundation_model_id: str | None
    family: ModelFamily | None
    destination_regions: tuple[str, ...] = ()
    source: BedrockModel | None = None

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def foundation_model(cls, model_id: str) -> BedrockModel:
        """A foundation model in the stack's region, e.g. ``amazon.nova-lite-v1:0``."""
        require(
            not (isinstance(model_id, str) and _split_profile_id(model_id)),
            "model_id",
            model_id,
            "a foundation model id; use BedrockModel.cross_region_profile() for profile ids",
        )
        # "xx.anthropic.claude-..." (an unknown geography) and unknown providers are refused
        # here rather than granted a foundation-model ARN that cannot exist.
        rules.check_model_id("model_id", model_id)
        return cls(ModelKind.FOUNDATION_MODEL, model_id, model_id, family_of(model_id))

    @classmethod
    def cross_region_profile(
        cls, profile_id: str, *, destination_regions: Sequence[str] | None = None
    ) -> BedrockModel:
        """A system-defined cross-region inference profile, e.g. ``us.amazon.nova-pro-v1:0``.

        Args:
            profile_id: ``<geography>.<model id>``; geographies: ``us``, ``us-gov``, ``ca``,
                ``eu``, ``apac``, ``jp``, ``au``, ``global``.
            destination_regions: the regions the profile routes to, whose foundation-model ARNs
                are granted. By default the geography's regions from
                ``lambdaless._geographies.DESTINATION_REGIONS``; pass the exact list that
                ``aws bedrock get-inference-profile`` shows to grant less. Unused for ``global``,
                which AWS grants through a region-less model ARN.
        """
        prefix, model_id = rules.check_profile_id("profile_id", profile_id)
        regions = tuple(destination_regions or DESTINATION_REGIONS[prefix])
        for region in regions:
            require(
                isinstance(region, str) and bool(_REGION.match(region)),
                "destination_regions",
                list(regions),
                "AWS region names like 'us-east-1'",
            )
        require(
            prefix in REGIONLESS_PREFIXES or len(regions) > 0,
            "destination_regions",
            list(regions),
            "at least one region",
        )
        return cls(
            ModelKind.CROSS_REGION_PROFILE,
            profile_id,
            model_id,
            family_of(model_id),
            regions if prefix not in REGIONLESS_PREFIXES else (),
        )

    @classmethod
    def application_profile(
        cls,
        arn: str | bedrock.CfnApplicationInferenceProfile,
        *,
        source: ModelLike | None = None,
    ) -> BedrockModel:
        """An application inference profile, with the model or system profile it copies.

        Args:
            arn: the profile's ARN (``...:application-inference-profile/<id>``, a token works),
                or aws-cdk-lib's ``aws_bedrock.CfnApplicationInferenceProfile``.
            source: what the profile was copied from: a :class:`BedrockModel`, a foundation
                model or system profile id or ARN, or an ``aws_bedrock.IModel``. Required for an
                ARN; read from a ``CfnApplicationInferenceProfile``'s literal
                ``model_source.copy_from`` when not given.

        The grant covers the profile ARN plus what ``source`` needs (Bedrock routes the call to
        the source's models: "inference-profiles-prereq"), and the request format is the
        source's.
        """
        copied_from: BedrockModel | None = None
        if isinstance(arn, bedrock.CfnApplicationInferenceProfile):
            copied_from = cls._copied_from(arn)
            arn = arn.attr_inference_profile_arn
        cls._check_arn(arn, "arn", ModelKind.APPLICATION_PROFILE)
        if source is None and copied_from is None:
            raise invalid(
                "source",
                source,
                "the model or system profile the application profile was copied from "
                "(BedrockModel.foundation_model(...), BedrockModel.cross_region_profile(...), "
                "an id or ARN): Bedrock routes each call to that source's models, which the role "
                "must be allowed to invoke in every region they serve from; "
                "'aws bedrock get-inference-profile --inference-profile-identifier <arn>' lists "
                "them",
            )
        copied = cls._source_of(source) if source is not None else copied_from
        require(
            copied_from is None or copied == copied_from,
            "source",
            source,
            f"None or the profile's own model_source.copy_from ({copied_from!r})",
        )
        assert copied is not None
        return cls(
            ModelKind.APPLICATION_PROFILE,
            arn,
            copied.foundation_model_id,
            copied.family,
            copied.destination_regions,
            copied,
        )

    @classmethod
    def _source_of(cls, source: object) -> BedrockModel:
        """An application profile's source: a foundation model or a system profile."""
        allowed = (
            "a foundation model or a system-defined (cross-region) inference profile: "
            "BedrockModel.foundation_model(...), BedrockModel.cross_region_profile(...), "
            "an id or ARN of one, or an aws_bedrock.IModel"
        )
        copied: BedrockModel | None = None
        try:
            if isinstance(source, str) and _MODEL_ARN_TAIL.search(source):
                copied = cls._of_model_arn(source)
            elif isinstance(source, str | BedrockModel) or hasattr(source, "model_arn"):
                copied = cls.of(source)
        except LambdalessError as error:
            raise invalid("source", source, f"{allowed} ({error.allowed})") from error
        require(
            copied is not None
            and copied.kind in (ModelKind.FOUNDATION_MODEL, ModelKind.CROSS_REGION_PROFILE),
            "source",
            source,
            allowed,
        )
        assert copied is not None
        return copied

    @classmethod
    def _copied_from(cls, profile: bedrock.CfnApplicationInferenceProfile) -> BedrockModel | None:
        """The source named by a ``CfnApplicationInferenceProfile``'s literal ``copy_from``
        (``None`` when it is a token: then ``source=`` must say it)."""
        model_source = profile.model_source
        copy_from = (
            model_source.get("copyFrom")
            if isinstance(model_source, Mapping)
            else getattr(model_source, "copy_from", None)
        )
        if not isinstance(copy_from, str) or cdk.Token.is_unresolved(copy_from):
            return None
        return cls._source_of(copy_from)

    @classmethod
    def provisioned(
        cls, arn: str, *, foundation_model_id: str | None = None, family: ModelFamily | None = None
    ) -> BedrockModel:
        """Provisioned throughput, by its ``provisioned-model`` ARN.

        Give ``foundation_model_id`` (the base model) or ``family`` so the request body can be
        built; neither is needed when every step passes a raw ``body``.
        """
        cls._check_arn(arn, "arn", ModelKind.PROVISIONED)
        if foundation_model_id is not None:
            rules.check_model_id("foundation_model_id", foundation_model_id)
        require(
            family is None or isinstance(family, ModelFamily),
            "family",
            family,
            "a ModelFamily member or None",
        )
        derived = family_of(foundation_model_id) if foundation_model_id else None
        rules.check_family(family, derived, foundation_model_id)
        return cls(ModelKind.PROVISIONED, arn, foundation_model_id, family or derived)

    @classmethod
    def of(cls, identifier: ModelLike) -> BedrockModel:
        """A model from a foundation-model id, a system profile id, a provisioned ARN, or
        aws-cdk-lib's ``aws_bedrock.FoundationModel`` / ``ProvisionedModel`` / ``IModel`` /
        ``CfnApplicationInferenceProfile`` (whose source is read from its ``copy_from``).

        Every step and pattern converts its ``model`` argument here, once.
        """
        if isinstance(identifier, BedrockModel):
            return identifier
        if isinstance(identifier, bedrock.FoundationModel):
            return cls.foundation_model(identifier.model_id)
        if isinstance(identifier, bedrock.ProvisionedModel):
            return cls.provisioned(identifier.model_arn)
        if isinstance(identifier, bedrock.CfnApplicationInferenceProfile):
            return cls.application_profile(identifier)
        if not isinstance(identifier, str) and isinstance(
            getattr(identifier, "model_arn", None), str
        ):
            return cls._of_model_arn(identifier.model_arn)
        if not isinstance(identifier, str):
            raise invalid(
                "model",
                identifier,
                "a BedrockModel, a model or profile id, a provisioned-model ARN, or an "
                "aws_bedrock.IModel",
                wrong_type=True,
            )
        if _split_profile_id(identifier):
            return cls.cross_region_profile(identifier)
        if ":provisioned-model/" in identifier:
            return cls.provisioned(identifier)
        if ":application-inference-profile/" in identifier:
            raise invalid(
                "model",
                identifier,
                "BedrockModel.application_profile(arn, source=...) for an application profile,"
                " so that the models it routes to can be granted",
            )
        return cls.foundation_model(identifier)

    @classmethod
    def _of_model_arn(cls, arn: str) -> BedrockModel:
        """An ``aws_bedrock.IModel`` by its ``model_arn``: a foundation model, a system profile
        or a provisioned model (the ARN's last segment names the first two)."""
        match = _MODEL_ARN_TAIL.search(arn)
        kind, name = (match["kind"], match["name"]) if match else ("", "")
        if kind == "foundation-model":
            return cls.foundation_model(name)
        if kind == "inference-profile":
            return cls.cross_region_profile(name)
        if kind == "provisioned-model":
            return cls.provisioned(arn)
        raise invalid(
            "model",
            arn,
            "an aws_bedrock.IModel whose model_arn names a foundation-model, an inference-profile "
            "or a provisioned-model (for an application profile use "
            "BedrockModel.application_profile(arn, source=...))",
        )

    @staticmethod
    def _check_arn(arn: str, argument: str, kind: ModelKind) -> None:
        rules.check_arn(argument, arn, kind.value)

    def check_end_of_life(self, scope: IConstruct, argument: str, value: object) -> None:
        """Refuse this model where it is used (``scope``) if its Bedrock EOL date is on or
        before the synth date (rule ``model-end-of-life``); ``argument=value`` is what the
        error names. A foundation model is checked in the stack's region when literal; a
        profile, or an application profile, by the model it routes to, in any region."""
        if not lifecycle.has_eol_date(self.foundation_model_id):
            return  # the common case: no context or stack read
        region = None
        if self.kind is ModelKind.FOUNDATION_MODEL:
            env = StackEnv.of(scope)
            region = env.region if env.region_known else None
        lifecycle.check_end_of_life(scope, argument, value, self.foundation_model_id, region=region)

    # -- what to invoke and grant ----------------------------------------------------------
    @property
    def geography(self) -> str | None:
        """The profile prefix (``us``, ``eu``, ``global``...) of a system profile."""
        parts = _split_profile_id(self.identifier)
        return parts[0] if parts else None

    def invoke_arn(self, scope: IConstruct) -> str:
        """The ARN to pass as ``ModelId``; partition, region and account follow the stack."""
        return self._invoke_arn(StackEnv.of(scope))

    def policy_statements(
        self, scope: IConstruct, actions: Sequence[str] = (INVOKE_MODEL,)
    ) -> list[iam.PolicyStatement]:
        """Least-privilege statements to call this model with ``actions``.

        A profile's foundation-model grants are conditioned on ``bedrock:InferenceProfileArn``
        (AWS docs, "Geographic cross-Region inference"), so they only work through the profile.
        """
        env = StackEnv.of(scope)
        return [
            env.statement(granted, arns, when) for granted, arns, when in self._grants(env, actions)
        ]

    def grant_invoke(
        self,
        grantee: iam.IGrantable,
        *,
        scope: IConstruct | None = None,
        actions: Sequence[str] = (INVOKE_MODEL,),
    ) -> iam.Grant:
        """Let ``grantee`` call this model: the same statements the steps get.

        Args:
            grantee: a role, a function, a user... (``iam.IGrantable``).
            scope: a construct of the stack whose partition, region and account the ARNs use;
                by default ``grantee`` itself (a role, a function...).
            actions: the actions granted; ``bedrock:InvokeModel`` by default (add
                ``bedrock:InvokeModelWithResponseStream`` for streaming).
        """
        if not hasattr(grantee, "grant_principal"):
            raise invalid(
                "grantee", grantee, "an aws_iam.IGrantable (a role, a function...)", wrong_type=True
            )
        where = scope if scope is not None else grantee
        if not hasattr(where, "node"):
            raise invalid(
                "scope",
                scope,
                "a construct of the grantee's stack (needed for a grantee that is not a construct)",
                wrong_type=True,
            )
        require(
            isinstance(actions, list | tuple)
            and all(isinstance(a, str) for a in actions)
            and len(actions) > 0,
            "actions",
            actions,
            "a non-empty list of IAM actions like 'bedrock:InvokeModel'",
        )
        env = StackEnv.of(where)  # type: ignore[arg-type]
        grants = [
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=list(granted),
                resource_arns=list(arns),
                conditions=dict(when) if when else None,
            )
            for granted, arns, when in self._grants(env, actions)
        ]
        combined = grants[0]
        for grant in grants[1:]:
            combined = combined.combine(grant)
        return combined

    def _grants(self, env: StackEnv, actions: Sequence[str]) -> list[_Grant]:
        """(actions, resources, conditions) of each statement that calling this model needs."""
        entry = self._invoke_arn(env)
        grants: list[_Grant] = [(list(actions), [entry], None)]
        through = [entry]
        if self.kind is ModelKind.APPLICATION_PROFILE:
            assert self.source is not None
            if self.source.kind is ModelKind.CROSS_REGION_PROFILE:
                # The application profile routes through the system profile it copies, which
                # routes to the models (aws-cdk's aws-bedrock-alpha ApplicationInferenceProfile
                # grants the source's profile and models the same way).
                through.append(self.source._invoke_arn(env))
                grants[0] = (list(actions), list(through), None)
            # "bedrock:GetInferenceProfile - Required to run inference with an inference
            # profile" (AWS docs, "Prerequisites for running model inference",
            # inference-prereq).
            grants.append((["bedrock:GetInferenceProfile"], list(through), None))
        routed = self._routed_model_arns(env)
        if routed:
            profile_arn: str | list[str] = through[0] if len(through) == 1 else list(through)
            grants.append(
                (list(actions), routed, {"StringEquals": {INFERENCE_PROFILE_KEY: profile_arn}})
            )
        return grants

    def _invoke_arn(self, env: StackEnv) -> str:
        if self.kind is ModelKind.FOUNDATION_MODEL:
            return env.foundation_model_arn(env.region, self.identifier)
        if self.kind is ModelKind.CROSS_REGION_PROFILE:
            self._check_stack_region(env)
            return (
                f"arn:{env.partition}:bedrock:{env.region}:{env.account}"
                f":inference-profile/{self.identifier}"
            )
        rules.check_arn_in_stack(
            "arn",
            self.identifier,
            partition=env.partition,
            region=env.region,
            region_known=env.region_known,
        )
        return self.identifier

    def _routed_model_arns(self, env: StackEnv) -> list[str]:
        """Foundation-model ARNs a profile routes to (none for models and provisioned).

        AWS: "When you specify an inference profile in the Resource field ..., you must also
        specify the foundation model in each Region associated with it"
        ("inference-profiles-prereq"); for an application profile those are its source's.
        """
        if self.kind is ModelKind.CROSS_REGION_PROFILE:
            profile: BedrockModel | None = self
        elif self.kind is ModelKind.APPLICATION_PROFILE:
            profile = self.source
        else:
            return []
        if profile is None or self.foundation_model_id is None:
            return []
        if profile.kind is ModelKind.FOUNDATION_MODEL:
            # An application profile copied from a model in its own region.
            return [env.foundation_model_arn(env.region, self.foundation_model_id)]
        if profile.kind is not ModelKind.CROSS_REGION_PROFILE:
            return []
        # AWS requires the model in the source region and in every destination region; a
        # global profile's destinations are granted by the region-less ARN (AWS docs, "Global
        # cross-Region inference").
        regions = [env.region, *profile.destination_regions]
        if profile.geography in REGIONLESS_PREFIXES:
            regions.append("")
        arns = [env.foundation_model_arn(r, self.foundation_model_id) for r in regions]
        return list(dict.fromkeys(arns))

    def _check_stack_region(self, env: StackEnv) -> None:
        region = env.region
        if not env.region_known or self.geography in REGIONLESS_PREFIXES:
            return
        rules.check_profile_region(self.identifier, self.geography or "", region)


ModelLike = str | BedrockModel | bedrock.IModel | bedrock.CfnApplicationInferenceProfile
"""Anything :meth:`BedrockModel.of` accepts."""
