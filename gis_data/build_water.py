"""Build the bundled Changle water network, ``water.inp`` and ``water_valves.csv``.

Called by ``gis_data/build.py`` after the base as ``build(out_dir, city)``; deterministic (sorted
inputs, no randomness). Like the roads it follows, the network is *generated*: a plausible
network in the shape of Changle's, not the utility's GIS. What it is made of:

* **Sources.** Two water plants (清水池 + high-lift pumps) at generated, approximate positions: the
  城区水厂 north-west of the old town towards the Min River (闽江), and the 滨海水厂 serving
  滨海新城 and the airport. Each is a reservoir (clear-well level) feeding its plant outlet through
  a pump whose three-point head curve is sized to the demand it serves (boosted zones included),
  at an outlet grade of ``PLANT_OUTLET_GRADE_M``.
* **Mains.** Pipes follow roads. Inside the urban areas and town cores (road nodes whose
  ``area_id`` is not ``rural``) every 主干路 and 次干路 carries a main, which gives looped
  distribution in the old town, 滨海新城 and each town; trunk mains then join the plants to every
  township and street centre and every urban piece along the least-cost road route, where the cost
  prefers arterials and charges ``CLIMB_COST_M_PER_M`` per metre of climb, so trunks keep to the
  valleys (城乡供水一体化). Chains of road nodes merge into pipes of at most ``MAX_PIPE_M``;
  pipes keep the road's shape as EPANET vertices.
* **Demand.** Each traffic zone's residents and jobs draw ``RESIDENT_L_PER_DAY`` and
  ``JOB_L_PER_DAY`` at the junction nearest to the zone's road connector, as two demand categories
  (``residents`` and ``jobs``) with diurnal patterns peaking at 1.45× (morning and evening) and
  1.6× (office hours).
* **Pressure zones.** Where the ground rises above what the plants' head can serve at the GB 50013
  service head, the branch gets a booster pump station (加压泵站) at the zone boundary, sized to
  lift its zone; pipes that would join two zones stay out (closed boundary).
  Where a boosted main comes back down and its grade exceeds what lies beyond by more than
  ``PRV_EXCESS_M``, a pressure-reducing valve station (减压阀) keeps the lower area at the grade it
  needs.
* **Elevated tanks** (水塔) at the three towns farthest from the plants in the plants' zone, with
  their bottom near the design hydraulic grade there, to ride through the peaks.
* **Sizing.** Diameters start from the peak flow on the shortest-path tree at an economic
  velocity of ``DESIGN_VELOCITY_M_PER_S`` and are then increased, one standard DN at a time,
  where our solver finds a junction below ``SERVICE_HEAD_M + DESIGN_MARGIN_M`` at base demand
  and below ``SERVICE_HEAD_M`` at the peak hour; pump heads rise where pipes are not the problem.
* **Valves.** Isolation valves follow the N-1 rule at every junction: a valve on each connected
  pipe but the largest (WNTR's "strategic" layout), in ``water_valves.csv``
  (``valve_id, link, node``).

Junction elevations come from the terrain; coordinates in the ``.inp`` are EPSG:4549 metres.
Junction tags name the nearest town centre; pipe tags are ``trunk`` (DN >= 300), ``distribution``
(urban) or ``rural``. The build checks the result with EPANET 2.2 (WNTR's EpanetSimulator): at
base demand every junction must have at least ``SERVICE_HEAD_M`` of pressure.

Run alone: ``python gis_data/build_water.py [--data DIR]``.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

log = logging.getLogger("gis_data.build_water")

INP_NAME = "water.inp"
VALVES_NAME = "water_valves.csv"

SERVICE_HEAD_M = 28.0
"""GB 50013-2018 minimum service head for six storeys: 10 m + 4 m per storey above one."""
DESIGN_MARGIN_M = 2.0
"""Extra head the sizing aims for at base demand, above the service head."""
RESIDENT_L_PER_DAY = 200.0
"""Average-day comprehensive domestic use per resident (assumption within GB 50013's range for
medium cities in zone 1, which includes Fujian)."""
JOB_L_PER_DAY = 60.0
"""Average-day use per job at its workplace (assumption)."""
DESIGN_VELOCITY_M_PER_S = 1.0
"""Economic velocity at the peak design flow used for first diameters."""
DIAMETERS_MM = (100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 1000, 1200, 1400)
"""Standard nominal diameters (DN) used."""
MIN_URBAN_DN, MIN_RURAL_DN = 150, 100
HAZEN_WILLIAMS_C = 120.0
"""Ductile-iron mains in service."""
MAX_PIPE_M = 800.0
"""Longest pipe made by merging road segments (keeps demand spread along mains)."""
CLEARWELL_HEAD_ABOVE_GROUND_M = 3.0
BOOSTER_MAX_LIFT_M = 60.0
PRV_EXCESS_M = 30.0
"""A boosted main that descends until its grade exceeds what lies beyond by this much gets a
pressure-reducing station (m)."""
BOOSTER_MIN_FLOW_M3_PER_S = 0.01
"""Smallest design flow of a booster station (10 L/s)."""
HEADLOSS_ALLOWANCE_M_PER_KM = 1.5
"""Hydraulic-grade fall assumed along mains when placing boosters and tanks."""
TANK_COUNT = 3
CLIMB_COST_M_PER_M = 40.0
"""Routing cost of one metre of climb or descent, in metres of main (keeps trunks in valleys)."""
PLANT_OUTLET_GRADE_M = 60.0
"""Hydraulic grade at the plants' outlets at design flow (m above datum): enough for ground up to
about 25 m; higher ground is a booster zone. The sizing raises it where needed."""

# 24 hourly multipliers (mean 1): residential morning and evening peaks, office-hours jobs
RESIDENTIAL_PATTERN = (0.50, 0.42, 0.38, 0.36, 0.40, 0.62, 1.10, 1.45, 1.38, 1.12, 1.02, 1.08,
                       1.22, 1.10, 0.98, 0.94, 1.00, 1.14, 1.32, 1.45, 1.38, 1.18, 0.90, 0.66)
JOB_PATTERN = (0.25, 0.25, 0.25, 0.25, 0.25, 0.30, 0.60, 1.20, 1.55, 1.60, 1.60, 1.50,
               1.30, 1.50, 1.60, 1.60, 1.55, 1.40, 1.00, 0.70, 0.55, 0.40, 0.30, 0.25)

PLANTS = (
    # id, name, lon, lat (generated, approximate)
    ("PLANT_CHENGQU", "城区水厂", 119.505, 25.985),
    ("PLANT_BINHAI", "滨海水厂", 119.625, 25.905),
)


def _road_graph(city):
    """Undirected road graph in EPSG:4549 with length, best class and shape per edge."""
    import networkx as nx
    from pyproj import Transformer

    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    rank = {"快速路": 0, "主干路": 1, "次干路": 2, "支路": 3}
    graph = nx.Graph()
    xy = {}
    for node, data in sorted(city.roads.nodes(data=True)):
        xy[node] = to_metric.transform(float(data["x"]), float(data["y"]))
        graph.add_node(node, area_id=data.get("area_id"))
    for u, v, data in sorted(city.roads.edges(data=True), key=lambda e: (e[0], e[1])):
        if u == v:
            continue
        a, b = min(u, v), max(u, v)
        cls = data.get("road_class", "支路")
        length = float(data["length"])
        geometry = data.get("geometry")
        if geometry is not None:
            coords = [to_metric.transform(x, y) for x, y in geometry.coords]
            if math.dist(coords[0], xy[a]) > math.dist(coords[-1], xy[a]):
                coords.reverse()
        else:
            coords = [xy[a], xy[b]]
        old = graph.get_edge_data(a, b)
        if old is None or rank.get(cls, 3) < rank.get(old["cls"], 3):
            graph.add_edge(a, b, length=length, cls=cls, coords=coords)
    return graph, xy


def _nearest_node(xy: dict[int, tuple[float, float]], nodes, point: tuple[float, float]) -> int:
    return min(sorted(nodes), key=lambda n: math.dist(xy[n], point))


def _select_mains(graph, xy, elevation, town_nodes: list[int], plant_nodes: list[int]):
    """Road edges that carry mains: arterials and collectors inside the urban areas and town cores
    (looped distribution), plus trunk routes from the plants to every town centre and area.

    Trunks follow the least-cost road route, where cost is length weighted by road class (mains
    run under arterials by preference) plus ``CLIMB_COST_M_PER_M`` per metre of climb or descent,
    so that they keep to the valleys as real transmission mains do.
    """
    import networkx as nx

    def urban(n):
        return graph.nodes[n].get("area_id") not in (None, "", "nan", "rural")

    class_factor = {"主干路": 1.0, "次干路": 1.3, "支路": 2.0, "快速路": 1.6}
    for u, v, d in graph.edges(data=True):
        climb = abs(elevation[u] - elevation[v])
        d["cost"] = d["length"] * class_factor.get(d["cls"], 2.0) + CLIMB_COST_M_PER_M * climb
    chosen = nx.Graph()
    for u, v, d in graph.edges(data=True):
        if d["cls"] in ("主干路", "次干路") and urban(u) and urban(v):
            chosen.add_edge(u, v)
    network = set(plant_nodes)
    chosen.add_nodes_from(plant_nodes)
    # grow the trunk network from the plants: each time join the nearest unjoined target
    pieces = sorted(nx.connected_components(chosen), key=lambda c: (-len(c), min(c)))
    targets = {int(t): None for t in town_nodes}
    for comp in pieces:
        if len(comp) > 10:
            targets[min(comp)] = comp
    remaining = dict(targets)
    network = set(plant_nodes)
    while remaining:
        lengths, paths = nx.multi_source_dijkstra(graph, network, weight="cost")
        reachable = [t for t in remaining if t in lengths]
        if not reachable:
            break
        target = min(reachable, key=lambda t: (lengths[t], t))
        path = paths[target]
        nx.add_path(chosen, path)
        network |= set(path)
        comp = remaining.pop(target)
        if comp is not None:
            network |= comp
        # anything now touching the network is part of it
        network |= set(nx.node_connected_component(chosen, target))
    main = nx.node_connected_component(chosen, plant_nodes[0])
    for p in plant_nodes[1:]:
        if p not in main:
            lengths, paths = nx.multi_source_dijkstra(graph, main, weight="cost")
            nx.add_path(chosen, paths[p])
            main = nx.node_connected_component(chosen, plant_nodes[0])
    return chosen.subgraph(main).copy(), {n for n in main if urban(n)}


def _merge_chains(graph, chosen, keep: set[int]) -> list[tuple[int, int, float, list]]:
    """Merge chains of degree-2 road nodes into pipes of at most MAX_PIPE_M."""
    pipes = []
    visited = set()
    junctions = {n for n in chosen if chosen.degree(n) != 2 or n in keep}
    if not junctions:
        junctions = {min(chosen)}
    for start in sorted(junctions):
        for nxt in sorted(chosen.neighbors(start)):
            if (start, nxt) in visited:
                continue
            path = [start, nxt]
            while path[-1] not in junctions:
                here = path[-1]
                step = [n for n in sorted(chosen.neighbors(here)) if n != path[-2]][0]
                path.append(step)
            visited.add((path[-1], path[-2]))
            visited.add((start, nxt))
            # cut into pieces of at most MAX_PIPE_M
            piece = [path[0]]
            length = 0.0
            coords = [graph.edges[path[0], path[1]]["coords"][0]]
            for a, b in zip(path, path[1:], strict=False):
                edge = graph.edges[a, b]
                forward = math.dist(edge["coords"][0], coords[-1]) < 1.0
                seg = edge["coords"] if forward else edge["coords"][::-1]
                if length + edge["length"] > MAX_PIPE_M and len(piece) > 1 and b not in junctions:
                    pipes.append((piece[0], piece[-1], length, coords))
                    piece, length, coords = [piece[-1]], 0.0, [coords[-1]]
                piece.append(b)
                length += edge["length"]
                coords.extend(seg[1:])
            pipes.append((piece[0], piece[-1], length, coords))
    unique = {}
    for u, v, length, coords in pipes:
        if u == v:
            continue
        key = (min(u, v), max(u, v))
        if key not in unique or length < unique[key][2]:
            unique[key] = (key[0], key[1], length, coords if u == key[0] else coords[::-1])
    return [unique[k] for k in sorted(unique)]


def _dn_for(flow_m3_per_s: float, minimum_dn: int) -> int:
    for dn in DIAMETERS_MM:
        if dn >= minimum_dn and flow_m3_per_s <= DESIGN_VELOCITY_M_PER_S * math.pi * (dn / 1000.0) ** 2 / 4:
            return dn
    return DIAMETERS_MM[-1]


def _next_dn(dn: int) -> int:
    bigger = [d for d in DIAMETERS_MM if d > dn]
    return bigger[0] if bigger else dn


def build(out_dir: Path, city) -> list[Path]:
    """Build the water network on ``city``'s roads, zones, towns and terrain; return the files written."""
    import networkx as nx
    import numpy as np
    import wntr
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from twin.water.epanet_io import write_inp

    out_dir = Path(out_dir)
    graph, xy = _road_graph(city)
    to_metric = Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    road_nodes = sorted(graph.nodes)

    towns = city.towns.sort_values("town_id").reset_index(drop=True)
    town_nodes = [int(n) if int(n) in graph else _nearest_node(xy, road_nodes, to_metric.transform(g.x, g.y))
                  for n, g in zip(towns["node"], towns.geometry, strict=True)]
    plant_nodes = [_nearest_node(xy, road_nodes, to_metric.transform(lon, lat)) for _, _, lon, lat in PLANTS]

    ground = city.terrain.elevation_m(np.array([xy[n][0] for n in road_nodes]),
                                      np.array([xy[n][1] for n in road_nodes]))
    elev = {n: round(float(z), 2) for n, z in zip(road_nodes, ground, strict=True)}
    chosen, urban = _select_mains(graph, xy, elev, town_nodes, plant_nodes)
    keep = set(town_nodes) | set(plant_nodes)
    pieces = _merge_chains(graph, chosen, keep)
    junction_nodes = sorted({u for u, _, _, _ in pieces} | {v for _, v, _, _ in pieces} | set(plant_nodes))

    # ---- demand: zones to their nearest junction --------------------------------------------------
    tree = cKDTree(np.array([xy[n] for n in junction_nodes]))
    residents = dict.fromkeys(junction_nodes, 0.0)
    jobs = dict.fromkeys(junction_nodes, 0.0)
    zones = city.zones.sort_values("zone_id")
    columns = (zones["node"], zones.geometry, zones["residents"], zones["jobs"])
    for node, geom, res, job in zip(*columns, strict=True):
        point = xy[int(node)] if int(node) in xy else to_metric.transform(geom.centroid.x, geom.centroid.y)
        _, i = tree.query(point)
        residents[junction_nodes[i]] += float(res)
        jobs[junction_nodes[i]] += float(job)
    res_m3s = {n: residents[n] * RESIDENT_L_PER_DAY / 1000.0 / 86400.0 for n in junction_nodes}
    job_m3s = {n: jobs[n] * JOB_L_PER_DAY / 1000.0 / 86400.0 for n in junction_nodes}
    peak_res, peak_job = max(RESIDENTIAL_PATTERN), max(JOB_PATTERN)

    # ---- shortest-path tree from the plants: design flows, zones, boosters, tanks ------------------
    pipe_graph = nx.Graph()
    for u, v, length, coords in pieces:
        pipe_graph.add_edge(u, v, length=length, coords=coords)
    dist, paths = nx.multi_source_dijkstra(pipe_graph, set(plant_nodes), weight="length")
    parent = {n: (paths[n][-2] if len(paths[n]) > 1 else None) for n in pipe_graph}
    source_of = {n: paths[n][0] for n in pipe_graph}
    order = sorted(pipe_graph, key=lambda n: (dist[n], n))
    design = {n: res_m3s[n] * peak_res + job_m3s[n] * peak_job for n in junction_nodes}

    plant_head = {p: max(PLANT_OUTLET_GRADE_M, elev[p] + SERVICE_HEAD_M + DESIGN_MARGIN_M)
                  for p in plant_nodes}
    # hydraulic grade estimate and booster placement along the tree
    grade: dict[int, float] = {}
    boosters: dict[int, float] = {}  # tree child node -> lift (m)
    zone_of: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    for n in order:
        if parent[n] is not None:
            children.setdefault(parent[n], []).append(n)

    def allowance(u: int, v: int) -> float:
        return HEADLOSS_ALLOWANCE_M_PER_KM * pipe_graph.edges[u, v]["length"] / 1000.0

    # the grade each subtree needs at its root: its highest demand plus the fall on the way
    need: dict[int, float] = {}
    for n in reversed(order):
        need[n] = max([elev[n] + SERVICE_HEAD_M + DESIGN_MARGIN_M + 4.0]
                      + [need[c] + allowance(n, c) for c in children.get(n, [])])
    prvs: dict[int, float] = {}  # tree child node -> grade at the valve's outlet (m)
    for n in order:
        if parent[n] is None:
            grade[n] = plant_head[n]
            zone_of[n] = -1  # the plants share one low zone: their networks join
            continue
        g = grade[parent[n]] - allowance(parent[n], n)
        zone_of[n] = zone_of[parent[n]]
        if elev[n] + SERVICE_HEAD_M + DESIGN_MARGIN_M > g:
            # a station lifts at most BOOSTER_MAX_LIFT_M; higher ground gets another one further on
            lift = min(max(need[n] - g, 10.0), BOOSTER_MAX_LIFT_M)
            boosters[n] = round(lift, 1)
            g += lift
            zone_of[n] = n
        elif g - need[n] > PRV_EXCESS_M:
            # a boosted main coming back down: a pressure-reducing station keeps what lies
            # beyond at the grade it needs
            g = need[n] + 5.0
            prvs[n] = round(g + allowance(parent[n], n), 1)
            # back down at the plants' grade: the area rejoins their low zone (and its loops)
            zone_of[n] = -1 if g <= PLANT_OUTLET_GRADE_M + 5.0 else n
        grade[n] = g
    # pipes across zone boundaries stay out, except the tree edges into boosters
    stations = set(boosters) | set(prvs)

    def joins_zones(u: int, v: int) -> bool:
        into_station = (v in stations and parent[v] == u) or (u in stations and parent[u] == v)
        return zone_of[u] == zone_of[v] or into_station

    pieces = [piece for piece in pieces if joins_zones(piece[0], piece[1])]

    # peak flow through each tree edge (child side)
    downstream = dict(design)
    for n in reversed(order):
        if parent[n] is not None:
            downstream[parent[n]] = downstream.get(parent[n], 0.0) + downstream[n]
    tree_flow = {(min(n, parent[n]), max(n, parent[n])): downstream[n]
                 for n in order if parent[n] is not None}
    # a station whose zones serve nobody feeds dead mains: leave it and them out
    dead: set[int] = set()
    for n in sorted(stations):
        if downstream[n] <= 0.0 and n not in dead:
            stack = [n]
            while stack:
                node = stack.pop()
                dead.add(node)
                stack.extend(children.get(node, []))
    for n in dead:
        boosters.pop(n, None)
        prvs.pop(n, None)
    stations -= dead
    pieces = [piece for piece in pieces if piece[0] not in dead and piece[1] not in dead]
    pipe_graph.remove_nodes_from(dead)

    # ---- tanks at the towns farthest from the plants, in the plants' zones -------------------------
    candidates = sorted({t for t in town_nodes if zone_of.get(t) == -1 and t not in plant_nodes},
                        key=lambda t: (-dist[t], t))
    tank_towns = candidates[:TANK_COUNT]

    # ---- the WNTR model ---------------------------------------------------------------------------
    wn = wntr.network.WaterNetworkModel()
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.hydraulic.headloss = "H-W"
    wn.options.hydraulic.accuracy = 0.001
    wn.options.hydraulic.trials = 100
    wn.options.hydraulic.unbalanced = "CONTINUE"  # EPANET's usual setting: 10 more trials, then go on
    wn.options.hydraulic.unbalanced_value = 10
    wn.options.time.duration = 24 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    wn.options.hydraulic.pattern = None
    wn.add_pattern("residential", list(RESIDENTIAL_PATTERN))
    wn.add_pattern("jobs", list(JOB_PATTERN))

    town_xy = np.array([xy[t] for t in town_nodes])
    town_tree = cKDTree(town_xy)
    town_ids = list(towns["town_id"])

    def jname(n: int) -> str:
        return f"J{n}"

    for n in sorted(junction_nodes):
        if n not in pipe_graph:
            continue
        wn.add_junction(jname(n), base_demand=res_m3s[n], demand_pattern="residential",
                        elevation=elev[n], coordinates=xy[n], demand_category="residents")
        if job_m3s[n] > 0:
            wn.get_node(jname(n)).demand_timeseries_list.append((job_m3s[n], "jobs", "jobs"))
        _, t = town_tree.query(xy[n])
        wn.get_node(jname(n)).tag = str(town_ids[t])

    # booster stations sit at the upstream end of the tree edge into their zone: the pump lifts
    # from the lower zone's node into the station's outlet, where the zone's main starts
    outlet_of = {}
    for n in sorted(stations):
        up = parent[n]
        outlet = f"{'BPS' if n in boosters else 'PRV'}{n}_out"
        outlet_of[n] = outlet
        wn.add_junction(outlet, base_demand=0.0, elevation=elev[up],
                        coordinates=(xy[up][0] + 5.0, xy[up][1] + 5.0))
        wn.get_node(outlet).tag = wn.get_node(jname(up)).tag

    def end_name(node: int, other: int) -> str:
        return outlet_of[other] if other in stations and parent[other] == node else jname(node)

    for i, (u, v, length, coords) in enumerate(pieces, start=1):
        name = f"P{i:05d}"
        both_urban = u in urban and v in urban
        dn = _dn_for(tree_flow.get((u, v), 0.0), MIN_URBAN_DN if both_urban else MIN_RURAL_DN)
        wn.add_pipe(name, end_name(u, v), end_name(v, u), length=max(round(length, 1), 1.0),
                    diameter=dn / 1000.0, roughness=HAZEN_WILLIAMS_C, minor_loss=0.0)
        wn.get_link(name).vertices = [tuple(c) for c in coords[1:-1]]
        wn.get_link(name).tag = "distribution" if both_urban else "rural"
    for n, lift in sorted(boosters.items()):
        # headroom: the one-point curve reaches zero head at twice its design flow
        flow = max(2.0 * downstream[n], BOOSTER_MIN_FLOW_M3_PER_S)
        wn.add_curve(f"C_BPS{n}", "HEAD", [(flow, lift)])
        wn.add_pump(f"BPS{n}", jname(parent[n]), outlet_of[n], pump_type="HEAD", pump_parameter=f"C_BPS{n}")
    for n, outlet_grade in sorted(prvs.items()):
        diameter = max(_dn_for(downstream[n], MIN_URBAN_DN), MIN_URBAN_DN) / 1000.0
        wn.add_valve(f"PRV{n}", jname(parent[n]), outlet_of[n], diameter=diameter, valve_type="PRV",
                     minor_loss=0.0, initial_setting=round(outlet_grade - elev[parent[n]], 1),
                     initial_status="Active")

    for (pid, _name, _lon, _lat), p in zip(PLANTS, plant_nodes, strict=True):
        clearwell = elev[p] + CLEARWELL_HEAD_ABOVE_GROUND_M
        wn.add_reservoir(pid, base_head=clearwell, coordinates=(xy[p][0] - 30.0, xy[p][1] - 30.0))
        # everything the plant feeds, boosted zones included, with headroom (the one-point curve
        # falls to zero head at twice its design flow)
        flow = max(1.25 * sum(design[n] for n in pipe_graph if source_of[n] == p), 1e-3)
        lift = plant_head[p] - clearwell
        # a flat three-point curve (shutoff 1.15 x design head), as parallel plant pumps give
        wn.add_curve(f"C_{pid}", "HEAD", [(0.0, 1.15 * lift), (flow, lift), (1.6 * flow, 0.75 * lift)])
        wn.add_pump(f"PUMP_{pid}", pid, jname(p), pump_type="HEAD", pump_parameter=f"C_{pid}")

    for i, t in enumerate(tank_towns, start=1):
        name = f"TANK{i}"
        bottom = round(grade[t] - 4.0, 1)
        local = sum(design[n] for n in pipe_graph if zone_of[n] == zone_of[t] and dist[n] >= dist[t] * 0.7)
        volume = max(local * 3 * 3600.0, 500.0)  # about three peak hours of the town's share
        diameter = round(math.sqrt(volume / 5.0 * 4.0 / math.pi), 1)
        wn.add_tank(name, elevation=bottom, init_level=3.0, min_level=0.5, max_level=6.0,
                    diameter=diameter, coordinates=(xy[t][0] + 40.0, xy[t][1] + 40.0))
        wn.add_pipe(f"{name}_riser", name, jname(t), length=50.0, diameter=0.4, roughness=HAZEN_WILLIAMS_C)
        wn.get_link(f"{name}_riser").tag = "trunk"
        wn.get_node(name).tag = wn.get_node(jname(t)).tag

    _size(wn)
    for name, link in wn.links():
        if link.link_type == "Pipe" and link.diameter >= 0.3 and not name.endswith("_riser"):
            link.tag = "trunk"

    inp = write_inp(wn, out_dir / INP_NAME, units="LPS")
    valves = _valve_layer(wn)
    valves.to_csv(out_dir / VALVES_NAME, index=False)
    check_service_head(inp)
    return [inp, out_dir / VALVES_NAME]


def _size(wn) -> None:
    """Increase diameters (and pump heads) until base and peak pressures meet the targets."""
    import networkx as nx
    import numpy as np

    from twin.water.compile import compile_network
    from twin.water.service import service_network
    from twin.water.simulation import simulate

    def base_copy(multiplier_res: float, multiplier_job: float):
        # pressure-driven (full demand from the service head): a zone whose booster cannot lift
        # yet gets no water instead of making the equations singular
        net = service_network(compile_network(wn, "changle_water"), SERVICE_HEAD_M)
        base = net.demand_base_m3_per_s.copy()
        is_job = np.zeros(len(base), dtype=bool)
        # demand entries come in junction order: residents then jobs
        k = 0
        for name in wn.junction_name_list:
            for d in wn.get_node(name).demand_timeseries_list:
                is_job[k] = d.category == "jobs"
                k += 1
        net.demand_base_m3_per_s = np.where(is_job, base * multiplier_job, base * multiplier_res)
        net.demand_pattern = np.full(len(base), -1)
        return net

    graph = wn.to_graph().to_undirected()
    sources = [n for n in wn.reservoir_name_list]
    for _ in range(80):
        failing = {}
        pumps_short: dict[str, bool] = {}
        for res_mult, job_mult, target in ((1.0, 1.0, SERVICE_HEAD_M + DESIGN_MARGIN_M),
                                           (max(RESIDENTIAL_PATTERN), max(JOB_PATTERN), SERVICE_HEAD_M)):
            net = base_copy(res_mult, job_mult)
            result = simulate(net, duration_s=0, on_unbalanced="continue")
            shut = [net.link_names[k] for k in np.flatnonzero((net.kind == 2) & (result.status[0] <= 2))]
            for name in shut:  # a pump that cannot deliver the head asked of it: lift more
                pumps_short[name] = True
            pressure = result.pressure_m[0, : net.n_junctions]
            for j in np.flatnonzero(pressure < target):
                failing[net.node_names[j]] = max(failing.get(net.node_names[j], 0.0), target - pressure[j])
        if not failing and not pumps_short:
            return
        unit_loss = {}
        for k, name in enumerate(net.link_names):
            link = wn.get_link(name)
            if link.link_type == "Pipe" and link.length > 0:
                hl = abs(result.head_m[0, net.start[k]] - result.head_m[0, net.end[k]])
                unit_loss[name] = hl / link.length * 1000.0
        upsized = set()
        raise_pumps: dict[str, float] = {}
        raise_valves: dict[str, float] = {}
        for node, deficit in sorted(failing.items(), key=lambda kv: -kv[1])[:40]:
            path = nx.shortest_path(graph, node, min(sources, key=lambda s: nx.shortest_path_length(
                graph, node, s) if nx.has_path(graph, node, s) else math.inf))
            links = []
            for a, b in zip(path, path[1:], strict=False):
                for key in graph.get_edge_data(a, b):
                    links.append(key)
            pipes = [p for p in links if p in unit_loss]
            worst = max(pipes, key=lambda p: (unit_loss[p], p)) if pipes else None
            if worst is not None and unit_loss[worst] > 2.0:
                upsized.add(worst)
            else:
                # the path runs from the junction to the source: the first pump on it feeds the
                # junction's pressure zone
                stations = [p for p in links if wn.get_link(p).link_type in ("Pump", "Valve")]
                if stations and wn.get_link(stations[0]).link_type == "Valve":
                    raise_valves[stations[0]] = max(raise_valves.get(stations[0], 0.0), deficit + 1.0)
                elif stations:
                    raise_pumps[stations[0]] = max(raise_pumps.get(stations[0], 0.0), deficit + 1.0)
        for name in upsized:
            link = wn.get_link(name)
            link.diameter = _next_dn(int(round(link.diameter * 1000))) / 1000.0
        for name in pumps_short:
            curve = wn.get_curve(wn.get_link(name).pump_curve_name)
            design = curve.points[0] if len(curve.points) == 1 else curve.points[1]
            raise_pumps[name] = max(raise_pumps.get(name, 0.0), 0.2 * design[1])
        for name, extra in raise_pumps.items():
            curve = wn.get_curve(wn.get_link(name).pump_curve_name)
            design = curve.points[0] if len(curve.points) == 1 else curve.points[1]
            factor = (design[1] + extra) / design[1]
            curve.points = [(q, h * factor) for q, h in curve.points]
        for name, extra in raise_valves.items():
            valve = wn.get_link(name)
            valve.initial_setting = valve.initial_setting + extra
        log.debug("sizing: %d junctions short (worst %.1f m), %d mains upsized, %d pumps and %d "
                  "valves raised", len(failing), max(failing.values(), default=0.0), len(upsized),
                  len(raise_pumps), len(raise_valves))
        if not upsized and not raise_pumps and not raise_valves:
            break
    worst = ", ".join(f"{n} ({d:.1f} m short)" for n, d in sorted(failing.items(), key=lambda kv: -kv[1])[:5])
    raise RuntimeError(
        f"build_water: sizing did not meet the service head at {len(failing)} junctions: {worst}")


def _valve_layer(wn):
    """N-1 isolation valves: at every junction, a valve on each connected pipe but the largest."""
    import pandas as pd

    rows = []
    for name in sorted(wn.junction_name_list):
        pipes = sorted(link for link in wn.get_links_for_node(name)
                        if wn.get_link(link).link_type == "Pipe" and not link.endswith("_riser"))
        if len(pipes) < 2:
            continue
        largest = max(pipes, key=lambda p: (wn.get_link(p).diameter, p))
        for pipe in pipes:
            if pipe != largest:
                rows.append((pipe, name))
    rows.sort()
    return pd.DataFrame({"valve_id": [f"V{i:05d}" for i in range(1, len(rows) + 1)],
                         "link": [r[0] for r in rows], "node": [r[1] for r in rows]})


def check_service_head(inp: Path) -> float:
    """Solve ``inp`` at base demand with EPANET 2.2 (through WNTR); return the least junction pressure.

    Raises ``RuntimeError`` if it is below :data:`SERVICE_HEAD_M`.
    """
    import tempfile

    import wntr

    from twin.water.epanet_io import read_inp

    wn = read_inp(inp)
    wn.options.time.duration = 0
    for name in wn.junction_name_list:
        for demand in wn.get_node(name).demand_timeseries_list:
            demand.pattern_name = None
    wn.options.hydraulic.pattern = None
    with tempfile.TemporaryDirectory() as tmp:
        result = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(tmp) / "check"))
    least = float(result.node["pressure"][wn.junction_name_list].min(axis=1).iloc[0])
    if least < SERVICE_HEAD_M:
        raise RuntimeError(f"build_water: least pressure at base demand {least:.2f} m < {SERVICE_HEAD_M} m")
    return least


def main(argv: list[str] | None = None) -> None:
    """Rebuild the water network from the base dataset in ``--data``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent,
                        help="dataset folder with base.gpkg (default: gis_data/)")
    args = parser.parse_args(argv)
    from twin.city.folder import load_city

    for path in build(args.data, load_city(args.data)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
