"""The dashboard's SVG chart: geometry only, drawn by templates/payments/panel/dashboard.html.

Inline SVG rather than a chart library, so the panel works without JavaScript and makes no
third-party requests.
"""

import math
from datetime import date, timedelta

from payments.reports import money
from payments.selectors import Totals

CHART_WIDTH = 720
CHART_HEIGHT = 180
CHART_MAX_BARS = 92
# Date labels under the chart: at most this many, so they never run into each other; on a
# phone only the first, middle and last stay (the others are `minor`, hidden by panel.css).
CHART_MAX_LABELS = 7


def svg_number(value: float) -> str:
    """A coordinate for an SVG attribute, as a string so the template never localizes it.

    Dutch formatting would write 12,5, which SVG cannot read: the bars then disappear.
    """
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def chart_label_indexes(count: int, most: int = CHART_MAX_LABELS) -> list[int]:
    """Evenly spread bucket indexes to label, always the first and the last."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def chart_for(days: list[tuple[date, Totals]], *, first: date | None, last: date | None, currency: str):
    """Geometry for an inline SVG of count and net per day (per week or more for long periods).

    Days without payments are drawn as empty; the sums below run over the few daily rows
    the database returned, never over appreciations. Bars are net in minor units scaled
    to the plot's height; the line is the count, scaled from the same zero line up.
    """
    if not days:
        return None
    first = first or days[0][0]
    last = max(last or days[-1][0], first)
    span = (last - first).days + 1
    size = max(1, math.ceil(span / CHART_MAX_BARS))
    buckets: list[dict] = []
    for index in range(math.ceil(span / size)):
        start = first + timedelta(days=index * size)
        end = min(start + timedelta(days=size - 1), last)
        buckets.append({"start": start, "end": end, "count": 0, "net": 0})
    for day, total in days:
        index = (day - first).days // size
        if 0 <= index < len(buckets):
            buckets[index]["count"] += total.payments
            buckets[index]["net"] += total.net
    top = max(max(b["net"] for b in buckets), 1)
    bottom = min(min(b["net"] for b in buckets), 0)
    max_count = max(max(b["count"] for b in buckets), 1)
    plot_top, plot_height = 8, CHART_HEIGHT - 16
    scale = plot_height / (top - bottom)
    baseline = plot_top + top * scale
    step = CHART_WIDTH / len(buckets)
    bar_width = max(step * 0.7, 1)
    points = []
    for index, bucket in enumerate(buckets):
        height = abs(bucket["net"]) * scale
        # A day that earned anything gets at least a sliver, so small amounts stay visible.
        if bucket["net"] and height < 1:
            height = 1
        cx = index * step + step / 2
        bucket["x"] = svg_number(index * step + (step - bar_width) / 2)
        bucket["width"] = svg_number(bar_width)
        bucket["y"] = svg_number(baseline - height if bucket["net"] >= 0 else baseline)
        bucket["height"] = svg_number(height)
        bucket["cx"] = svg_number(cx)
        # The count shares the bars' zero line, so a day without payments sits on the axis.
        bucket["cy"] = svg_number(baseline - bucket["count"] / max_count * (baseline - plot_top))
        bucket["net_display"] = money(bucket["net"], currency)
        points.append(f"{bucket['cx']},{bucket['cy']}")
    indexes = chart_label_indexes(len(buckets))
    keep_on_phone = {indexes[0], indexes[len(indexes) // 2], indexes[-1]}
    labels = [
        {
            "day": buckets[index]["start"],
            "left": svg_number((index * step + step / 2) / CHART_WIDTH * 100),
            "edge": "first" if index == indexes[0] else "last" if index == indexes[-1] else "",
            "minor": index not in keep_on_phone,
        }
        for index in indexes
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": svg_number(baseline),
        "buckets": buckets,
        "points": " ".join(points),
        "labels": labels,
        "days_per_bar": size,
        "first": first,
        "last": last,
        "top_display": money(top, currency),
        "max_count": max_count,
    }
