#!/bin/bash
# The RTSP document's check as it describes it: OPTIONS / to port 554, expecting
# "RTSP/1.0 200 OK"; LF line ends, no CSeq, and nc waiting for the server to close.
echo -e "OPTIONS / RTSP/1.0\n" | nc $1 554 | grep -q "RTSP/1.0 200 OK"
