"""The agents' REST API: one Lambda behind API Gateway's HTTP API (payload v2, JWT authorizer)."""
