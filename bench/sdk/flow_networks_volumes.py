"""Networks and volumes through the SDK: create, inspect, connect, use, remove."""
import docker

from common import check, name, quietly, run_flow

NET = name("net")
VOL = name("vol")
CTR = name("netctr")


def body(c):
    net = c.networks.create(NET, driver="bridge", labels={"compat": "sdk"})
    check(net.name == NET, "network name %r" % net.name)
    got = c.networks.get(net.id)
    check(got.attrs["Driver"] == "bridge" and got.attrs["Labels"] == {"compat": "sdk"}, "network attrs %r" % got.attrs)
    check(any(n.id == net.id for n in c.networks.list(names=[NET])), "network list by name")

    vol = c.volumes.create(VOL, labels={"compat": "sdk"})
    check(vol.name == VOL, "volume name %r" % vol.name)
    check(c.volumes.get(VOL).attrs["Driver"] == "local", "volume driver")
    check(c.volumes.get(VOL).attrs["Mountpoint"].endswith("/" + VOL + "/_data"), "mountpoint %r" % c.volumes.get(VOL).attrs["Mountpoint"])
    check(any(v.name == VOL for v in c.volumes.list(filters={"label": "compat=sdk"})), "volume list by label")

    out = c.containers.run("busybox", ["sh", "-c", "echo kept > /v/f"], volumes={VOL: {"bind": "/v", "mode": "rw"}}, remove=True)
    check(out == b"", "write to the volume: %r" % out)
    out = c.containers.run("busybox", ["cat", "/v/f"], volumes=[VOL + ":/v:ro"], remove=True)
    check(out == b"kept\n", "read from the volume: %r" % out)

    ctr = c.containers.run("busybox", ["sleep", "60"], detach=True, name=CTR)
    net.connect(ctr, aliases=["sdk-alias"])
    net.reload()
    check(ctr.id in [x.id for x in net.containers], "connected containers %r" % net.containers)
    ctr.reload()
    check(NET in ctr.attrs["NetworkSettings"]["Networks"], "container networks %r" % list(ctr.attrs["NetworkSettings"]["Networks"]))
    out = c.containers.run("busybox", ["sh", "-c", "ping -c1 -W2 sdk-alias >/dev/null && echo reached"], network=NET, remove=True)
    check(out == b"reached\n", "ping by alias: %r" % out)
    net.disconnect(ctr)
    net.reload()
    check(net.containers == [], "after disconnect %r" % net.containers)
    ctr.remove(force=True)

    net.remove()
    vol.remove()
    for get in (lambda: c.networks.get(NET), lambda: c.volumes.get(VOL)):
        try:
            get()
            raise AssertionError("get after remove did not raise NotFound")
        except docker.errors.NotFound:
            pass


def cleanup(c):
    quietly(c.api.remove_container, CTR, force=True)
    quietly(c.api.remove_network, NET)
    quietly(c.api.remove_volume, VOL)


run_flow("networks-volumes", body, cleanup)
