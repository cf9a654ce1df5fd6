"""How callbacks compose around perform(), on unsaved jobs run in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import rocketjob as rj

calls: list[str] = []


class Base(rj.Job):
    fail_in: str = ""

    def mark(self, name: str) -> None:
        calls.append(name)
        if name == self.fail_in:
            raise ValueError(name)

    def before_perform(self) -> None:
        self.mark("base before")

    def perform(self) -> None:
        self.mark("perform")

    def on_failure(self, exception: BaseException) -> None:
        calls.append(f"on_failure {exception!r}")


class Child(Base):
    def before_perform(self) -> None:
        super().before_perform()
        self.mark("child before")

    def around_perform(self, perform: Callable[[], Any]) -> Any:
        self.mark("around")
        perform()
        self.mark("around returned")

    def after_perform(self) -> None:
        self.mark("after")

    def on_failure(self, exception: BaseException) -> None:
        super().on_failure(exception)
        raise RuntimeError("on_failure broke")


class Skipping(rj.Job):
    def around_perform(self, perform: Callable[[], Any]) -> None:
        calls.append("skipped")

    def perform(self) -> None:
        calls.append("perform")


class Mixed(rj.Job):
    broken: bool = False

    async def before_perform(self) -> None:
        calls.append("async before")

    async def around_perform(self, perform: Callable[[], Awaitable[None]]) -> None:
        calls.append("around")
        await perform()

    def after_perform(self) -> None:
        calls.append("sync after")

    async def perform(self) -> None:
        await asyncio.sleep(0)
        calls.append("perform")
        if self.broken:
            raise TimeoutError("late")

    def on_failure(self, exception: BaseException) -> None:
        calls.append(f"on_failure {exception!r}")


@pytest.fixture(autouse=True)
def fresh_calls() -> None:
    calls.clear()


def test_callbacks_wrap_perform_in_order_through_super() -> None:
    job = Child()
    job.perform_now()
    assert calls == ["base before", "child before", "around", "perform", "around returned", "after"]
    assert job.state is rj.State.COMPLETED


@pytest.mark.parametrize("step", ["base before", "child before", "around", "perform", "after"])
def test_a_raising_step_fails_the_job_and_on_failure_sees_it(step: str) -> None:
    job = Child(fail_in=step)
    with pytest.raises(ValueError, match=step):  # on_failure's own error hides nothing
        job.perform_now()
    assert calls[-1] == f"on_failure ValueError({step!r})"
    assert job.state is rj.State.FAILED
    assert job.exception is not None and job.exception.message == step


def test_around_perform_decides_whether_perform_runs() -> None:
    Skipping().perform_now()
    assert calls == ["skipped"]


def test_an_async_job_mixes_sync_and_async_callbacks() -> None:
    Mixed().perform_now()
    assert calls == ["async before", "around", "perform", "sync after"]


def test_an_async_job_that_raises_calls_on_failure() -> None:
    with pytest.raises(TimeoutError):
        asyncio.run(Mixed(broken=True).aperform_now())
    assert calls == ["async before", "around", "perform", "on_failure TimeoutError('late')"]


def test_perform_now_inside_an_event_loop_points_to_aperform_now() -> None:
    async def run() -> None:
        Mixed().perform_now()

    with pytest.raises(rj.RocketJobError, match="aperform_now"):
        asyncio.run(run())


def test_async_where_nothing_awaits_it_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="on_failure is async but perform"):

        class SyncWithAsyncHook(rj.Job):
            def perform(self) -> None: ...

            async def on_failure(self, exception: BaseException) -> None: ...

    with pytest.raises(TypeError, match="batch jobs perform records on threads"):

        class AsyncBatch(rj.BatchJob):
            async def perform(self, record: Any) -> Any: ...  # type: ignore[override]


def test_callback_names_cannot_be_job_fields() -> None:
    with pytest.raises(TypeError, match="before_perform"):

        class Clash(rj.Job):
            before_perform: str  # type: ignore[assignment]
