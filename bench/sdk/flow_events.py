"""Events through the SDK: a container's life between since and until, decoded."""
import time

from common import check, name, quietly, run_flow

N = name("ev")


def body(c):
    since = int(time.time()) - 1
    ctr = c.containers.create("busybox", ["true"], name=N, labels={"compat": "sdk"})
    ctr.start()
    ctr.wait(timeout=20)
    ctr.remove()
    until = int(time.time()) + 1
    evs = list(c.events(since=since, until=until, decode=True, filters={"container": N}))
    actions = [e.get("Action") for e in evs]
    check(actions == ["create", "start", "die", "destroy"], "actions %r" % actions)
    for e in evs:
        check(e["Type"] == "container" and e["Actor"]["ID"] == ctr.id, "event %r" % e)
        check(e["Actor"]["Attributes"].get("name") == N and e["Actor"]["Attributes"].get("compat") == "sdk", "attributes %r" % e["Actor"]["Attributes"])
        check(isinstance(e["time"], int) and isinstance(e["timeNano"], int), "times %r" % e)
    die = evs[2]
    check(die["Actor"]["Attributes"].get("exitCode") == "0", "die exitCode %r" % die["Actor"]["Attributes"])
    labelled = list(c.events(since=since, until=int(time.time()) + 1, decode=True, filters={"label": "compat=sdk", "event": "destroy"}))
    check([e["Actor"]["ID"] for e in labelled] == [ctr.id], "label+event filter %r" % labelled)


def cleanup(c):
    quietly(c.api.remove_container, N, force=True)


run_flow("events", body, cleanup)
