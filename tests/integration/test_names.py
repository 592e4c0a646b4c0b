"""Text-direction control characters (U+202A-U+202E, U+2066-U+2069) make a name read as another one
("plan\u202efdp.exe" shows as "planexe.pdf"): names that people type or upload refuse them in one sentence."""

from __future__ import annotations

import pytest

from mmm_dash.core.names import BIDI_CONTROLS, bidi_problem
from mmm_dash.core.scenario import ScenarioError
from tests.helpers import create_user

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
CONTROLS = sorted(BIDI_CONTROLS)


def test_the_listed_controls_and_only_them():
    assert [f"{ord(c):04X}" for c in CONTROLS] == [
        "202A",
        "202B",
        "202C",
        "202D",
        "202E",
        "2066",
        "2067",
        "2068",
        "2069",
    ]
    assert bidi_problem("Plan A – Q3 (עברית) ＝") is None  # other scripts and punctuation are names too


@SQLITE
@pytest.mark.parametrize("control", CONTROLS)
def test_scenario_names_refuse_direction_controls(app, control):
    from mmm_dash.web.auth.accounts import find_user
    from mmm_dash.web.scenarios import service

    email, _ = create_user(app)
    with app.server.app_context():
        with pytest.raises(ScenarioError, match="text-direction control characters"):
            service.save_scenario(find_user(email).id, f"plan{control}fdp.exe", "demo_mmm", "all", {"spend": [1.0] * 5})
        assert service.list_scenarios(find_user(email).id, "demo_mmm") == []


@pytest.mark.parametrize("control", ["\u202e", "\u2067"])
def test_model_upload_names_refuse_direction_controls_without_repeating_them(control):
    from mmm_dash.builder.model_admin import UploadRefused, upload_name

    with pytest.raises(UploadRefused, match="text-direction control characters") as refused:
        upload_name(f"acme{control}bpnib.binpb")
    assert control not in str(refused.value)
    assert upload_name("acme.binpb") == "acme.binpb"


@SQLITE
def test_account_emails_refuse_direction_controls(app):
    from mmm_dash.web.auth.accounts import AccountError

    with pytest.raises(AccountError, match="RIGHT-TO-LEFT OVERRIDE"):
        create_user(app, email="ana\u202elyst@example.com")
