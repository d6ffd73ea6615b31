"""Tasks are found in the visible registry (built-in) and the ``boxoffice.tasks`` entry points (plugins)."""

from __future__ import annotations

from typing import Any

import pytest

from boxoffice.outbox import tasks
from boxoffice.tasks_registry import TASKS


def plugin_task(params: dict[str, Any]) -> None:
    return None


PLUGIN = tasks.Task("plugin.tidy", plugin_task)


class FakeEntryPoint:
    def __init__(self, name: str, loads: Any) -> None:
        self.name, self.value, self._loads = name, f"plugin:{name}", loads

    def load(self) -> Any:
        if isinstance(self._loads, Exception):
            raise self._loads
        return self._loads


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "_registry", {})
    monkeypatch.setattr(tasks, "_loaded", False)


def test_every_built_in_task_is_in_the_registry_once() -> None:
    names = [t.name for t in TASKS]
    assert len(names) == len(set(names))
    assert all(tasks.get_task(name) is t for name, t in zip(names, TASKS, strict=True))


def test_a_plugin_task_is_found_and_a_broken_plugin_is_left_out(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    found = [FakeEntryPoint("tidy", [PLUGIN]), FakeEntryPoint("broken", ImportError("no such module"))]
    monkeypatch.setattr(tasks, "entry_points", lambda group: found if group == tasks.GROUP else [])
    assert tasks.get_task("plugin.tidy") is PLUGIN
    assert tasks.get_task("mail.send") is not None, "the built-in tasks still load"
