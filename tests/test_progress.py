"""Long fetches in a notebook: tqdm's auto bars, and Ctrl-C / the kernel's stop button keeping the evidence.

The browser test (tests/test_browser.py) shows the widget and presses the real stop
button; these tests pin the same behaviour without a browser: a KeyboardInterrupt on the
Nth FilterLogEvents page — delivered to the main thread as the stop button does, or
raised by a botocore event hook — returns the events already fetched, marked incomplete,
and an Investigation records them in its evidence bundle.
"""

from __future__ import annotations

import _thread
import json
import sys
import threading
import time
import warnings
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

import incidentkit as ik
from incidentkit.fetch import logs
from incidentkit.errors import IncompleteDataWarning

WINDOW = ik.Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
T0 = int(WINDOW.start.value // 1_000_000)
PAGE = 200
TOTAL = 200 * PAGE


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any):
        yield self.data


class Pages:
    """FilterLogEvents from a ``before-send`` hook: PAGE events a page; ``on_page(n)`` runs before page n."""

    def __init__(self, on_page=lambda n: None, pause: float = 0.0) -> None:
        self.calls = 0
        self.on_page = on_page
        self.pause = pause
        self.lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        offset = int(json.loads(request.body or b"{}").get("nextToken") or 0)
        with self.lock:
            self.calls += 1
            n = self.calls
        self.on_page(n)
        if self.pause:
            time.sleep(self.pause)
        events = [{"logStreamName": "s1", "timestamp": T0 + i, "ingestionTime": T0 + i, "message": f"line {i}",
                   "eventId": f"{i:08d}"} for i in range(offset, min(offset + PAGE, TOTAL))]
        body: dict[str, Any] = {"events": events, "searchedLogStreams": []}
        if offset + PAGE < TOTAL:
            body["nextToken"] = str(offset + PAGE)
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"}, _Body(json.dumps(body).encode()))


def _session(server: Pages) -> boto3.Session:
    session = boto3.Session(region_name="eu-west-1")
    session.events.register("before-send.logs.FilterLogEvents", server)
    return session


class Watchdog:
    """Breaks a hang: after ``seconds`` it interrupts the main thread and records that it had to."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)

    def _run(self, seconds: float) -> None:
        if not self._done.wait(seconds):
            self.fired = True
            _thread.interrupt_main()

    def __enter__(self) -> "Watchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()


def _fetch(session: boto3.Session, **kw: Any):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = logs.events("/aws/lambda/api", WINDOW, session=session, max_workers=1, progress=False, **kw)
    return df, [w for w in caught if issubclass(w.category, IncompleteDataWarning)]


# -- Ctrl-C / the stop button: a KeyboardInterrupt in the main thread ------------------------------


@pytest.mark.parametrize("nth", [1, 4])
def test_stop_on_the_nth_page_keeps_what_was_fetched(nth):
    server = Pages(on_page=lambda n: _thread.interrupt_main() if n == nth else None, pause=0.01)
    with Watchdog(30) as dog:
        try:
            df, warned = _fetch(_session(server))
        except KeyboardInterrupt:
            pytest.fail("KeyboardInterrupt escaped logs.events: the fetched events are lost")
    assert not dog.fired
    assert len(df) < TOTAL and len(df) % PAGE == 0 and df["event_id"].is_unique
    assert df.attrs["complete"] is False and df.attrs["interrupted"] is True
    assert any("interrupted by user" in i for i in df.attrs["issues"])
    assert warned and "interrupted by user" in str(warned[0].message)


def test_an_interrupted_investigation_fetch_is_recorded_as_incomplete(tmp_path):
    server = Pages(on_page=lambda n: _thread.interrupt_main() if n == 3 else None, pause=0.01)
    inv = ik.Investigation(WINDOW.start, WINDOW.end, session=_session(server), evidence=tmp_path / "ev",
                           resources={"log_groups": ["/aws/lambda/api"]})
    with Watchdog(30), warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteDataWarning)
        try:
            raw = inv.raw_logs()
        except KeyboardInterrupt:
            pytest.fail("KeyboardInterrupt escaped Investigation.raw_logs")
    assert 0 < len(raw) < TOTAL and raw.attrs["complete"] is False
    dq = inv.data_quality()
    row = dq[dq["kind"] == "logs"].iloc[0]
    assert not row["complete"] and row["rows"] == len(raw) and "interrupted by user" in row["issues"]
    assert "INCOMPLETE" in repr(inv)  # and the investigation's display says so
    # reopened offline, the same partial evidence comes back, still flagged
    again = ik.Investigation.open(tmp_path / "ev").raw_logs()
    assert len(again) == len(raw) and again.attrs["complete"] is False


def test_keyboard_interrupt_raised_by_a_botocore_hook_on_the_nth_page_keeps_what_was_fetched():
    def on_page(n: int) -> None:
        if n == 3:
            raise KeyboardInterrupt

    server = Pages(on_page=on_page)
    with Watchdog(5) as dog:
        try:
            df, warned = _fetch(_session(server))
        except KeyboardInterrupt:
            df, warned = None, []
    assert not dog.fired, "logs.events hung after the KeyboardInterrupt (the watchdog had to interrupt it)"
    assert df is not None, "KeyboardInterrupt escaped logs.events: the fetched events are lost"
    assert len(df) == 2 * PAGE and df.attrs["complete"] is False and df.attrs["interrupted"] is True
    assert warned


# -- progress bars: tqdm.auto (a widget in JupyterLab, text in a terminal) --------------------------


class _Bar:
    made: list["_Bar"] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.n, self.closed, self.kwargs = 0, False, kwargs
        _Bar.made.append(self)

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, *_: Any, **__: Any) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


class _Kernel:
    kernel = object()


@pytest.fixture
def bars(monkeypatch):
    import tqdm.auto

    _Bar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", _Bar)
    monkeypatch.delenv("INCIDENTKIT_PROGRESS", raising=False)
    return _Bar.made


def _in_a_notebook(monkeypatch) -> None:
    """What ipykernel looks like from inside: stderr is no TTY, IPython has a kernel."""
    import types

    monkeypatch.setattr(sys, "stderr", _Stream(False))
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: _Kernel()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)


def test_logs_progress_uses_tqdm_auto_in_a_notebook(monkeypatch, bars):
    _in_a_notebook(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteDataWarning)  # the limit cuts the fetch: expected here
        df = logs.events("/aws/lambda/api", WINDOW, session=_session(Pages()), limit=3 * PAGE)
    assert len(bars) == 1 and bars[0].n == len(df) == 3 * PAGE and bars[0].closed


def test_no_progress_when_switched_off(monkeypatch, bars):
    _in_a_notebook(monkeypatch)
    monkeypatch.setenv("INCIDENTKIT_PROGRESS", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IncompleteDataWarning)
        logs.events("/aws/lambda/api", WINDOW, session=_session(Pages()), limit=PAGE)
    from incidentkit.fetch import metrics

    assert metrics._progress_bar(50) is None and not bars


def test_metrics_progress_uses_tqdm_auto_in_a_terminal(monkeypatch, bars):
    from incidentkit.fetch import metrics

    monkeypatch.setattr(sys, "stderr", _Stream(True))
    bar = metrics._progress_bar(50)
    assert isinstance(bar, _Bar) and bar.kwargs["total"] == 50


def test_metrics_progress_shows_in_a_notebook(monkeypatch, bars):
    from incidentkit.fetch import metrics

    _in_a_notebook(monkeypatch)
    assert isinstance(metrics._progress_bar(50), _Bar)
