"""The report's first screen: which settings fail, how, and which single change fixes
each, from the measured single changes of report/fixes.py."""

import pandas as pd

from sweeper.report import fixes
from sweeper.report.analysis import cli_text
from sweeper.report.numbers import num

SHOWN = 8  # failing settings in the answer table; fixes.csv holds them all
FIXES_SHOWN = 3  # fixes per failing setting in the table
WORDED = 3  # up to this many failing settings are also told in words


def write(doc, runs: pd.DataFrame, changes: pd.DataFrame, table: pd.DataFrame) -> None:
    """The answer section: a few sentences, then one table; a few failing settings
    also in words. `table`: the runs' fixes.settings, `changes` found in it."""
    doc.heading(2, "The answer")
    failing = table[table["verdict"] != "healthy"]
    keys = fixes.axes(runs)
    if failing.empty:
        which = "Every setting is" if len(table) > 1 else "The setting is"
        doc.para(f"{which} healthy over its seeds: nothing here needs a fix.")
        return
    if not keys:
        doc.para(
            _verdict_of(table.iloc[0])
            + [". The sweep varies nothing but the seed: it measured no change."]
        )
        return
    counts = failing["verdict"].value_counts()
    opening = [
        f"{len(failing)} of {len(table)} settings fail ("
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + ")."
    ]
    opening += _most_fixed(changes, len(failing)) + _unfixed(failing, changes)
    opening.append(
        " Per failing setting, the single changes (one swept setting moved, the "
        "others held) that make it healthy in the runs this sweep trained, the most "
        "reliable first (share of seeds healthy, then healthy from initialization "
        "on), then the larger fall in loss:"
    )
    doc.para(opening)
    doc.table(*_table(failing.head(SHOWN), changes))
    if len(failing) > SHOWN:
        doc.para(
            [
                f"... and {len(failing) - SHOWN} more failing settings: every one, "
                "with every change measured, in ",
                ("a", fixes.FIXES_FILE, fixes.FIXES_FILE),
                ".",
            ]
        )
    if len(failing) <= WORDED:  # more would repeat the table at length
        doc.items([_line(runs, cell, changes, keys) for _, cell in failing.iterrows()])


def _most_fixed(changes: pd.DataFrame, failing: int) -> list:
    """The changes that fix the most failing settings, when more than one fails."""
    if failing < 2:
        return []
    count = changes[changes["fixes"]].groupby("change", sort=False).size()
    count = count.sort_values(ascending=False, kind="stable").head(2)
    if count.empty:
        return []
    said = [f"{change} fixes {n} of them" for change, n in count.items()]
    return [" " + "; ".join(said) + "."]


def _unfixed(failing: pd.DataFrame, changes: pd.DataFrame, most: int = 5) -> list:
    fixed = set(changes.loc[changes["fixes"], "setting"])
    left = [s for s in failing["setting"] if s not in fixed]
    if not left:
        return []
    more = f" and {len(left) - most} more" if len(left) > most else ""
    return [
        " No single change in this sweep fixes " + "; ".join(left[:most]) + more + "."
    ]


def _verdict_of(cell) -> list:
    return [
        cell["setting"],
        " is ",
        ("b", cell["verdict"]),
        f" ({_seeds(cell['agree'], cell['seeds'])})",
    ]


def _seeds(count: int, total: int) -> str:
    return "one seed" if total == 1 and count == 1 else f"{count} of {total} seeds"


def _line(runs, cell, changes: pd.DataFrame, keys: list[str]) -> list:
    mine = changes[changes["setting"] == cell["setting"]]
    found = mine[mine["fixes"]]
    line = _verdict_of(cell) + [". "]
    if found.empty:
        tried = ", ".join(
            f"{c.change} → {c.to_verdict}" for c in mine.head(4).itertuples()
        )
        return line + [
            "No single change in this sweep fixes it"
            + (f" (measured: {tried})." if tried else " (no neighbour was trained).")
        ]
    best = found.iloc[0]
    held = [f"{k}={cli_text(runs, k, cell[k])}" for k in keys if k != best["axis"]]
    line += ["Fix: ", best["change"]]
    line += [f", holding {' '.join(held)}" if held else ""]
    line += [f" ({_after(best)})"]
    others = found.iloc[1:FIXES_SHOWN]
    if len(others):
        line += ["; also "]
        for i, other in enumerate(others.itertuples()):
            line += [", " if i else "", other.change, f" ({_after(other)})"]
    return line + ["."]


def _after(change) -> str:
    change = change._asdict() if hasattr(change, "_asdict") else change
    healthy = round(change["healthy_share"] * change["to_seeds"])
    text = f"healthy in {_seeds(healthy, change['to_seeds'])}"
    recovered = healthy - round(change["steady_share"] * change["to_seeds"])
    if recovered:
        which = (
            "after its signal started vanishing and recovered"
            if healthy == 1
            else f"{recovered} of them after a signal that started vanishing"
        )
        text += f", {which}"
    before, after = change["loss_before"], change["loss_after"]
    if pd.notna(before) and pd.notna(after):
        text += f", final loss {num(before)} → {num(after)}"
    return text


def _table(failing: pd.DataFrame, changes: pd.DataFrame) -> tuple[list, list]:
    """One row per failing setting: its verdict and its fixes, best first."""
    header = ["failing setting", "verdict (seeds)"]
    header += [
        f"single changes that fix it, best first (healthy seeds; final loss "
        f"before → after), up to {FIXES_SHOWN}"
    ]
    rows = []
    for _, cell in failing.iterrows():
        mine = changes[(changes["setting"] == cell["setting"]) & changes["fixes"]]
        found = [
            f"{change.change} ({round(change.healthy_share * change.to_seeds)}/"
            f"{change.to_seeds}; {_losses(change.loss_before, change.loss_after)})"
            for change in mine.head(FIXES_SHOWN).itertuples()
        ]
        verdict = f"{cell['verdict']} ({cell['agree']}/{cell['seeds']})"
        rows.append(
            [cell["setting"], verdict, ", ".join(found) or "none in this sweep"]
        )
    return header, rows


def _losses(before: float, after: float) -> str:
    show = lambda v: num(v) if pd.notna(v) else "n/a"  # noqa: E731
    return f"{show(before)} → {show(after)}"
