"""Settings for the test suite: a throw-away data directory, jobs run at once, mail kept."""

import os
import tempfile
import uuid

import dj_database_url

os.environ["KITOBXON_DATA_DIR"] = tempfile.mkdtemp(prefix="kitobxon-test-")
# Each run keeps its own keys when the cache is a shared Redis.
os.environ["KITOBXON_REDIS_PREFIX"] = f"kitobxon-test-{uuid.uuid4().hex[:12]}"

from config.settings import *  # noqa: F403
from config.settings import HUEY

if os.environ.get("KITOBXON_TEST_DATABASE_URL"):
    # The suite runs on this server; pytest-django creates `test_<name>` databases there.
    DATABASES = {"default": dj_database_url.parse(os.environ["KITOBXON_TEST_DATABASE_URL"])}

# Jobs run inside the caller, so a test sees their effect; kitobxon/core/tests/test_jobs.py
# drives the real queue (SQLite or Redis) separately.
HUEY = {**HUEY, "immediate": True}

# Argon2 is slow on purpose; test_passwords_are_stored_with_argon2 checks it once.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
API_THROTTLE_ANONYMOUS = API_THROTTLE_USER = "100000/m"

# The tests' HTTP servers (harvested repositories, SRU servers, live_server) listen on the
# loopback; kitobxon/core/tests/test_outbound.py turns this off to see the refusals.
OUTBOUND_ALLOW = ["127.0.0.0/8", "::1"]

if DATABASES["default"]["ENGINE"] == "kitobxon.core.sqlite":
    # A file in the throw-away data directory rather than shared-cache memory: race tests run
    # real threads, and shared-cache SQLite fails ("table is locked") where a file in WAL mode
    # queues writers behind busy_timeout as production does.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(os.environ["KITOBXON_DATA_DIR"], "test.sqlite3")
    }
    # A throw-away database need not survive a power cut: skip the fsyncs.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["init_command"] = options.get("init_command", "").replace(
        "synchronous=NORMAL", "synchronous=OFF"
    )
