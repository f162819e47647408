"""Images through the SDK: list, inspect, tag, history, save, remove."""
import docker

from common import check, name, quietly, run_flow

REPO = name("img")


def body(c):
    bb = c.images.get("busybox")
    check(bb.id.startswith("sha256:") and "busybox:latest" in bb.tags, "busybox: %r %r" % (bb.id, bb.tags))
    check(bb.attrs["Os"] == "linux" and bb.attrs["Config"]["Cmd"] == ["sh"], "attrs %r" % bb.attrs.get("Config"))
    listed = c.images.list(name="busybox")
    check(any(i.id == bb.id for i in listed), "list name=busybox: %r" % listed)
    check(any(i.id == bb.id for i in c.images.list(filters={"reference": "busybox"})), "list reference=busybox")

    check(bb.tag(REPO, "v1") is True, "tag")
    tagged = c.images.get(REPO + ":v1")
    check(tagged.id == bb.id, "tagged id %s" % tagged.id)
    check(REPO + ":v1" in tagged.tags, "tags %r" % tagged.tags)
    hist = tagged.history()
    check(len(hist) >= 1 and "Id" in hist[0] and "CreatedBy" in hist[0], "history %r" % hist)
    data = b"".join(tagged.save(named=True))
    check(data[257:262] == b"ustar", "save is not a tar")

    c.images.remove(REPO + ":v1")
    try:
        c.images.get(REPO + ":v1")
        raise AssertionError("get after remove did not raise ImageNotFound")
    except docker.errors.ImageNotFound:
        pass
    check(c.images.get("busybox").id == bb.id, "busybox still there")
    try:
        c.images.get("nosuch-" + REPO)
        raise AssertionError("get of a missing image did not raise ImageNotFound")
    except docker.errors.ImageNotFound:
        pass


def cleanup(c):
    quietly(c.images.remove, REPO + ":v1")


run_flow("images", body, cleanup)
