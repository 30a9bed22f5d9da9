"""Serializer fields that accept what the OpenAPI schema says, and nothing more.

DRF's BooleanField also takes 0/1, "yes", "on", "true"... in a JSON body, and its CharField
takes numbers, both of which the schema (`type: boolean`, `type: string`) calls invalid:
schemathesis's negative_data_rejection check caught `"is_veteran": 0` and
`"payer_member_id": 0` accepted. A JSON API takes true or false, and strings as strings.
Importing this module (the API modules do) makes StrictBooleanField the field every
ModelSerializer builds for a model BooleanField, and makes every serializer CharField (and its
subclasses: email, slug, regex) refuse a non-string. Django forms are not affected.
"""

from django.db import models
from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


serializers.ModelSerializer.serializer_field_mapping[models.BooleanField] = StrictBooleanField

_char_to_internal_value = serializers.CharField.to_internal_value


def _string_only(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _char_to_internal_value(self, data)


serializers.CharField.to_internal_value = _string_only
