"""Pages served from the per-process memo are exactly what a fresh build sends, for every page,
period and selection: a memo key that forgot the period or the channel would show here."""

from __future__ import annotations

import pytest

from mmm_dash.cli.page_bench import callback_body, router_body
from mmm_dash.web.dashboard.shell import app_pages
from mmm_dash.web.memo import EXTENSION_KEY, LRU

MODEL = "demo_mmm"


def _post(client, body: dict) -> dict:
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def _requests(bundle) -> dict[str, dict]:
    """Every page for two periods, a second response-curve channel, and the figure callbacks."""
    other_period = [k for k in bundle.periods if k != "all"][0]
    other_channel = bundle.info.paid_channels[1]
    requests = {}
    for _name, path in app_pages():
        for search in (f"?model={MODEL}", f"?model={MODEL}&period={other_period}"):
            requests[path + search] = router_body(path, search)
    requests["curves with channel"] = router_body("/response-curves", f"?model={MODEL}&channel={other_channel}")
    for period in ("all", other_period):
        view = {"model": MODEL, "period": period}
        for channel in bundle.info.paid_channels[:2]:
            requests[f"picker {channel} {period}"] = callback_body(
                ("curve-panels", "children"), [("curve-channel", "value", channel)], [("curves-view", "data", view)]
            )
        for kind in ("pie", "bar"):
            requests[f"switch {kind} {period}"] = callback_body(
                ("contribution-chart", "figure"),
                [("contribution-chart-type", "value", kind)],
                [("contribution-view", "data", view)],
            )
    return requests


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_memoized_pages_equal_fresh_ones(app, signed_in):
    bundle = app.server.extensions["mmm_dash"].models.bundle(MODEL)
    requests = _requests(bundle)

    app.server.extensions[EXTENSION_KEY] = LRU(0)  # memo off: every answer is built afresh
    fresh = {name: _post(signed_in, body) for name, body in requests.items()}

    memo = app.server.extensions[EXTENSION_KEY] = LRU(256)
    first = {name: _post(signed_in, body) for name, body in requests.items()}
    stored, misses = len(memo), memo.misses
    second = {name: _post(signed_in, body) for name, body in requests.items()}

    for name in requests:
        assert first[name] == fresh[name], name
        assert second[name] == fresh[name], name
    assert stored >= 20 and memo.misses == misses, "the second round must be served from the memo"
    assert memo.hits >= stored


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_memo_is_sized_by_the_setting(app, signed_in):
    _post(signed_in, router_body("/roi", f"?model={MODEL}"))
    memo = app.server.extensions[EXTENSION_KEY]
    assert memo.size == app.server.extensions["mmm_dash"].settings.PAGE_MEMO_SIZE > 0
    assert len(memo) == 3  # the page body, and the controls and trust banner above it
