"""`kairo up` publishes by default; a runtime started any other way does not unless told to."""

from __future__ import annotations

from argparse import Namespace

import pytest

from runtime import stack
from runtime.cli import ops
from runtime.settings import Settings


class _Stop(Exception):
    pass


def test_kairo_up_runs_the_publish_loop_unless_told_not_to(monkeypatch):
    seen: list[bool | None] = []

    async def start_runtime(settings, step):
        seen.append(settings.publisher_autostart)
        raise _Stop

    monkeypatch.setattr(stack, "init_ray", lambda settings, dashboard: None)
    monkeypatch.setattr(stack, "start_runtime", start_runtime)
    for settings in (Settings(), Settings(publisher_autostart=False), Settings(publisher_autostart=True)):
        with pytest.raises(_Stop):
            ops.up(settings, Namespace(port=None, no_dashboard=True))
    assert seen == [True, False, True]


def test_other_runtimes_do_not_publish_by_surprise():
    assert not Settings().publisher_autostart


def test_the_metrics_schedule_comes_from_settings():
    from datetime import timedelta

    from runtime.publisher import publisher_config

    config = publisher_config(Settings(publish_metrics_pull_hours=[48, 2], publish_metrics_every_seconds=30), "p")
    assert config.pull_schedule.offsets == (timedelta(hours=2), timedelta(hours=48))
    assert config.metrics_every_seconds == 30
    assert publisher_config(Settings(), "p").pull_schedule.offsets[-1] == timedelta(days=7)
