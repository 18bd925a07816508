"""Schemathesis generates requests from the engine's OpenAPI document, valid and invalid, and holds every answer to
it: no 5xx, the documented status codes, content types and schemas, and invalid input refused with a 4xx."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from beuwi.csv_catalogue import parse_catalogue
from tests.test_openapi import make_app

SAMPLE = "uploads/sample-catalogue.csv"


@pytest.fixture
def engine_schema(falkordb_store):
    with open(SAMPLE, "rb") as file:
        programmes = parse_catalogue(file.read()).programmes
    falkordb_store.activate(falkordb_store.load(programmes, source="sample").id)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", make_app(falkordb_store))


schema = schemathesis.pytest.from_fixture("engine_schema")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_generated_request_is_answered_as_documented(case):
    # A request that fits the document may still name a subject that does not exist (the canonical list is data, not
    # schema) and be refused with a 400 that names it; every other check stays on.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
