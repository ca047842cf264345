"""Footfall: open-source retail store analytics."""

__version__ = "0.1.0"
