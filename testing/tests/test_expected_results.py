"""A positive explained by a prescribed medication is expected, not a relapse."""

from datetime import date

from testing.expected_results import Prescription, explain_positive

DAY = date(2026, 3, 10)
BUPRENORPHINE = Prescription("Suboxone", "buprenorphine", started_on=date(2026, 1, 5))


def test_a_current_prescription_of_the_class_explains_the_positive():
    result = explain_positive(explained_by=["buprenorphine"], collected_on=DAY, prescriptions=[BUPRENORPHINE])
    assert result.expected
    assert result.medication == "Suboxone"


def test_a_prescription_of_another_class_does_not():
    result = explain_positive(
        explained_by=["benzodiazepine"], collected_on=DAY, prescriptions=[BUPRENORPHINE]
    )
    assert not result.expected


def test_a_prescription_started_after_collection_does_not():
    later = Prescription("Suboxone", "buprenorphine", started_on=date(2026, 3, 11))
    assert not explain_positive(
        explained_by=["buprenorphine"], collected_on=DAY, prescriptions=[later]
    ).expected


def test_a_prescription_stopped_within_the_detection_window_still_explains_it():
    stopped = Prescription("Adderall", "stimulant", started_on=date(2026, 1, 1), stopped_on=date(2026, 3, 7))
    assert explain_positive(explained_by=["stimulant"], collected_on=DAY, prescriptions=[stopped]).expected
    assert not explain_positive(
        explained_by=["stimulant"], collected_on=DAY, prescriptions=[stopped], window_days=2
    ).expected


def test_no_medication_list_means_unexpected():
    assert not explain_positive(explained_by=["methadone"], collected_on=DAY, prescriptions=[]).expected
    assert not explain_positive(explained_by=[], collected_on=DAY, prescriptions=[BUPRENORPHINE]).expected
