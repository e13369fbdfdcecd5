"""Secrets Manager, under the stack's KMS key: the reply-token HMAC key, the API cursor key (both generated
at deploy time), and the prefix under which the API keeps one secret per SMTP channel (its password)."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge

HMAC_KEY_LENGTH = 64  # characters of [A-Za-z0-9]: about 380 bits, more than HMAC-SHA256 uses


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.reply_token = self._hmac_key(
            'ReplyTokenKey',
            'Inboxdesk: HMAC key of the reply tokens in Reply-To and References',
            'Rotating it would make every reply token already sent unverifiable, so answers would open new tickets.',
        )
        self.cursor = self._hmac_key(
            'CursorKey',
            'Inboxdesk: HMAC key that signs API list cursors',
            'A cursor lives for one listing; rotating this key would only break the pages agents are reading now.',
        )
        self.channel_prefix = f'{Stack.of(self).stack_name}/channels/'
        self.channel_secrets_arn = (
            f'arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{self.channel_prefix}*'
        )

    def _hmac_key(self, construct_id: str, description: str, why_not_rotated: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            construct_id,
            description=description,
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=HMAC_KEY_LENGTH, exclude_punctuation=True
            ),
        )
        acknowledge(secret, 'AwsSolutions-SMG4', why_not_rotated)
        return secret

    def grant_read(self, role: iam.Role, *secrets: secretsmanager.ISecret) -> None:
        for secret in secrets:
            secret.grant_read(role)  # GetSecretValue/DescribeSecret on this secret, Decrypt through Secrets Manager

    def grant_read_channel_secrets(self, role: iam.Role) -> None:
        """GetSecretValue on the channel secrets (SMTP passwords), decrypted with the stack's key."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
                resources=[self.channel_secrets_arn],
            )
        )
        self._acknowledge_channel_prefix(role)

    def grant_manage_channel_secrets(self, role: iam.Role) -> None:
        """Create (only under the stack's key), update and delete the channel secrets."""
        key_is_ours = {'secretsmanager:KmsKeyId': self.key.key_arn}
        for actions, conditions in (
            (['secretsmanager:CreateSecret'], {'StringEquals': key_is_ours}),
            # A new key may be named only if it is the stack's; without one the secret keeps its key.
            (['secretsmanager:UpdateSecret'], {'StringEqualsIfExists': key_is_ours}),
            (['secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'], None),
        ):
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=actions, resources=[self.channel_secrets_arn], conditions=conditions)
            )
        self._acknowledge_channel_prefix(role)

    def _acknowledge_channel_prefix(self, role: iam.Role) -> None:
        acknowledge(
            role,
            f'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>'
            f':secret:{self.channel_prefix}*]',
            'One secret per channel, named by the channel id when an admin saves it; the grant stops at the prefix.',
        )
