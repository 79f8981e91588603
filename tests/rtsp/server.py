#!/usr/bin/python3
"""A real RTSP server for check-rtsp's tests: GStreamer's rtsp-server (Debian's
gir1.2-gst-rtsp-server-1.0 and python3-gi), on 127.0.0.1 and a free port.

    /usr/bin/python3 tests/rtsp/server.py basic|digest [CERT.pem KEY.pem]

Serves a videotestsrc stream as JPEG over RTP at /test (open to anyone) and at /secure
(user "user", password "secret", by Basic or Digest authentication as asked), and video
with PCMU audio at /av (open to anyone). With a
certificate and its key, every connection is TLS (rtsps://; GLib's TLS from
glib-networking). Prints the port on the first line of stdout, then serves until killed.
RTSP_SERVER_ADDRESS and RTSP_SERVER_PORT in the environment choose where it listens.

Without x264 this pipeline needs the explicit I420 caps: without them DESCRIBE hangs.
"""
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gio, GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

VIDEO = (
    "videotestsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=5/1"
    " ! jpegenc ! rtpjpegpay name=pay0 pt=26"
)
PIPELINE = f"( {VIDEO} )"
# Video and G.711 audio (PCMU, payload type 0, no rtpmap in the SDP: the static type).
AUDIO_VIDEO = (
    f"( {VIDEO} audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1"
    " ! mulawenc ! rtppcmupay name=pay1 pt=0 )"
)


def factory(construct_roles, launch=PIPELINE):
    """A mount every client may see (so an anonymous one gets 401, not 404) and only
    `construct_roles` may use."""
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(launch)
    # Not shared: each client gets a pipeline of its own. A shared media is unprepared when
    # its last client tears down, and a DESCRIBE arriving meanwhile gets "503 Service
    # Unavailable" (seen with check-rtsp --play run back to back).
    f.set_shared(False)
    permissions = GstRtspServer.RTSPPermissions()
    for role in ["anonymous", "user"]:
        construct = "true" if role in construct_roles else "false"
        permissions.add_role_from_structure(
            Gst.Structure.from_string(
                f"{role}, media.factory.access=(boolean)true,"
                f" media.factory.construct=(boolean){construct}"
            )[0]
        )
    f.set_permissions(permissions)
    return f


def token(role):
    t = GstRtspServer.RTSPToken()
    t.set_string("media.factory.role", role)
    return t


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "basic"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    # RTSP_SERVER_ADDRESS and RTSP_SERVER_PORT: where the LVS test's real servers listen
    # (tests/lvs_vm); loopback and a free port otherwise.
    server.set_address(os.environ.get("RTSP_SERVER_ADDRESS", "127.0.0.1"))
    server.set_service(os.environ.get("RTSP_SERVER_PORT", "0"))

    auth = GstRtspServer.RTSPAuth()
    auth.set_default_token(token("anonymous"))
    if method == "digest":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest("user", "secret", token("user"))
    else:
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic("user", "secret"), token("user"))
    if len(sys.argv) > 3:
        # The server's certificate: every accepted connection is wrapped in TLS.
        auth.set_tls_certificate(Gio.TlsCertificate.new_from_files(sys.argv[2], sys.argv[3]))
    server.set_auth(auth)

    mounts = server.get_mount_points()
    mounts.add_factory("/test", factory(["anonymous", "user"]))
    mounts.add_factory("/secure", factory(["user"]))
    mounts.add_factory("/av", factory(["anonymous", "user"], AUDIO_VIDEO))

    server.attach(None)
    print(server.get_bound_port(), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
