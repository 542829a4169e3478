"""The embedded-default demo: a synthetic call through the whole key hierarchy."""

from callvault.demo._recording import mulaw_recording
from callvault.demo._walkthrough import Step, run_walkthrough

__all__ = ["Step", "mulaw_recording", "run_walkthrough"]
