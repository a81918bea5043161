"""DRF's `serializers` module with strict input types; the project's serializers import this one.

    from config.api_input import serializers

Every name not defined here is DRF's own (`serializers.SerializerMethodField`, `ValidationError`…).
DRF coerces what it is given: `"description": 12345` became the text "12345", `"client_uuid": 5`
the UUID 00000000-…-000000000005 (so small integers from different users collided), `"confidential":
"yes"` became True. Here a JSON body must carry the declared JSON type: text is a JSON string (without
NUL), a UUID a string in 8-4-4-4-12 form, a boolean `true`/`false`; a number is never a boolean.
Query strings and forms carry only text, so there booleans keep DRF's spellings ("true", "1").
Integers are bounded by a bigint, floats must be finite: nothing reaches SQL that overflows.
"""

from __future__ import annotations

import copy
import math
import re
import types
import uuid

from django.db.models import Manager, QuerySet
from django.http import QueryDict
from rest_framework import serializers as drf
from rest_framework_gis import serializers as gis

BIGINT_MAX = 2**63 - 1
UUID_FORM = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

NOT_TEXT = "须为字符串 / must be a string"
NOT_UUID = "须为 UUID 字符串（如 123e4567-e89b-12d3-a456-426614174000）/ must be a UUID string, 8-4-4-4-12 hex digits"
NOT_BOOLEAN = "须为布尔值 true 或 false / must be a boolean, true or false"
HAS_NUL = "不能包含 NUL 字符 / must not contain NUL characters"
NOT_NUMBER = "须为数值 / must be a number"
NOT_FINITE = "须为有限数值 / must be a finite number"


def __getattr__(name: str):  # noqa: ANN202 - everything else is DRF's
    return getattr(drf, name)


def from_text_form(field: drf.Field) -> bool:
    """Return whether the field's input came as text only (a query string or a form), not as JSON."""
    root = field.root
    return isinstance(getattr(root, "initial_data", None), QueryDict)


def text_or_fail(data: object) -> str:
    """Return `data` if it is a string PostgreSQL can store, else raise the 400 saying why."""
    if not isinstance(data, str):
        raise drf.ValidationError(NOT_TEXT, code="invalid")
    if "\x00" in data:  # refused here, before a subclass looks the text up in the database
        raise drf.ValidationError(HAS_NUL, code="null_characters_not_allowed")
    return data


class StrictTextMixin:
    """Text is a string without NUL: no number, boolean or list turned into its text."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        return super().to_internal_value(text_or_fail(data))


class CharField(StrictTextMixin, drf.CharField):
    pass


class EmailField(StrictTextMixin, drf.EmailField):
    pass


class RegexField(StrictTextMixin, drf.RegexField):
    pass


class SlugField(StrictTextMixin, drf.SlugField):
    pass


class URLField(StrictTextMixin, drf.URLField):
    pass


class UUIDField(drf.UUIDField):
    """A UUID written as a string in its canonical 8-4-4-4-12 form."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        if isinstance(data, uuid.UUID):
            return data
        if not isinstance(data, str) or not UUID_FORM.match(data):
            raise drf.ValidationError(NOT_UUID, code="invalid")
        return super().to_internal_value(data)


class BooleanField(drf.BooleanField):
    """`true` or `false` in JSON; a form or query string may spell it as DRF understands ("true", "1")."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        if not isinstance(data, bool) and not (isinstance(data, str) and from_text_form(self)):
            raise drf.ValidationError(NOT_BOOLEAN, code="invalid")
        return super().to_internal_value(data)


class ChoiceField(drf.ChoiceField):
    """A choice among text codes is given as a string; among numbers, as a number (never a boolean)."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        text_choices = all(isinstance(key, str) for key in self.choices)
        if isinstance(data, bool) or (text_choices and not isinstance(data, str)):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class MultipleChoiceField(drf.MultipleChoiceField):
    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        for item in data if isinstance(data, list) else []:
            if isinstance(item, bool) or not isinstance(item, str | int):
                self.fail("invalid_choice", input=item)
        return super().to_internal_value(data)


class IntegerField(drf.IntegerField):
    """A whole number within a bigint (unless narrower bounds are given); a boolean is not a number."""

    def __init__(self, **kwargs):  # noqa: ANN003
        kwargs.setdefault("max_value", BIGINT_MAX)
        kwargs.setdefault("min_value", -BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise drf.ValidationError(NOT_NUMBER, code="invalid")
        return super().to_internal_value(data)


class FloatField(drf.FloatField):
    """A finite number; a boolean is not a number, and a number too large for a float is refused."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise drf.ValidationError(NOT_NUMBER, code="invalid")
        try:
            value = float(data)
        except (TypeError, ValueError, OverflowError):
            raise drf.ValidationError(NOT_NUMBER, code="invalid") from None
        if not math.isfinite(value):
            raise drf.ValidationError(NOT_FINITE, code="invalid")
        return super().to_internal_value(value)


class DecimalField(drf.DecimalField):
    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise drf.ValidationError(NOT_NUMBER, code="invalid")
        return super().to_internal_value(data)


class SlugRelatedField(drf.SlugRelatedField):
    """A row named by its code: the code is a string."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        return super().to_internal_value(text_or_fail(data))


class PrimaryKeyRelatedField(drf.PrimaryKeyRelatedField):
    """A row named by its id: a whole number (or its digits), never a boolean (True is not row 1)."""

    def to_internal_value(self, data):  # noqa: ANN001, ANN201
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str):
            if not (data.isascii() and data.isdigit() and len(data) <= len(str(BIGINT_MAX))):
                self.fail("does_not_exist", pk_value=data)
            data = int(data)
        if not 0 <= data <= BIGINT_MAX:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


STRICT_MAPPING = {
    drf.CharField: CharField,
    drf.EmailField: EmailField,
    drf.RegexField: RegexField,
    drf.SlugField: SlugField,
    drf.URLField: URLField,
    drf.UUIDField: UUIDField,
    drf.BooleanField: BooleanField,
    drf.ChoiceField: ChoiceField,
    drf.MultipleChoiceField: MultipleChoiceField,
    drf.IntegerField: IntegerField,
    drf.FloatField: FloatField,
    drf.DecimalField: DecimalField,
    drf.SlugRelatedField: SlugRelatedField,
    drf.PrimaryKeyRelatedField: PrimaryKeyRelatedField,
}


def strict_mapping(mapping: dict) -> dict:
    """Return a ModelSerializer's model-field → serializer-field mapping with the strict fields above."""
    return {model_field: STRICT_MAPPING.get(field, field) for model_field, field in mapping.items()}


class ModelSerializer(drf.ModelSerializer):
    """A ModelSerializer whose fields built from the model are the strict ones above, built once per class."""

    serializer_field_mapping = strict_mapping(drf.ModelSerializer.serializer_field_mapping)
    serializer_related_field = PrimaryKeyRelatedField
    serializer_choice_field = ChoiceField

    def get_fields(self) -> dict[str, drf.Field]:
        # DRF builds the fields from the model's options for every serializer instance: for one clue's
        # detail that was more than the SQL of registering it (issue 7 §8). They depend only on the class
        # (Meta and declared fields), so they are built once and each instance gets fresh copies, as DRF
        # itself copies the declared fields.
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return {name: field_copy(field) for name, field in built.items()}


# Arguments a field's copies may share: immutable, or only read (DRF clones a queryset with .all() on
# use, and shares validators and regexes between copies itself; a ChoiceField builds its own dicts from
# `choices` and never changes the list).
SHARED_ARGUMENTS = (
    str, int, float, bool, type(None), uuid.UUID, type, types.FunctionType, types.BuiltinFunctionType,
    QuerySet, Manager, re.Pattern,
)  # fmt: skip


def field_copy(field: drf.Field) -> drf.Field:
    """Return a fresh, unbound copy of `field`, as DRF's Field.__deepcopy__ makes one (the class called
    again with its arguments), copying only the arguments that need it: deep-copying every argument of
    every field of a clue's detail cost more than its SQL (issue 7 §8)."""

    def copied(key: str | None, value: object) -> object:
        if key in ("validators", "regex", "choices") or isinstance(value, SHARED_ARGUMENTS):
            return value
        return field_copy(value) if isinstance(value, drf.Field) else copy.deepcopy(value)

    args = [copied(None, arg) for arg in field._args]
    return field.__class__(*args, **{key: copied(key, value) for key, value in field._kwargs.items()})


class Serializer(drf.Serializer):
    """DRF's Serializer, its declared fields copied as ModelSerializer's are (field_copy), not deep-copied:
    a clue's registration deep-copied the category and source choices and the agency queryset on every
    request."""

    def get_fields(self) -> dict[str, drf.Field]:
        return {name: field_copy(field) for name, field in self._declared_fields.items()}


class GeoFeatureModelSerializer(gis.GeoFeatureModelSerializer):
    """djangorestframework-gis's GeoJSON feature serializer, with the strict fields above."""

    serializer_field_mapping = strict_mapping(gis.GeoFeatureModelSerializer.serializer_field_mapping)
    serializer_related_field = PrimaryKeyRelatedField
    serializer_choice_field = ChoiceField
