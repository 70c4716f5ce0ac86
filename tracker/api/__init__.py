"""The REST API: `/api/operations/` and everything in an operation, on the same services as the
pages. `urls` lists the routes; `base` holds what every endpoint shares (roles, the error shape,
strict input, pagination, throttles, the schema's error responses)."""
