"""Shared scenarios: private by default, shared ones readable and comparable by everyone signed in but
changed only by their owner (copy to edit), the model file's version recorded, and the compare view
and its downloads computed on paired posterior draws. Callbacks are posted as a browser would."""

from __future__ import annotations

import csv
import io
import json

import dash
import numpy as np
import plotly
import pytest

from mmm_dash.core.scenario import ScenarioError
from tests.helpers import create_user, login

OWNER = ("owner@example.com", "owner-pass-123")
OTHER = ("other@example.com", "other-pass-123")
VIEWER = ("viewer@example.com", "viewer-pass-123")


@pytest.fixture()
def people(app):
    create_user(app, *OWNER, role="analyst")
    create_user(app, *OTHER, role="analyst")
    create_user(app, *VIEWER, role="viewer")
    return app


def _user_id(app, email):
    from mmm_dash.web.auth.accounts import find_user

    with app.server.app_context():
        return find_user(email).id


def _save(app, email, name, factor=1.0, period="all"):
    from mmm_dash.web.scenarios import service

    with app.server.app_context():
        bundle = app.server.extensions["mmm_dash"].models.bundle("demo_mmm")
        spend = (bundle.period(period).curves.historical_spend * factor).tolist()
        return service.save_scenario(_user_id(app, email), name, "demo_mmm", period, {"spend": spend}).id


def _client(app, who):
    client = app.server.test_client()
    assert login(client, *who).status_code == 302
    return client


def _plain(value):
    """Scenarios read inside the app context, as plain values usable after it."""
    from mmm_dash.web.scenarios.models import SavedScenario

    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, SavedScenario):
        return {"id": value.id, "name": value.name, "owner": value.owner.email, "shared": value.shared}
    return value


def _service(app, fn, *args, **kwargs):
    from mmm_dash.web.scenarios import service

    with app.server.app_context():
        return _plain(getattr(service, fn)(*args, **kwargs))


def _row(app, scenario_id):
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    with app.server.app_context():
        row = db.session.get(SavedScenario, scenario_id)
        return (
            None
            if row is None
            else {
                "shared": row.shared,
                "sha": row.model_sha256,
                "name": row.name,
                "user_id": row.user_id,
                "payload": row.payload,
            }
        )


# -- the table and its migration --------------------------------------------------------------------
def test_the_migration_creates_what_the_model_declares(app):
    """Autogenerate finds nothing to add or drop for the scenarios table: migration and model agree
    (run on SQLite, and on PostgreSQL when MMM_TEST_POSTGRES_URL is set)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mmm_dash.web.extensions import db

    with app.server.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diffs = compare_metadata(context, db.metadata)
    mine = [d for d in diffs if "scenarios" in repr(d)]
    assert mine == []


def test_a_saved_scenario_records_the_model_file_it_was_made_on(people):
    scenario_id = _save(people, OWNER[0], "Plan")
    catalog = people.server.extensions["mmm_dash"].models
    with people.server.app_context():
        expected = catalog.sha256(catalog.entry("demo_mmm"))
    row = _row(people, scenario_id)
    assert row["sha"] == expected and len(expected) == 64
    assert row["shared"] is False  # private by default


# -- sharing rules ----------------------------------------------------------------------------------
def test_share_read_copy_and_unshare(people):
    owner, other = _user_id(people, OWNER[0]), _user_id(people, OTHER[0])
    scenario_id = _save(people, OWNER[0], "Q3 plan", 1.1)
    _save(people, OTHER[0], "Mine", 0.9)

    assert [s["name"] for s in _service(people, "visible_scenarios", other, "demo_mmm")] == ["Mine"]
    assert _client(people, OTHER).get(f"/scenarios/{scenario_id}.json").status_code == 404  # private

    _service(people, "set_shared", owner, scenario_id, True)
    seen = _service(people, "visible_scenarios", other, "demo_mmm")
    assert [(s["name"], s["owner"], s["shared"]) for s in seen] == [
        ("Mine", OTHER[0], False),
        ("Q3 plan", OWNER[0], True),
    ]
    doc = _client(people, OTHER).get(f"/scenarios/{scenario_id}.json").json  # read-only for others: readable
    assert doc["name"] == "Q3 plan"

    # Read-only for others: no sharing, no deleting, and saving the same name makes their own scenario.
    with pytest.raises(ScenarioError, match="Only the owner"):
        _service(people, "set_shared", other, scenario_id, False)
    with pytest.raises(ScenarioError, match="Only the owner"):
        _service(people, "delete_scenario", other, scenario_id)
    assert _row(people, scenario_id)["shared"] is True

    first = _service(people, "copy_scenario", other, scenario_id)["id"]
    second = _service(people, "copy_scenario", other, scenario_id)["id"]
    assert _row(people, first)["name"] == "Q3 plan (copy)" and _row(people, second)["name"] == "Q3 plan (copy 2)"
    copy = _row(people, first)
    assert copy["user_id"] == other and copy["shared"] is False
    assert copy["payload"]["spend"] == _row(people, scenario_id)["payload"]["spend"]

    _service(people, "set_shared", owner, scenario_id, False)
    assert "Q3 plan" not in [s["name"] for s in _service(people, "visible_scenarios", other, "demo_mmm")]
    assert _row(people, first) is not None  # the copy is theirs and stays
    assert _client(people, OTHER).get(f"/scenarios/{scenario_id}.csv").status_code == 404


def test_copy_respects_the_quota(database_url, demo_model_dir, demo_cache_dir):
    from tests.helpers import make_app

    app = make_app(database_url, demo_model_dir, demo_cache_dir, SCENARIO_QUOTA="1")
    create_user(app, *OWNER)
    create_user(app, *OTHER)
    shared = _save(app, OWNER[0], "Plan")
    _service(app, "set_shared", _user_id(app, OWNER[0]), shared, True)
    _save(app, OTHER[0], "Own")
    with pytest.raises(ScenarioError, match="the most allowed"):
        _service(app, "copy_scenario", _user_id(app, OTHER[0]), shared)


def test_a_changed_model_file_is_named(people):
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    scenario_id = _save(people, OWNER[0], "Old plan")
    with people.server.app_context():
        db.session.get(SavedScenario, scenario_id).model_sha256 = "f" * 64  # made on another file version
        db.session.commit()
        from mmm_dash.web.scenarios import service

        scenario = db.session.get(SavedScenario, scenario_id)
        assert service.model_changed(scenario)
        assert "made on an earlier version of this model file (sha256 ffffffffffff" in service.version_note(scenario)
        fresh = db.session.get(SavedScenario, _save(people, OWNER[0], "New plan"))
        assert not service.model_changed(fresh) and service.version_note(fresh) is None
        legacy = db.session.get(SavedScenario, _save(people, OWNER[0], "Legacy"))
        legacy.model_sha256 = None  # saved before versions were recorded: nothing to claim
        db.session.commit()
        assert service.version_note(legacy) is None
    owner = _user_id(people, OWNER[0])
    copy_id = _service(people, "copy_scenario", owner, scenario_id)["id"]
    assert _row(people, copy_id)["sha"] == "f" * 64  # a copy keeps the version its source was made on
    _save(people, OWNER[0], "Old plan")  # saving again records the current file
    assert _row(people, scenario_id)["sha"] != "f" * 64


# -- callbacks: share, unshare, copy, and who may ---------------------------------------------------
def _key(app, fragment: str) -> str:
    return next(k for k in app.callback_map if fragment in k)


def _post(client, body):
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": "http://localhost"},
    )


def share_callback(app, client, trigger, selected, refused=False):
    key = _key(app, "sc-saved-rev.data")
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]} for part in key.strip(".").split("...")
    ]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [
            {"id": "sc-share", "property": "n_clicks", "value": 1},
            {"id": "sc-unshare", "property": "n_clicks", "value": None},
            {"id": "sc-copy", "property": "n_clicks", "value": None},
        ],
        "state": [
            {"id": "sc-saved", "property": "value", "value": selected},
            {"id": "sc-view", "property": "data", "value": {"model": "demo_mmm", "period": "all"}},
            {"id": "sc-saved-rev", "property": "data", "value": 0},
        ],
        "changedPropIds": [f"{trigger}.n_clicks"],
    }
    response = _post(client, body)
    if refused and response.status_code == 403:
        # The permission guard (once merged) refuses the whole callback before it runs.
        return {"sc-saved-msg": response.json}
    assert response.status_code == 200, response.data[:300]
    return response.json["response"]


def describe_callback(app, client, selected):
    key = _key(app, "sc-saved-info.children")
    body = {
        "output": key,
        "outputs": [{"id": p.split(".")[0], "property": p.split(".")[1]} for p in key.strip(".").split("...")],
        "inputs": [
            {"id": "sc-saved", "property": "value", "value": selected},
            {"id": "sc-saved-rev", "property": "data", "value": 1},
        ],
        "changedPropIds": ["sc-saved.value"],
    }
    response = _post(client, body)
    assert response.status_code == 200, response.data[:300]
    return response.json["response"]


def test_owner_shares_and_unshares_through_the_page(people):
    scenario_id = _save(people, OWNER[0], "Plan")
    owner = _client(people, OWNER)
    answer = share_callback(people, owner, "sc-share", scenario_id)
    assert "Shared with everyone" in json.dumps(answer["sc-saved-msg"])
    assert _row(people, scenario_id)["shared"] is True
    assert any("shared" in o["label"] for o in answer["sc-saved"]["options"])
    info = describe_callback(people, owner, scenario_id)
    assert info["sc-share"]["disabled"] is True and info["sc-unshare"]["disabled"] is False

    other = _client(people, OTHER)
    info = describe_callback(people, other, scenario_id)
    assert "Shared by owner@example.com: read-only" in json.dumps(info["sc-saved-info"])
    assert info["sc-share"]["disabled"] is True and info["sc-unshare"]["disabled"] is True
    assert info["sc-copy"]["disabled"] is False
    refused = share_callback(people, other, "sc-unshare", scenario_id)  # a hand-made request
    assert "Only the owner" in json.dumps(refused["sc-saved-msg"])
    assert _row(people, scenario_id)["shared"] is True

    copied = share_callback(people, other, "sc-copy", scenario_id)
    copy_id = copied["sc-saved"]["value"]
    assert _row(people, copy_id)["name"] == "Plan (copy)" and _row(people, copy_id)["user_id"] == _user_id(
        people, OTHER[0]
    )
    share_callback(people, owner, "sc-unshare", scenario_id)
    assert _row(people, scenario_id)["shared"] is False


def test_a_viewer_cannot_share_or_copy(people):
    """The role is checked on the server: a viewer posting the share callback by hand is refused, by
    the callback's own `require` (a message on the page) or by the permission guard in front (403)."""
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    scenario_id = _save(people, OWNER[0], "Plan")
    _service(people, "set_shared", _user_id(people, OWNER[0]), scenario_id, True)
    with people.server.app_context():  # give the viewer a scenario of their own (saved by an earlier role)
        viewer_plan = SavedScenario(
            user_id=_user_id(people, VIEWER[0]),
            name="v",
            model="demo_mmm",
            period="all",
            payload=_row(people, scenario_id)["payload"],
        )
        db.session.add(viewer_plan)
        db.session.commit()
        viewer_plan_id = viewer_plan.id
    viewer = _client(people, VIEWER)
    for trigger, selected in (("sc-share", viewer_plan_id), ("sc-copy", scenario_id)):
        answer = share_callback(people, viewer, trigger, selected, refused=True)
        assert "needs the analyst role" in json.dumps(answer["sc-saved-msg"])
        assert "sc-saved-rev" not in answer  # nothing changed
    assert _row(people, viewer_plan_id)["shared"] is False
    with people.server.app_context():
        assert db.session.query(SavedScenario).count() == 2  # no copy was made


def test_the_planner_lists_shared_scenarios_with_their_owner(people):
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.pages.scenarios import saved_options

    scenario_id = _save(people, OWNER[0], "Shared plan")
    _save(people, OWNER[0], "Private plan")
    _service(people, "set_shared", _user_id(people, OWNER[0]), scenario_id, True)
    with people.server.test_request_context("/"):
        login_user(find_user(OTHER[0]))
        labels = [o["label"] for o in saved_options("demo_mmm")]
    assert (
        len(labels) == 1
        and labels[0].startswith("Shared plan (all,")
        and labels[0].endswith("· shared · owner@example.com")
    )


# -- compare: downloads and the page ---------------------------------------------------------------
def test_compare_download_counts_paired_draws(people):
    from mmm_dash.web.scenarios import service

    a = _save(people, OWNER[0], "Grow", 1.15)
    b = _save(people, OTHER[0], "Trim", 0.9)
    _service(people, "set_shared", _user_id(people, OTHER[0]), b, True)
    owner = _client(people, OWNER)
    response = owner.get(f"/scenarios/compare.json?model=demo_mmm&period=all&compare=historical,{a},{b}")
    assert response.status_code == 200, response.data
    assert response.headers["Cache-Control"] == "no-store"
    doc = response.json
    names = [s["name"] for s in doc["scenarios"]]
    assert names == ["Historical allocation", "Grow", "Trim (other@example.com)"]
    with people.server.app_context():
        bundle = people.server.extensions["mmm_dash"].models.bundle("demo_mmm")
        model = service.scenario_model(bundle, "all")
        totals = {
            "Grow": model.per_draw_outcome(np.array(_row(people, a)["payload"]["spend"])).sum(axis=1),
            "Trim (other@example.com)": model.per_draw_outcome(np.array(_row(people, b)["payload"]["spend"])).sum(
                axis=1
            ),
        }
        spends = {
            "Grow": sum(_row(people, a)["payload"]["spend"]),
            "Trim (other@example.com)": sum(_row(people, b)["payload"]["spend"]),
        }
    # the budgets differ, so the pair is judged on net return (revenue − spend), draw by draw
    net = {name: totals[name] - spends[name] for name in totals}
    pair = next(p for p in doc["pairs"] if p["a"] == "Grow" and p["b"] == "Trim (other@example.com)")
    assert pair["judged_on"] == "net_return"
    direct = np.mean(net["Grow"] > net["Trim (other@example.com)"]) + 0.5 * np.mean(
        net["Grow"] == net["Trim (other@example.com)"]
    )
    assert pair["prob_a_beats_b"] == pytest.approx(direct)
    assert pair["difference_mean"] == pytest.approx(np.mean(net["Grow"] - net["Trim (other@example.com)"]))
    back = next(p for p in doc["pairs"] if p["a"] == "Trim (other@example.com)" and p["b"] == "Grow")
    assert back["prob_a_beats_b"] == pytest.approx(1 - pair["prob_a_beats_b"])
    assert doc["n_draws"] == len(totals["Grow"]) and doc["confidence_level"] == 0.9
    grow = doc["scenarios"][1]
    assert (
        grow["incremental_outcome"]["ci_lo"]
        < grow["incremental_outcome"]["mean"]
        < grow["incremental_outcome"]["ci_hi"]
    )
    assert len(grow["channels"]) == 5 and grow["made_on_model_sha256"] == bundle.info.sha256

    body = owner.get(f"/scenarios/compare.csv?model=demo_mmm&period=all&compare={a},{b}").data.decode()
    outcome_part = body.split("\r\n\r\n")[0]
    rows = list(csv.DictReader(io.StringIO(outcome_part)))
    assert [r["channel"] for r in rows].count("Total") == 2
    assert "prob_a_beats_b" in body


def test_compare_refuses_what_the_user_may_not_read_or_cannot_pair(people):
    private = _save(people, OWNER[0], "Secret")
    other_period = _save(people, OTHER[0], "2024 plan", period="2024")
    _service(people, "set_shared", _user_id(people, OTHER[0]), other_period, True)
    other = _client(people, OTHER)
    response = other.get(f"/scenarios/compare.json?model=demo_mmm&period=all&compare=historical,{private}")
    assert response.status_code == 400 and "no longer exists or is no longer shared" in response.json["error"]
    response = other.get(f"/scenarios/compare.json?model=demo_mmm&period=all&compare=historical,{other_period}")
    assert response.status_code == 400 and "one model and period" in response.json["error"]
    assert other.get("/scenarios/compare.json?model=demo_mmm&period=all&compare=historical").status_code == 400
    assert other.get("/scenarios/compare.json?model=nope&compare=historical,1").status_code == 400
    assert other.get("/scenarios/compare.xml?model=demo_mmm&compare=historical,1").status_code == 404


def _render(app, who, path, **query) -> str:
    from flask_login import login_user

    from mmm_dash.web.auth.accounts import find_user

    with app.server.test_request_context("/"):
        login_user(find_user(who[0]))
        page = next(p for p in dash.page_registry.values() if p["path"] == path)
        return json.dumps(page["layout"](**query), cls=plotly.utils.PlotlyJSONEncoder)


def test_compare_page_reads_the_selection_from_the_url(people):
    a = _save(people, OWNER[0], "Grow", 1.15)
    secret = _save(people, OTHER[0], "Secret", 0.5)
    page = _render(people, OWNER, "/compare-scenarios", model="demo_mmm", period="all", compare=f"historical,{a}")
    assert "cmp-matrix" in page and "cmp-totals" in page and "Grow" in page and "Historical allocation" in page
    assert f"/scenarios/compare.csv?model=demo_mmm&period=all&compare=historical%2C{a}" in page
    # Another user's private scenario is neither offered nor compared, even when the URL names it.
    page = _render(people, OWNER, "/compare-scenarios", model="demo_mmm", period="all", compare=f"historical,{secret}")
    assert "Secret" not in page and "cmp-hint" in page


def test_compare_callback_updates_the_result_and_the_url(people):
    a = _save(people, OWNER[0], "Grow", 1.15)
    b = _save(people, OWNER[0], "Trim", 0.9)
    client = _client(people, OWNER)
    key = _key(people, "cmp-result.children")

    def pick(value):
        body = {
            "output": key,
            "outputs": [{"id": "cmp-result", "property": "children"}, {"id": "cmp-url", "property": "search"}],
            "inputs": [{"id": "cmp-pick", "property": "value", "value": value}],
            "state": [{"id": "cmp-view", "property": "data", "value": {"model": "demo_mmm", "period": "all"}}],
            "changedPropIds": ["cmp-pick.value"],
        }
        response = _post(client, body)
        assert response.status_code == 200, response.data[:300]
        return response.json["response"]

    answer = pick([str(a), str(b)])
    assert answer["cmp-url"]["search"] == f"?model=demo_mmm&period=all&compare={a}%2C{b}"
    text = json.dumps(answer["cmp-result"])
    assert "cmp-matrix" in text and "cmp-p-0-1" in text
    assert "Pick 2 to 4" in json.dumps(pick([str(a)])["cmp-result"])
    assert "at most 4" in json.dumps(pick(["historical", str(a), str(b), "1", "2"])["cmp-result"])
    assert "Pick 2 to 4" in json.dumps(pick("not a list")["cmp-result"])


def test_the_buttons_follow_the_role_and_a_changed_model_is_shown(people):
    from mmm_dash.web.extensions import db
    from mmm_dash.web.scenarios.models import SavedScenario

    scenario_id = _save(people, OWNER[0], "Old plan")
    _service(people, "set_shared", _user_id(people, OWNER[0]), scenario_id, True)
    with people.server.app_context():
        db.session.get(SavedScenario, scenario_id).model_sha256 = "e" * 64
        db.session.commit()
    info = describe_callback(people, _client(people, VIEWER), scenario_id)
    text = json.dumps(info["sc-saved-info"])
    assert "read-only for you." in text and "Copy to edit" not in text
    assert "made on an earlier version of this model file" in text
    assert info["sc-copy"]["disabled"] is True and info["sc-share"]["disabled"] is True
    assert describe_callback(people, _client(people, OTHER), scenario_id)["sc-copy"]["disabled"] is False
    doc = _client(people, OTHER).get(
        f"/scenarios/compare.json?model=demo_mmm&period=all&compare=historical,{scenario_id}"
    )
    assert len(doc.json["notes"]) == 1 and "earlier version" in doc.json["notes"][0]
    page = _render(
        people, OTHER, "/compare-scenarios", model="demo_mmm", period="all", compare=f"{scenario_id},historical"
    )
    assert "cmp-version-0" in page and "model changed since" in page


def test_share_unshare_and_copy_reach_the_audit_trail(people):
    from mmm_dash.web import audit
    from mmm_dash.web.extensions import db

    scenario_id = _save(people, OWNER[0], "Plan")
    owner, other = _client(people, OWNER), _client(people, OTHER)
    share_callback(people, owner, "sc-share", scenario_id)
    share_callback(people, other, "sc-copy", scenario_id)
    share_callback(people, owner, "sc-unshare", scenario_id)
    with people.server.app_context():
        rows = db.session.query(audit.AuditEvent).filter(audit.AuditEvent.action.like("scenario-%")).all()
        events = [(r.action, r.object, r.outcome, r.user_email) for r in rows if r.action != "scenario-save"]
    assert events == [
        ("scenario-share", f"scenario {scenario_id}", "ok", OWNER[0]),
        ("scenario-copy", f"scenario {scenario_id}", "ok", OTHER[0]),
        ("scenario-unshare", f"scenario {scenario_id}", "ok", OWNER[0]),
    ]
