"""The logs of an investigation: raw and parsed events of its log groups, the requests and the
user impact they show, logs AWS writes to S3, and error patterns mined by Logs Insights."""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from .. import parse as parsers
from .. import schema
from .._util.fmt import iso as _iso
from ..analyses import impact as _impact
from ..analyses.signatures import from_patterns
from ..errors import ParameterError
from ..evidence import frame_key
from ..fetch import insights as _insights
from ..fetch import logs as _logs
from ..fetch.s3logs import collect as s3collect
from ..fetch.s3logs.athena import DIMENSIONS as S3_DIMENSIONS
from ..parse import batches
from ..window import Window
from .replay import _concat
from .resources import _listify

__all__ = ["LogEvidence"]


class LogEvidence:
    """The log methods of :class:`~incidentkit.investigation.Investigation` (a part of it: ``self`` is the investigation)."""

    def raw_logs(
        self,
        log_groups: str | Sequence[str] | None = None,
        *,
        pattern: str | None = None,
        window: Any = "incident",
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Raw log events (``schema.EVENT_COLUMNS``) of ``log_groups`` in ``window``.

        See :meth:`logs` for the arguments; this returns the frame before parsing.
        """
        return self._logs_frame(log_groups, pattern=pattern, window=window, limit=limit)[1]

    def _logs_frame(self, log_groups: Any, *, pattern: str | None, window: Any, limit: int | None) -> tuple[str, pd.DataFrame]:
        win = self._window(window)
        groups = _listify(log_groups) if log_groups is not None else list(self.resources.get("log_groups") or [])

        def held() -> tuple[str, pd.DataFrame] | None:
            names = self._bundle_frames("logs", win)
            if not names:
                return None
            return "+".join(names), _concat([self._get(n, "logs", None) for n in names], "events")

        if not groups:
            if log_groups is None and self.offline:  # a replayed bundle: its frames of the window are the logs
                found = held()
                if found is not None:
                    return found
            elif log_groups is None:  # live: a frame fetched earlier for another purpose never stands in
                self._note("no log groups given: log analyses are skipped")
            return "empty", schema.empty_frame("events")
        key = self._logs_key(groups, pattern, win, limit)
        if self.offline and log_groups is None and key not in self.bundle and key not in self._raw:
            found = held()
            if found is not None:
                return found

        def fetch() -> pd.DataFrame:
            return _logs.events(groups, win, pattern=pattern, limit=limit, **self._aws())

        return key, self._get(key, "logs", fetch, window=win)

    def logs(
        self,
        log_groups: str | Sequence[str] | None = None,
        *,
        pattern: str | None = None,
        window: Any = "incident",
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Parsed log events of ``log_groups`` in ``window`` (``schema.PARSED_COLUMNS``).

        Parameters
        ----------
        log_groups:
            A log group, a list, or a comma-separated string; default: the investigation's
            ``log_groups`` resource — or, on an opened sample or bundle, every log frame it
            holds for the window.
        pattern:
            A CloudWatch Logs filter pattern (``ERROR``, ``{ $.status >= 500 }``).
        window:
            ``"incident"`` (default), ``"baseline"``, ``"context"`` or a Window.
        limit:
            Stop after this many events (the frame says it is truncated).

        Returns
        -------
        pandas.DataFrame
            Formats auto-detected by :func:`incidentkit.parse.parse`; ``df.attrs`` carries
            the fetch's provenance and the parse statistics.

        Example
        -------
        >>> inv.logs("/aws/lambda/api", pattern="REPORT")       # doctest: +SKIP
        """
        key, raw = self._logs_frame(log_groups, pattern=pattern, window=window, limit=limit)
        return self._parsed_logs(key, raw)

    def _parsed_logs(self, key: str, raw: pd.DataFrame) -> pd.DataFrame:
        if key in self._parsed:
            return self._parsed[key]
        if "format" in raw.columns:  # logs read from S3 come parsed (with their own columns); parse only the others
            todo = raw["format"].isna().to_numpy()
            parsed = raw if not todo.any() else _concat([raw[~todo], parsers.parse(raw.loc[todo, list(schema.EVENT_COLUMNS)])], "parsed")
        else:
            parsed = parsers.parse(raw)
        for k, v in raw.attrs.items():
            parsed.attrs.setdefault(k, v)
        self._parsed[key] = parsed
        return parsed

    def requests(self, *, window: Any = "incident") -> pd.DataFrame:
        """One row per request (``schema.REQUEST_COLUMNS``) from the parsed logs of ``window``.

        Each row carries its ``tier`` (``entry``: an access-log request; ``invocation``: a
        Lambda invocation; ``app``: application lines): one client request behind API
        Gateway and a Lambda authorizer is one entry row and two invocation rows. Count one
        tier — :meth:`impact` does (``incidentkit.analyses.impact.counted`` gives its rows).
        """
        got = self._own_logs(window)  # the log groups' logs and those read from S3
        key, parsed = got if got is not None else ("empty", self._parsed_logs("empty", schema.empty_frame("events")))
        return self._requests_of(key, parsed)

    def _requests_of(self, key: str, parsed: pd.DataFrame) -> pd.DataFrame:
        ck = f"requests:{key}"
        if ck not in self._parsed:
            self._parsed[ck] = parsers.requests(parsed)
        return self._parsed[ck]

    def impact(self, *, latency_slo_ms: float | None = None) -> dict[str, Any]:
        """What users saw, each request counted once: failed and slow requests and clients,
        onset, peak, recovery and duration (:func:`incidentkit.analyses.impact.impact`).

        Counted at the entry point (API Gateway / ALB access log) when its log is in the
        evidence, else at the outermost tier present; ``counted`` says which. Slow means
        above ``latency_slo_ms`` when given, else above the baseline window's P99.

        Example
        -------
        >>> Investigation.sample("version-skew-errors").impact()["counted"]      # doctest: +SKIP
        '1,511 requests at the API Gateway entry point'
        """
        ins = self.inputs()  # the investigation's own evidence, whatever was looked at before
        return _impact.impact(ins.requests, ins.baseline_requests, window=self.window, baseline_window=self.baseline,
                              latency_slo_ms=latency_slo_ms)

    def s3_logs(self, *, window: Any = "incident") -> pd.DataFrame:
        """Parsed logs of ``window`` read from S3 (load balancer, CloudFront, VPC Flow, WAF ...):
        ``schema.PARSED_COLUMNS`` plus each format's own columns (``target``, ``target_status``,
        ``error_reason`` ...). Empty when no resource names such logs.

        Example
        -------
        >>> inv.s3_logs()[["timestamp", "status", "target", "error_reason"]]   # doctest: +SKIP
        """
        got = self._s3_logs_frame(self._window(window))
        return got[1] if got is not None else batches.empty()

    def _s3_logs_frame(self, win: Window, held: Sequence[str] = ()) -> tuple[str, pd.DataFrame] | None:
        """The window's logs read from S3 (:mod:`incidentkit.fetch.s3logs`), when a resource names them."""
        key = self._s3_key(win)
        if key is None:
            return None
        if key in held:
            return None  # a replayed bundle's frames of the window already hold it
        if self.offline and key not in self.bundle and key not in self._raw:
            return None
        fetch = lambda: self._record_s3(key, s3collect.collect(self.resources, win, parser=batches, **self._aws()))  # noqa: E731
        frame = self._get(key, "logs", fetch, window=win)
        for name in self._s3_ledgers(key):  # the ledger of objects and Athena's frames are read with the rows
            self._use(name)
        return key, frame

    def _s3_ledgers(self, key: str) -> list[str]:
        """Frames recorded beside the S3 logs frame ``key`` (its ledger of objects, Athena's aggregates)."""
        names = [frame_key("s3objects", of=key)]
        names += [frame_key("aggregates", of=key, what=w, by=d) for w in ("latency", "errors") for d in ("all", *S3_DIMENSIONS)]
        return [n for n in names if n in self.bundle]

    def _record_s3(self, key: str, got: s3collect.S3Logs) -> pd.DataFrame:
        """Record the ledger of objects and Athena's aggregates of the S3 logs frame ``key``; its rows."""
        if got.objects is not None:
            self.bundle.record(frame_key("s3objects", of=key), got.objects, kind="s3objects")
        for (what, dim), frame in got.aggregates.items():
            self.bundle.record(frame_key("aggregates", of=key, what=what, by=dim), frame, kind="aggregates")
        return got.frame

    def log_patterns(self, log_groups: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The error signatures of a window too large to pull, mined server-side by Logs Insights.

        The same frame as :meth:`signatures` (``source`` = ``insights-pattern``), from the
        ``pattern`` command run on the incident window and the baseline
        (:func:`incidentkit.fetch.insights.insights_error_patterns`): no log line is downloaded,
        counts cover every line, rates are per second (no request count), no example line and no
        first/last seen. The patterns are kept in the evidence bundle, so a replay reads them
        offline. The ``error-spike`` finding reads :meth:`signatures`, not this.

        Example
        -------
        >>> inv.log_patterns()[["template", "count", "baseline_count", "new"]]   # doctest: +SKIP
        """
        groups = _listify(log_groups) if log_groups is not None else list(self.resources.get("log_groups") or [])
        if not groups:
            raise ParameterError("log_patterns needs log groups: pass log_groups= or create the investigation with log_groups")
        base = self.baseline
        key = frame_key("patterns", log_groups=groups, start=_iso(self.window.start), end=_iso(self.window.end),
                        baseline=[_iso(base.start), _iso(base.end)] if base is not None else None)

        def fetch() -> pd.DataFrame:
            return _insights.insights_error_patterns(groups, self.window, baseline=base, **self._aws())

        patterns = self._get(key, "patterns", fetch, window=self.window)
        seconds = (self.window.end - self.window.start).total_seconds()
        return from_patterns(patterns, exposure=seconds,
                             baseline_exposure=(base.end - base.start).total_seconds() if base is not None else None)
