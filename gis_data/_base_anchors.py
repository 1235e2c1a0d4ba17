"""Anchors of the Changle reference twin: towns, named areas, landmarks and compute sites.

Positions are CGCS2000 lon/lat. Only the airport's position (FOC, 25.935 N 119.663 E) and the
district boundary are taken from sources; town centres are approximate (placed from general
knowledge of the district's map, to within about 1–2 km) and are flagged ``approximate``.
Per-town populations are an assumption that splits the district total (see ``POPULATION_TOTAL``).
"""

from __future__ import annotations

POPULATION_TOTAL = 770_000
"""Resident population: Changle's 7th national census (2020) is about 0.77 million (rounded)."""

JOBS_PER_RESIDENT = 0.45
"""Jobs located in the district per resident (assumption: typical for a Chinese county district)."""

# town_id, name_zh, name_pinyin, kind, lat, lon, population (assumed split, scaled to the total)
TOWNS: list[tuple[str, str, str, str, float, float, int]] = [
    ("wuhang", "吴航街道", "Wuhang", "street", 25.963, 119.523, 110_000),
    ("hangcheng", "航城街道", "Hangcheng", "street", 25.955, 119.503, 95_000),
    ("yingqian", "营前街道", "Yingqian", "street", 26.000, 119.492, 60_000),
    ("zhanggang", "漳港街道", "Zhanggang", "street", 25.918, 119.625, 40_000),
    ("shouzhan", "首占镇", "Shouzhan", "town", 25.968, 119.478, 45_000),
    ("yutian", "玉田镇", "Yutian", "town", 25.905, 119.445, 35_000),
    ("guhuai", "古槐镇", "Guhuai", "town", 25.925, 119.520, 50_000),
    ("heshang", "鹤上镇", "Heshang", "town", 25.925, 119.585, 40_000),
    ("hunan", "湖南镇", "Hunan", "town", 25.975, 119.640, 35_000),
    ("jinfeng", "金峰镇", "Jinfeng", "town", 25.885, 119.545, 70_000),
    ("tantou", "潭头镇", "Tantou", "town", 26.005, 119.600, 45_000),
    ("meihua", "梅花镇", "Meihua", "town", 26.003, 119.668, 20_000),
    ("jiangtian", "江田镇", "Jiangtian", "town", 25.805, 119.570, 30_000),
    ("wenling", "文岭镇", "Wenling", "town", 25.845, 119.585, 30_000),
    ("songxia", "松下镇", "Songxia", "town", 25.730, 119.590, 25_000),
    ("wenwusha", "文武砂镇", "Wenwusha", "town", 25.880, 119.585, 25_000),
    ("luolian", "罗联乡", "Luolian", "town", 25.835, 119.480, 12_000),
    ("houyu", "猴屿乡", "Houyu", "town", 26.035, 119.535, 13_000),
]
"""The 18 township/street centres (乡镇/街道); 乡 are listed with kind ``town``."""

AIRPORT_LAT, AIRPORT_LON = 25.935, 119.663
"""Fuzhou Changle International Airport (FOC), reference point (known)."""
AIRPORT_RUNWAY_BEARING_DEG = 34.0
"""Approximate runway bearing (runway 03/21)."""

OLD_TOWN_CENTRE = (25.960, 119.514)  # lat, lon: between 吴航 and 航城 (approximate)
BINHAI_CENTRE = (25.897, 119.600)    # lat, lon: 滨海新城 core (approximate)
BINHAI_BOX = (25.862, 25.926, 119.560, 119.652)  # lat_min, lat_max, lon_min, lon_max
BINHAI_ROTATION_DEG = 35.0           # the new-town grid runs parallel to the coast

# area_id, name_zh, name_en, kind
AREAS: list[tuple[str, str, str, str]] = [
    ("wuhang", "吴航/航城老城区", "Wuhang–Hangcheng old town", "old_town"),
    ("binhai", "滨海新城", "Binhai New City", "new_town"),
    ("airport", "福州长乐国际机场", "Fuzhou Changle International Airport (FOC)", "airport"),
    ("wensong_dc", "文松路数据中心集群", "Wensong Road data-centre cluster", "data_centres"),
]
"""Named areas; town cores are added as ``town_<town_id>`` areas of kind ``town_core``."""

# site_id, name_zh, name_en, kind, offset along 文松路 (fraction of its binhai part), phase1, target, pue
COMPUTE_SITES: list[tuple[str, str, str, str, float, float, float, float]] = [
    ("aicc", "长乐人工智能计算中心", "Changle AI Computing Centre", "aicc", 0.55, 2000.0, 10000.0, 1.25),
    ("idc_1", "文松路数据中心一期", "Wensong Road data centre 1", "idc", 0.30, 120.0, 120.0, 1.30),
    ("idc_2", "文松路数据中心二期", "Wensong Road data centre 2", "idc", 0.40, 70.0, 70.0, 1.30),
    ("idc_3", "文松路数据中心三期", "Wensong Road data centre 3", "idc", 0.70, 40.0, 40.0, 1.28),
]
"""Compute sites. The AICC figures are the plan's (phase 1 2000P, target 10000P, PUE ≤ 1.3 towards
1.25). The data centres share the plan's 2023 district AI compute of 230P (an assumed split)."""
