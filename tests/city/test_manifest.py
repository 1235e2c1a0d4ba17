"""city.toml: the bundled city's manifest, its errors, inference, and --city on the commands."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from twin.city.folder import load_city
from twin.city.manifest import CityManifest, CityTable, LayerEntry, read_manifest, with_layers, write_manifest
from twin.errors import InputError
from twin.paths import REPO_ROOT

GIS = REPO_ROOT / "gis_data"


def test_the_bundled_city_is_a_reference_twin_in_chinese_with_every_layer():
    city = load_city(GIS)
    assert city.name == "长乐区" and city.lang == "zh" and city.manifest.city.reference_twin
    assert "参考孪生" in city.caveat("zh") and "reference twin" in city.caveat("en")
    for layer, entry in city.manifest.layers.items():
        assert (GIS / entry.file).exists() and entry.source and entry.licence, layer
    assert city.roads is not None and city.water_inp == GIS / "water.inp"


def test_a_manifest_round_trips(tmp_path):
    manifest = CityManifest(city=CityTable(name="Helsinki", lang="en"),
                            layers={"roads": LayerEntry(file="roads.gpkg", source="OSM", licence="ODbL")})
    (tmp_path / "roads.gpkg").write_bytes(b"")
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == manifest
    grown = with_layers(manifest, {"water": LayerEntry(file="net.inp")})
    assert set(grown.layers) == {"roads", "water"} and set(manifest.layers) == {"roads"}


@pytest.mark.parametrize("text,needle", [
    ('[city]\nname = "x"\n[layers.roads]\nfile = "missing.gpkg"\n', "file not found"),
    ('[city]\nname = "x"\n[layers.metro]\nfile = "m.gpkg"\n', "unknown layer"),
    ('[city]\nname = "x"\nlang = "fr"\n', "lang"),
    ('[city]\nname = "x"\nnmae = "y"\n', "unknown key"),
    ('[city\n', "TOML syntax"),
])
def test_a_bad_manifest_is_one_clear_error(tmp_path, text, needle):
    (tmp_path / "city.toml").write_text(text)
    with pytest.raises(InputError, match=needle) as caught:
        read_manifest(tmp_path)
    assert "city.toml" in str(caught.value)


def test_a_folder_without_a_manifest_is_inferred_from_its_files(tmp_path):
    shutil.copy(GIS / "water.inp", tmp_path)
    city = load_city(tmp_path)
    assert set(city.manifest.layers) == {"water"} and city.name == tmp_path.name
    assert city.roads is None
    with pytest.raises(InputError, match="needs the city's roads layer.*import-osm"):
        city.require("roads", "the burst scenario's crew")


def test_an_empty_folder_is_not_a_city(tmp_path):
    with pytest.raises(InputError, match="no city here"):
        load_city(tmp_path)


def test_info_with_city_lists_what_the_city_has_and_lacks(tmp_path, twin_cli):
    shutil.copy(GIS / "water.inp", tmp_path)
    before = os.environ.get("TWIN_DATA_DIR")
    outcome = twin_cli("info", "--json", "--city", tmp_path)
    assert outcome.exit_code == 0, outcome.stderr
    summary = json.loads(outcome.stdout)
    assert list(summary["has"]) == ["water"]
    assert "import-osm" in summary["lacks"]["roads"] and "import-zones" in summary["lacks"]["zones"]
    assert os.environ.get("TWIN_DATA_DIR") == before  # --city does not leak past the command
