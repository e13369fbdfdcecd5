"""Storage: the customer-managed KMS key, the single table, the mail bucket (+ its access-log bucket), the event bus."""

from __future__ import annotations

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from inboxdesk import resources
from infra.nag import acknowledge

# S3 Standard-IA needs objects to be at least 30 days old.
_IA_TRANSITION_DAYS = 30


class Storage(Construct):
    """Everything that holds data. The key encrypts the table, the mail bucket, and (through the other
    constructs) every SNS topic and SQS queue; it is retained when the stack is deleted, like the data."""

    def __init__(
        self, scope: Construct, construct_id: str, *, raw_mail_retention_days: int, cors_allow_origins: list[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            'Key',
            description='Inboxdesk: table, mail bucket, secrets, topics and queues',
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.table = self._build_table()
        self.access_logs, self.bucket = self._build_buckets(raw_mail_retention_days, cors_allow_origins)
        self.event_bus = events.EventBus(self, 'EventBus', description='Inboxdesk ticket and message events')

    @property
    def environment(self) -> dict[str, str]:
        """The variables that name the table and the mail bucket, which every function uses."""
        return {resources.ENV_TABLE: self.table.table_name, resources.ENV_MAIL_BUCKET: self.bucket.bucket_name}

    def _build_table(self) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            'Table',
            partition_key=dynamodb.Attribute(name=resources.TABLE_HASH_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=resources.TABLE_RANGE_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            time_to_live_attribute=resources.TABLE_TTL_ATTRIBUTE,  # rate-limit marks expire
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in resources.TABLE_INDEXES:
            table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=f'{index}pk', type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=f'{index}sk', type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        return table

    def _build_buckets(
        self, raw_mail_retention_days: int, cors_allow_origins: list[str]
    ) -> tuple[s3.Bucket, s3.Bucket]:
        """The mail bucket, and the bucket its access logs go to."""
        # S3 server access logs can only be delivered to an SSE-S3 bucket, not SSE-KMS.
        access_logs = s3.Bucket(
            self,
            'AccessLogs',
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id='expire-access-logs', expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )

        transition = (
            [
                s3.Transition(
                    storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                    transition_after=Duration.days(_IA_TRANSITION_DAYS),
                )
            ]
            if raw_mail_retention_days > _IA_TRANSITION_DAYS
            else []
        )
        bucket = s3.Bucket(
            self,
            'MailBucket',
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix='mail-bucket/',
            lifecycle_rules=[
                s3.LifecycleRule(
                    id='raw-mail-retention',
                    prefix=resources.RAW_MAIL_PREFIX,
                    transitions=transition,
                    expiration=Duration.days(raw_mail_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                ),
                s3.LifecycleRule(id='noncurrent-versions', noncurrent_version_expiration=Duration.days(90)),
                s3.LifecycleRule(id='abort-uploads', abort_incomplete_multipart_upload_after=Duration.days(7)),
            ],
            # Agents' browsers upload attachments with presigned PUT URLs (POST /attachments).
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
                    allowed_origins=cors_allow_origins,
                    allowed_headers=['content-type', 'content-length', 'content-disposition', 'x-amz-*'],
                    max_age=3600,
                )
            ]
            if cors_allow_origins
            else None,
            removal_policy=RemovalPolicy.RETAIN,
        )
        return access_logs, bucket

    def grant_table_read_write(self, role: iam.Role) -> None:
        """Item reads and writes (also in transactions) on the table and its indexes; no scans, no table admin."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    'dynamodb:GetItem',
                    'dynamodb:BatchGetItem',
                    'dynamodb:Query',
                    'dynamodb:PutItem',
                    'dynamodb:UpdateItem',
                    'dynamodb:DeleteItem',
                    'dynamodb:ConditionCheckItem',
                    'dynamodb:DescribeTable',
                ],
                resources=[self.table.table_arn, f'{self.table.table_arn}/index/*'],
            )
        )
        acknowledge(
            role,
            f'AwsSolutions-IAM5[Resource::<{self._logical_id(self.table)}.Arn>/index/*]',
            "Queries go through the table's own indexes (gsi1..gsi5); the wildcard covers only those.",
        )
        self.grant_key_use(role)

    def grant_key_use(self, role: iam.Role) -> None:
        """Decrypt and data keys for the KMS-encrypted table, bucket objects and queue messages."""
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=['kms:Decrypt', 'kms:GenerateDataKey'], resources=[self.key.key_arn])
        )

    def grant_objects(
        self, role: iam.Role, *, read: list[str], write: list[str], delete: list[str] | None = None
    ) -> None:
        """GetObject (also HeadObject) on `read` prefixes, PutObject on `write` prefixes and DeleteObject (also
        DeleteObjects per key) on `delete` prefixes of the mail bucket, nothing else: no listing, no versions."""
        delete = delete or []
        for actions, prefixes in ((['s3:GetObject'], read), (['s3:PutObject'], write), (['s3:DeleteObject'], delete)):
            if prefixes:
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        actions=actions, resources=[self.bucket.arn_for_objects(f'{p}*') for p in prefixes]
                    )
                )
        for prefix in sorted(set(read) | set(write) | set(delete)):
            acknowledge(
                role,
                f'AwsSolutions-IAM5[Resource::<{self._logical_id(self.bucket)}.Arn>/{prefix}*]',
                f'Object keys under {prefix} are generated per mail or upload; the grant stops at that prefix.',
            )
        self.grant_key_use(role)

    def grant_missing_object_answers(self, role: iam.Role) -> None:
        """ListBucket on the mail bucket, so that HeadObject/GetObject of a missing key answer 404, not 403.

        S3 hides whether a key exists from a caller without ListBucket (403 for missing keys); a caller
        that checks whether an upload arrived needs the 404. This lists key names, never object content."""
        role.add_to_principal_policy(iam.PolicyStatement(actions=['s3:ListBucket'], resources=[self.bucket.bucket_arn]))

    def grant_put_events(self, role: iam.Role) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=['events:PutEvents'], resources=[self.event_bus.event_bus_arn])
        )

    @staticmethod
    def _logical_id(construct: Construct) -> str:
        child = construct.node.default_child
        assert isinstance(child, CfnElement)
        return Stack.of(construct).get_logical_id(child)
