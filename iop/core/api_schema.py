"""The OpenAPI schema says what the API answers: every error status, in one place.

drf-spectacular documents each view's success responses from its serializers; the errors are the
same everywhere (iop.core.api_errors turns them into JSON), so they are declared here, once, by a
postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) instead of on every view:

- 400 (bad input), 401 (not signed in), 403 (the role may not), 404 (not found or out of reach),
  429 (throttled) on every operation; 409 (stale version, duplicate, conflict) on every write.
- Every PATCH carries the `version` it read (iop.core.concurrency): it is marked required there.
- Query parameters that are free strings must not be empty: an empty filter is a 400
  (iop.core.api_filters), never "no filter", so the schema says `minLength: 1`.

Schemathesis (`make schemathesis`, tests/test_api_conformance.py) checks the result against a
live server.
"""

from drf_spectacular.openapi import AutoSchema

# Path ids are hyphenated UUIDs: anything else matches no route (a JSON 404, not a 400).
UUID_PATH_REGEX = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": 'A JSON error: {"detail": message, "code": ...} or, for bad input, field -> '
    "messages (nested for nested fields).",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "code": {"type": "string", "description": "A machine-readable reason, when there is one."},
    },
    "additionalProperties": {},
}
ERROR_STATUSES = {
    "400": "Bad input: the body names each field that is wrong.",
    "401": "Not signed in (no or an expired token or session).",
    "403": "Signed in, but this role or site may not do this.",
    "404": "Not found, or outside the caller's reach (the same answer for both).",
    "409": "Conflict: the record changed since the `version` sent, or the write would duplicate one.",
    "429": "Too many requests: throttled, try again later.",
}
WRITE_ONLY_STATUSES = {"409"}
WRITE_METHODS = {"post", "put", "patch", "delete"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}


def declare_errors(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: the error component, error statuses, PATCH versions."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                if status in WRITE_ONLY_STATUSES and method not in WRITE_METHODS:
                    continue
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ERROR_REF}}},
                )
            if method == "patch":
                _require_version(operation, schemas)
            _non_empty_query_strings(operation)
    return result


def _require_version(operation: dict, schemas: dict) -> None:
    for media in operation.get("requestBody", {}).get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        component = schemas.get(ref.rsplit("/", 1)[-1]) if ref else media.get("schema")
        if component and "version" in component.get("properties", {}):
            required = component.setdefault("required", [])
            if "version" not in required:
                required.append("version")
        if ref or component:
            operation.setdefault("requestBody", {})["required"] = True


def _non_empty_query_strings(operation: dict) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("in") == "query" and schema.get("type") == "string" and "enum" not in schema:
            schema.setdefault("minLength", 1)


class IopAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema (DEFAULT_SCHEMA_CLASS), plus two serializer attributes:

    - `schema_required`: fields the schema lists as required although the serializer takes them
      as optional, because a rule checks them later so that one 400 names every problem together
      (the ASAM edition);
    - `patch_fields`: the only fields a PATCH may carry (the rest are set once, on create, and a
      PATCH naming them is a 400), so the Patched...Request component lists just those;
      `not_in_patch`: the opposite, fields a PATCH leaves out.
    """

    def _map_basic_serializer(self, serializer, direction):
        result = super()._map_basic_serializer(serializer, direction)
        if direction != "request":
            return result
        extra = getattr(serializer, "schema_required", ())
        if extra:
            result["required"] = sorted(set(result.get("required", [])) | set(extra))
        patch_fields = getattr(serializer, "patch_fields", None)
        not_in_patch = getattr(serializer, "not_in_patch", ())
        if (patch_fields is not None or not_in_patch) and self.method == "PATCH":
            properties = result.get("properties", {})
            for name in list(properties):
                if name in not_in_patch or (patch_fields is not None and name not in patch_fields):
                    del properties[name]
            if "required" in result:
                result["required"] = [name for name in result["required"] if name in properties]
                if not result["required"]:
                    del result["required"]
        return result


class SingleObjectSchema(IopAutoSchema):
    """For a ViewSet whose `list` answers one object (a vocabulary), not a list of them."""

    def _is_list_view(self, serializer=None) -> bool:
        return False
