"""Job fields: the pydantic models that validate what a job class declares.

A job class's annotated attributes are its own fields, stored as JSON. The standard
fields a caller may set at creation (priority, run_at, …) are validated by the same
model, so one error message names every bad field at once.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model
from pydantic_core import PydanticSerializationError

from rocketjob.errors import ValidationError

# Standard fields a caller may give to create(); a class may set their defaults.
SETTABLE = ("description", "priority", "run_at", "expires_at", "destroy_on_complete")

# Every standard field, in the order they are shown.
STANDARD = (
    "id",
    "class_name",
    "description",
    "priority",
    "state",
    "sub_state",
    "run_at",
    "expires_at",
    "destroy_on_complete",
    "created_at",
    "started_at",
    "completed_at",
    "failure_count",
    "attempt",
    "worker_name",
    "percent_complete",
    "exception",
)


def _utc(value: datetime | None) -> datetime | None:
    # A naive time is taken as local time, as datetime.astimezone() does.
    return None if value is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def _settable_fields(defaults: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": (str | None, Field(defaults["description"], max_length=10_000)),
        "priority": (int, Field(defaults["priority"], ge=1, le=100, strict=True)),
        "run_at": (UtcDatetime | None, defaults["run_at"]),
        "expires_at": (UtcDatetime | None, defaults["expires_at"]),
        "destroy_on_complete": (bool, Field(defaults["destroy_on_complete"], strict=True)),
    }


class FieldSet:
    """The models of one job class: its own fields, and those plus the settable ones."""

    def __init__(
        self, owner: str, own: dict[str, tuple[Any, Any]], defaults: dict[str, Any]
    ) -> None:
        self.owner = owner
        self.names = tuple(own)
        self.defaults = {name: defaults[name] for name in SETTABLE}
        self._defaults_row: tuple[dict[str, Any], str] | None = None
        config = ConfigDict(extra="forbid")
        try:
            self.own: type[BaseModel] = create_model(  # type: ignore[call-overload]
                f"{owner}.fields", __config__=config, **own
            )
            self.create: type[BaseModel] = create_model(  # type: ignore[call-overload]
                f"{owner}.create", __config__=config, **_settable_fields(defaults), **own
            )
            self.own.model_json_schema()
        except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError) as error:
            raise TypeError(
                f"{owner}: a job field has a type that cannot be stored as JSON: {error}"
            ) from None

    def validate_create(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
        """Settable standard values, own values, and own values as JSON text.

        Raises ValidationError naming every bad or unknown field.
        """
        # Most jobs set only their own fields: the standard ones keep the class defaults
        # (valid by construction), so only the own-fields model runs.
        sets_standard = not values.keys().isdisjoint(SETTABLE)
        try:
            model = (self.create if sets_standard else self.own).model_validate(values)
        except pydantic.ValidationError as error:
            raise ValidationError(f"fields for {self.owner}", _problems(error)) from None
        if sets_standard:
            standard = {name: getattr(model, name) for name in SETTABLE}
        else:
            standard = dict(self.defaults)
        own = {name: getattr(model, name) for name in self.names}
        return standard, own, self.dump(model, self.names if sets_standard else None)

    def validate_row(self, values: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Standard values and own fields as JSON text, for a row to insert.

        A row that sets nothing gets the class defaults, validated once per class.
        """
        if values:
            standard, _, fields_json = self.validate_create(values)
            return standard, fields_json
        if self._defaults_row is None:
            standard, _, fields_json = self.validate_create({})
            self._defaults_row = standard, fields_json
        return dict(self._defaults_row[0]), self._defaults_row[1]

    def dump(self, model: BaseModel, names: tuple[str, ...] | None) -> str:
        """The model's own fields as JSON text (`names`: only those; None: all of it)."""
        try:
            return model.model_dump_json(include=None if names is None else set(names))
        except PydanticSerializationError:
            bad = []
            for name in names or self.names:
                try:
                    model.model_dump_json(include={name})
                except PydanticSerializationError as error:
                    bad.append((name, f"cannot be stored as JSON ({error})"))
            raise ValidationError(f"fields for {self.owner}", bad) from None

    def load(self, values: dict[str, Any]) -> dict[str, Any]:
        """Own field values from stored JSON; ValidationError if they no longer fit."""
        if not values and not self.names:
            return {}  # a job without fields: nothing to validate
        try:
            model = self.own.model_validate(values)
        except pydantic.ValidationError as error:
            raise ValidationError(f"stored fields for {self.owner}", _problems(error)) from None
        return {name: getattr(model, name) for name in self.names}

    def dump_values(self, values: dict[str, Any]) -> str:
        """Own field values (as held by a job) to JSON text, validated again first."""
        try:
            model = self.own.model_validate(values)
        except pydantic.ValidationError as error:
            raise ValidationError(f"fields for {self.owner}", _problems(error)) from None
        return self.dump(model, self.names)


def _problems(error: pydantic.ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(job)"
        message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append((field, message))
    return problems


def own_field_specs(
    cls: type, base: type, reserved: Mapping[str, str], owner: str
) -> dict[str, tuple[Any, Any]]:
    """The fields `cls` declares by annotation (with their defaults), by name; `reserved`
    names those it may not declare, and why."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as error:
        raise TypeError(f"{owner}: cannot resolve a field's type annotation: {error}") from None
    own: dict[str, tuple[Any, Any]] = {}
    for name, hint in hints.items():
        if name.startswith("_") or name in STANDARD or name in base.__annotations__:
            continue
        if typing.get_origin(hint) is ClassVar:
            continue
        if name in reserved:
            raise TypeError(f"{owner}: field {name!r} {reserved[name]}; rename it")
        default = cls.__dict__.get(name, _inherited_default(cls, name))
        own[name] = (hint, ... if default is _MISSING else default)
    return own


_MISSING = object()


def _inherited_default(cls: type, name: str) -> Any:
    for base in cls.__mro__[1:]:
        if name in base.__dict__:
            return base.__dict__[name]
    return _MISSING
