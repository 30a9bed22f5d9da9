"""The OpenAPI schema says what the API answers (schemathesis's findings, one test each).

The live run is tests/test_api_conformance.py (PostgreSQL); these check the same points fast,
on the generated schema and through the test client.
"""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from iop.core.api_schema import ERROR_STATUSES

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, name):
    return schema["components"]["schemas"][name]


def resolve(schema, node):
    while "$ref" in node:
        node = component(schema, node["$ref"].rsplit("/", 1)[-1])
    return node


def test_every_operation_declares_its_error_statuses(schema):
    operations = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            operations += 1
            expected = {"400", "401", "403", "404", "429"} | ({"409"} if method != "get" else set())
            assert expected <= operation["responses"].keys(), (method, path)
            for status in expected:
                content = operation["responses"][status]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert operations >= 45
    assert set(ERROR_STATUSES) == {"400", "401", "403", "404", "409", "429"}


def test_every_patch_requires_the_version_and_lists_only_what_it_may_change(schema):
    patches = {
        path: item["patch"]["requestBody"]["content"]["application/json"]["schema"]
        for path, item in schema["paths"].items()
        if "patch" in item
    }
    assert len(patches) == 10  # 5 (patients app) + rooms, session types, series, occurrences, attendance
    for path, body in patches.items():
        assert "version" in resolve(schema, body)["required"], path
    assert "site" not in component(schema, "PatchedPatientRequest")["properties"]
    assert set(component(schema, "PatchedEpisodeRequest")["properties"]) == {
        "care_team_assignments",
        "acknowledge_concerns",
        "version",
    }
    assert not {"patient", "new_patient", "site"} & set(
        component(schema, "PatchedReferralRequest")["properties"]
    )
    assert "patient" not in component(schema, "PatchedMedicationRequest")["properties"]


def test_required_fields_are_marked_required(schema):
    assert {"edition", "ratings"} <= set(component(schema, "RecommendRequestRequest")["required"])
    ratings = component(schema, "RecommendRequestRequest")["properties"]["ratings"]
    assert ratings["required"] == ["1", "2", "3", "4", "5", "6"] and ratings["additionalProperties"] is False
    assert {"answers", "instrument_code", "patient"} <= set(
        component(schema, "AdministerRequest")["required"]
    )
    assert component(schema, "ScoreRequestRequest")["properties"]["answers"]["minProperties"] == 1
    assert {"username", "password"} <= set(component(schema, "AuthTokenRequest")["required"])


def test_asam_vocabulary_is_one_object_not_a_list(schema):
    response = schema["paths"]["/api/v1/asam/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert response["schema"] == {"$ref": "#/components/schemas/AsamVocabulary"}


def test_blank_and_null_values_the_api_returns_are_in_the_schema(schema):
    discharge = component(schema, "Episode")["properties"]["discharge_reason"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in discharge["oneOf"]
    outcome = component(schema, "Referral")["properties"]["outcome"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in outcome["oneOf"]
    assert component(schema, "CareTeamMember")["properties"]["ended_on"]["nullable"] is True
    definition = component(schema, "InstrumentDefinition")["properties"]
    assert definition["min_total"]["nullable"] is True and definition["max_total"]["nullable"] is True
    assert component(schema, "Item")["properties"]["asked_when"]["nullable"] is True


def test_local_times_are_a_pattern_not_rfc3339_time(schema):
    draw_time = component(schema, "Site")["properties"]["daily_draw_time"]
    assert "format" not in draw_time and draw_time["pattern"].startswith("^([01]")


def test_query_strings_must_not_be_empty_in_the_schema(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/patients/"]["get"]["parameters"]}
    assert parameters["q"]["minLength"] == 1 and parameters["page"]["minimum"] == 1


@pytest.fixture
def api(clinic):
    client = APIClient()
    client.force_authenticate(clinic.admin)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/?page=",
        "/api/v1/patients/?page=0",
        "/api/v1/patients/?page=last",
        "/api/v1/patients/?site=",
        "/api/v1/patients/?q=",
        "/api/v1/asam-assessments/?patient=",
        "/api/v1/instrument-responses/?patient=",
        "/api/v1/medications/?patient=",
    ],
)
def test_empty_or_malformed_filters_and_pages_are_400_json(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()


@pytest.mark.django_db
def test_a_page_past_the_end_is_404_json(api):
    response = api.get("/api/v1/patients/?page=99")
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_paths_are_json_404_even_for_a_post(api, method):
    response = getattr(api, method)("/api/v1/consents//revoke/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_options_on_a_medication_does_not_advertise_delete(api, clinic):
    from patients.services import medications

    medication = medications.add_medication(
        actor=clinic.medical, patient=clinic.patient, name="Naltrexone", medication_class="naltrexone"
    )
    response = api.options(f"/api/v1/medications/{medication.public_id}/")
    assert "DELETE" not in response["Allow"] and "PATCH" in response["Allow"]
    deleted = api.delete(f"/api/v1/medications/{medication.public_id}/")
    assert deleted.status_code == 405 and "never deleted" in deleted.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"), [("is_veteran", 0), ("is_veteran", "yes"), ("payer_member_id", 0), ("city", ["x"])]
)
def test_a_value_of_the_wrong_json_type_is_400(api, clinic, field, value):
    url = f"/api/v1/patients/{clinic.patient.public_id}/"
    response = api.patch(url, {field: value, "version": clinic.patient.version}, format="json")
    assert response.status_code == 400 and field in response.json()


@pytest.mark.django_db
def test_form_encoded_bodies_are_415(api):
    response = api.post(
        "/api/v1/asam/recommend/", "edition=3", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
