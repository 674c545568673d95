"""The interface's gettext catalogues: compiled with polib (no gettext tools needed to run
the library) and checked so that no language is left with an untranslated string."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings
from django.utils.translation import to_locale


def catalogue_paths() -> list[Path]:
    """locale/<locale>/LC_MESSAGES/django.po for every interface language, in order."""
    root = Path(settings.LOCALE_PATHS[0])
    return [
        root / to_locale(code) / "LC_MESSAGES" / "django.po" for code, _name in settings.LANGUAGES
    ]


def compile_all() -> list[Path]:
    """Write django.mo beside each django.po; return the files written."""
    written = []
    for po_path in catalogue_paths():
        if po_path.exists():
            mo_path = po_path.with_suffix(".mo")
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            written.append(mo_path)
    return written


@dataclass(frozen=True)
class Problem:
    path: Path
    msgid: str
    reason: str


def problems(expected_msgids: set[str] | None = None) -> list[Problem]:
    """Untranslated, fuzzy, missing or stale entries in every catalogue.

    ``expected_msgids`` is what the code asks for (from a fresh makemessages run); an entry
    the code needs but a catalogue lacks is a problem too.
    """
    found: list[Problem] = []
    for po_path in catalogue_paths():
        if not po_path.exists():
            found.append(Problem(po_path, "", "catalogue missing"))
            continue
        catalogue = polib.pofile(str(po_path))
        present = set()
        for entry in catalogue:
            if entry.obsolete:
                continue
            present.add(entry.msgid)
            if "fuzzy" in entry.flags:
                found.append(Problem(po_path, entry.msgid, "fuzzy"))
            elif not entry.translated():
                found.append(Problem(po_path, entry.msgid, "untranslated"))
        for msgid in sorted((expected_msgids or set()) - present):
            found.append(Problem(po_path, msgid, "missing: run `make messages` and translate"))
    return found
