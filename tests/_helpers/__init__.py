"""Helpers the tests share (``tests`` is on pytest's ``pythonpath``: ``from _helpers.fake_aws import FakeAws``).

``ROOT`` is the repository, ``DATA`` the tests' own data files.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
