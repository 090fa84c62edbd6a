"""``make up``'s demo data: the demo half-year (``deploy/demo/half_year.py``), driven through
the public APIs with a progress bar; prints where the dashboard and the bulletin are.

Kept under this name because ``deploy/up.sh`` runs it; the arguments are half_year.py's.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from half_year import main, parse

if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
