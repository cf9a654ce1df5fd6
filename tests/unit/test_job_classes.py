from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sample_jobs import Kept, Record, Typed

import rocketjob as rj
from rocketjob.jobs import job_class


class Greeting(rj.Job):
    name: str = "world"
    priority = 40
    destroy_on_complete = False


class LoudGreeting(Greeting):
    volume: int = 11
    priority = 5


class Anything(rj.Job):
    payload: Any = None


def problems(error: rj.ValidationError) -> dict[str, str]:
    return dict(error.errors)


def test_annotated_attributes_are_the_job_fields_with_their_defaults() -> None:
    job = Greeting()
    assert job.fields == {"name": "world"}
    assert job.state is rj.State.QUEUED
    assert job.id is None
    assert LoudGreeting(name="Ada").fields == {"name": "Ada", "volume": 11}


def test_class_level_defaults_of_standard_fields_are_inherited_and_overridable() -> None:
    assert (Greeting().priority, Greeting().destroy_on_complete) == (40, False)
    assert (LoudGreeting().priority, LoudGreeting().destroy_on_complete) == (5, False)
    assert (Typed(name="x").priority, Typed(name="x").destroy_on_complete) == (50, True)
    assert Greeting(priority=7, description="hi").priority == 7


def test_class_name_is_module_and_qualified_name() -> None:
    assert Greeting.class_name == f"{__name__}.Greeting"
    assert Record.class_name == "sample_jobs.Record"
    assert job_class("sample_jobs.Kept") is Kept
    assert job_class("os.system") is None


def test_unknown_and_badly_typed_fields_are_each_named() -> None:
    with pytest.raises(rj.ValidationError) as refused:
        Greeting(name=5, nmae="typo", priority=0)
    found = problems(refused.value)
    assert set(found) == {"name", "nmae", "priority"}
    assert found["nmae"] == "unknown field"
    assert "greater than or equal to 1" in found["priority"]
    assert str(refused.value).startswith(f"invalid fields for {__name__}.Greeting: ")


def test_required_fields_must_be_given() -> None:
    with pytest.raises(rj.ValidationError) as refused:
        Typed()
    assert problems(refused.value) == {"name": "Field required"}


@pytest.mark.parametrize("priority", [0, 101, "5", 5.5, True, None])
def test_priority_is_an_integer_from_1_to_100(priority: object) -> None:
    with pytest.raises(rj.ValidationError) as refused:
        Greeting(priority=priority)
    assert set(problems(refused.value)) == {"priority"}


def test_naive_times_are_taken_as_local_time_and_kept_in_utc() -> None:
    naive = datetime(2030, 1, 1, 8, 30)
    job = Greeting(run_at=naive)
    assert job.run_at == naive.astimezone(UTC)
    assert job.run_at is not None and job.run_at.tzinfo is UTC


def test_rich_field_types_are_validated_and_converted() -> None:
    job = Typed(name="x", amount="1.10", tags=("a", "b"), when="2030-01-01T00:00:00Z")
    assert job.amount == Decimal("1.10")
    assert job.tags == ["a", "b"]
    assert job.when == datetime(2030, 1, 1, tzinfo=UTC)


def test_values_that_cannot_be_stored_as_json_name_the_field() -> None:
    with pytest.raises(rj.ValidationError) as refused:
        Anything(payload=object())
    assert set(problems(refused.value)) == {"payload"}
    assert "JSON" in problems(refused.value)["payload"]


def test_a_field_type_that_cannot_be_json_fails_at_class_definition() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match="cannot be stored as JSON"):
        type(
            "Bad",
            (rj.Job,),
            {"__annotations__": {"thing": Opaque}, "__module__": __name__},
        )


def test_a_field_may_not_hide_a_job_method() -> None:
    with pytest.raises(TypeError, match=r"would hide Job\.retry"):
        type("Bad", (rj.Job,), {"__annotations__": {"retry": int}, "__module__": __name__})


def test_a_field_may_not_be_named_like_create_s_connection_argument() -> None:
    with pytest.raises(TypeError, match=r"field 'connection' is create\(\)'s own argument"):
        type("Bad", (rj.Job,), {"__annotations__": {"connection": str}, "__module__": __name__})


def test_unsaved_jobs_run_inline_in_memory() -> None:
    job = Greeting(name="Ada")
    with pytest.raises(NotImplementedError):
        job.perform_now()
    assert job.state is rj.State.FAILED
    assert job.exception is not None and job.exception.class_name == "NotImplementedError"

    kept = Kept()
    kept.perform_now()
    assert (kept.state, kept.percent_complete) == (rj.State.COMPLETED, 100)


def test_progress_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        Kept().progress(101)


def test_the_base_class_itself_cannot_be_enqueued() -> None:
    with pytest.raises(TypeError, match="subclass"):
        rj.Job.create_many([{}])
