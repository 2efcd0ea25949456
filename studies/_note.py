"""The study note that optuna-dashboard shows: the study's settings, its cost so far and the
verdict of the last `compare`.

The note is Markdown in sections, each under its own heading (``## Settings``,
``## Cost so far``, ``## Verdict``). `update_note` rewrites the sections it is given and keeps
the others, and keeps whatever a user wrote in the dashboard outside them (text before the first
heading, sections under other headings). A user's section under one of these three headings is
ssmtune's and gets rewritten.

Storage and safety. The note is written with optuna-dashboard's public `save_note`, which
stores it in study system attributes: a version (``dashboard:note_ver``) and the text in chunks
of 2,045 characters (``dashboard:note_str:0``, ``:1``, ...). Each is one call of
`BaseStorage.set_study_system_attr`, its own short transaction that reads the study row
without locking it and writes one attribute row: on PostgreSQL it locks that row only, on SQLite
it holds the database's write lock for that statement alone (waiting at most the busy timeout of
`studies._storage`). It never holds a lock while waiting for another, so it cannot deadlock with
the runner's exactly-once bookkeeping (`studies._trials`), which locks the study row first.
The version makes the dashboard refuse a user's edit made on an older version instead of
overwriting ours. Two writers at the same moment (a run ending while `compare` writes its
verdict) may lose one's section until it is written again: the note is a display; the study's
attributes and trials remain the record.

Writing the note never fails a study or a comparison: an error is logged as one line and
`update_note` returns False.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ssmtune.studies._query import metric_of, study_counts, study_device_s

if TYPE_CHECKING:
    import optuna

__all__ = ["Verdict", "update_note"]

_log = logging.getLogger(__name__)

#: ssmtune's sections of the note, in the order they are shown.
SECTIONS = ("Settings", "Cost so far", "Verdict")
_HEADING = re.compile(r"^## (.+?)\s*$")
_MARKDOWN = re.compile(r"([\\`*<>])")


class Verdict(NamedTuple):
    """The verdict of ``ssmtune compare`` of study `a` (A) with study `b` (B)."""

    a: str
    b: str
    text: str


def update_note(
    study: optuna.Study,
    *,
    settings: bool = False,
    cost: bool = False,
    verdict: Verdict | None = None,
) -> bool:
    """Rewrite sections of `study`'s dashboard note and keep the others.

    Args:
        study: the study whose note is written.
        settings: write "Settings": task, model, space, sampler, pruner, seed, protocol,
            budget and objective, from the study's user attributes.
        cost: write "Cost so far": device-hours spent (`studies.study_cost_s`), the trials
            complete, pruned, failed and running or waiting, and when this was written (UTC).
        verdict: write "Verdict": the text of a comparison, its date and the two studies'
            names.

    Returns:
        Whether the note was written. A failure (the storage cannot be reached, is locked for
        too long, ...) is logged as one warning line and returns False; it never raises.

    Example:
        >>> import optuna, optuna_dashboard
        >>> s = optuna.create_study(storage=optuna.storages.InMemoryStorage())
        >>> update_note(s, verdict=Verdict(s.study_name, "other", "B halves the cost."))
        True
        >>> update_note(s, cost=True)
        True
        >>> [line for line in optuna_dashboard.get_note(s).splitlines() if line.startswith("##")]
        ['## Cost so far', '## Verdict']
    """
    try:
        import optuna_dashboard

        now = datetime.now(UTC)
        new: dict[str, str] = {}
        if settings:
            new["Settings"] = _settings_text(study)
        if cost:
            new["Cost so far"] = _cost_text(study, now)
        if verdict is not None:
            new["Verdict"] = _verdict_text(study.study_name, verdict, now)
        if not new:
            return True
        body = _compose(optuna_dashboard.get_note(study), new)
        optuna_dashboard.save_note(study, body)
    except Exception as exc:  # a note is never worth failing a study for
        reason = " ".join(str(exc).split())[:300]
        _log.warning(
            "study %s: the dashboard note was not written (%s: %s)",
            getattr(study, "study_name", "?"),
            type(exc).__name__,
            reason,
        )
        return False
    return True


def _compose(old: str, new: dict[str, str]) -> str:
    """The note `old` with the sections in `new` replaced (or added); other text kept.

    Example:
        >>> old = "mine\\n\\n## Verdict\\nv1\\n\\n## Ideas\\ntry S5"
        >>> print(_compose(old, {"Settings": "- seed: 1"}))
        mine
        <BLANKLINE>
        ## Settings
        - seed: 1
        <BLANKLINE>
        ## Verdict
        v1
        <BLANKLINE>
        ## Ideas
        try S5
    """
    preamble, sections = _split(old)
    sections.update(new)
    ours = [f"## {name}\n{sections[name]}" for name in SECTIONS if name in sections]
    others = [f"## {name}\n{body}" for name, body in sections.items() if name not in SECTIONS]
    parts = ([preamble] if preamble else []) + ours + others
    return "\n\n".join(parts)


def _split(note: str) -> tuple[str, dict[str, str]]:
    """(text before the first ``## `` heading, {heading: its text}) of a note."""
    preamble: list[str] = []
    sections: dict[str, list[str]] = {}
    current = preamble
    for line in note.splitlines():
        match = _HEADING.match(line)
        if match:
            current = sections.setdefault(match.group(1), [])
        else:
            current.append(line)
    return "\n".join(preamble).strip(), {k: "\n".join(v).strip() for k, v in sections.items()}


def _escape(text: Any) -> str:
    """`text` with the Markdown characters that could change how it shows (backslash, backtick,
    asterisk, angle brackets) escaped; an underscore inside a word, as in ``val_accuracy``, is
    plain text to Markdown."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _settings_text(study: optuna.Study) -> str:
    attrs = study.user_attrs
    metric = metric_of(study)
    direction = "maximize" if metric == "accuracy" else "minimize"
    size = attrs.get("space_size")
    space = f"{attrs.get('space', '?')}" + (f" ({size} points)" if size else " (continuous)")
    protocol = attrs.get("protocol") or {}
    budget = attrs.get("budget_hours")
    rows = [
        ("task", attrs.get("task", "?")),
        ("model", attrs.get("model", "?")),
        ("space", space),
        ("sampler", attrs.get("sampler", "?")),
        ("pruner", attrs.get("pruner", "none")),
        ("seed", attrs.get("seed", "?")),
        ("protocol", ", ".join(f"{k} {v}" for k, v in protocol.items()) or "?"),
        ("budget", f"{budget:g} device-hours" if budget else "none"),
        ("objective", f"{direction} val_{metric}"),
    ]
    return "\n".join(f"- {key}: {_escape(value)}" for key, value in rows)


def _cost_text(study: optuna.Study, now: datetime) -> str:
    counts = study_counts(study)
    hours = study_device_s(study) / 3600
    budget = study.user_attrs.get("budget_hours")
    spent = f"{hours:.3g} device-hours" + (
        f" of a budget of {budget:g} ({100 * hours / budget:.0f}%)" if budget else ""
    )
    return "\n".join(
        [
            f"- spent: {spent}",
            f"- trials: {counts['complete']} complete, {counts['pruned']} pruned, "
            f"{counts['fail']} failed, {counts['running']} running or waiting",
            f"- updated: {_when(now)}",
        ]
    )


def _verdict_text(name: str, verdict: Verdict, now: datetime) -> str:
    a, b = (_escape(n) + (" (this study)" if n == name else "") for n in (verdict.a, verdict.b))
    other = _escape(verdict.b if name == verdict.a else verdict.a)
    return (
        f"`ssmtune compare` with {other}, {_when(now)}: A = {a}, B = {b}.\n\n"
        f"{_escape(verdict.text)}"
    )
