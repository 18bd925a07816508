"""The engine's two eligibility paths, the compiled index (default) and the graph's Cypher query (reference),
give the same answers over HTTP on the sample catalogue."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beuwi.csv_catalogue import parse_catalogue
from beuwi.search import create_app

from .strategies import GPAS, SUBJECTS, entries

SAMPLE = Path(__file__).resolve().parent.parent / "uploads" / "sample-catalogue.csv"
# What a student may enter: any subject, unit or GCE level at any grade, and sometimes an associate degree.
ENTRIES = st.sampled_from(SUBJECTS).flatmap(entries).map(str) | GPAS.map(lambda g: f"Associate Degree (GPA:{g / 100:.1f})")


@pytest.fixture
def apps(graph_store):
    programmes = parse_catalogue(SAMPLE.read_bytes()).programmes
    graph_store.activate(graph_store.load(programmes, source="sample").id)
    return [create_app({"TESTING": True, "GRAPH_STORE": graph_store, "MATCHER": matcher}).test_client()
            for matcher in ("compiled", "cypher")]


def without_timing(response):
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    del body["took_ms"]
    return body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ENTRIES, max_size=14))
def test_compiled_and_cypher_paths_answer_alike(apps, texts):
    query = [("subject", text) for text in texts]
    compiled, cypher = (without_timing(app.get("/api/search", query_string=query)) for app in apps)
    assert compiled == cypher


def test_an_unknown_matcher_is_refused_at_start(graph_store):
    with pytest.raises(ValueError, match="BEUWI_MATCHER='sql': use one of compiled, cypher"):
        create_app({"GRAPH_STORE": graph_store, "MATCHER": "sql"})
