"""cdk-nag's AwsSolutions pack over every example stack: no unacknowledged finding.

Acknowledgements live in the constructs that cause them (``Validations.of(resource)
.acknowledge``), one finding on one resource each, so users copying an example inherit them.
"""

from __future__ import annotations

from tests.hardening._support import Synthesized

#: The findings lambdaless acknowledges, each for a reason AWS imposes:
REVIEWED_FINDINGS = {
    # CloudWatch Logs delivery and X-Ray actions have no resource-level permissions.
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    # states:InvokeHTTPEndpoint on the calling state machine, which its own role cannot name.
    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
    "<AWS::AccountId>:stateMachine:*]",
}
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
    # Each acknowledgement names one finding ("Rule[Finding]") on one resource, and suppresses
    # a finding that exists: no blanket rule ids, no stale acknowledgements.
    for ack in synthesized.acknowledgements:
        assert "[" in ack.finding, f"{ack.path}: {ack.finding} is a whole rule, not one finding"
        assert ack.path.endswith("/Resource"), f"{ack.path}: acknowledge the resource itself"
        assert len(ack.reason) >= MIN_REASON, f"{ack.path}: {ack.finding}: {ack.reason!r}"
    assert acknowledged == suppressed
    # A new kind of acknowledgement needs a review: add it here with why it is unavoidable.
    kinds = {finding for _, finding in acknowledged}
    assert kinds <= REVIEWED_FINDINGS, kinds - REVIEWED_FINDINGS
