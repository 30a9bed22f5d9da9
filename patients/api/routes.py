"""Every API route of the patients app: (prefix, viewset, basename), registered by iop.urls."""

from patients.api import consents, intake, records, screening

ROUTES = [
    *records.ROUTES,
    *intake.ROUTES,
    *screening.ROUTES,
    *consents.ROUTES,
]
