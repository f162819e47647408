"""Containers through the SDK: run (attached and detached), logs, exec, wait, stop, remove."""
import docker

from common import check, name, quietly, run_flow, wait_for

N = name("ctr")


def body(c):
    out = c.containers.run("busybox", ["sh", "-c", "echo attached"], remove=True)
    check(out == b"attached\n", "run (attached) returned %r" % out)

    try:
        c.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True)
        raise AssertionError("run of a failing command did not raise ContainerError")
    except docker.errors.ContainerError as e:
        check(e.exit_status == 3, "ContainerError exit status %r" % e.exit_status)

    ctr = c.containers.run("busybox", ["sh", "-c", "echo hello; echo oops >&2; trap 'exit 0' TERM; while :; do sleep 1; done"],
                           detach=True, name=N, labels={"compat.run": "sdk"}, environment={"A": "1"})
    ctr.reload()
    check(ctr.status == "running", "status after run -d: %s" % ctr.status)
    check(ctr.name == N, "name %r" % ctr.name)
    check(ctr.labels.get("compat.run") == "sdk", "labels %r" % ctr.labels)
    wait_for(lambda: b"oops" in ctr.logs(), "logs")
    check(ctr.logs(stdout=True, stderr=False) == b"hello\n", "stdout logs %r" % ctr.logs(stdout=True, stderr=False))
    check(ctr.logs(stdout=False, stderr=True) == b"oops\n", "stderr logs %r" % ctr.logs(stdout=False, stderr=True))
    check(b"hello" in ctr.logs(timestamps=True) and ctr.logs(timestamps=True)[:2] == b"20", "timestamped logs")

    code, out = ctr.exec_run(["sh", "-c", "echo $A $0", "x"])
    check(code == 0 and out == b"1 x\n", "exec_run returned %r %r" % (code, out))
    code, out = ctr.exec_run(["sh", "-c", "exit 5"])
    check(code == 5, "exec_run exit code %r" % code)
    code, out = ctr.exec_run("pwd", workdir="/tmp", user="1000")
    check(code == 0 and out == b"/tmp\n", "exec_run workdir %r %r" % (code, out))
    code, (sout, serr) = ctr.exec_run(["sh", "-c", "echo o; echo e >&2"], demux=True)
    check(sout == b"o\n" and serr == b"e\n", "exec_run demux %r %r" % (sout, serr))

    listed = c.containers.list(filters={"name": N})
    check([x.id for x in listed] == [ctr.id], "list by name: %r" % listed)
    check(c.containers.get(N).id == ctr.id, "get by name")
    top = ctr.top()
    check("Titles" in top and len(top["Processes"]) >= 1, "top %r" % top)

    ctr.stop(timeout=5)
    res = ctr.wait(timeout=20)
    check(res["StatusCode"] == 0, "wait after stop: %r" % res)
    ctr.reload()
    check(ctr.status == "exited", "status after stop: %s" % ctr.status)
    ctr.start()
    ctr.kill()
    res = ctr.wait(timeout=20)
    check(res["StatusCode"] == 137, "wait after kill: %r" % res)
    ctr.remove()
    try:
        c.containers.get(N)
        raise AssertionError("get after remove did not raise NotFound")
    except docker.errors.NotFound:
        pass


def cleanup(c):
    quietly(c.api.remove_container, N, force=True)


run_flow("containers", body, cleanup)
