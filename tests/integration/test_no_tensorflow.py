"""With a cached bundle, serving every page and export never imports TensorFlow, JAX or Meridian."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.helpers import ROOT

SCRIPT = textwrap.dedent(
    """
    import json, re, sys
    import dash, plotly
    from flask_migrate import upgrade
    from mmm_dash.web import create_app
    from mmm_dash.web.auth import accounts

    app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "x" * 32, "MODEL_DIR": sys.argv[2],
                      "CACHE_DIR": sys.argv[3], "BACKGROUND_BUNDLES": "0"})
    server = app.server
    with server.app_context():
        upgrade(directory=sys.argv[4])
        accounts.create_user("tf@example.com", "long-password")
    client = server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": "tf@example.com", "password": "long-password",
                                       "csrf_token": token}).status_code == 302
    served = []
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200
    with server.test_request_context("/"):
        from flask_login import login_user
        login_user(accounts.find_user("tf@example.com"))
        for page in dash.page_registry.values():
            for period in ("all", "2024", "last52"):
                layout = page["layout"](model="demo_mmm", period=period)
                json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder)
                served.append(page["path"])
    for name in ("insights.json", "insights.csv", "insights.txt", "metrics.csv", "metrics.json", "report.html",
                 "report.pptx"):
        assert client.get(f"/export/{name}?model=demo_mmm&period=2024").status_code == 200
        served.append(name)
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "jax", "jaxlib", "meridian", "tf_keras"))
    print(json.dumps({"served": served, "heavy": heavy}))
    """
)


def test_serving_pages_from_a_cached_bundle_never_imports_tensorflow(tmp_path, demo_model_dir, demo_cache_dir):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            f"sqlite:///{tmp_path / 'db.sqlite3'}",
            str(demo_model_dir),
            str(demo_cache_dir),
            str(ROOT / "mmm_dash" / "web" / "migrations"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "tensorflow" not in report["heavy"] and report["heavy"] == []
    assert len(set(report["served"])) >= 12  # every page and every export
