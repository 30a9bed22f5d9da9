"""Screening through the browser: the instrument forms with live scoring, the ASAM form with its
live recommendation, the Intake card, the history pages and the chart reads they audit."""

import re

import pytest
from django.shortcuts import redirect
from django.test import override_settings
from django.urls import reverse

from iop.audit.models import AuditAction, AuditEntry
from patients.instruments import Band
from patients.instruments.definitions import DAST_10_DEFINITION, PHQ_9_DEFINITION
from patients.models import AsamAssessment, ClinicalAlert, InstrumentResponse
from patients.services import screening as services
from patients.tests.test_screening_services import CIWA_MODERATE, PHQ9_ITEM9_POSITIVE, open_referral
from patients.views import screening as views

pytestmark = pytest.mark.django_db


def url(name, clinic, *args):
    return reverse(f"patients:{name}", args=[clinic.patient.public_id, *args])


def as_post(answers: dict) -> dict:
    return {
        key: ("yes" if value else "no") if isinstance(value, bool) else str(value)
        for key, value in answers.items()
    }


def checked(html: str, name: str, value: str) -> bool:
    """Whether the radio `name`=`value` is rendered checked."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return "checked" in tag
    raise AssertionError(f"no radio {name}={value}")


# --- the form ---------------------------------------------------------------------------------


def test_instrument_form_shows_the_stem_each_items_wording_and_its_answer_options(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("administer_instrument", clinic, "phq-9")).content.decode()
    assert PHQ_9_DEFINITION.instructions in html
    for item in PHQ_9_DEFINITION.items:
        assert item.wording.replace("'", "&#x27;") in html
    for label in [
        "Not at all (0)",
        "Several days (1)",
        "More than half the days (2)",
        "Nearly every day (3)",
    ]:
        assert label in html
    assert html.count('type="radio"') == 40  # 10 items x 4 options
    assert 'data-testid="score-progress">0 of 9 answered' in html


def test_yes_no_instruments_show_yes_and_no(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("administer_instrument", clinic, "cage")).content.decode()
    assert html.count('value="yes"') == 4 and html.count('value="no"') == 4
    assert ">Yes</label>" in html and ">No</label>" in html


def test_cssrs_follow_up_items_start_hidden(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("administer_instrument", clinic, "c-ssrs")).content.decode()
    for key in ["3", "4", "5", "6a"]:
        assert re.search(
            rf'data-testid="item-{key}"[^>]*data-asked-when-item="[0-9]+"[^>]*\s+hidden>', html
        ), key
    for key in ["1", "2", "6"]:
        assert not re.search(rf'data-testid="item-{key}"[^>]*hidden>', html), key


def test_audit_c_asks_the_sex_used_for_scoring(clinic, client):
    clinic.patient.sex_assigned_at_birth = "female"
    clinic.patient.save()
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("administer_instrument", clinic, "audit-c")).content.decode()
    assert "Sex used for scoring" in html and '<option value="female" selected>' in html


def test_dast_10_form_shows_its_credit_line(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("administer_instrument", clinic, "dast-10")).content.decode()
    assert DAST_10_DEFINITION.credit_line in html


@override_settings(DAST10_LICENCE_CONFIRMED=False)
def test_dast_10_is_hidden_and_unavailable_without_a_confirmed_licence(clinic, client):
    client.force_login(clinic.clinician_on_team)
    intake = client.get(url("chart_tab", clinic, "intake")).content.decode()
    assert "administer-phq-9" in intake and "administer-dast-10" not in intake
    assert client.get(url("administer_instrument", clinic, "dast-10")).status_code == 404
    assert client.post(url("score_instrument", clinic, "dast-10"), {}).status_code == 404


def test_unknown_instrument_is_404(clinic, client):
    client.force_login(clinic.clinician_on_team)
    assert client.get(url("administer_instrument", clinic, "bdi-ii")).status_code == 404
    assert client.get(url("instrument_history", clinic, "bdi-ii")).status_code == 404


def test_opening_the_form_is_an_audited_chart_read(clinic, client):
    client.force_login(clinic.medical)
    client.get(url("administer_instrument", clinic, "cows"))
    assert AuditEntry.objects.filter(
        action=AuditAction.READ, patient_public_id=clinic.patient.public_id, actor=clinic.medical
    ).exists()


# --- live scoring -----------------------------------------------------------------------------


def test_live_score_counts_answers_until_complete_and_shows_no_band(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.post(url("score_instrument", clinic, "gad-7"), {"1": "3", "2": "2"}).content.decode()
    assert "2 of 7 answered" in html and "Running total 5" in html
    assert 'data-testid="score-band"' not in html


def test_live_score_shows_total_band_and_flags_when_complete(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.post(
        url("score_instrument", clinic, "gad-7"), {str(n): "2" for n in range(1, 8)}
    ).content.decode()
    assert 'data-testid="score-total">14<' in html and 'data-testid="score-band">moderate<' in html
    assert 'data-flag="further_evaluation"' in html


def test_live_score_shows_phq9_item_9_at_once_before_the_form_is_complete(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.post(url("score_instrument", clinic, "phq-9"), {"9": "1"}).content.decode()
    assert "1 of 9 answered" in html and 'data-flag="suicide_risk"' in html


def test_live_score_shows_cssrs_high_as_soon_as_it_is_certain(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.post(
        url("score_instrument", clinic, "c-ssrs"), {"1": "yes", "2": "yes", "4": "yes"}
    ).content.decode()
    assert 'data-flag="high_suicide_risk"' in html and "answered" in html


def test_live_score_drops_answers_to_items_that_are_not_asked(clinic, client):
    client.force_login(clinic.clinician_on_team)
    # 2 is No, so 3-5 are not asked; 6 is No, so 6a is not asked: the form is complete.
    data = {"1": "no", "2": "no", "3": "yes", "4": "yes", "6": "no", "6a": "yes"}
    html = client.post(url("score_instrument", clinic, "c-ssrs"), data).content.decode()
    assert 'data-testid="score-band">none<' in html and "high_suicide_risk" not in html


def test_live_score_of_audit_c_waits_for_the_sex(clinic, client):
    client.force_login(clinic.clinician_on_team)
    answers = {"1": "1", "2": "1", "3": "1"}
    html = client.post(url("score_instrument", clinic, "audit-c"), answers).content.decode()
    assert "3 of 3 answered" in html and "Choose the sex used for scoring" in html
    html = client.post(
        url("score_instrument", clinic, "audit-c"), {**answers, "sex": "female"}
    ).content.decode()
    assert 'data-testid="score-band">positive<' in html


def test_live_score_never_fails_on_garbage(clinic, client):
    client.force_login(clinic.clinician_on_team)
    for data in [
        {},
        {"1": "x", "2": "99", "3": "-1", "zz": "1"},
        {"1": ["1", "2"]},
        {"sex": "robot", "1": "3.5"},
    ]:
        for code in ["phq-9", "audit-c", "c-ssrs", "ciwa-ar", "cows"]:
            response = client.post(url("score_instrument", clinic, code), data)
            assert response.status_code == 200, (code, data)
            assert "answered" in response.content.decode()


def test_live_score_is_post_only(clinic, client):
    client.force_login(clinic.clinician_on_team)
    assert client.get(url("score_instrument", clinic, "phq-9")).status_code == 405


# --- submitting -------------------------------------------------------------------------------


def test_invalid_submission_shows_errors_beside_each_item_and_keeps_every_answer(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        url("administer_instrument", clinic, "phq-9"), {"1": "2", "2": "3", "5": "7", "notes": "kept"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="item-error"') == 7  # 3, 4, 5 (7 is not legal), 6, 7, 8, 9
    assert "Required: no answer given." in html
    assert checked(html, "1", "2") and checked(html, "2", "3")
    assert ">kept</textarea>" in html
    assert not InstrumentResponse.objects.exists()


def test_audit_c_without_the_sex_is_an_error_beside_the_sex(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.post(
        url("administer_instrument", clinic, "audit-c"), {"1": "1", "2": "1", "3": "1"}
    ).content.decode()
    assert "Choose the sex used for scoring (female or male)." in html
    assert not InstrumentResponse.objects.exists()


def test_saving_stores_the_response_and_returns_to_the_intake_tab_with_the_score(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        url("administer_instrument", clinic, "gad-7"), {str(n): "1" for n in range(1, 8)}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("chart_tab", clinic, "intake")
    html = response.content.decode()
    assert "GAD-7 saved: total 7 (mild)." in html
    stored = InstrumentResponse.objects.get()
    assert (stored.total, stored.band, stored.instrument_code) == (7, "mild", "gad-7")
    assert 'data-testid="screening-result-gad-7"' in html


def test_saving_a_positive_phq9_shows_the_safety_alert_on_the_chart_at_once(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(
        url("administer_instrument", clinic, "phq-9"), as_post(PHQ9_ITEM9_POSITIVE), follow=True
    )
    html = response.content.decode()
    assert 'data-testid="chart-alert"' in html
    assert "PHQ-9 item 9 positive: same-day suicide risk assessment (C-SSRS) needed" in html
    assert ClinicalAlert.objects.get().severity == "high"


def test_saving_a_moderate_ciwa_recommends_withdrawal_management(clinic, client):
    client.force_login(clinic.medical)
    response = client.post(
        url("administer_instrument", clinic, "ciwa-ar"), as_post(CIWA_MODERATE), follow=True
    )
    html = response.content.decode()
    assert "IOP not suitable now; withdrawal management first" in html
    assert "alert-danger" in html


def test_saving_a_cssrs_with_its_branches(clinic, client):
    client.force_login(clinic.clinician_on_team)
    data = {"1": "yes", "2": "yes", "3": "no", "4": "no", "5": "no", "6": "yes", "6a": "no"}
    response = client.post(url("administer_instrument", clinic, "c-ssrs"), data)
    assert response.status_code == 302
    stored = InstrumentResponse.objects.get()
    assert stored.band == "moderate" and stored.total is None
    assert stored.answers == {
        "1": True,
        "2": True,
        "3": False,
        "4": False,
        "5": False,
        "6": True,
        "6a": False,
    }


def test_cssrs_answer_to_an_item_not_asked_is_an_error_not_a_500(clinic, client):
    client.force_login(clinic.clinician_on_team)
    data = {"1": "no", "2": "no", "3": "yes", "6": "no"}
    response = client.post(url("administer_instrument", clinic, "c-ssrs"), data)
    assert response.status_code == 200
    assert "Must be left unanswered when item 2 is No." in response.content.decode()


# --- results: Intake card, history, one response ----------------------------------------------


def administer(clinic, code, answers, *, actor=None, **extra):
    return services.administer_instrument(
        actor=actor or clinic.clinician_on_team, patient=clinic.patient, code=code, answers=answers, **extra
    )


def test_intake_card_lists_latest_score_per_instrument_and_draws_the_series(clinic, client):
    administer(clinic, "gad-7", {str(n): 0 for n in range(1, 8)})
    administer(clinic, "gad-7", {str(n): 3 for n in range(1, 8)})
    administer(clinic, "c-ssrs", {"1": True, "2": False, "6": False})
    client.force_login(clinic.case_manager)
    html = client.get(url("chart_tab", clinic, "intake")).content.decode()
    row = html[html.index('data-testid="screening-result-gad-7"') :]
    assert "<td>21</td>" in row[:400] and "severe" in row[:400] and "History (2)" in row[:1200]
    series = re.search(r'<script id="screening-series" type="application/json">(.*?)</script>', html).group(1)
    assert '"code": "gad-7"' in series and '"y": 0' in series and '"y": 21' in series
    assert '"tiers": ["none", "low", "moderate", "high"]' in series
    assert 'data-score-chart data-code="c-ssrs"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/screening.js" in html
    assert "administer-menu" not in html and "new-asam" not in html  # peer support reads only
    history = client.get(url("instrument_history", clinic, "c-ssrs")).content.decode()
    assert '<th scope="col">Risk</th>' in history and 'data-code="c-ssrs"' in history


def test_history_lists_every_administration_newest_first_paginated(clinic, client):
    for total in range(25):
        administer(clinic, "phq-9", {str(n): (1 if n <= total % 9 else 0) for n in range(1, 10)})
    client.force_login(clinic.case_manager)
    response = client.get(url("instrument_history", clinic, "phq-9"))
    page = response.context["page"]
    assert page.paginator.count == 25 and len(page.object_list) == 20
    times = [row.administered_at for row in page.object_list]
    assert times == sorted(times, reverse=True)
    assert "View answers" in response.content.decode()
    assert (
        len(client.get(url("instrument_history", clinic, "phq-9"), {"page": 2}).context["page"].object_list)
        == 5
    )


def test_history_query_count_does_not_grow_with_administrations(clinic, client, query_count):
    client.force_login(clinic.clinician_on_team)
    administer(clinic, "cows", {str(n): 0 for n in range(1, 12)})
    history = url("instrument_history", clinic, "cows")
    one = query_count(lambda: client.get(history))
    for _ in range(30):
        administer(clinic, "cows", {str(n): 0 for n in range(1, 12)})
    assert query_count(lambda: client.get(history)) == one


def test_intake_tab_query_count_does_not_grow_with_results(clinic, client, query_count):
    client.force_login(clinic.clinician_on_team)
    administer(clinic, "cows", {str(n): 0 for n in range(1, 12)})
    services.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings={str(d): 1 for d in range(1, 7)},
    )
    intake = url("chart_tab", clinic, "intake")
    before = query_count(lambda: client.get(intake))
    for _ in range(10):
        administer(clinic, "cows", {str(n): 0 for n in range(1, 12)})
        administer(clinic, "gad-7", {str(n): 0 for n in range(1, 8)})
        services.assess_asam(
            actor=clinic.clinician_on_team,
            patient=clinic.patient,
            edition="3",
            ratings={str(d): 1 for d in range(1, 7)},
        )
    assert query_count(lambda: client.get(intake)) == before


def test_one_response_shows_each_item_answer_read_only(clinic, client):
    response = administer(clinic, "phq-9", PHQ9_ITEM9_POSITIVE, notes="Tearful.")
    client.force_login(clinic.case_manager)
    html = client.get(url("instrument_response", clinic, response.public_id)).content.decode()
    assert html.count('data-testid="answer-row"') == 10
    assert "Thoughts that you would be better off dead" in html and "Several days" in html
    assert "Not asked" in html  # optional item 10
    assert "Tearful." in html and "<form" not in html.split('data-testid="instrument-response"')[1]
    assert AuditEntry.objects.filter(action=AuditAction.READ, actor=clinic.case_manager).exists()


def test_a_response_of_another_patient_is_404(clinic, client):
    from patients.tests.factories import PatientFactory

    other = PatientFactory(site=clinic.site_a)
    response = services.administer_instrument(
        actor=clinic.clinician_on_team,
        patient=other,
        code="cage",
        answers={str(n): False for n in range(1, 5)},
    )
    client.force_login(clinic.admin)  # sees both patients
    assert client.get(url("instrument_response", clinic, response.public_id)).status_code == 404


# --- ASAM -------------------------------------------------------------------------------------

RATINGS_IOP = {
    "rating_1": "0",
    "rating_2": "1",
    "rating_3": "2",
    "rating_4": "2",
    "rating_5": "2",
    "rating_6": "1",
}


def test_asam_form_shows_six_dimensions_with_both_editions_names(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("new_asam", clinic)).content.decode()
    assert 'data-name-3="Readiness to Change" data-name-4="Substance Use-Related Risks"' in html
    assert html.count('name="rating_') == 30 and html.count('name="notes_') == 6
    assert "4 severe/imminent" in html
    assert '<div data-level-edition="4" hidden>' in html
    assert re.search(r'<select name="chosen_level" id="id_chosen_level_4"[^>]* disabled>', html)
    assert re.search(r'<select name="chosen_level" id="id_chosen_level_3"[^>]*"\s*>', html)
    assert "0 of 6 dimensions rated" in html


def test_asam_live_recommendation_shows_level_and_reasons(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.post(url("asam_recommend", clinic), {"edition": "3", **RATINGS_IOP}).content.decode()
    assert 'data-testid="asam-recommended-level">2.1<' in html and "Readiness to Change" in html
    html = client.post(
        url("asam_recommend", clinic), {"edition": "4", **RATINGS_IOP, "rating_1": "3"}
    ).content.decode()
    assert 'data-testid="asam-recommended-level">3.7<' in html and "withdrawal management first" in html
    html = client.post(
        url("asam_recommend", clinic), {"edition": "9", "rating_1": "x", "rating_2": "7"}
    ).content.decode()
    assert "0 of 6 dimensions rated" in html


def test_asam_accept_saves_the_recommended_level(clinic, client):
    client.force_login(clinic.clinician_on_team)
    data = {"edition": "4", "decision": "accept", **RATINGS_IOP, "notes_4": "Ambivalent."}
    response = client.post(url("new_asam", clinic), data, follow=True)
    assert "ASAM assessment saved: level 2.1 chosen." in response.content.decode()
    stored = AsamAssessment.objects.get()
    assert (stored.edition, stored.recommended_level, stored.chosen_level) == ("4", "2.1", "2.1")
    assert stored.dimension_notes == {"4": "Ambivalent."}
    assert 'data-testid="asam-latest-chosen">2.1<' in response.content.decode()


def test_asam_override_without_a_reason_is_a_clear_error_and_keeps_the_ratings(clinic, client):
    client.force_login(clinic.clinician_on_team)
    data = {"edition": "3", "decision": "override", "chosen_level": "2.5", **RATINGS_IOP}
    response = client.post(url("new_asam", clinic), data)
    html = response.content.decode()
    assert 'data-testid="override-reason-error"' in html
    assert "Give the reason for choosing level 2.5 instead of the recommended level 2.1." in html
    assert checked(html, "rating_3", "2") and '<option value="2.5" selected>' in html
    assert 'id="asam-override" class="mt-2 ps-4">' in html  # shown, not hidden
    assert not AsamAssessment.objects.exists()


def test_asam_override_without_a_level_is_an_error(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(url("new_asam", clinic), {"edition": "3", "decision": "override", **RATINGS_IOP})
    assert 'data-testid="chosen-level-error"' in response.content.decode()


def test_asam_override_with_a_reason_is_stored(clinic, client):
    client.force_login(clinic.clinician_on_team)
    data = {
        "edition": "3",
        "decision": "override",
        "chosen_level": "2.5",
        "override_reason": "Relapsed twice in 2.1 last year.",
        **RATINGS_IOP,
    }
    response = client.post(url("new_asam", clinic), data)
    assert response.status_code == 302
    stored = AsamAssessment.objects.get()
    assert (stored.recommended_level, stored.chosen_level) == ("2.1", "2.5")
    assert stored.override_reason == "Relapsed twice in 2.1 last year."


def test_asam_missing_ratings_are_errors_beside_each_dimension(clinic, client):
    client.force_login(clinic.clinician_on_team)
    response = client.post(url("new_asam", clinic), {"edition": "3", "decision": "accept", "rating_1": "1"})
    assert response.content.decode().count('data-testid="dimension-error"') == 5
    assert not AsamAssessment.objects.exists()


def test_asam_history_and_one_assessment(clinic, client):
    services.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings={str(d): 2 for d in range(1, 7)},
        chosen_level="2.5",
        override_reason="Family request.",
    )
    client.force_login(clinic.case_manager)
    html = client.get(url("asam_history", clinic)).content.decode()
    assert html.count('data-testid="history-row"') == 1 and "override" in html
    assessment = AsamAssessment.objects.get()
    html = client.get(url("asam_assessment", clinic, assessment.public_id)).content.decode()
    assert "Recovery/Living Environment" in html and "Family request." in html
    assert 'data-testid="asam-chosen-level">2.5<' in html


def test_asam_history_query_count_does_not_grow(clinic, client, query_count):
    client.force_login(clinic.clinician_on_team)
    ratings = {str(d): 1 for d in range(1, 7)}
    services.assess_asam(actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ratings)
    history = url("asam_history", clinic)
    one = query_count(lambda: client.get(history))
    for _ in range(15):
        services.assess_asam(
            actor=clinic.clinician_on_team, patient=clinic.patient, edition="3", ratings=ratings
        )
    assert query_count(lambda: client.get(history)) == one


# --- C-SSRS: the published periods ---------------------------------------------------------------


def item_html(html: str, key: str) -> str:
    start = html.index(f'data-testid="item-{key}"')
    return html[start : html.index("</legend>", start)]


def test_cssrs_form_asks_items_1_to_5_about_the_past_month(clinic, client):
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("administer_instrument", clinic, "c-ssrs")).content.decode()
    assert 'data-testid="instrument-instructions">Questions 1-5 ask about the past month' in html
    for key in ["1", "2", "3", "4", "5"]:
        assert 'data-testid="item-timeframe">In the past month:</span>' in item_html(html, key), key
    assert 'data-testid="item-timeframe">Lifetime:</span>' in item_html(html, "6")
    assert "item-timeframe" not in item_html(html, "6a") and "Within the past 3 months?" in item_html(
        html, "6a"
    )
    phq9 = client.get(url("administer_instrument", clinic, "phq-9")).content.decode()
    assert "item-timeframe" not in phq9  # its stem gives the period


def test_a_stored_cssrs_shows_the_period_each_answer_is_about(clinic, client):
    stored = administer(clinic, "c-ssrs", {"1": True, "2": False, "6": True, "6a": False})
    client.force_login(clinic.case_manager)
    html = client.get(url("instrument_response", clinic, stored.public_id)).content.decode()
    assert "In the past month:</span> Wished you were dead" in html
    assert "Lifetime:</span> Ever done anything" in html


# --- CIWA-Ar: the live score uses this installation's bands ----------------------------------------

VA_STYLE = (Band("minimal/mild", 0, 7), Band("moderate", 8, 15), Band("severe", 16, 67))
CIWA_TOTAL_8 = {**{str(n): "1" for n in range(1, 9)}, "9": "0", "10": "0"}


def test_live_ciwa_ar_score_uses_the_configured_bands(clinic, client, settings):
    client.force_login(clinic.medical)
    default = client.post(url("score_instrument", clinic, "ciwa-ar"), CIWA_TOTAL_8).content.decode()
    assert 'data-testid="score-band">mild<' in default and "data-flag" not in default
    settings.CIWA_AR_BANDS = VA_STYLE
    html = client.post(url("score_instrument", clinic, "ciwa-ar"), CIWA_TOTAL_8).content.decode()
    assert 'data-testid="score-total">8<' in html and 'data-testid="score-band">moderate<' in html
    assert 'data-flag="withdrawal_management_before_iop"' in html
    # Before the form is complete: 8 points already reach "moderate" under these bands.
    partial = {key: value for key, value in CIWA_TOTAL_8.items() if key != "10"}
    early = client.post(url("score_instrument", clinic, "ciwa-ar"), partial).content.decode()
    assert "9 of 10 answered" in early and 'data-flag="withdrawal_management_before_iop"' in early


def test_saving_a_ciwa_ar_on_the_page_uses_the_configured_bands(clinic, client, settings):
    settings.CIWA_AR_BANDS = VA_STYLE
    client.force_login(clinic.medical)
    response = client.post(url("administer_instrument", clinic, "ciwa-ar"), CIWA_TOTAL_8, follow=True)
    assert "CIWA-Ar saved: total 8 (moderate)." in response.content.decode()
    assert InstrumentResponse.objects.get().band == "moderate"


# --- after saving: back to an open intake ---------------------------------------------------------


def test_saving_returns_through_the_shared_intake_redirect(clinic, client, monkeypatch):
    """One way back for every intake step: `back_to_intake_or` decides."""
    calls = []

    def spy(patient, default_url):
        calls.append((patient, default_url))
        return redirect("/spied/")

    monkeypatch.setattr(views, "back_to_intake_or", spy)
    client.force_login(clinic.clinician_on_team)
    saved = client.post(url("administer_instrument", clinic, "gad-7"), {str(n): "1" for n in range(1, 8)})
    asam = {"edition": "3", "decision": "accept", **{f"rating_{d}": "2" for d in range(1, 7)}}
    assessed = client.post(url("new_asam", clinic), asam)
    assert saved.url == assessed.url == "/spied/"
    assert calls == [(clinic.patient, url("chart_tab", clinic, "intake"))] * 2


def test_saving_during_an_open_intake_returns_to_its_checklist(clinic, client):
    open_referral(clinic)
    client.force_login(clinic.clinician_on_team)
    saved = client.post(url("administer_instrument", clinic, "gad-7"), {str(n): "1" for n in range(1, 8)})
    asam = {"edition": "3", "decision": "accept", **{f"rating_{d}": "2" for d in range(1, 7)}}
    assessed = client.post(url("new_asam", clinic), asam)
    assert saved.url == assessed.url == url("chart_tab", clinic, "intake")


# --- readmission: the Intake card tells this intake's screening from the history -------------------


def test_intake_card_marks_results_from_before_the_open_referral(clinic, client):
    first = open_referral(clinic)
    administer(clinic, "cage", {str(n): False for n in range(1, 5)})
    services.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings={str(d): 2 for d in range(1, 7)},
    )
    first.status, first.outcome = "closed", "admitted"
    first.save(update_fields=["status", "outcome"])
    open_referral(clinic)
    client.force_login(clinic.clinician_on_team)
    html = client.get(url("chart_tab", clinic, "intake")).content.decode()
    assert 'data-testid="before-referral"' in html and 'data-testid="asam-not-for-referral"' in html
    administer(clinic, "cage", {str(n): False for n in range(1, 5)})
    services.assess_asam(
        actor=clinic.clinician_on_team,
        patient=clinic.patient,
        edition="3",
        ratings={str(d): 2 for d in range(1, 7)},
    )
    html = client.get(url("chart_tab", clinic, "intake")).content.decode()
    assert 'data-testid="before-referral"' not in html and 'data-testid="asam-not-for-referral"' not in html
