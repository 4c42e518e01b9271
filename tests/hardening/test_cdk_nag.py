"""cdk-nag's AwsSolutions pack over every example stack: no unacknowledged finding.

Acknowledgements live in the constructs that cause them (``Validations.of(resource)
.acknowledge``), one finding on one resource each, so users copying an example inherit them.
"""

from __future__ import annotations

import re

from tests.hardening._support import Synthesized

#: The findings lambdaless acknowledges, each for a reason AWS imposes (regular expressions):
REVIEWED_FINDINGS = (
    # CloudWatch Logs delivery and X-Ray actions have no resource-level permissions.
    r"AwsSolutions-IAM5\[Resource::\*\]",
    # states:InvokeHTTPEndpoint on the workflow's own qualified ARNs (alias and versions with
    # deployment=, Distributed Map children): <StateMachine>:* and <StateMachine>/*.
    r"AwsSolutions-IAM5\[Resource::<\w+>[:/]\*\]",
    # aws-cdk-lib's Distributed Map grant on its child executions (ids chosen at run time).
    r"AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"
    r":execution:\{\"Fn::Select\":.*\}(/\*)?:\*\]",
    # Bedrock generates customization job, custom model and batch inference job ids when the
    # job is created.
    r"AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>"
    r":(model-customization-job|custom-model|model-invocation-job)/\*\]",
    # Bedrock writes a customization job's outputs under the output prefix, names its own.
    r"AwsSolutions-IAM5\[Resource::<\w+\.Arn>/[\w/-]*\*\]",
    # Redrive: describe/redrive the executions (ids chosen at run time) of one state machine.
    r"AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"
    r":execution:<\w+\.Name>:\*\]",
)
MIN_REASON = 40  # characters: a reason must say why, not just "ok"


def test_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    report = synthesized.nag_report()
    findings = [
        f"{v['ruleName']} at {c['constructPath']}"
        for v in report["violations"]
        for c in v["violatingConstructs"]
    ]
    assert findings == [], "\n".join(findings)
    assert synthesized.error is None, synthesized.error
    assert report["conclusion"] == "success"


def test_every_suppression_is_used_narrow_and_explained(synthesized: Synthesized) -> None:
    report = synthesized.nag_report()
    suppressed = {
        (c["constructPath"], "AwsSolutions::" + v["ruleName"])
        for v in report.get("suppressedViolations", [])
        for c in v["violatingConstructs"]
    }
    acknowledged = {(a.path, a.finding) for a in synthesized.acknowledgements}
    print(
        f"\ncdk-nag AwsSolutions: {len(synthesized.templates)} stacks, 0 findings, "
        f"{len(suppressed)} suppressed finding(s) from {len(acknowledged)} acknowledgement(s):"
    )
    for ack in synthesized.acknowledgements:
        print(f"  {ack.path}: {ack.finding}\n    {ack.reason}")
    # Each acknowledgement names one finding ("Rule[Finding]") on one resource, or on a
    # Workflow (whose only IAM policy is its state machine role's), and suppresses a finding
    # that exists: no blanket rule ids, no stale acknowledgements.
    workflows = {path.split("/StateMachine/Role/")[0] for path, _ in suppressed}
    for ack in synthesized.acknowledgements:
        assert "[" in ack.finding, f"{ack.path}: {ack.finding} is a whole rule, not one finding"
        assert ack.path.endswith("/Resource") or ack.path in workflows, (
            f"{ack.path}: acknowledge the resource itself, or a Workflow"
        )
        assert len(ack.reason) >= MIN_REASON, f"{ack.path}: {ack.finding}: {ack.reason!r}"
    # aws-cdk-lib applies the acknowledgement closest above the resource (its own rule).
    used = set()
    for path, finding in suppressed:
        owners = [p for p, f in acknowledged if f == finding and (path + "/").startswith(p + "/")]
        assert owners, f"{path}: {finding} suppressed by no acknowledgement"
        used.add((max(owners, key=len), finding))
    assert used == acknowledged
    # A new kind of acknowledgement needs a review: add it here with why it is unavoidable.
    unreviewed = {
        finding
        for _, finding in acknowledged
        if not any(re.fullmatch("AwsSolutions::" + p, finding) for p in REVIEWED_FINDINGS)
    }
    assert unreviewed == set()
