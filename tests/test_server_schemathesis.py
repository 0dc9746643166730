"""Property-based API tests: schemathesis generates requests from the app's own OpenAPI spec.

Every generated request, valid (positive) and invalid (negative), must get a
documented status code and a response matching the spec; schema-invalid
requests must be rejected; no 5xx is allowed
except 503 back-pressure (which the fast test double never triggers). The
server runs with an API key, so schemathesis also checks that /v1 refuses
requests without it.

A small loop over the operations, rather than ``@schema.parametrize``: the
app's lifespan (which starts the scoring thread) must run around the calls,
and schemathesis's ``from_fixture`` does not work with pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from server_support import FakeDetector

from byline.interfaces.server import ServerSettings, create_app

API_KEY = "schemathesis-key"
EXAMPLES_PER_OPERATION = 40


def no_server_error_but_back_pressure(ctx, response, case):
    """Like schemathesis's not_a_server_error, but a 503 with Retry-After is allowed."""
    if response.status_code >= 500 and not (
        response.status_code == 503 and "retry-after" in response.headers
    ):
        raise AssertionError(f"server error {response.status_code}: {response.text[:500]}")


@pytest.fixture(scope="module")
def api_schema():
    app = create_app(FakeDetector(), ServerSettings(api_key=API_KEY))
    with TestClient(app):  # the lifespan: the scoring thread runs while the module's tests do
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_api_conforms_to_its_own_spec(api_schema, mode):
    # Excluded: not_a_server_error (replaced by the check above, which allows 503 back-pressure) and
    # positive_data_acceptance: a schema cannot say "this HTML has article text" or "this text is not
    # only invisible characters", so schema-valid but unusable documents rightly get 422 (see
    # test_server_api.py for those answers).
    from schemathesis.checks import not_a_server_error, positive_data_acceptance

    extra_check = schemathesis.check(no_server_error_but_back_pressure)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /v1/detect",
        "POST /v1/detect/batch",
        "GET /v1/info",
        "GET /healthz",
    }
    for operation in operations:
        if mode == schemathesis.GenerationMode.NEGATIVE and operation.method.upper() == "GET":
            continue  # the GET routes take no input, so there is nothing to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def conforms(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {API_KEY}"},
                excluded_checks=[not_a_server_error, positive_data_acceptance],
                additional_checks=[extra_check],
            )

        conforms()
