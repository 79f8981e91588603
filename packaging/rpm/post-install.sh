# The programs live in /usr/libexec/keepalived (the SELinux-labelled directory keepalived
# may run helpers from); /usr/bin gets links for use by hand. rpm cannot package a link
# whose target is not in the build root, so the links are made here and removed in
# pre-uninstall.
for p in check-tcp check-sip check-rtsp ka-notify keepalived-checkd; do
    ln -sfn ../libexec/keepalived/$p /usr/bin/$p
done
