"""The service's structured JSON logger (Powertools Logger).

Every record carries the service name, the Lambda request id and, when the
request came through API Gateway or an ALB, its request id as correlation id.
"""

import os

from aws_lambda_powertools import Logger

from .settings import Settings

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", Settings.service_name))
