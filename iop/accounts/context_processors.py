"""What the navigation shows: only what the signed-in user's role may use."""

from django.conf import settings
from django.urls import reverse

from iop.accounts.models import Role
from iop.accounts.permissions import may_break_glass, may_manage_clinic, may_register_patients


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "session_idle_seconds": settings.SESSION_COOKIE_AGE}
    items = [
        {"label": "Home", "icon": "house", "url": reverse("home"), "key": "home"},
        {"label": "Patients", "icon": "people", "url": reverse("patients:list"), "key": "patients"},
    ]
    if user.is_superuser or user.role:  # every role reads schedules (scheduling.permissions)
        items.append(
            {
                "label": "Schedule",
                "icon": "calendar-week",
                "url": reverse("scheduling:series_list"),
                "key": "schedule",
            }
        )
    if may_register_patients(user):
        items.append(
            {
                "label": "Intake",
                "icon": "telephone-inbound",
                "url": reverse("patients:intake_queue"),
                "key": "intake",
            }
        )
    if user.is_superuser or user.role != Role.PEER_SUPPORT:
        items.append(
            {"label": "Testing", "icon": "droplet", "url": reverse("testing:worklist"), "key": "testing"}
        )
    if may_break_glass(user):
        items.append(
            {
                "label": "Emergency access",
                "icon": "unlock",
                "url": reverse("patients:break_glass"),
                "key": "break_glass",
            }
        )
    if may_manage_clinic(user):
        items += [
            {"label": "Sites", "icon": "building", "url": reverse("accounts:site_list"), "key": "sites"},
            {"label": "Staff", "icon": "person-badge", "url": reverse("accounts:staff_list"), "key": "staff"},
            {
                "label": "Access log",
                "icon": "shield-lock",
                "url": reverse("patients:break_glass_log"),
                "key": "break_glass_log",
            },
            {"label": "API", "icon": "braces", "url": reverse("api-docs"), "key": "api"},
        ]
    if may_manage_clinic(user):  # programs, phases and plan settings (treatment_plans, ADR 0013)
        items.append(
            {"label": "Programs", "icon": "diagram-3", "url": reverse("programs:list"), "key": "programs"}
        )
    return {"nav_items": items, "session_idle_seconds": settings.SESSION_COOKIE_AGE}
