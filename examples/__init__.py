"""Example stacks teams can copy; ``app.py`` is the CDK app that cdk.json points at."""
