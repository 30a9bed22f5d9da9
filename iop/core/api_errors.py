"""Every API error is a JSON body with a clear message, never an HTML page or a 500."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler

from iop.core.concurrency import StaleEdit


class Conflict(APIException):
    """409: the request is well formed but the record's state refuses it (e.g. a closed referral)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record's current state does not allow this."
    default_code = "conflict"


def json_exception_handler(exc, context):
    if isinstance(exc, StaleEdit):
        return Response({"detail": exc.message, "code": "stale_edit"}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, PermissionError):
        return Response({"detail": str(exc), "code": "permission_denied"}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            body = exc.message_dict
        else:
            body = {"detail": " ".join(exc.messages)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)
