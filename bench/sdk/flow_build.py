"""A build through the SDK (the classic builder, as the SDK drives it), then a run of the image."""
import os
import shutil
import tempfile

import docker

from common import RUN, check, name, quietly, run_flow

TAG = name("build") + ":v1"
ctx = tempfile.mkdtemp(prefix="compat-sdk-build-")


def body(c):
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nLABEL compat.run=%s\nARG GREETING=hi\nCOPY msg /msg\nRUN echo \"$GREETING\" >> /msg\nCMD [\"cat\", \"/msg\"]\n" % RUN)
    with open(os.path.join(ctx, "msg"), "w") as f:
        f.write("from the context\n")
    image, logs = c.images.build(path=ctx, tag=TAG, buildargs={"GREETING": "built"}, rm=True)
    stream = "".join(x.get("stream", "") for x in logs)
    check("Step 1/6 : FROM busybox" in stream, "build log: %r" % stream[:300])
    check(("Successfully built %s" % image.short_id.split(":")[1]) in stream, "no 'Successfully built' line: %r" % stream[-300:])
    check(TAG in image.tags, "tags %r" % image.tags)
    check(image.labels.get("compat.run") == RUN, "labels %r" % image.labels)
    out = c.containers.run(TAG, remove=True)
    check(out == b"from the context\nbuilt\n", "run of the built image: %r" % out)

    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nRUN exit 7\n")
    try:
        c.images.build(path=ctx, tag=TAG + "-fail", rm=True)
        raise AssertionError("a failing build did not raise BuildError")
    except docker.errors.BuildError as e:
        check("returned a non-zero code: 7" in str(e), "BuildError: %s" % e)


def cleanup(c):
    quietly(c.images.remove, TAG, force=True)
    shutil.rmtree(ctx, ignore_errors=True)


run_flow("build", body, cleanup)
