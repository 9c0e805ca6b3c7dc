"""placement.py's shortcuts give exactly what llama.cpp's item-by-item layer placement gives (the loops below are the
rules as its docstrings state them; placement.py finds the same answers by bisection over running totals)."""
from hypothesis import given, settings, strategies as st

from selfhost_advisor.estimate.placement import _fill_in_order

SIZES = st.lists(st.one_of(st.just(0), st.integers(0, 12), st.integers(0, 10**9)), min_size=1, max_size=40)
ROOMS = st.lists(st.one_of(st.just(0), st.integers(0, 40), st.integers(0, 4 * 10**9)), min_size=1, max_size=5)


def _item_by_item(items, free, n_layers):
    """Each item whole, in order, on the current device if it fits in what is left there, else on the next device
    it fits on; stop at the first item no later device holds."""
    used, layers, dev, placed = [0] * len(free), [0] * len(free), 0, 0
    for size in items:
        while dev < len(free) and used[dev] + size > free[dev]:
            dev += 1
        if dev == len(free):
            break
        used[dev] += size
        if placed < n_layers:
            layers[dev] += 1
        placed += 1
    return used, layers, placed


@settings(max_examples=300, deadline=None)
@given(SIZES, ROOMS)
def test_in_order_fill_is_the_item_by_item_rule(items, free):
    # the output head is the last item and is not a repeating layer
    assert _fill_in_order(items, free, len(items) - 1) == _item_by_item(items, free, len(items) - 1)


def test_in_order_fill_skips_a_device_too_small_for_the_next_layer():
    # 10 + 10 fit the first card, the third layer (30) fits neither the rest of it nor the second (20) but the third
    assert _fill_in_order([10, 10, 30, 5, 1], [25, 20, 40], 4) == ([20, 0, 36], [2, 0, 2], 5)
    assert _fill_in_order([10, 10, 30, 5, 1], [25, 20, 30], 4) == ([20, 0, 30], [2, 0, 1], 3)
