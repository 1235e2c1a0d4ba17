"""What a run records of its city: which city, in which language, and what reports must say
about its data (a reference twin's caveat, layers derived rather than given)."""

from __future__ import annotations

from pathlib import Path

from twin.city.derive import derivation_notes
from twin.city.manifest import read_manifest


def city_summary(folder: Path) -> dict[str, object]:
    """What a run's manifest records of its city: folder, name, language, whether it is a
    reference twin, and the caveats reports must show."""
    if not folder.is_dir():
        return {"folder": str(folder)}
    manifest = read_manifest(folder)
    city = manifest.city
    notes = derivation_notes(manifest)
    return {"folder": str(folder), "name": city.name, "name_en": city.name_en, "lang": city.lang,
            "reference_twin": city.reference_twin, "caveat_zh": city.caveat_zh, "caveat_en": city.caveat_en,
            "derived_zh": notes["zh"], "derived_en": notes["en"]}
