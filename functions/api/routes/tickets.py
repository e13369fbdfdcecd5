"""placeholder"""

from aws_lambda_powertools.event_handler.api_gateway import Router

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped
