"""Template assertions: the agents' API (HTTP API, JWT authorizer, Cognito) and its function."""

from __future__ import annotations

from tests.infra.conftest import Synthesized
from tests.infra.helpers import of_type, one, props

PUBLIC_ROUTE_KEYS = {'GET /health', 'GET /openapi.json', 'GET /docs'}


def test_every_route_but_health_openapi_and_docs_needs_a_cognito_jwt(synthesized: Synthesized) -> None:
    # Given the synthesized HTTP API
    t = synthesized.template
    pool_id, _ = one(t, 'AWS::Cognito::UserPool', 'ApiUsers')
    client_id, _ = one(t, 'AWS::Cognito::UserPoolClient', 'ApiUsers')
    [(authorizer_id, authorizer)] = of_type(t, 'AWS::ApiGatewayV2::Authorizer').items()
    routes = {props(r)['RouteKey']: props(r) for r in of_type(t, 'AWS::ApiGatewayV2::Route').values()}
    # Then the authorizer is a JWT authorizer trusting tokens of our user pool issued to our client
    assert props(authorizer)['AuthorizerType'] == 'JWT'
    jwt = props(authorizer)['JwtConfiguration']
    assert jwt['Audience'] == [{'Ref': client_id}]
    assert jwt['Issuer']['Fn::Join'][1][-1] == {'Ref': pool_id}
    assert props(authorizer)['IdentitySource'] == ['$request.header.Authorization']
    # And health, openapi.json and docs are the only routes without it
    assert set(routes) >= PUBLIC_ROUTE_KEYS
    for key, route in routes.items():
        if key in PUBLIC_ROUTE_KEYS:
            assert route['AuthorizationType'] == 'NONE', key
            assert 'AuthorizerId' not in route
        else:
            assert route['AuthorizationType'] == 'JWT', key
            assert route['AuthorizerId'] == {'Ref': authorizer_id}, key
    # And every other path and method reaches the function through the authorizer (no ANY: CORS preflight stays free)
    assert {k for k in routes if k not in PUBLIC_ROUTE_KEYS} == {
        f'{m} /{{proxy+}}' for m in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
    }


def test_routes_proxy_to_the_api_function_with_payload_v2(synthesized: Synthesized) -> None:
    # Given the synthesized HTTP API
    t = synthesized.template
    [(integration_id, integration)] = of_type(t, 'AWS::ApiGatewayV2::Integration').items()
    [function_id] = [
        k for k, v in of_type(t, 'AWS::Lambda::Function').items() if props(v)['Handler'] == 'api.handler.lambda_handler'
    ]
    # Then the single integration is a Lambda proxy (payload 2.0) to the api function, used by every route
    assert props(integration)['IntegrationType'] == 'AWS_PROXY'
    assert props(integration)['PayloadFormatVersion'] == '2.0'
    assert props(integration)['IntegrationUri'] == {'Fn::GetAtt': [function_id, 'Arn']}
    for route in of_type(t, 'AWS::ApiGatewayV2::Route').values():
        assert props(route)['Target'] == {'Fn::Join': ['', ['integrations/', {'Ref': integration_id}]]}
    # And API Gateway may invoke it
    permissions = [
        p
        for p in of_type(t, 'AWS::Lambda::Permission').values()
        if props(p)['FunctionName'] == {'Fn::GetAtt': [function_id, 'Arn']}
    ]
    assert permissions
    assert {props(p)['Principal'] for p in permissions} == {'apigateway.amazonaws.com'}


def test_stage_throttles_logs_access_and_cors_comes_from_context(synthesized: Synthesized) -> None:
    # Given the synthesized API and the context it was built from
    t = synthesized.template
    ctx = synthesized.context
    [stage] = of_type(t, 'AWS::ApiGatewayV2::Stage').values()
    [api] = of_type(t, 'AWS::ApiGatewayV2::Api').values()
    access_logs_id, access_logs = one(t, 'AWS::Logs::LogGroup', 'ApiAccessLogs')
    # Then the default stage auto-deploys with default route throttling
    assert props(stage)['StageName'] == '$default'
    assert props(stage)['AutoDeploy'] is True
    settings = props(stage)['DefaultRouteSettings']
    assert settings['ThrottlingRateLimit'] == ctx.get('inboxdesk:apiThrottleRateLimit', 50)
    assert settings['ThrottlingBurstLimit'] == ctx.get('inboxdesk:apiThrottleBurstLimit', 100)
    # And access logs go to a log group with retention, as JSON naming the request and its status
    assert props(stage)['AccessLogSettings']['DestinationArn'] == {'Fn::GetAtt': [access_logs_id, 'Arn']}
    assert '"status": "$context.status"' in props(stage)['AccessLogSettings']['Format']
    assert props(access_logs)['RetentionInDays'] >= ctx['inboxdesk:logRetentionDays']
    # And CORS allows exactly the configured origins, with the headers the API uses
    cors = props(api)['CorsConfiguration']
    assert cors['AllowOrigins'] == ctx['inboxdesk:corsAllowOrigins']
    assert {'authorization', 'content-type', 'if-match'} <= set(cors['AllowHeaders'])


def test_user_pool_has_agents_and_admins_groups_and_a_strong_password_policy(synthesized: Synthesized) -> None:
    # Given the synthesized Cognito resources
    t = synthesized.template
    pool_id, pool = one(t, 'AWS::Cognito::UserPool', 'ApiUsers')
    [client] = of_type(t, 'AWS::Cognito::UserPoolClient').values()
    # Then the pool has exactly the groups agents and admins
    groups = {props(g)['GroupName']: props(g) for g in of_type(t, 'AWS::Cognito::UserPoolGroup').values()}
    assert set(groups) == {'agents', 'admins'}
    assert all(g['UserPoolId'] == {'Ref': pool_id} for g in groups.values())
    # And only admins create users, with long passwords of every character class
    assert props(pool)['AdminCreateUserConfig']['AllowAdminCreateUserOnly'] is True
    policy = props(pool)['Policies']['PasswordPolicy']
    assert policy['MinimumLength'] >= 12
    assert all(policy[k] for k in ('RequireLowercase', 'RequireUppercase', 'RequireNumbers', 'RequireSymbols'))
    assert props(pool)['MfaConfiguration'] in {'OPTIONAL', 'ON'}
    # And the web client has no secret and never uses the implicit flow
    assert props(client)['GenerateSecret'] is False
    assert 'implicit' not in props(client).get('AllowedOAuthFlows', [])
    # And passwords are never sent as such by a browser: SRP, or the admin flow that needs IAM credentials
    assert set(props(client)['ExplicitAuthFlows']) == {
        'ALLOW_USER_SRP_AUTH',
        'ALLOW_ADMIN_USER_PASSWORD_AUTH',
        'ALLOW_REFRESH_TOKEN_AUTH',
    }
    assert props(client).get('CallbackURLs', []) == synthesized.context['inboxdesk:corsAllowOrigins']


def test_signed_in_users_cannot_change_their_email_address(synthesized: Synthesized) -> None:
    # Given the web client of the user pool
    [client] = of_type(synthesized.template, 'AWS::Cognito::UserPoolClient').values()
    # Then a user may write their name and nothing else (the API trusts a verified `email`), and reads their
    # address and whether it is verified
    assert props(client)['WriteAttributes'] == ['name']
    assert set(props(client)['ReadAttributes']) == {'email', 'email_verified', 'name'}
