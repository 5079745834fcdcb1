"""Local development: run and test the service with no AWS account."""
