"""What the SDK flows share: the client (DOCKER_HOST picks the engine), unique
names, a checker, and the one PASS/FAIL line bench/compat reads.

The flows use Debian's python3-docker (run them with /usr/bin/python3): a
second client of the Engine API, written against dockerd, with its own
expectations of every response.
"""
import os
import sys
import time
import traceback

import docker

RUN = os.environ.get("COMPAT_RUN") or "sdk%d" % (time.time() % 100000)


def client():
    # A fixed API version as a user pins it: what the SDK was written against (1.41 is dockerd 20.10's).
    return docker.from_env(version=os.environ.get("COMPAT_SDK_API", "1.41"), timeout=60)


def name(what):
    return "compat-%s-sdk-%s" % (RUN, what)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait_for(fn, what, timeout=10.0):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def run_flow(flow, body, cleanup):
    """Runs body(c), then cleanup(c) whatever happened; prints PASS or FAIL and exits 0 or 1."""
    c = client()
    ok = False
    try:
        body(c)
        ok = True
        print("PASS %s" % flow)
    except Exception as e:  # every failure is the flow's result, reported on one line
        detail = traceback.format_exc().strip().splitlines()
        print("FAIL %s: %s: %s" % (flow, type(e).__name__, str(e).replace("\n", " ")[:300]))
        sys.stderr.write("\n".join(detail[-6:]) + "\n")
    finally:
        try:
            cleanup(c)
        except Exception as e:  # cleanup must not hide the result
            sys.stderr.write("cleanup: %s\n" % e)
    sys.exit(0 if ok else 1)


def quietly(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except docker.errors.APIError:
        pass
