"""The version of incidentkit, in one place the whole package can import (it imports nothing)."""

__version__ = "0.1.0"
