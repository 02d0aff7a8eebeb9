"""How the report writes a number."""

import numpy as np


def sci(value: float) -> str:
    """A number in short scientific form, "1.9e-03"; "n/a" when not finite."""
    return f"{value:.1e}" if np.isfinite(value) else "n/a"


def num(value: float) -> str:
    """Two significant digits, plain for ordinary sizes (0.34, 620), else scientific."""
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    if 10 <= abs(value) < 1e6:
        return f"{float(f'{value:.2g}'):,.0f}"
    return f"{value:#.2g}".rstrip(".") if 0.01 <= abs(value) < 10 else sci(value)
