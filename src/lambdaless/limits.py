"""Service limits of AWS Step Functions that lambdaless checks, each defined here once.

Each value cites the AWS page that states it. Constructs check them at construction, the
analysis checks them in synthesized ASL, and the local runner enforces them as AWS does; none
defines a limit of its own. No imports: every layer may read this module.
"""

from __future__ import annotations

#: Largest state input or output, and execution input, in bytes (256 KiB, UTF-8); beyond it a
#: state fails with ``States.DataLimitExceeded``. (AWS docs, "Step Functions service quotas",
#: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html)
PAYLOAD_MAX_BYTES = 262_144

#: Events in one Standard execution's history; an execution that reaches it fails. (AWS docs,
#: "Step Functions service quotas",
#: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html)
HISTORY_MAX_EVENTS = 25_000

#: Longest Express execution: five minutes. (AWS docs, "Step Functions service quotas" and
#: "Choosing workflow type",
#: https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html)
EXPRESS_MAX_SECONDS = 300

#: Longest Standard execution: one year (365 days). (AWS docs, "Step Functions service quotas",
#: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html)
STANDARD_MAX_SECONDS = 365 * 24 * 3600

#: Concurrent iterations of an inline Map. (AWS docs, "Using Map state in Inline mode",
#: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html)
INLINE_MAP_MAX_CONCURRENCY = 40

#: Concurrent child executions of a Distributed Map (its ``MaxConcurrency`` at most). (AWS docs,
#: "Using Map state in Distributed mode",
#: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html)
DISTRIBUTED_MAP_MAX_CONCURRENCY = 10_000

#: Largest ``ItemReader`` ``MaxItems`` of a Distributed Map. (AWS docs, "ItemReader (Map)",
#: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html)
DISTRIBUTED_MAP_MAX_ITEMS = 100_000_000

#: Largest integer ASL accepts in ``TimeoutSeconds``, ``HeartbeatSeconds``, a retrier's
#: ``IntervalSeconds`` and ``MaxAttempts``. (AWS docs, "Handling errors in Step Functions
#: workflows", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
ASL_MAX_INTEGER = 99_999_999

#: Largest ``MaxDelaySeconds`` of a retrier: 366 days. (AWS docs, "Handling errors in Step
#: Functions workflows",
#: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)
RETRY_MAX_DELAY_SECONDS = 31_622_400

#: The HTTP Task gives up on an endpoint after about 60 seconds (``States.Http.Socket``).
#: (AWS docs, "Call HTTPS APIs in Step Functions workflows",
#: https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html)
HTTP_TASK_TIMEOUT_SECONDS = 60

#: A Standard execution can be redriven within 14 days of its stop. (AWS docs, "Redriving
#: executions", https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html)
REDRIVE_WINDOW_DAYS = 14

#: Only an execution with fewer history events than this can be redriven ("The execution event
#: history count is less than 24,999": Step Functions API reference, RedriveExecution,
#: https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html)
REDRIVE_MAX_HISTORY_EVENTS = 24_999

#: Redrives of one execution. (AWS docs, "Redriving executions",
#: https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html)
MAX_REDRIVES = 1000

# -- Amazon Bedrock batch inference ------------------------------------------------------------
# The batch quotas are named on "Format and upload your batch inference data"
# (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html): "Minimum
# number of records per batch inference job", "Records per input file per batch inference job",
# "Records per batch inference job", "Batch inference input file size", "Batch inference job
# size". They are Service Quotas, set per model (the code example on "batch-inference-example"
# says to add records "until you hit the minimum" of the model's quota), so the values below are
# only the defaults most models list in Service Quotas: BatchInference takes the account's own
# values as arguments.

#: Default of "Minimum number of records per batch inference job" (per model, a quota).
BATCH_MIN_RECORDS_DEFAULT = 100

#: Default of "Records per batch inference job" (per model, a quota).
BATCH_MAX_RECORDS_DEFAULT = 50_000

#: Default of "Batch inference input file size" (per model, a quota): 1 GB. BatchInference
#: writes files of at most PAYLOAD_MAX_BYTES (each is one S3 PutObject body of a Task), far below.
BATCH_MAX_FILE_BYTES_DEFAULT = 1_000_000_000

#: ``timeoutDurationInHours`` of CreateModelInvocationJob: from 24 to 168 hours (Bedrock API
#: reference, CreateModelInvocationJob,
#: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelInvocationJob.html).
BATCH_TIMEOUT_HOURS_MIN = 24
BATCH_TIMEOUT_HOURS_MAX = 168

# -- Amazon S3 (the local runner's S3 seeds) ---------------------------------------------------

#: An object key is at most 1,024 bytes of UTF-8 (Amazon S3 user guide, "Naming Amazon S3
#: objects", https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
S3_KEY_MAX_BYTES = 1024

#: A general purpose bucket name is 3 to 63 characters (Amazon S3 user guide, "General purpose
#: bucket naming rules",
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
S3_BUCKET_NAME_MIN_CHARS = 3
S3_BUCKET_NAME_MAX_CHARS = 63
