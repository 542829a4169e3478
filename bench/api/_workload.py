"""What one benchmarked "call" is: a 5-minute recording and its transcript.

The recording is the demo's synthetic narrowband call (``callvault.demo.mulaw_recording``:
8 kHz, 8-bit G.711 mu-law, WAV), 300 s = 2 400 058 bytes, i.e. the issue's 2.4 MB. Each
call gets *distinct* bytes (the base recording rotated by a call-specific offset, with the
call number stamped in), so the concurrent phase stores different objects whose SHA-256
must each come back intact, at the cost of a memcpy rather than a fresh synthesis.

The transcript is what a speech-to-text stage would post for such a call: about 150
words a minute over ~60 timed segments (agent / caller), plus the caller's number and
the sensitive fields (member number, card fragment) the API seals field by field. Its
text carries ``MARKER``, so a test can look for it in the stores' raw bytes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from callvault.demo import mulaw_recording

__all__ = ["CALL_SECONDS", "MARKER", "Call", "base_recording", "make_call"]

CALL_SECONDS = 300
MARKER = "bench-plaintext-marker-5f3a"
_SAYINGS = (
    "thank you for calling how can I help today my claim was denied last week let me "
    "look that up for you could you confirm your date of birth and the member number on "
    "the card the payment did not go through I will transfer you to billing one moment "
    "please is there anything else I can do for you"
)
_WORDS = _SAYINGS.split()
_SEGMENT_SECONDS = 5.0


@functools.cache
def base_recording() -> bytes:
    """The 5-minute WAV every call's recording is derived from (synthesised once)."""
    return mulaw_recording(CALL_SECONDS)


@dataclass(frozen=True)
class Call:
    id: str
    caller: str
    audio: bytes
    audio_sha256: str
    transcript: dict[str, Any]
    transcript_json: bytes  # serialised once, outside any timed region

    def transcript_matches(self, returned: dict[str, Any]) -> bool:
        """Whether a GET of the transcript returned exactly what was posted."""
        return all(returned.get(k) == v for k, v in self.transcript.items())


def _audio_variant(number: int) -> bytes:
    base = base_recording()
    header = 58  # RIFF/WAVE + fmt + fact + data chunk headers of mulaw_recording
    body = base[header:]
    shift = (number * 7919) % len(body)
    stamp = number.to_bytes(8, "big")
    return base[:header] + stamp + body[shift + len(stamp) :] + body[:shift]


def _transcript(call_id: str, caller: str, rng: random.Random) -> dict[str, Any]:
    segments: list[dict[str, Any]] = []
    start = 0.0
    while start < CALL_SECONDS:
        words = rng.choices(_WORDS, k=rng.randint(8, 16))
        end = min(CALL_SECONDS, start + _SEGMENT_SECONDS)
        speaker = "agent" if len(segments) % 2 == 0 else "caller"
        segments.append({"start": start, "end": end, "speaker": speaker, "text": " ".join(words)})
        start = end
    text = " ".join(str(s["text"]) for s in segments) + f" {MARKER}"
    return {
        "call_id": call_id,
        "caller": caller,
        "text": text,
        "segments": segments,
        "member_number": f"M-{rng.randrange(10**8):08d}",
        "card_last4": f"{rng.randrange(10**4):04d}",
    }


def make_call(number: int, caller: str, prefix: str = "call") -> Call:
    """Call ``number`` (distinct audio and transcript) from ``caller`` (E.164)."""
    call_id = f"{prefix}-{number:06d}"
    audio = _audio_variant(number)
    transcript = _transcript(call_id, caller, random.Random(number))
    return Call(
        id=call_id,
        caller=caller,
        audio=audio,
        audio_sha256=hashlib.sha256(audio).hexdigest(),
        transcript=transcript,
        transcript_json=json.dumps(transcript).encode(),
    )
