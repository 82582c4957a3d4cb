"""The area more than half of a group of polygons cover, computed exactly for many groups at once.

A point lies in the majority area of ``n`` polygons when more than ``n / 2`` of them cover it. The
boundary of that area is made of pieces of the members' own boundaries: a piece of one member's
boundary bounds the majority area exactly when one fewer than a majority of the *other* members
cover it (crossing it then takes the count from just below the majority to just at it). So, for
every group at once, in numpy:

1. every member's ring is turned counter-clockwise (its inside on the left) and cut into edges;
2. every pair of edges of two members of a group is tested for a proper crossing (orientation
   signs); the crossing points split the edges into pieces;
3. walking along each member's ring, the number of other members covering it starts from a
   point-in-polygon test of its first vertex and changes by one at each crossing: +1 entering the
   other member, -1 leaving it, read from the crossing's orientation;
4. the pieces where that number is one below the majority are kept (the majority area lies on
   their left); at a crossing, a kept piece goes on along the other member's kept piece; the
   rings are the cycles of that successor map, found and put in order by pointer jumping.

The vertices of the result are the members' own vertices and the crossing points of their edges:
the same area a polygon overlay gives (shapely's union of pairwise intersections), without any
rasterisation. What this does not settle is handed back (``ok`` False) for the caller to do with
a general overlay: a member that is not a simple ring (fewer than 3 vertices, zero area, a
repeated vertex), boundaries that touch or run along each other instead of crossing (within a
tolerance far above rounding), and a majority area of more than one ring (several parts, holes).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = ["majority_shells"]

_EDGE_PAIRS_PER_CHUNK = 1 << 16  # edge pairs per pass: small arrays stay in cache
_REL_TOL = 1e-12  # orientations below this share of (largest coordinate)^2 count as zero
_SHALLOW = 1e-4  # crossings whose sine of angle is below this are computed exactly
_T_GAP = 1e-9  # two crossings closer than this (as a share of the edge) are not told apart


def majority_shells(points: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> tuple[list, np.ndarray]:
    """Majority areas of groups of simple polygons without holes.

    ``points`` (N x 2) are the ring vertices of every polygon, not closed; ``counts`` the number of
    vertices of each polygon; ``sizes`` the number of polygons of each group (at least 2), the
    polygons of a group consecutive. Returns ``(shells, ok)``: where ``ok[g]``, ``shells[g]`` is
    the exterior ring of group ``g``'s majority area (k x 2, clockwise, not closed, without
    vertices on a straight edge), or None when no point has a majority; where not ``ok[g]``, the
    group is left to the caller (see the module docstring).
    """
    points = np.asarray(points, np.float64).reshape(-1, 2)
    counts = np.asarray(counts, np.int64)
    sizes = np.asarray(sizes, np.int64)
    G = len(sizes)
    shells: list = [None] * G
    ok = np.zeros(G, bool)
    if not G:
        return shells, ok
    if (sizes < 2).any():
        raise ValueError("majority_shells: every group needs at least 2 polygons")
    pstart = np.concatenate([[0], np.cumsum(sizes)])  # polygons of group g: pstart[g]:pstart[g + 1]
    vstart = np.concatenate([[0], np.cumsum(counts)])  # vertices of polygon p: vstart[p]:vstart[p + 1]
    # edge pairs of a group: sum over member pairs of Lp * Lq = ((sum L)^2 - sum L^2) / 2
    per_group_v = np.add.reduceat(counts, pstart[:-1])
    per_group_v2 = np.add.reduceat(counts * counts, pstart[:-1])
    work = np.cumsum((per_group_v * per_group_v - per_group_v2) // 2)
    g0 = 0
    while g0 < G:
        base = work[g0 - 1] if g0 else 0
        g1 = max(int(np.searchsorted(work, base + _EDGE_PAIRS_PER_CHUNK, side="right")), g0 + 1)
        p0, p1 = pstart[g0], pstart[g1]
        got, good = _groups(points[vstart[p0] : vstart[p1]], counts[p0:p1], sizes[g0:g1])
        shells[g0:g1] = got
        ok[g0:g1] = good
        g0 = g1
    return shells, ok


def _groups(pts: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> tuple[list, np.ndarray]:
    G, P, N = len(sizes), len(counts), len(pts)
    bad = np.zeros(G, bool)
    group_of = np.repeat(np.arange(G), sizes)  # per polygon
    vstart = np.cumsum(counts) - counts
    poly_of = np.repeat(np.arange(P), counts)  # per vertex (and per edge: edge k starts at vertex k)
    local = np.arange(N) - vstart[poly_of]
    nxt = np.where(local == counts[poly_of] - 1, vstart[poly_of], np.arange(N) + 1)

    # counter-clockwise rings (shoelace), simple rings only
    x, y = pts[:, 0], pts[:, 1]
    area2 = np.bincount(poly_of, x * y[nxt] - x[nxt] * y, minlength=P)
    flip = area2 < 0
    if flip.any():
        order = np.where(flip[poly_of], vstart[poly_of] + counts[poly_of] - 1 - local, np.arange(N))
        pts = pts[order]
        x, y = pts[:, 0], pts[:, 1]
    x1, y1 = x[nxt], y[nxt]
    bad[group_of[(counts < 3) | (area2 == 0)]] = True
    bad[group_of[poly_of[(x == x1) & (y == y1)]]] = True
    scale = np.maximum.reduceat(np.maximum(np.abs(x), np.abs(y)), vstart)  # per polygon
    tol_g = _REL_TOL * np.maximum(np.maximum.reduceat(scale, np.cumsum(sizes) - sizes), 1.0) ** 2
    tol_e = tol_g[group_of[poly_of]]  # per edge
    xmin, xmax = np.minimum(x, x1), np.maximum(x, x1)
    ymin, ymax = np.minimum(y, y1), np.maximum(y, y1)

    # member pairs (p < q) of each group, then the pairs of their edges whose boxes meet
    gp = _pairs(np.cumsum(sizes) - sizes, sizes)
    pp, qq = gp[0][gp[0] < gp[1]], gp[1][gp[0] < gp[1]]
    e, f = _edge_pairs(pp, qq, counts, vstart, np.stack([xmin, xmax, ymin, ymax], axis=1))
    rx, ry = x1[e] - x[e], y1[e] - y[e]
    sx, sy = x1[f] - x[f], y1[f] - y[f]
    dx0, dy0 = x[f] - x[e], y[f] - y[e]  # Q - P
    o1 = rx * dy0 - ry * dx0  # f's start against e
    o2 = rx * (y1[f] - y[e]) - ry * (x1[f] - x[e])  # f's end against e
    o3 = sy * dx0 - sx * dy0  # e's start against f: cross(s, P - Q)
    o4 = sx * (y1[e] - y[f]) - sy * (x1[e] - x[f])  # e's end against f
    # orientations within rounding of zero are computed again exactly; an end exactly on the other
    # edge means the edges touch or overlap rather than cross: the group is left to the caller
    # (only where the sign matters: the point near the other edge, or the other edge's own ends
    # not both clearly on one side of this one's line)
    tol = tol_e[e]
    zero = np.zeros(len(e), bool)
    small = [np.abs(o) <= tol for o in (o1, o2, o3, o4)]
    apart = [~small[2] & ~small[3] & ((o3 > 0) == (o4 > 0)), ~small[0] & ~small[1] & ((o1 > 0) == (o2 > 0))]
    for k, (o, seg, pt_x, pt_y, other) in enumerate(
        ((o1, e, x, y, f), (o2, e, x1, y1, f), (o3, f, x, y, e), (o4, f, x1, y1, e))
    ):
        at = np.flatnonzero(small[k])
        if not len(at):
            continue
        sg, ot = seg[at], other[at]
        px, py = pt_x[ot], pt_y[ot]
        m = np.sqrt(tol[at])  # a margin far above rounding
        near = (xmin[sg] - m <= px) & (px <= xmax[sg] + m) & (ymin[sg] - m <= py) & (py <= ymax[sg] + m)
        need = near | ~apart[k // 2][at]
        at, sg, px, py, near = at[need], sg[need], px[need], py[need], near[need]
        o[at] = _exact_cross(x[sg], y[sg], x1[sg], y1[sg], px, py)
        zero[at[(o[at] == 0) & near]] = True
    bad[group_of[poly_of[e[zero]]]] = True
    cross = ~zero & ((o1 > 0) != (o2 > 0)) & ((o3 > 0) != (o4 > 0))
    e, f, o1, o2, o3, o4 = e[cross], f[cross], o1[cross], o2[cross], o3[cross], o4[cross]
    te = o3 / (o3 - o4)  # along e
    tf = o1 / (o1 - o2)  # along f
    bad[group_of[poly_of[e[(te <= 0) | (te >= 1) | (tf <= 0) | (tf >= 1)]]]] = True
    cx = x[e] + te * (x1[e] - x[e])
    cy = y[e] + te * (y1[e] - y[e])
    # edges crossing at a shallow angle put their crossing point far from its rounded value:
    # those points (few) are computed exactly
    length = np.hypot(x1[e] - x[e], y1[e] - y[e]) * np.hypot(x1[f] - x[f], y1[f] - y[f])
    for k in np.flatnonzero(np.abs(o3 - o4) < _SHALLOW * length).tolist():
        t = _exact_param(k, 0, e, f, x, y, x1, y1)
        te[k], tf[k] = float(t), float(_exact_param(k, 1, e, f, x, y, x1, y1))
        px, py = Fraction(x[e[k]]), Fraction(y[e[k]])
        cx[k] = float(px + t * (Fraction(x1[e[k]]) - px))
        cy[k] = float(py + t * (Fraction(y1[e[k]]) - py))
    de = np.where(o4 > 0, 1, -1)  # e's member enters f's member
    df = np.where(o2 > 0, 1, -1)  # f's member enters e's member

    # how many other members cover each member's first vertex (winding numbers)
    op = _pairs(np.cumsum(sizes) - sizes, sizes)
    vp, vq = op[0][op[0] != op[1]], op[1][op[0] != op[1]]
    nq = counts[vq]
    which = np.repeat(np.arange(len(vp)), nq)
    k = vstart[vq][which] + np.arange(int(nq.sum())) - np.repeat(np.cumsum(nq) - nq, nq)
    vx, vy = x[vstart[vp]][which], y[vstart[vp]][which]
    o = (x1[k] - x[k]) * (vy - y[k]) - (y1[k] - y[k]) * (vx - x[k])
    at = np.flatnonzero(np.abs(o) <= tol_e[k])
    if len(at):
        ka = k[at]
        o[at] = _exact_cross(x[ka], y[ka], x1[ka], y1[ka], vx[at], vy[at])
        on = (o[at] == 0) & (xmin[ka] <= vx[at]) & (vx[at] <= xmax[ka]) & (ymin[ka] <= vy[at]) & (vy[at] <= ymax[ka])
        bad[group_of[vp[which[at[on]]]]] = True
    up = (y[k] <= vy) & (vy < y1[k]) & (o > 0)
    down = (y1[k] <= vy) & (vy < y[k]) & (o < 0)
    winding = np.bincount(which, up.astype(np.int64) - down, minlength=len(vp))
    count0 = np.bincount(vp, winding != 0, minlength=P).astype(np.int64)

    # breakpoints along each ring: its vertices, then the crossings on each edge by position
    X = len(e)
    bp_edge = np.concatenate([np.arange(N), e, f])
    bp_t = np.concatenate([np.zeros(N), te, tf])
    bp_x = np.concatenate([x, cx, cx])
    bp_y = np.concatenate([y, cy, cy])
    bp_d = np.concatenate([np.zeros(N, np.int64), de, df])
    bp_cross = np.concatenate([np.full(N, -1), np.arange(X), np.arange(X)])
    bp_side = np.concatenate([np.full(N, -1), np.zeros(X, np.int64), np.ones(X, np.int64)])  # on e, on f
    # each vertex, then the crossings on the edge it starts by position along it: the crossings
    # are sorted by (edge, t) and slotted in after their edge's first vertex
    ev = N + np.lexsort((bp_t[N:], bp_edge[N:]))
    ev_edge = bp_edge[ev]
    B = len(bp_edge)
    order = np.empty(B, np.int64)
    order[np.arange(N) + np.searchsorted(ev_edge, np.arange(N))] = np.arange(N)
    order[np.arange(len(ev)) + ev_edge + 1] = ev
    bp_edge, bp_t, bp_x, bp_y, bp_d, bp_cross, bp_side = (
        a[order] for a in (bp_edge, bp_t, bp_x, bp_y, bp_d, bp_cross, bp_side)
    )
    close = np.flatnonzero((bp_edge[1:] == bp_edge[:-1]) & (bp_t[1:] - bp_t[:-1] <= _T_GAP))
    if len(close):
        # crossings too close to be ordered by their rounded positions (a boundary passing within
        # rounding of another's vertex): ordered exactly, two at a time; more, or one point, is
        # left to the caller
        chained = np.isin(close + 1, close) | np.isin(close - 1, close)
        bad[group_of[poly_of[bp_edge[close[chained]]]]] = True
        for i in close[~chained].tolist():
            if bp_cross[i] < 0:  # a vertex (t = 0) before a crossing (t > 0): in order
                continue
            ta, tb = (_exact_param(bp_cross[b], bp_side[b], e, f, x, y, x1, y1) for b in (i, i + 1))
            if ta == tb:
                bad[group_of[poly_of[bp_edge[i]]]] = True
            elif ta > tb:
                for a in (bp_t, bp_x, bp_y, bp_d, bp_cross, bp_side):
                    a[i], a[i + 1] = a[i + 1], a[i]
    bp_poly = poly_of[bp_edge]
    first = np.flatnonzero(np.concatenate([[True], bp_poly[1:] != bp_poly[:-1]]))  # one per polygon
    last = np.concatenate([first[1:], [B]]) - 1
    nextb = np.arange(B) + 1
    nextb[last] = first
    cs = np.cumsum(bp_d)
    before = np.concatenate([[0], cs])[first]  # the cumulative sum before each polygon's first
    run = np.repeat(np.arange(len(first)), np.diff(np.concatenate([first, [B]])))
    covered = count0[bp_poly] + cs - before[run]  # other members covering the piece from b to nextb[b]
    need = sizes[group_of[bp_poly]] // 2  # one below the majority of the group
    kept = covered == need
    # at a crossing the ring goes on along the other member: the other breakpoint of that crossing
    ev = np.flatnonzero(bp_cross >= 0)
    ev = ev[np.argsort(bp_cross[ev], kind="stable")]  # each crossing's two breakpoints, side by side
    other = np.arange(B)
    other[ev[0::2]] = ev[1::2]
    other[ev[1::2]] = ev[0::2]
    succ = other[nextb]
    K = np.flatnonzero(kept)
    bad_k = ~kept[succ[K]]
    bad[group_of[bp_poly[K[bad_k]]]] = True
    indeg = np.bincount(succ[K], minlength=B)
    bad[group_of[bp_poly[K[indeg[K] != 1]]]] = True

    # drop the bad groups, then the cycles of the successor map among the kept pieces
    keep_k = ~bad[group_of[bp_poly[K]]]
    K = K[keep_k]
    out: list = [None] * G
    good = ~bad
    if not len(K):
        return out, good
    comp = np.full(B, -1)
    comp[K] = np.arange(len(K))
    s = comp[succ[K]]
    n = len(K)
    longest = int(np.bincount(group_of[bp_poly[K]]).max())  # no ring is longer than its group's pieces
    root = np.arange(n)
    jump = s.copy()
    steps = 1
    while steps < longest:
        root = np.minimum(root, root[jump])
        jump = jump[jump]
        steps *= 2
    pred = np.empty(n, np.int64)
    pred[s] = np.arange(n)
    is_root = root == np.arange(n)
    pred[is_root] = np.flatnonzero(is_root)
    dist = (~is_root).astype(np.int64)
    steps = 1
    while steps < longest:
        dist = dist + dist[pred]
        pred = pred[pred]
        steps *= 2
    ring_order = np.lexsort((dist, root))
    kx, ky = bp_x[K][ring_order], bp_y[K][ring_order]
    kring = root[ring_order]
    kgroup = group_of[bp_poly[K]][ring_order]
    starts = np.flatnonzero(np.concatenate([[True], kring[1:] != kring[:-1]]))
    rgroup = kgroup[starts]
    rings_per_group = np.bincount(rgroup, minlength=G)
    good &= rings_per_group <= 1
    # one ring per group: check it is counter-clockwise, drop repeated points (a crossing that
    # falls on a vertex) and then vertices on a straight edge
    rid, nx, pv = _ring_links(starts, len(kring))
    a2 = np.bincount(rid, kx * ky[nx] - kx[nx] * ky, minlength=len(starts))
    good[rgroup[a2 <= 0]] = False
    fresh = (kx != kx[nx]) | (ky != ky[nx])
    kx, ky, rid = kx[fresh], ky[fresh], rid[fresh]
    starts = np.searchsorted(rid, np.arange(len(starts)))
    rid, nx, pv = _ring_links(starts, len(kx))
    turn = (kx[pv] - kx) * (ky[nx] - ky) - (ky[pv] - ky) * (kx[nx] - kx)
    vert = turn != 0
    nvert = np.bincount(rid, vert, minlength=len(starts))
    good[rgroup[nvert < 3]] = False
    cut = np.cumsum(np.bincount(rid[vert], minlength=len(starts)))[:-1]
    xy = np.stack([kx[vert], ky[vert]], axis=1)
    for g, ring in zip(rgroup.tolist(), np.split(xy, cut)):
        if good[g]:
            out[g] = ring[::-1]  # clockwise, as overlays return exteriors
    return out, good


def _ring_links(starts: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For points in rings (ring r from ``starts[r]``, each ring at least one point): each point's
    ring, next point and previous point, around its ring."""
    lengths = np.diff(np.append(starts, total))
    rid = np.repeat(np.arange(len(starts)), lengths)
    at = np.arange(total)
    pos = at - starts[rid]
    nx = np.where(pos == lengths[rid] - 1, starts[rid], at + 1)
    pv = np.where(pos == 0, starts[rid] + lengths[rid] - 1, at - 1)
    return rid, nx, pv


def _edge_pairs(pp, qq, counts, vstart, bbox) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (e of polygon pp[k], f of polygon qq[k]) of edges whose bounding boxes meet.

    Polygons are padded to a power-of-two number of edges (padding boxes are NaN and meet
    nothing), so that the polygon pairs of one padded size are compared by broadcasting, edge
    against edge, without building an index per edge pair."""
    pad = np.maximum(1 << np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64), 4)
    table = np.concatenate([bbox, np.full((1, 4), np.nan)]).T.copy()  # 4 rows: x0, x1, y0, y1
    es, fs = [], []
    key = pad[pp] * (int(pad.max()) + 1) + pad[qq]
    for k in np.unique(key):
        sel = np.flatnonzero(key == k)
        p, q = pp[sel], qq[sel]
        lp, lq = int(pad[p[0]]), int(pad[q[0]])
        ip = _padded(p, lp, counts, vstart, len(bbox))
        iq = _padded(q, lq, counts, vstart, len(bbox))
        ax0, ax1, ay0, ay1 = (c[ip][:, :, None] for c in table)  # pairs x lp x 1
        bx0, bx1, by0, by1 = (c[iq][:, None, :] for c in table)  # pairs x 1 x lq
        near = ax0 <= bx1
        near &= bx0 <= ax1
        near &= ay0 <= by1
        near &= by0 <= ay1
        k_, i_, j_ = np.nonzero(near)
        es.append(ip[k_, i_])
        fs.append(iq[k_, j_])
    if not es:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(es), np.concatenate(fs)


def _padded(polys: np.ndarray, length: int, counts, vstart, dummy: int) -> np.ndarray:
    """Edge indices of ``polys``, one row each, padded with ``dummy`` to ``length``."""
    j = np.arange(length)
    return np.where(j[None, :] < counts[polys][:, None], vstart[polys][:, None] + j[None, :], dummy)


def _exact_cross(ax, ay, bx, by, px, py) -> np.ndarray:
    """``cross(b - a, p - a)`` computed exactly on the floats, rounded once: each float is an
    integer over a power of two, so with one common denominator the arithmetic is on integers."""
    out = np.empty(len(ax))
    cols = (ax.tolist(), ay.tolist(), bx.tolist(), by.tolist(), px.tolist(), py.tolist())
    for k, vals in enumerate(zip(*cols)):
        ratios = [v.as_integer_ratio() for v in vals]
        den = max(d for _, d in ratios)
        a, b, c, d, e, f = (n * (den // dd) for n, dd in ratios)
        out[k] = ((c - a) * (f - b) - (d - b) * (e - a)) / (den * den)
    return out


def _exact_param(c: int, side: int, e, f, x, y, x1, y1) -> Fraction:
    """Exactly where crossing ``c`` (of edges ``e[c]`` and ``f[c]``) lies along ``e[c]`` (side 0)
    or ``f[c]`` (side 1), as a share of that edge."""
    own, other = (e[c], f[c]) if side == 0 else (f[c], e[c])
    F = Fraction
    px, py, rx, ry = F(x[own]), F(y[own]), F(x1[own]) - F(x[own]), F(y1[own]) - F(y[own])
    qx, qy, sx, sy = F(x[other]), F(y[other]), F(x1[other]) - F(x[other]), F(y1[other]) - F(y[other])
    o_start = sx * (py - qy) - sy * (px - qx)
    o_end = sx * (py + ry - qy) - sy * (px + rx - qx)
    return o_start / (o_start - o_end)


def _pairs(starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs ``(i, j)`` of positions within each group ``[start, start + size)``."""
    sq = sizes * sizes
    grp = np.repeat(np.arange(len(sizes)), sq)
    t = np.arange(int(sq.sum())) - np.repeat(np.cumsum(sq) - sq, sq)
    g = sizes[grp]
    base = starts[grp]
    return base + t // g, base + t % g
