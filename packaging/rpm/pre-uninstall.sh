# $1 is 0 when the package is being removed, 1 on upgrade (keep the links then).
if [ "$1" = 0 ]; then
    for p in check-tcp check-sip check-rtsp ka-notify keepalived-checkd; do
        if [ "$(readlink /usr/bin/$p 2>/dev/null)" = "../libexec/keepalived/$p" ]; then
            rm -f /usr/bin/$p
        fi
    done
fi
