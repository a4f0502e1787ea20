"""A notebook that fetches a long CloudWatch Logs stream from an in-kernel fake service.

The fake answers FilterLogEvents from a botocore ``before-send`` hook (no network, no
credentials): ``PAGES`` pages of ``PAGE`` events, a short pause each, so the fetch lasts
long enough to watch its progress bar and press the kernel's stop button.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PAGE = 500
PAGES = 4000  # ~10 min at full speed: the test stops it within seconds
PAUSE_S = 0.15

SETUP = f'''import json, time
import boto3
from botocore.awsrequest import AWSResponse
from incidentkit.fetch import logs
from incidentkit import Window

WINDOW = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z", allow_future=True)
T0 = int(WINDOW.start.value // 1_000_000)

class Body:
    def __init__(self, data): self.data = data
    def stream(self, **_): yield self.data

def serve(request, **_):
    offset = int(json.loads(request.body or b"{{}}").get("nextToken") or 0)
    time.sleep({PAUSE_S})
    events = [{{"logStreamName": "s", "timestamp": T0 + i, "ingestionTime": T0 + i, "message": f"line {{i}}",
               "eventId": f"e{{i}}"}} for i in range(offset, offset + {PAGE})]
    page = {{"events": events, "searchedLogStreams": []}}
    if offset + {PAGE} < {PAGE * PAGES}:
        page["nextToken"] = str(offset + {PAGE})
    return AWSResponse(request.url, 200, {{"Content-Type": "application/x-amz-json-1.1"}}, Body(json.dumps(page).encode()))

session = boto3.Session(region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
session.events.register("before-send.logs.FilterLogEvents", serve)'''

FETCH = 'events = logs.events("/aws/lambda/api", WINDOW, session=session)  # progress on by default in a notebook'

REPORT = 'print(f"kept {len(events)} events; complete={events.attrs[\'complete\']}; interrupted={events.attrs[\'interrupted\']}")'


def write(path) -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# A long fetch: its progress bar, and the stop button"),
            new_code_cell(SETUP),
            new_code_cell(FETCH),
            new_code_cell(REPORT),
        ],
        metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    )
    nbformat.write(nb, str(path))
