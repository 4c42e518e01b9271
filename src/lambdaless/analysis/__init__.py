"""Read synthesized ASL: walk states, time retries (no CDK needed)."""
