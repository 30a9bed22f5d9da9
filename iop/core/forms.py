"""Form plumbing shared by every app: turn a service's refusal into messages on the form."""

from django import forms
from django.core.exceptions import ValidationError

from iop.core.concurrency import StaleEdit


class VersionField(forms.IntegerField):
    """The version an edit started from (hidden); see `iop.core.concurrency`. Required: an
    edit that does not say what it started from could silently overwrite someone else's."""

    widget = forms.HiddenInput
    default_error_messages = {"required": "This form is out of date: reload the page and edit again."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


def add_service_errors(form: forms.Form, error: Exception) -> None:
    """Show a service's ValidationError, PermissionError or StaleEdit on the form.

    Field errors go beside their field when the form has it; the rest go on top.
    """
    if isinstance(error, StaleEdit):
        form.add_error(None, error.message)
        return
    if isinstance(error, PermissionError):
        form.add_error(None, str(error))
        return
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(
                    target, message if target else f"{field.replace('_', ' ').capitalize()}: {message}"
                )
        return
    if isinstance(error, ValidationError):
        for message in error.messages:
            form.add_error(None, message)
        return
    raise error


SERVICE_ERRORS = (ValidationError, PermissionError, StaleEdit)
