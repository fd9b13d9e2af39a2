"""Seeds the resources that the schemathesis hooks hand out instead of random ids.

    python3 seed.py WORKDIR   (REEL_SERVER, REEL_APP_KEY, REEL_APP_SECRET set)

Prints shell assignments: REEL_ST_VIDS_READ (one PLAYABLE video: a 2 s 160x120 clip made
with ffmpeg's lavfi source, uploaded through the seed API and transcoded by the server's
embedded worker), REEL_ST_VIDS_WRITE and REEL_ST_VIDS_DELETE (instant-upload copies
of it, not transcoded: three for transcode/retranscode, three for delete), REEL_ST_UPIDS (a part upload and a stream upload, still
receiving). A step that fails is reported on stderr and leaves its list shorter: the run
still tests with random values.
"""

import base64
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reel_sign import send_json  # noqa: E402


def say(msg):
    print(f"seed: {msg}", file=sys.stderr)


def b64(name):
    return base64.b64encode(name.encode()).decode()


def make_clip(workdir):
    path = os.path.join(workdir, "seed.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path],
        check=True,
    )
    with open(path, "rb") as f:
        return f.read()


def upload_playable(data, timeout=45):
    md5 = hashlib.md5(data).hexdigest()
    status, init = send_json("GET", f"/video/upload/init?fn={b64('seed.mp4')}&fsize={len(data)}&hash={md5}&auto=1")
    if status != 200 or not init.get("upload_id"):
        raise RuntimeError(f"upload/init: {status} {init}")
    status, up = send_json(
        "PUT", f"/video/upload/upload?upid={init['upload_id']}", data, "application/octet-stream",
        {"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
    )
    if status != 200 or not up.get("vid"):
        raise RuntimeError(f"upload/upload: {status} {up}")
    vid = up["vid"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, st = send_json("GET", f"/video/status?vid={vid}")
        if st.get("status") == "PLAYABLE":
            return vid, md5
        if st.get("status") in ("TRANSCODE_FAILED", "UPLOAD_FAILED"):
            raise RuntimeError(f"video {vid}: {st}")
        time.sleep(0.3)
    raise RuntimeError(f"video {vid} not PLAYABLE after {timeout} s: {st}")


def main(workdir):
    read, write, delete, upids = [], [], [], []
    try:
        data = make_clip(workdir)
        vid, md5 = upload_playable(data)
        read.append(vid)
        for i in range(6):
            status, init = send_json(
                "GET", f"/video/upload/init?fn={b64(f'copy-{i}.mp4')}&fsize={len(data)}&hash={md5}&auto=0"
            )
            if init.get("vid"):
                (write if i < 3 else delete).append(init["vid"])
            else:
                say(f"instant upload: {status} {init}")
    except Exception as e:  # noqa: BLE001
        say(f"no playable video: {e}")
    for query in (f"fn={b64('parts.bin')}&fsize={3 << 20}&psize={1 << 20}&auto=0", f"fn={b64('stream.bin')}&fsize=1000&auto=0"):
        status, init = send_json("GET", f"/video/upload/init?{query}")
        if init.get("upload_id"):
            upids.append(init["upload_id"])
        else:
            say(f"upload/init: {status} {init}")
    say(f"playable {read}, copies {write} (transcode) {delete} (delete), uploads {upids}")
    print(f"REEL_ST_VIDS_READ={','.join(map(str, read))}")
    print(f"REEL_ST_VIDS_WRITE={','.join(map(str, write))}")
    print(f"REEL_ST_VIDS_DELETE={','.join(map(str, delete))}")
    print(f"REEL_ST_UPIDS={','.join(upids)}")


if __name__ == "__main__":
    main(sys.argv[1])
