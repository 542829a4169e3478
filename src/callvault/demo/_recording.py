"""A synthetic call recording: 8 kHz, 8-bit G.711 mu-law, in a WAV container.

The demo needs realistic call audio without shipping any: a few formant-like tones whose
pitch and loudness change every 250 ms, with pauses, encoded as telephony does. Not speech,
but the same size, rate and byte statistics as a real narrowband recording.
"""

from __future__ import annotations

import math
import random
import struct

__all__ = ["SAMPLE_RATE", "mulaw_recording"]

SAMPLE_RATE = 8000
_BIAS, _CLIP = 0x84, 32635


def _mulaw_byte(sample: int) -> int:
    """ITU-T G.711 mu-law encoding of one 16-bit linear sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _CLIP) + _BIAS
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (min(exponent, 7) << 4) | mantissa) & 0xFF


_TABLE = bytes(_mulaw_byte(s) for s in range(-32768, 32768, 4))  # index: (sample + 32768) >> 2


def _segment(rng: random.Random, samples: int) -> bytes:
    if rng.random() < 0.2:  # a pause, with line noise
        return bytes(_TABLE[(rng.randint(-60, 60) + 32768) >> 2] for _ in range(samples))
    pitch = rng.uniform(90, 240)
    formants = [(pitch * k, rng.uniform(0.2, 1.0) / k) for k in (1, 2, 3, 5)]
    loudness = rng.uniform(2500, 9000)
    out = bytearray(samples)
    step = 2 * math.pi / SAMPLE_RATE
    for i in range(samples):
        value = sum(a * math.sin(step * f * i) for f, a in formants)
        out[i] = _TABLE[(max(-32768, min(32767, int(loudness * value))) + 32768) >> 2]
    return bytes(out)


def mulaw_recording(seconds: float, seed: int = 7) -> bytes:
    """A WAV file (format 7, mu-law, mono, 8 kHz) of ``seconds`` seconds."""
    rng = random.Random(seed)  # noqa: S311 - synthetic audio, not a secret
    total = int(seconds * SAMPLE_RATE)
    segment = SAMPLE_RATE // 4
    # Synthesise a pool of segments and reuse them: the demo's cost is the crypto, not math.sin.
    pool = [_segment(rng, segment) for _ in range(64)]
    data = bytearray()
    while len(data) < total:
        data += pool[rng.randrange(len(pool))]
    del data[total:]
    fmt = struct.pack("<HHIIHHH", 7, 1, SAMPLE_RATE, SAMPLE_RATE, 1, 8, 0)
    fact = struct.pack("<I", total)
    chunks = (
        b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"fact" + struct.pack("<I", len(fact)) + fact
        + b"data" + struct.pack("<I", total) + bytes(data)
    )
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
