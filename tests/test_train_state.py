"""The one wall-clock rule of both trainers: a safety stop only, loud, and marked."""

from raredis_llm.train_state import TrainerState, safety_stop, stopped_by_time


def test_the_safety_stop_is_silent_within_the_cap_and_loud_past_it():
    logged = []
    assert safety_stop(0, 10_000.0, 5, 10, logged.append) is None  # 0: no cap
    assert safety_stop(1.0, 59.0, 5, 10, logged.append) is None
    assert not logged
    reason = safety_stop(1.0, 61.0, 5, 10, logged.append)
    assert reason.startswith("max_minutes (1.0)") and "10 steps" in reason
    assert logged and logged[0].startswith("WARNING: stopped by the wall-clock safety cap (1.0 min) after 5 of 10")
    assert stopped_by_time(TrainerState(stop_reason=reason))
    assert not stopped_by_time(TrainerState(stop_reason="max_steps")) and not stopped_by_time(TrainerState())
