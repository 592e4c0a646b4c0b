"""`python -m mmm_dash.loadtest.launch <locust arguments>`: Locust's command line, in this process.

Locust 2.47 imports `create_urllib3_context` from `urllib3.util`, where only urllib3 2 exports it;
the test environment keeps urllib3 1.26 because dash[testing] pins selenium 4.2.0, which requires
it. urllib3 1.26 has the same function in `urllib3.util.ssl_`, so it is exposed under the new name
before Locust is imported (a no-op with urllib3 2). Locust's HTTP client for these users
(FastHttpUser, geventhttpclient) does not use urllib3 at all. gevent patches the standard library
first, as `import locust` itself would.
"""

from __future__ import annotations

import sys


def main() -> None:
    from gevent import monkey

    monkey.patch_all()
    import urllib3.util

    if not hasattr(urllib3.util, "create_urllib3_context"):
        from urllib3.util.ssl_ import create_urllib3_context

        urllib3.util.create_urllib3_context = create_urllib3_context
    from locust.main import main as locust_main

    sys.argv[0] = "locust"
    locust_main()


if __name__ == "__main__":
    main()
