"""The page memo's LRU: bounded, least recently used out first, safe under threads; its setting; and the
plain JSON wrappers pages hand to Dash."""

from __future__ import annotations

import threading

import pytest
from dash import dcc, html

from mmm_dash.config import DEFAULT_PAGE_MEMO_SIZE, ConfigError, load_settings
from mmm_dash.web.memo import LRU, as_sent, plain_div


def test_lru_evicts_the_least_recently_used_beyond_its_size():
    lru = LRU(2)
    built = []

    def build(key):
        return lambda: built.append(key) or key.upper()

    assert lru.get_or_build("a", build("a")) == "A"
    assert lru.get_or_build("b", build("b")) == "B"
    assert lru.get_or_build("a", build("a")) == "A"  # hit: "a" is now the most recent
    lru.get_or_build("c", build("c"))  # evicts "b"
    assert len(lru) == 2 and "a" in lru and "c" in lru and "b" not in lru
    lru.get_or_build("b", build("b"))  # built again
    assert built == ["a", "b", "c", "b"]
    assert (lru.hits, lru.misses) == (1, 4)


def test_lru_of_size_zero_keeps_nothing():
    lru = LRU(0)
    calls = []
    for _ in range(3):
        lru.get_or_build("k", lambda: calls.append(1))
    assert len(lru) == 0 and len(calls) == 3


def test_lru_refuses_a_negative_size():
    with pytest.raises(ValueError):
        LRU(-1)


def test_lru_stays_bounded_under_threads():
    lru = LRU(16)

    def work(offset):
        for i in range(500):
            assert lru.get_or_build((offset + i) % 40, lambda i=i: (offset + i) % 40) == (offset + i) % 40

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(lru) == 16
    assert lru.hits + lru.misses == 8 * 500


def test_page_memo_size_setting(tmp_path):
    base = {"CACHE_DIR": str(tmp_path), "MODEL_DIR": str(tmp_path)}
    assert load_settings(base).PAGE_MEMO_SIZE == DEFAULT_PAGE_MEMO_SIZE
    assert load_settings({**base, "PAGE_MEMO_SIZE": "0"}).PAGE_MEMO_SIZE == 0
    assert load_settings({**base, "PAGE_MEMO_SIZE": 0}).PAGE_MEMO_SIZE == 0
    for bad in ("-1", "many"):
        with pytest.raises(ConfigError, match="PAGE_MEMO_SIZE"):
            load_settings({**base, "PAGE_MEMO_SIZE": bad})


def test_plain_div_sends_what_dash_would_send_for_the_same_div():
    parts = [html.H2("Title", id="t"), dcc.Store(id="s", data={"a": 1})]
    memoized = as_sent([html.P("one"), html.P("two")])  # a cached list of parts, as pages keep them
    sent = plain_div([*parts, memoized, None, "text"], id="box")
    assert sent == as_sent(html.Div([*parts, html.P("one"), html.P("two"), None, "text"], id="box"))


def test_plain_div_flattens_a_memoized_list_instead_of_nesting_it():
    sent = plain_div([as_sent([html.P("a"), html.P("b")])])
    assert [c["props"]["children"] for c in sent["props"]["children"]] == ["a", "b"]
