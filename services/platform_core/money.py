"""Money limits shared by the services (amounts are integer fen, 分, in int64 fields).

``MAX_AMOUNT_FEN`` is the largest single amount the platform accepts: 10^15 fen, i.e. 10万亿元,
far above any single trade, award, budget or deposit in China. An amount above it is a mistake
(a unit slip, a corrupted import), never a real deal. The ceiling also keeps sums safe: the
read models add amounts into signed 64-bit counters (Redis HINCRBY, at most about 9.22 × 10^18),
and over 9,000 amounts at the ceiling fit in one counter, while a single int64 amount near 2^63
would overflow the first counter it is added to.
"""

from __future__ import annotations

MAX_AMOUNT_FEN = 10**15
