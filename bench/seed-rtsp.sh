#!/bin/bash
# The RTSP document's rtsp.sh approach, rebuilt from its description for comparison only:
# "OPTIONS / RTSP/1.0" with LF line ends and no CSeq, sent with nc, healthy when the
# reply contains "RTSP/1.0 200 OK". nc keeps reading until the server closes, which RTSP
# servers do not do. Do not use this; it is here to be measured.
HOST=$1
PORT=${2:-554}
echo -e "OPTIONS / RTSP/1.0\n" | nc "$HOST" "$PORT" | grep -q "RTSP/1.0 200 OK"
