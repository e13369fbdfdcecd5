"""The agents' API: Cognito user pool (groups agents/admins) -> HTTP API with a JWT authorizer -> api function."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from inboxdesk import names, resources
from infra.constants import MESSAGE_WRITER_ENVIRONMENT, Settings
from infra.constructs.outbound import Outbound
from infra.constructs.runtime import InboxdeskFunction, Layers, log_retention
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage
from infra.nag import acknowledge

UPLOAD_PREFIX = f'{resources.ATTACHMENT_PREFIX}uploads/'  # agents' presigned uploads (dal.mail_store.upload_key)
GROUPS = {
    names.AGENTS_GROUP: 'Agents: tickets, messages, notes, replies, attachments',
    names.ADMINS_GROUP: 'Admins: also queues, channels, settings',
}
PROTECTED_METHODS = [
    apigwv2.HttpMethod.GET,
    apigwv2.HttpMethod.POST,
    apigwv2.HttpMethod.PUT,
    apigwv2.HttpMethod.PATCH,
    apigwv2.HttpMethod.DELETE,
]
_ACCESS_LOG_FIELDS = {
    'requestId': '$context.requestId',
    'ip': '$context.identity.sourceIp',
    'requestTime': '$context.requestTime',
    'routeKey': '$context.routeKey',
    'status': '$context.status',
    'protocol': '$context.protocol',
    'responseLength': '$context.responseLength',
    'latency': '$context.responseLatency',
    'integrationError': '$context.integrationErrorMessage',
    'authorizerError': '$context.authorizer.error',
    'sub': '$context.authorizer.claims.sub',
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        outbound: Outbound,
        secrets: Secrets,
        layers: Layers,
        settings: Settings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool, self.client = self._build_user_pool(settings.cors_allow_origins)
        self.function = self._build_function(storage, outbound, secrets, layers, settings)
        self.http_api, self.stage = self._build_http_api(settings)

    def _build_user_pool(self, cors_allow_origins: list[str]) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        user_pool = cognito.UserPool(
            self,
            'Users',
            self_sign_up_enabled=False,  # admins invite agents
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            user_pool,
            'AwsSolutions-COG2',
            'MFA is optional (TOTP) so a deployer can onboard agents first; require it in the console per policy.',
        )
        acknowledge(
            user_pool,
            'AwsSolutions-COG8',
            'The Plus feature plan is a per-user cost the deployer opts into; the Essentials plan covers sign-in.',
        )
        for name, description in GROUPS.items():
            cognito.UserPoolGroup(self, f'Group-{name}', user_pool=user_pool, group_name=name, description=description)
        client = user_pool.add_client(
            'WebClient',
            # SRP for the web app; ADMIN_USER_PASSWORD_AUTH needs IAM credentials (cognito-idp:AdminInitiateAuth),
            # so only operators can use it, e.g. to get a token with the AWS CLI (README).
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            generate_secret=False,  # a browser app cannot keep a secret
            # Signed-in users may change their name, never their address: the API trusts a verified `email`.
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True, fullname=True
            ),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            # Hosted sign-in: authorization code (with PKCE) back to the web app's origins; no implicit flow.
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=cors_allow_origins,
                logout_urls=cors_allow_origins,
            )
            if cors_allow_origins
            else None,
            disable_o_auth=not cors_allow_origins,
        )
        return user_pool, client

    def _build_function(
        self, storage: Storage, outbound: Outbound, secrets: Secrets, layers: Layers, settings: Settings
    ) -> InboxdeskFunction:
        function = InboxdeskFunction(
            self,
            'Handler',
            handler=names.HANDLER_API,
            service=names.SERVICE_API,
            layers=layers,
            environment={
                **storage.environment,
                **MESSAGE_WRITER_ENVIRONMENT,  # replies and notes: split at the same size as inbound mail
                resources.ENV_OUTBOUND_QUEUE_URL: outbound.queue.queue_url,
                resources.ENV_OWN_DOMAINS: ','.join(settings.mail_domains),
                resources.ENV_REPLY_TOKEN_SECRET: secrets.reply_token.secret_arn,
                resources.ENV_CURSOR_SECRET: secrets.cursor.secret_arn,
                resources.ENV_CHANNEL_SECRET_PREFIX: secrets.channel_prefix,
                resources.ENV_SECRETS_KMS_KEY: storage.key.key_arn,
                resources.ENV_SMTP_HOST_ALLOW_LIST: ','.join(settings.smtp_host_allow_list),
            },
            log_retention_days=settings.log_retention_days,
            memory_size=1024,
            timeout=Duration.seconds(29),  # API Gateway's integration limit is 30 s
            reserved_concurrency=settings.api_reserved_concurrency,
            description='Inboxdesk agents API',
        )
        role = function.role
        storage.grant_table_read_write(role)
        # Presigned URLs carry this role's rights, so these prefixes are also the presign scope. Downloads:
        # attachments ingestion stored (an unreadable mail's `original.eml` copy too) and agents uploaded; raw/
        # stays out of reach. Large bodies are read from and written to bodies/. Uploads (presigned PUT) go to
        # attachments/uploads/ only. The API publishes no events: no events:PutEvents.
        storage.grant_objects(
            role,
            read=[resources.ATTACHMENT_PREFIX, resources.BODY_PREFIX],
            write=[UPLOAD_PREFIX, resources.BODY_PREFIX],
        )
        # "Was the attachment uploaded?" is a HeadObject that must answer 404 when it was not (403 otherwise).
        storage.grant_missing_object_answers(role)
        outbound.grant_send(role)
        # Channels: an SMTP channel's password is kept in a secret of its own, which `POST /channels/{id}/test`
        # reads back to log in; an SES channel's From must be on an identity SES has verified.
        secrets.grant_manage_channel_secrets(role)
        secrets.grant_read_channel_secrets(role)
        secrets.grant_read(role, secrets.reply_token, secrets.cursor)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=['ses:GetEmailIdentity'],
                resources=[f'arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/*'],
            )
        )
        acknowledge(
            role,
            'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
            "An admin may name a From domain beyond the stack's own; the API reads whether SES verified it.",
        )
        return function

    def _build_http_api(self, settings: Settings) -> tuple[apigwv2.HttpApi, apigwv2.HttpStage]:
        cors_allow_origins = settings.cors_allow_origins
        self.access_logs = logs.LogGroup(
            self,
            'AccessLogs',
            retention=log_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        http_api = apigwv2.HttpApi(
            self,
            'HttpApi',
            description='Inboxdesk agents API',
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=cors_allow_origins,
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                allow_headers=['authorization', 'content-type', 'if-match'],
                expose_headers=['etag', 'location'],
                max_age=Duration.hours(1),
            )
            if cors_allow_origins
            else None,
        )
        stage = apigwv2.HttpStage(
            self,
            'DefaultStage',
            http_api=http_api,
            stage_name='$default',
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=settings.api_throttle_rate_limit, burst_limit=settings.api_throttle_burst_limit
            ),
            access_log_settings=_AccessLogs(self.access_logs),
        )
        integration = integrations.HttpLambdaIntegration('Lambda', self.function.function)
        authorizer = authorizers.HttpUserPoolAuthorizer(
            'Cognito',
            self.user_pool,
            user_pool_clients=[self.client],
            identity_source=['$request.header.Authorization'],
        )
        http_api.add_routes(path='/{proxy+}', methods=PROTECTED_METHODS, integration=integration, authorizer=authorizer)
        for method, path in sorted(names.PUBLIC_ROUTES):
            [route] = http_api.add_routes(path=path, methods=[apigwv2.HttpMethod(method)], integration=integration)
            acknowledge(
                route,
                'AwsSolutions-APIG4',
                f'{method} {path} is public by design (health check, API description); it returns no ticket data.',
            )
        return http_api, stage

    @property
    def url(self) -> str:
        return self.stage.url
