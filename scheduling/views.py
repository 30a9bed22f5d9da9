"""Scheduling pages. Thin: check the role, load through selectors, call one service, render."""

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from iop.accounts.decorators import role_required
from iop.core.forms import SERVICE_ERRORS, add_service_errors
from patients.access import get_visible_patient
from patients.models import Episode, EpisodeStatus
from patients.views.records import chart_context
from scheduling import builder, hours, permissions, recurrence, selectors
from scheduling.forms import (
    AppointmentForm,
    AttendanceForm,
    BuildWeekForm,
    CancelForm,
    EnrolForm,
    RoomForm,
    SeriesForm,
    SessionTypeForm,
)
from scheduling.models import Appointment, Enrolment, ReminderOptOut, SessionType
from scheduling.services import appointments as appointment_services
from scheduling.services import attendance as attendance_services
from scheduling.services import builder as builder_services
from scheduling.services import catalogue as catalogue_services
from scheduling.services import enrolments as enrolment_services
from scheduling.services import feeds as feed_services
from scheduling.services import reminders as reminder_services
from scheduling.services import series as series_services


def _form_page(request, form, title, cancel_url, nav="schedule"):
    return render(
        request, "_form_page.html", {"form": form, "title": title, "cancel_url": cancel_url, "nav": nav}
    )


def _messages_of(error) -> str:
    return getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)]))


# --- Rooms and session types (admins) -------------------------------------------------------


@role_required(permissions.may_manage_catalogue)
def room_list(request):
    return render(
        request,
        "scheduling/room_list.html",
        {
            "rooms": selectors.rooms_for(request.user),
            "session_types": selectors.session_types(),
            "nav": "schedule",
        },
    )


@role_required(permissions.may_manage_catalogue)
def room_create(request):
    form = RoomForm(
        request.POST or None, sites=request.user.sites.all() if not request.user.is_superuser else None
    )
    if request.user.is_superuser:
        from iop.accounts.models import Site

        form.fields["site"].queryset = Site.objects.all()
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_services.create_room(actor=request.user, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Room added.")
            return redirect("scheduling:rooms")
    return _form_page(request, form, "Add a room", reverse("scheduling:rooms"))


@role_required(permissions.may_manage_catalogue)
def room_edit(request, public_id):
    room = get_object_or_404(selectors.rooms_for(request.user), public_id=public_id)
    initial = {
        "name": room.name,
        "capacity": room.capacity,
        "is_active": room.is_active,
        "version": room.version,
    }
    form = RoomForm(request.POST or None, initial=initial, sites=None, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            catalogue_services.update_room(
                actor=request.user, room=room, expected_version=version, changes=data
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Room saved.")
            return redirect("scheduling:rooms")
    return _form_page(request, form, f"Room: {room.name}", reverse("scheduling:rooms"))


@role_required(permissions.may_manage_catalogue)
def session_type_create(request):
    form = SessionTypeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue_services.create_session_type(actor=request.user, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Session type added.")
            return redirect("scheduling:rooms")
    return _form_page(request, form, "Add a session type", reverse("scheduling:rooms"))


@role_required(permissions.may_manage_catalogue)
def session_type_edit(request, public_id):
    session_type = get_object_or_404(SessionType, public_id=public_id)
    fields = ("name", "kind", "default_minutes", "counts_toward_clinical_hours", "is_active", "version")
    form = SessionTypeForm(
        request.POST or None, initial={name: getattr(session_type, name) for name in fields}, editing=True
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            catalogue_services.update_session_type(
                actor=request.user, session_type=session_type, expected_version=version, changes=data
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Session type saved.")
            return redirect("scheduling:rooms")
    return _form_page(request, form, f"Session type: {session_type.name}", reverse("scheduling:rooms"))


# --- Series and occurrences ----------------------------------------------------------------


@role_required(permissions.may_read_schedules)
def series_list(request):
    series = list(selectors.series_for(request.user))
    for each in series:
        each.description = recurrence.describe(
            each.recurrence_rule, start_time=each.start_time, duration_minutes=each.duration_minutes
        )
    return render(
        request,
        "scheduling/series_list.html",
        {
            "series_list": series,
            "may_create": permissions.may_manage_series(request.user),
            "nav": "schedule",
            "may_manage_catalogue": permissions.may_manage_catalogue(request.user),
        },
    )


@role_required(permissions.may_manage_series)
def series_create(request):
    form = SeriesForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            series = series_services.create_series(actor=request.user, **form.service_arguments())
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"{series.name} created; its sessions for the next 8 weeks are scheduled."
            )
            return redirect("scheduling:series_detail", public_id=series.public_id)
    return _form_page(request, form, "New group series", reverse("scheduling:series_list"))


@role_required(permissions.may_read_schedules)
def series_detail(request, public_id):
    series = get_object_or_404(selectors.series_for(request.user), public_id=public_id)
    today = timezone.localdate(timezone=series.site.timezone)
    occurrences = selectors.with_roster_counts(
        selectors.occurrences_of(series, first=today - timedelta(days=7), last=today + timedelta(days=14))
    )
    return render(
        request,
        "scheduling/series_detail.html",
        {
            "series": series,
            "description": recurrence.describe(
                series.recurrence_rule, start_time=series.start_time, duration_minutes=series.duration_minutes
            ),
            "phases": series.phases.all(),
            "occurrences": occurrences,
            "today": today,
            "nav": "schedule",
        },
    )


def _occurrence_or_404(request, public_id):
    occurrence = selectors.occurrence_for(request.user, public_id)
    if occurrence is None:
        raise Http404("No such session.")
    return occurrence


def _roster_context(request, occurrence):
    rows = selectors.roster(occurrence, request.user)
    whole = permissions.sees_whole_roster(request.user, occurrence)
    takes = permissions.may_take_attendance(request.user)
    for row in rows:  # the facilitator's answer is the same for every row: asked once
        row.may_record = takes and (
            whole or permissions.may_record_attendance_for(request.user, occurrence, row.patient)
        )
    return {
        "occurrence": occurrence,
        "rows": rows,
        "statuses": selectors.AttendanceStatus.choices,
        "whole_roster": whole,
        "may_take_attendance": permissions.may_take_attendance(request.user),
        "may_change": permissions.may_manage_series(request.user),
        "recorded": sum(1 for row in rows if row.attendance),
        "is_future": occurrence.local_date > timezone.localdate(timezone=occurrence.series.site.timezone),
        "nav": "schedule",
    }


@role_required(permissions.may_read_schedules)
def occurrence_roster(request, public_id):
    occurrence = _occurrence_or_404(request, public_id)
    context = _roster_context(request, occurrence)
    context["cancel_form"] = CancelForm(initial={"version": occurrence.version})
    attendance_services.record_roster_read(actor=request.user, occurrence=occurrence, rows=context["rows"])
    return render(request, "scheduling/roster.html", context)


@require_POST
@role_required(permissions.may_take_attendance)
def mark_all_present(request, public_id):
    occurrence = _occurrence_or_404(request, public_id)
    try:
        marked = attendance_services.mark_all_present(actor=request.user, occurrence=occurrence)
    except SERVICE_ERRORS as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(request, f"{marked} marked present. Change the exceptions below.")
    return redirect("scheduling:roster", public_id=occurrence.public_id)


@require_POST
@role_required(permissions.may_take_attendance)
def record_attendance(request, public_id, episode_id):
    occurrence = _occurrence_or_404(request, public_id)
    rows = {row.episode.public_id: row for row in selectors.roster(occurrence, request.user)}
    row = next((r for key, r in rows.items() if str(key) == str(episode_id)), None)
    if row is None:
        raise Http404("No such patient on this roster.")
    form = AttendanceForm(request.POST)
    error_message = ""
    if form.is_valid():
        try:
            attendance_services.record_attendance(
                actor=request.user,
                occurrence=occurrence,
                episode=row.episode,
                status=form.cleaned_data["status"],
                minutes_attended=form.cleaned_data["minutes_attended"],
                expected_version=form.cleaned_data["version"],
            )
        except SERVICE_ERRORS as error:
            error_message = _messages_of(error)
    else:
        error_message = " ".join(message for errors in form.errors.values() for message in errors)
    if not request.htmx:
        if error_message:
            messages.error(request, f"{row.patient.display_name}: {error_message}")
        return redirect("scheduling:roster", public_id=occurrence.public_id)
    row = next(r for r in selectors.roster(occurrence, request.user) if r.episode.pk == row.episode.pk)
    row.may_record = True
    context = {
        "occurrence": occurrence,
        "row": row,
        "statuses": selectors.AttendanceStatus.choices,
        "error": error_message,
        "may_take_attendance": True,
    }
    return render(request, "scheduling/_roster_row.html", context, status=200)


@require_POST
@role_required(permissions.may_manage_series)
def cancel_occurrence(request, public_id):
    occurrence = _occurrence_or_404(request, public_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            series_services.cancel_occurrence(
                actor=request.user,
                occurrence=occurrence,
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except SERVICE_ERRORS as error:
            messages.error(request, _messages_of(error))
        else:
            messages.success(request, "Session cancelled.")
    else:
        messages.error(request, "Say why the session is cancelled.")
    return redirect("scheduling:roster", public_id=occurrence.public_id)


# --- The chart's Schedule tab ---------------------------------------------------------------


@role_required(permissions.may_read_schedules)
def chart_schedule(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    context = chart_context(request, patient, "schedule")
    episode = context["header"].episode
    if episode is not None:
        today = timezone.localdate(timezone=episode.site.timezone)
        monday = hours.week_start(today)
        sessions = selectors.sessions_of_episode(
            episode, first=monday - timedelta(days=7), last=monday + timedelta(days=20)
        )
        this_week = [s for s in sessions if monday <= s.local_date < monday + timedelta(days=7)]
        context.update(
            episode=episode,
            week=selectors.weekly_hours(episode, week_of=today),
            last_week=hours.summarize_week(
                selectors.as_records(sessions),
                week_of=monday - timedelta(days=7),
                requirement=selectors.requirement_of(episode),
            ),
            this_week=this_week,
            upcoming=[s for s in sessions if s.local_date >= monday + timedelta(days=7)][:12],
            enrolments=selectors.enrolments_of(episode),
            history=selectors.attendance_history(episode, limit=30),
            may_enrol=permissions.may_enrol(request.user) and episode.status == EpisodeStatus.ACTIVE,
            reminders_opted_out=ReminderOptOut.objects.filter(patient=patient).exists(),
            curriculum=selectors.curriculum_progress(episode, today=today),
            absences=selectors.absence_allowance(episode, today=today),
            attendance_statuses=selectors.AttendanceStatus.choices,
            today=today,
        )
    return render(request, "patients/chart/schedule.html", context)


@role_required(permissions.may_enrol)
def enrol(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    episode = Episode.objects.filter(pk=patient.current_episode_id, status=EpisodeStatus.ACTIVE).first()
    back = reverse("patients:chart_tab", args=[patient.public_id, "schedule"])
    if episode is None:
        messages.error(request, "The patient has no active episode: admit them first.")
        return redirect(back)
    form = EnrolForm(request.POST or None, episode=episode, initial={"joined_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            enrolment_services.enrol(actor=request.user, episode=episode, **form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Enrolled in {form.cleaned_data['series'].name}.")
            return redirect(back)
    return _form_page(request, form, f"Enrol {patient.display_name} in a group", back, nav="patients")


@require_POST
@role_required(permissions.may_enrol)
def leave(request, public_id, enrolment_id):
    patient = get_visible_patient(request.user, public_id)
    enrolment = get_object_or_404(Enrolment.objects.filter(episode__patient=patient), public_id=enrolment_id)
    try:
        enrolment_services.leave(actor=request.user, enrolment=enrolment, left_on=timezone.localdate())
    except SERVICE_ERRORS as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(request, f"Left {enrolment.series.name} after today.")
    return redirect("patients:chart_tab", public_id=patient.public_id, tab="schedule")


@role_required(permissions.may_enrol)
def build_week(request, public_id):
    """The schedule builder for one patient: their phase's requirement against their
    availability and enrolments, a proposal, and accept / edit / override with a reason."""
    patient = get_visible_patient(request.user, public_id)
    episode = (
        Episode.objects.select_related("current_phase", "site")
        .filter(pk=patient.current_episode_id, status=EpisodeStatus.ACTIVE)
        .first()
    )
    back = reverse("patients:chart_tab", args=[patient.public_id, "schedule"])
    if episode is None:
        messages.error(request, "The patient has no active episode: admit them first.")
        return redirect(back)
    raw_start = request.POST.get("starting_on") or request.GET.get("starting_on") or ""
    try:
        starting_on = hours.parse_day(raw_start) if raw_start else timezone.localdate()
    except ValueError:
        starting_on = timezone.localdate()
    inputs = selectors.builder_inputs(episode, starting_on=starting_on)
    proposal = builder.propose(
        need=inputs.need, candidates=inputs.candidates, busy=inputs.busy, current=inputs.current
    )
    form = BuildWeekForm(
        request.POST or None,
        candidates=inputs.candidates,
        initial={"series": list(proposal.keys), "starting_on": starting_on},
    )
    if request.method == "POST" and form.is_valid():
        try:
            builder_services.apply_week(
                actor=request.user,
                episode=episode,
                keys=form.cleaned_data["series"],
                starting_on=form.cleaned_data["starting_on"],
                reason=form.cleaned_data["reason"],
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "The patient's week is saved.")
            return redirect(back)
    context = chart_context(request, patient, "schedule")
    by_key = {c.key: c for c in inputs.candidates}
    context.update(
        form=form,
        proposal=proposal,
        need_hours=hours.hours(inputs.need.minutes),
        need=inputs.need,
        proposed=[by_key[key] for key in proposal.keys],
        candidates=[
            {
                "candidate": c,
                "proposed": c.key in proposal.keys,
                "current": c.key in inputs.current,
                "blocked": proposal.blocked.get(c.key, ""),
            }
            for c in inputs.candidates
        ],
        busy=inputs.busy,
        proposal_hours=hours.hours(proposal.minutes),
        shortfall_hours=hours.hours(proposal.shortfall_minutes),
    )
    return render(request, "scheduling/build_week.html", context)


@require_POST
@role_required(permissions.may_enrol)
def reminder_preference(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    opted_out = request.POST.get("opted_out") == "yes"
    try:
        reminder_services.set_reminder_opt_out(actor=request.user, patient=patient, opted_out=opted_out)
    except SERVICE_ERRORS as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(
            request, "Session reminders turned off." if opted_out else "Session reminders turned on."
        )
    return redirect("patients:chart_tab", public_id=patient.public_id, tab="schedule")


def _active_episode(patient):
    return (
        Episode.objects.select_related("site", "current_phase")
        .filter(pk=patient.current_episode_id, status=EpisodeStatus.ACTIVE)
        .first()
    )


@role_required(permissions.may_enrol)
def book_appointment(request, public_id):
    patient = get_visible_patient(request.user, public_id)
    back = reverse("patients:chart_tab", args=[patient.public_id, "schedule"])
    episode = _active_episode(patient)
    if episode is None:
        messages.error(request, "The patient has no active episode: admit them first.")
        return redirect(back)
    form = AppointmentForm(request.POST or None, episode=episode, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        starts_at = datetime.combine(data["day"], data["start_time"], tzinfo=episode.site.timezone)
        try:
            booked = appointment_services.book_appointment(
                actor=request.user,
                episode=episode,
                session_type=data["session_type"],
                staff=data["staff"],
                starts_at=starts_at,
                minutes=data["minutes"],
                room=data["room"],
                family_members=data["family_members"],
                repeat_weeks=data["repeat_weeks"] or 0,
            )
        except SERVICE_ERRORS as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{len(booked)} appointment{'s' if len(booked) > 1 else ''} booked.")
            return redirect(back)
    return _form_page(request, form, f"Book an appointment for {patient.display_name}", back, nav="patients")


@require_POST
@role_required(permissions.may_read_schedules)
def appointment_attendance(request, public_id, appointment_id):
    patient = get_visible_patient(request.user, public_id)
    appointment = get_object_or_404(
        Appointment.objects.filter(episode__patient=patient), public_id=appointment_id
    )
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the patient came.")
    else:
        try:
            appointment_services.record_appointment_attendance(
                actor=request.user,
                appointment=appointment,
                status=form.cleaned_data["status"],
                minutes_attended=form.cleaned_data["minutes_attended"],
                expected_version=form.cleaned_data["version"],
            )
        except SERVICE_ERRORS as error:
            messages.error(request, _messages_of(error))
        else:
            messages.success(request, "Attendance recorded.")
    return redirect("patients:chart_tab", public_id=patient.public_id, tab="schedule")


# --- Calendars: a week view and the private iCalendar feed -----------------------------------


@never_cache
def calendar_feed(request, token):
    """No session: the secret in the URL is the credential (404 when unknown or revoked)."""
    feed = feed_services.feed_for_token(token)
    if feed is None:
        raise Http404("No such feed.")
    response = HttpResponse(feed_services.render_feed(feed), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="iop-sessions.ics"'
    return response


@role_required(permissions.may_read_schedules)
def my_calendar(request):
    """The signed-in person's week (their sessions and appointments), printable, and their feed."""
    raw = request.GET.get("week", "")
    try:
        week_of = hours.parse_day(raw) if raw else timezone.localdate()
    except ValueError:
        week_of = timezone.localdate()
    monday = hours.week_start(week_of)
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            feed_services.revoke_feed(actor=request.user)
            messages.success(request, "Your calendar link no longer works.")
        else:
            token = feed_services.new_feed_link(actor=request.user)
            messages.success(
                request, "A new calendar link: copy it now, it is shown once. The old one no longer works."
            )
    days = selectors.week_of_sessions_for(request.user, monday=monday)
    return render(
        request,
        "scheduling/my_calendar.html",
        {
            "days": days,
            "monday": monday,
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
            "feed_url": request.build_absolute_uri(reverse("scheduling:calendar_feed", args=[token]))
            if token
            else "",
            "has_feed": selectors.has_live_feed(request.user),
            "nav": "schedule",
        },
    )


@role_required(permissions.may_read_schedules)
def calendar(request):
    """A week (or, with `day=`, one day) of a site, a room or a staff member at the user's
    sites: every group session and appointment, patients by initials. Printable."""
    from iop.accounts.models import Site, User

    sites = Site.objects.all() if request.user.is_superuser else request.user.sites.all()
    rooms = selectors.rooms_for(request.user).filter(is_active=True)
    staff = (
        User.objects.filter(is_active=True, sites__in=sites).distinct().order_by("last_name", "first_name")
    )
    chosen = {"site": None, "room": None, "staff": None}
    for key, queryset in (("site", sites), ("room", rooms), ("staff", staff)):
        raw = request.GET.get(key, "")
        if raw:
            try:
                chosen[key] = queryset.filter(public_id=raw).first()
            except (ValueError, DjangoValidationError):
                chosen[key] = None
            if chosen[key] is None:
                raise Http404("No such calendar.")
    if not any(chosen.values()):
        chosen["site"] = sites.order_by("name").first()
    raw_day, raw_week = request.GET.get("day", ""), request.GET.get("week", "")
    try:
        day = hours.parse_day(raw_day) if raw_day else None
        week_of = hours.parse_day(raw_week) if raw_week else timezone.localdate()
    except ValueError:
        day, week_of = None, timezone.localdate()
    if day is not None:
        first = last = day
    else:
        first = hours.week_start(week_of)
        last = first + timedelta(days=6)
    days = selectors.calendar_days(first=first, last=last, **chosen) if any(chosen.values()) else []
    subject = chosen["staff"] or chosen["room"] or chosen["site"]
    return render(
        request,
        "scheduling/calendar.html",
        {
            "days": days,
            "subject": subject,
            "first": first,
            "last": last,
            "is_day": day is not None,
            "nav_dates": [
                ("Previous", ("day" if day else "week", first - timedelta(days=1 if day else 7))),
                ("Next", ("day" if day else "week", first + timedelta(days=1 if day else 7))),
                *([("Week", ("week", first))] if day else []),
            ],
            "sites": sites.order_by("name"),
            "rooms": rooms,
            "staff": staff,
            "chosen": chosen,
            "nav": "schedule",
        },
    )
