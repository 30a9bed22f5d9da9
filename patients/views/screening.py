"""Screening pages inside a chart: administer an instrument (live score), ASAM assessment (live
recommendation), and the read-only history of both.

Every page: login required, the patient through `patients.access` (404 outside reach), the
role checked (a page a role may not use is a 404, as elsewhere), chart reads audited by
`chart_context`, writes audited by the services. Who may do what: `patients.services.screening`;
the forms are also a 404 to someone who may not write this patient's record (they see the
patient from another site), and the services refuse them whatever the page does. Scores are
computed as the services store them (`score_for_installation`: this installation's bands).
The live partials (`_score.html`, `_asam_recommendation.html`) read no patient data; they are
scoped and role-checked like the form they belong to, and never fail on partial or garbage input.
"""

from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from iop.accounts.decorators import role_required
from iop.core.forms import SERVICE_ERRORS
from iop.core.pagination import paginate
from patients import asam_rule
from patients.access import DataClass, get_visible_patient, may_write_clinical, require_data_class
from patients.forms.screening import (
    ACCEPT,
    OVERRIDE,
    AsamForm,
    InstrumentForm,
    decode_answer,
    is_asked,
    lenient_answers,
    lenient_edition,
    lenient_ratings,
)
from patients.instruments import (
    BandAtLeast,
    InvalidAnswers,
    ItemAnswerAbove,
    TotalAtLeast,
    item_points,
)
from patients.instruments.definitions import SAFETY_FLAGS, Instrument
from patients.selectors import screening as selectors
from patients.services import screening as services
from patients.views.records import back_to_intake_or, chart_context

HISTORY_PAGE_SIZE = 20

# Level names shown beside the codes (CLINICAL.md section 2; 4th-edition names cross-checked only).
LEVEL_NAMES = {
    asam_rule.EDITION_3: {
        "0.5": "early intervention",
        "1": "outpatient",
        "2.1": "intensive outpatient (IOP)",
        "2.5": "partial hospitalization",
        "3.1": "residential",
        "3.3": "residential",
        "3.5": "residential",
        "3.7": "residential",
        "4": "medically managed inpatient",
        "1-WM": "withdrawal management",
        "2-WM": "withdrawal management",
        "3.2-WM": "withdrawal management",
        "3.7-WM": "withdrawal management",
        "4-WM": "withdrawal management",
    },
    asam_rule.EDITION_4: {
        "1.0": "long-term remission monitoring",
        "1.5": "outpatient therapy",
        "2.1": "intensive outpatient (IOP)",
        "2.5": "high-intensity outpatient (HIOP)",
        "4": "medically managed inpatient",
    },
}


def _flag_descriptions(instrument: Instrument | None, flags) -> list[dict]:
    rules = {rule.flag: rule for rule in instrument.flag_rules} if instrument else {}
    return [
        {
            **badge,
            "description": rules[badge["name"]].description if badge["name"] in rules else badge["label"],
            "safety": badge["name"] in SAFETY_FLAGS,
        }
        for badge in selectors.flag_badges(flags)
    ]


def _band_guidance(instrument: Instrument, band: str, sex: str | None) -> str:
    bands = (*selectors.active_bands(instrument, sex), *instrument.bands)
    for candidate in (*bands, *instrument.risk_tiers):
        if candidate.name == band:
            return candidate.guidance
    return ""


# --- live scoring ---------------------------------------------------------------------------------


def live_score(instrument: Instrument, data: Mapping) -> dict:
    """What the score panel shows for whatever has been answered so far (never raises).

    Complete (every asked, required item answered, and the sex for AUDIT-C): the engine's
    total, band and flags. Incomplete: "n of m answered", the running total, no band, and the
    flags that are already certain (points never go down as more items are answered, and a
    C-SSRS tier reached cannot be undone by later answers), so a positive PHQ-9 item 9 or a
    C-SSRS "high" shows the moment it is answered.
    """
    answers = lenient_answers(instrument, data)
    sex = data.get("sex") if isinstance(data.get("sex"), str) else None
    sex = sex if sex in ("female", "male") else None
    asked_required = [item for item in instrument.items if item.required and is_asked(item, answers)]
    answered = sum(1 for item in asked_required if item.key in answers)
    panel = {
        "instrument": instrument,
        "answered": answered,
        "needed": len(asked_required),
        "complete": False,
        "sex_missing": instrument.requires_sex and sex is None,
        "total": None,
        "running_total": None,
        "max_total": instrument.max_total if instrument.has_total else None,
        "band": "",
        "guidance": "",
        "flags": [],
    }
    if answered == len(asked_required) and not panel["sex_missing"]:
        try:
            result = services.score_for_installation(instrument.code, answers, sex=sex)
        except InvalidAnswers:
            pass
        else:
            panel.update(
                complete=True,
                total=result.total,
                band=result.band,
                guidance=_band_guidance(instrument, result.band, sex),
                flags=_flag_descriptions(instrument, result.flags),
            )
            return panel
    panel["flags"] = _flag_descriptions(instrument, _certain_flags(instrument, answers, sex))
    if instrument.has_total:
        panel["running_total"] = sum(
            item_points(instrument.item(key), value) for key, value in answers.items()
        )
    return panel


def _certain_flags(instrument: Instrument, answers: Mapping[str, int | bool], sex: str | None) -> list[str]:
    """Flags that hold whatever the unanswered items turn out to be (all points are >= 0)."""
    if instrument.has_total:
        running = sum(item_points(instrument.item(key), value) for key, value in answers.items())
        bands = selectors.active_bands(instrument, sex)
        names = [band.name for band in bands]
        reached = next((index for index, band in enumerate(bands) if band.contains(running)), None)
    else:
        names = list(instrument.band_names)
        yes = {key for key, value in answers.items() if value is True}
        reached = next(
            (
                index
                for index in range(len(instrument.risk_tiers) - 1, 0, -1)
                if instrument.risk_tiers[index].any_yes & yes
            ),
            None,
        )
        running = None
    flags = []
    for rule in instrument.flag_rules:
        condition = rule.when
        if isinstance(condition, ItemAnswerAbove):
            value = answers.get(condition.item)
            holds = value is not None and int(value) > condition.threshold
        elif isinstance(condition, TotalAtLeast):
            holds = running is not None and running >= condition.minimum
        elif isinstance(condition, BandAtLeast):
            holds = reached is not None and condition.band in names and reached >= names.index(condition.band)
        else:
            holds = False
        if holds:
            flags.append(rule.flag)
    return flags


def _instrument_or_404(code: str) -> Instrument:
    instrument = selectors.offered_instrument(code)
    if instrument is None:
        raise Http404("No such instrument.")
    return instrument


def _hidden_items(instrument: Instrument, form: InstrumentForm) -> set[str]:
    """Branch items not asked given the answers on the form (the page hides them; JS keeps it so)."""
    raw = form.data if form.is_bound else {}
    answers = {}
    for item in instrument.items:
        value = decode_answer(item, raw.get(item.key)) if raw else None
        if value is not None:
            answers[item.key] = value
    return {
        item.key
        for item in instrument.items
        if not is_asked(item, answers) and not (form.is_bound and form.errors.get(item.key))
    }


def _patient_to_write(request, public_id):
    """The patient, if the user may write their clinical record (break-the-glass included: an
    emergency assessment is legitimate); else 404, as for a page the role may not use."""
    patient = get_visible_patient(request.user, public_id)
    if not may_write_clinical(request.user, patient, allow_break_glass=True):
        raise Http404("No such page.")
    return patient


def _intake_tab_url(patient) -> str:
    return reverse("patients:chart_tab", args=[patient.public_id, "intake"])


@role_required(selectors.may_administer_instruments)
def administer_instrument(request, public_id, code):
    patient = _patient_to_write(request, public_id)
    instrument = _instrument_or_404(code)
    form = InstrumentForm(request.POST or None, instrument=instrument, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.administer_instrument(
                actor=request.user,
                patient=patient,
                code=instrument.code,
                answers=form.answers(),
                sex=form.sex(),
                notes=form.cleaned_data.get("notes", ""),
            )
        except SERVICE_ERRORS as error:
            form.add_engine_errors(error)
        else:
            name = selectors.short_name(instrument)
            if response.total is None:
                messages.success(request, f"{name} saved: {response.band} risk.")
            else:
                messages.success(request, f"{name} saved: total {response.total} ({response.band}).")
            for flag in _flag_descriptions(instrument, response.flags):
                if flag["urgent"]:
                    messages.error(request, flag["description"])
                else:
                    messages.warning(request, flag["description"])
            return back_to_intake_or(patient, _intake_tab_url(patient))
    context = chart_context(request, patient, "intake")
    context.update(
        instrument=instrument,
        short_name=selectors.short_name(instrument),
        form=form,
        hidden_items=_hidden_items(instrument, form),
        score=live_score(instrument, request.POST if request.method == "POST" else {}),
        inline_options=all(len(item.options) <= 5 for item in instrument.items),
        cancel_url=_intake_tab_url(patient),
    )
    return render(request, "patients/screening/administer.html", context)


@role_required(selectors.may_administer_instruments)
@require_POST
def score_instrument(request, public_id, code):
    """The live score panel (htmx): scores what has been answered, saves nothing."""
    _patient_to_write(request, public_id)
    instrument = _instrument_or_404(code)
    return render(request, "patients/screening/_score.html", {"score": live_score(instrument, request.POST)})


# --- history and one response ---------------------------------------------------------------------


@login_required
def instrument_history(request, public_id, code):
    """Every administration of one instrument, newest first, with its chart."""
    require_data_class(request.user, DataClass.INSTRUMENT_RESULTS)
    patient = get_visible_patient(request.user, public_id)
    instrument = selectors.known_instrument(code)
    if instrument is None:
        raise Http404("No such instrument.")
    context = chart_context(request, patient, "intake")
    context.update(
        paginate(request, selectors.instrument_history(patient, instrument.code), HISTORY_PAGE_SIZE)
    )
    rows = list(context["page"].object_list)
    for row in rows:
        row.flag_badges = selectors.flag_badges(row.flags)
    context["page"].object_list = rows
    context.update(
        instrument=instrument,
        short_name=selectors.short_name(instrument),
        series=selectors.score_series(patient, code=instrument.code),
        may_administer=selectors.may_administer_instruments(request.user)
        and selectors.offered_instrument(instrument.code) is not None
        and may_write_clinical(request.user, patient, allow_break_glass=True),
    )
    return render(request, "patients/screening/history.html", context)


@login_required
def instrument_response(request, public_id, response_id):
    """One administration, read-only, with each item's answer."""
    require_data_class(request.user, DataClass.INSTRUMENT_RESULTS)
    patient = get_visible_patient(request.user, public_id)
    response = get_object_or_404(
        patient.instrument_responses.select_related("administered_by"), public_id=response_id
    )
    instrument = selectors.known_instrument(response.instrument_code)
    context = chart_context(request, patient, "intake")
    context.update(
        response=response,
        instrument=instrument,
        short_name=selectors.short_name(response.instrument_code),
        rows=selectors.answer_rows(instrument, response),
        flags=_flag_descriptions(instrument, response.flags),
        guidance=_band_guidance(instrument, response.band, response.sex_used) if instrument else "",
    )
    return render(request, "patients/screening/response.html", context)


# --- ASAM -----------------------------------------------------------------------------------------


def live_recommendation(data: Mapping) -> dict:
    """What the recommendation panel shows (never raises): the rule's level once all six are rated."""
    edition = lenient_edition(data)
    ratings = lenient_ratings(data)
    panel = {"edition": edition, "rated": len(ratings), "needed": len(asam_rule.DIMENSIONS), "rec": None}
    if len(ratings) == len(asam_rule.DIMENSIONS):
        try:
            panel["rec"] = asam_rule.recommend_level(edition, ratings)
        except asam_rule.InvalidRatings:
            pass
    if panel["rec"] is not None:
        panel["level_name"] = LEVEL_NAMES[edition].get(panel["rec"].level, "")
    return panel


def _level_groups(current_edition: str) -> list[dict]:
    return [
        {
            "edition": edition,
            "label": label,
            "current": edition == current_edition,
            "levels": [
                {"code": level, "name": LEVEL_NAMES[edition].get(level, "")}
                for level in asam_rule.LEVELS[edition]
            ],
        }
        for edition, label in AsamForm.base_fields["edition"].choices
    ]


@role_required(selectors.may_assess_asam)
def new_asam(request, public_id):
    patient = _patient_to_write(request, public_id)
    latest = patient.asam_assessments.only("edition").first()
    initial = {"edition": latest.edition} if latest else {}
    form = AsamForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assess_asam(
                actor=request.user,
                patient=patient,
                edition=form.edition_value(),
                ratings=form.ratings(),
                dimension_notes=form.dimension_notes(),
                chosen_level=form.level_chosen(),
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
        except SERVICE_ERRORS as error:
            form.add_rule_errors(error)
        else:
            text = f"ASAM assessment saved: level {assessment.chosen_level} chosen"
            if assessment.overridden:
                text += f" (recommended {assessment.recommended_level})"
            messages.success(request, text + ".")
            return back_to_intake_or(patient, _intake_tab_url(patient))
    data = request.POST if request.method == "POST" else {"edition": form["edition"].value()}
    edition = lenient_edition(data)
    decision = form["decision"].value() or ACCEPT
    context = chart_context(request, patient, "intake")
    context.update(
        form=form,
        edition=edition,
        dimensions=form.dimension_rows(edition),
        level_groups=_level_groups(edition),
        chosen_level=form["chosen_level"].value() or "",
        show_override=decision == OVERRIDE
        or bool(form.errors.get("chosen_level") or form.errors.get("override_reason")),
        recommendation=live_recommendation(data),
        cancel_url=_intake_tab_url(patient),
    )
    return render(request, "patients/screening/asam_form.html", context)


@role_required(selectors.may_assess_asam)
@require_POST
def asam_recommend(request, public_id):
    """The live recommendation panel (htmx): applies the rule, saves nothing."""
    _patient_to_write(request, public_id)
    return render(
        request,
        "patients/screening/_asam_recommendation.html",
        {"recommendation": live_recommendation(request.POST)},
    )


def _dimension_rows(assessment) -> list[dict]:
    names = asam_rule.DIMENSION_NAMES.get(assessment.edition, asam_rule.DIMENSION_NAMES[asam_rule.EDITION_3])
    ratings = assessment.ratings or {}
    notes = assessment.dimension_notes or {}
    return [
        {
            "dimension": dimension,
            "name": names[dimension],
            "rating": ratings.get(dimension),
            "label": asam_rule.RATING_LABELS.get(ratings.get(dimension), ""),
            "notes": notes.get(dimension, ""),
        }
        for dimension in asam_rule.DIMENSIONS
    ]


@login_required
def asam_history(request, public_id):
    require_data_class(request.user, DataClass.ASAM_RATINGS)
    patient = get_visible_patient(request.user, public_id)
    context = chart_context(request, patient, "intake")
    context.update(paginate(request, selectors.asam_history(patient), HISTORY_PAGE_SIZE))
    context["may_assess"] = selectors.may_assess_asam(request.user) and may_write_clinical(
        request.user, patient, allow_break_glass=True
    )
    return render(request, "patients/screening/asam_history.html", context)


@login_required
def asam_assessment(request, public_id, assessment_id):
    require_data_class(request.user, DataClass.ASAM_RATINGS)
    patient = get_visible_patient(request.user, public_id)
    assessment = get_object_or_404(
        patient.asam_assessments.select_related("assessed_by"), public_id=assessment_id
    )
    context = chart_context(request, patient, "intake")
    context.update(
        assessment=assessment,
        dimensions=_dimension_rows(assessment),
        edition_label=assessment.get_edition_display(),
    )
    return render(request, "patients/screening/asam_assessment.html", context)
