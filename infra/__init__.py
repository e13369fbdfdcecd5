"""The Inboxdesk CDK app: `python -m infra.app` (run by `cdk synth` through cdk.json)."""
