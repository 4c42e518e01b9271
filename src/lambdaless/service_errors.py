"""Error names Amazon Bedrock raises into Step Functions, as ``ErrorEquals`` must spell them.

The retry presets (:mod:`lambdaless.retry`) and the rules that check error names
(:mod:`lambdaless.rules.retries`) both read them from here.
"""

from __future__ import annotations

# Bedrock InvokeModel errors as the optimized integration names them: the service's exception name
# prefixed with "Bedrock." (AWS docs, "Invoke and customize Amazon Bedrock models with Step
# Functions"). A bare "ThrottlingException" in ErrorEquals never matches.
BEDROCK_TRANSIENT_ERRORS: tuple[str, ...] = (
    "Bedrock.ThrottlingException",  # 429: requests or tokens per minute exceeded
    "Bedrock.ModelNotReadyException",  # 429: model is being loaded
    "Bedrock.ServiceUnavailableException",  # 503
    "Bedrock.InternalServerException",  # 500
)
BEDROCK_TIMEOUT_ERRORS: tuple[str, ...] = ("Bedrock.ModelTimeoutException",)  # 408
#: Never retried: retrying cannot change the outcome. Route them to a handler instead.
BEDROCK_PERMANENT_ERRORS: tuple[str, ...] = (
    "Bedrock.ValidationException",
    "Bedrock.AccessDeniedException",
    "Bedrock.ResourceNotFoundException",
    "Bedrock.ModelErrorException",  # 424
    "Bedrock.ServiceQuotaExceededException",
)
