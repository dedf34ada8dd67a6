"""How a handed-back stream ends its generation: exhausted, abandoned, closed or failed, sync and async.

The stream under the wrapper is a plain iterator and the call a recorder of what the wrapper tells it (the real
providers' streams are covered by test_anthropic/test_openai, which cannot stop a stream half-way on purpose)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from aitrail.sdk.instrument.call import TrackedAsyncStream, TrackedStream


class Recorder:
    """Stands in for a Call: what was read, and every finish with its error."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.finished: list[BaseException | None] = []
        self.provider = SimpleNamespace(read_event=lambda answer, item: self.items.append(item))

    def read(self, reader: Any, item: Any) -> None:
        reader(None, item)

    def finish(self, exc: BaseException | None = None) -> None:
        """The first finish counts, as Call's (the proxy finishes again when it is dropped)."""
        if not self.finished:
            self.finished.append(exc)


class Broken(Exception):
    pass


def failing(items: list[int]) -> Any:
    yield from items
    raise Broken("the connection dropped")


class AsyncItems:
    def __init__(self, items: list[int], fail: bool = False) -> None:
        self.items, self.fail = list(items), fail

    def __aiter__(self) -> AsyncItems:
        return self

    async def __anext__(self) -> int:
        if self.items:
            return self.items.pop(0)
        if self.fail:
            raise Broken("the connection dropped")
        raise StopAsyncIteration


def test_a_sync_stream_read_to_the_end_finishes_cleanly() -> None:
    call = Recorder()
    assert list(TrackedStream(iter([1, 2, 3]), call)) == [1, 2, 3]
    assert call.items == [1, 2, 3] and call.finished == [None]


def test_a_sync_stream_left_half_way_finishes_cleanly_with_what_was_read() -> None:
    call = Recorder()
    reader = iter(TrackedStream(iter([1, 2, 3]), call))
    assert next(reader) == 1
    reader.close()  # what `break` in a for loop does to the generator
    assert call.items == [1] and call.finished == [None]


def test_a_sync_stream_that_fails_finishes_with_its_error_which_goes_on() -> None:
    call = Recorder()
    with pytest.raises(Broken):
        list(TrackedStream(failing([1]), call))
    assert call.items == [1] and len(call.finished) == 1 and isinstance(call.finished[0], Broken)


def test_next_on_a_sync_stream_finishes_at_its_end_or_its_error() -> None:
    call = Recorder()
    stream = TrackedStream(iter([7]), call)
    assert next(stream) == 7 and call.finished == []
    with pytest.raises(StopIteration):
        next(stream)
    assert call.items == [7] and call.finished == [None]
    failed = Recorder()
    with pytest.raises(Broken):
        next(TrackedStream(failing([]), failed))
    assert isinstance(failed.finished[0], Broken)


def test_an_async_stream_ends_like_a_sync_one() -> None:
    async def scenario() -> tuple[Recorder, Recorder, Recorder, Recorder]:
        whole, left, failed, stepped = Recorder(), Recorder(), Recorder(), Recorder()
        assert [item async for item in TrackedAsyncStream(AsyncItems([1, 2]), whole)] == [1, 2]
        reader = TrackedAsyncStream(AsyncItems([1, 2]), left).__aiter__()
        assert await reader.__anext__() == 1
        await reader.aclose()
        with pytest.raises(Broken):
            [item async for item in TrackedAsyncStream(AsyncItems([5], fail=True), failed)]
        stream = TrackedAsyncStream(AsyncItems([9]), stepped)
        assert await stream.__anext__() == 9
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        return whole, left, failed, stepped

    whole, left, failed, stepped = asyncio.run(scenario())
    assert whole.items == [1, 2] and whole.finished == [None]
    assert left.items == [1] and left.finished == [None]
    assert failed.items == [5] and len(failed.finished) == 1 and isinstance(failed.finished[0], Broken)
    assert stepped.items == [9] and stepped.finished == [None]
