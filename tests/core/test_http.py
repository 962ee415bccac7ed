"""One error shape for every failure, request ids, body limits, security headers and metrics."""

from __future__ import annotations


async def test_unknown_route_is_404_in_the_error_shape(client):
    response = await client.get("/nope", headers={"X-Request-Id": "abc-123"})
    assert response.status_code == 404
    assert response.json() == {"error": "NOT_FOUND", "message": "Route not found", "requestId": "abc-123"}
    assert response.headers["X-Request-Id"] == "abc-123"


async def test_wrong_method_is_405_in_the_error_shape(client):
    response = await client.get("/auth/login")
    assert response.status_code == 405
    assert response.json()["error"] == "METHOD_NOT_ALLOWED"
    assert response.json()["requestId"] == response.headers["X-Request-Id"]


async def test_malformed_json_is_422(client):
    response = await client.post(
        "/auth/login",
        content=b'{"email": "a@b.com", "password":',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert body["details"][0]["message"] == "Malformed JSON body"


async def test_validation_errors_name_the_fields(client):
    response = await client.post("/auth/login", json={"email": "nope"})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert {"email", "password"} <= fields


async def test_body_over_one_mebibyte_is_413(client):
    response = await client.post(
        "/auth/login", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "PAYLOAD_TOO_LARGE"


async def test_chunked_body_over_the_limit_is_413(client):
    async def chunks():
        for _ in range(5):
            yield b"x" * (300 * 1024)

    response = await client.post(
        "/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_request_id_is_generated_when_absent_and_security_headers_set(client):
    response = await client.get("/health")
    assert len(response.headers["X-Request-Id"]) == 32
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_ready_reports_database_and_migrations(client):
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


async def test_metrics_use_route_templates(client):
    await client.get("/auth/me")
    await client.get("/definitely/not/a/route/123")
    text = (await client.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/auth/me",status="401"}' in text
    assert 'route="unmatched"' in text
    assert "/definitely/not/a/route/123" not in text
    assert "http_request_duration_seconds_bucket" in text


async def test_openapi_lists_routes_with_tags(client):
    spec = (await client.get("/openapi.json")).json()
    assert "/auth/login" in spec["paths"]
    assert spec["paths"]["/auth/login"]["post"]["tags"] == ["auth"]
    assert (await client.get("/docs")).status_code == 200
