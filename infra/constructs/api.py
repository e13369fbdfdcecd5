"""The agents' API: Cognito user pool (groups agents/admins) -> HTTP API with a JWT authorizer -> api function."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from constructs import Construct

from inboxdesk import config, resources
from infra.constants import INLINE_BODY_LIMIT, QUEUE_CACHE_SECONDS, SERVICE_API
from infra.constructs.outbound import Outbound
from infra.constructs.runtime import InboxdeskFunction, Layers, log_retention
from infra.constructs.storage import Storage
from infra.nag import acknowledge

UPLOAD_PREFIX = f'{resources.ATTACHMENT_PREFIX}uploads/'  # agents' presigned uploads (dal.mail_store.upload_key)
GROUPS = {'agents': 'Agents: tickets, messages, notes, replies, attachments', 'admins': 'Admins: also queues, settings'}
PUBLIC_ROUTES = ('/health', '/openapi.json', '/docs')  # GET only, no authorizer
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
        layers: Layers,
        mail_domains: list[str],
        cors_allow_origins: list[str],
        throttle_rate_limit: int,
        throttle_burst_limit: int,
        reserved_concurrency: int | None,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
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
            self.user_pool,
            'AwsSolutions-COG2',
            'MFA is optional (TOTP) so a deployer can onboard agents first; require it in the console per policy.',
        )
        acknowledge(
            self.user_pool,
            'AwsSolutions-COG8',
            'The Plus feature plan is a per-user cost the deployer opts into; the Essentials plan covers sign-in.',
        )
        for name, description in GROUPS.items():
            cognito.UserPoolGroup(
                self, f'Group-{name}', user_pool=self.user_pool, group_name=name, description=description
            )
        self.client = self.user_pool.add_client(
            'WebClient',
            # SRP for the web app; ADMIN_USER_PASSWORD_AUTH needs IAM credentials (cognito-idp:AdminInitiateAuth),
            # so only operators can use it, e.g. to get a token with the AWS CLI (README).
            auth_flows=cognito.AuthFlow(user_srp=True, admin_user_password=True),
            generate_secret=False,  # a browser app cannot keep a secret
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

        self.function = InboxdeskFunction(
            self,
            'Handler',
            handler='api.handler.lambda_handler',
            service=SERVICE_API,
            layers=layers,
            environment={
                resources.ENV_TABLE: storage.table.table_name,
                resources.ENV_MAIL_BUCKET: storage.bucket.bucket_name,
                resources.ENV_OUTBOUND_QUEUE_URL: outbound.queue.queue_url,
                resources.ENV_OWN_DOMAINS: ','.join(mail_domains),
                config.ENV_INLINE_BODY_LIMIT: str(INLINE_BODY_LIMIT),  # replies and notes: same limit as inbound
                config.ENV_QUEUE_CACHE_SECONDS: str(QUEUE_CACHE_SECONDS),
            },
            log_retention_days=log_retention_days,
            memory_size=1024,
            timeout=Duration.seconds(29),  # API Gateway's integration limit is 30 s
            reserved_concurrency=reserved_concurrency,
            description='Inboxdesk agents API',
        )
        role = self.function.role
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

        self.access_logs = logs.LogGroup(
            self, 'AccessLogs', retention=log_retention(log_retention_days), removal_policy=RemovalPolicy.DESTROY
        )
        self.http_api = apigwv2.HttpApi(
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
        self.stage = apigwv2.HttpStage(
            self,
            'DefaultStage',
            http_api=self.http_api,
            stage_name='$default',
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=throttle_rate_limit, burst_limit=throttle_burst_limit),
            access_log_settings=_AccessLogs(self.access_logs),
        )
        integration = integrations.HttpLambdaIntegration('Lambda', self.function.function)
        authorizer = authorizers.HttpUserPoolAuthorizer(
            'Cognito',
            self.user_pool,
            user_pool_clients=[self.client],
            identity_source=['$request.header.Authorization'],
        )
        self.http_api.add_routes(
            path='/{proxy+}', methods=PROTECTED_METHODS, integration=integration, authorizer=authorizer
        )
        for path in PUBLIC_ROUTES:
            [route] = self.http_api.add_routes(path=path, methods=[apigwv2.HttpMethod.GET], integration=integration)
            acknowledge(
                route,
                'AwsSolutions-APIG4',
                f'GET {path} is public by design (health check, API description); it returns no ticket data.',
            )

    @property
    def url(self) -> str:
        return self.stage.url
