complete -c check-rtsp -l media -d 'With --play: which media to play: "video", "audio" (the first m= line of that type) or N (the m= line at index N, from 0). The first m= line by default' -r
complete -c check-rtsp -l rtp-transport -d 'With --play: how RTP is to arrive. "tcp" (the default): interleaved on the RTSP connection, no ports to open. "udp": to two local UDP ports, for servers that send RTP over UDP only (VLC\'s RTSP output answers "461 Unsupported transport" to tcp); the server\'s datagrams must be able to reach this host' -r
complete -c check-rtsp -l credentials-file -d 'Read USER:PASSWORD from the first line of FILE (keeps the password out of `ps` and keepalived.conf)' -r -F
complete -c check-rtsp -l accept -d 'Status codes of the OPTIONS answer that count as healthy: codes and classes or "any". The list replaces the default: "2xx,401" also treats "authentication required" as alive' -r
complete -c check-rtsp -l ca-file -d 'TLS: trust the CA certificates in this PEM file instead of the system\'s store' -r -F
complete -c check-rtsp -l sni -d 'TLS: send NAME as SNI and verify the certificate against it, instead of the target\'s host (a check by address of a server whose certificate names the service)' -r
complete -c check-rtsp -l cert -d 'TLS: a client certificate chain (PEM), for servers that require one; with --key' -r -F
complete -c check-rtsp -l key -d 'TLS: the client certificate\'s key (PEM, not encrypted); with --cert' -r -F
complete -c check-rtsp -l min-cert-days -d 'TLS: unhealthy when the server\'s certificate ends in fewer than DAYS days. Off by default: both nodes of a pair usually share a certificate, so it would not help a failover; the days left are in the JSON details and nagios perfdata either way' -r
complete -c check-rtsp -s t -l timeout -d 'Hard end-to-end deadline over resolve, connect, send and receive (e.g. 800ms, 2s). The process exits by then whatever the server does' -r
complete -c check-rtsp -l source -d 'Local address to connect from (LVS and VIP-on-loopback setups)' -r
complete -c check-rtsp -l format -d 'Output: one text line, one JSON object, or the text line with Nagios exit statuses' -r -f -a "text\t'One monitoring-plugins style line; exit 0 healthy, 1 otherwise'
json\t'One JSON object on one line; exit 0 healthy, 1 otherwise'
nagios\t'The text line with Nagios/Icinga exit statuses: 0 OK, 2 CRITICAL, 3 UNKNOWN'"
complete -c check-rtsp -l log -d 'Where log records go; auto = journald when not on a terminal and journald runs' -r -f -a "auto\t'journald when stderr is not a terminal and the journal socket exists, else stderr; on a terminal without -v, nothing beyond the status line'
journald\t'The journal (native protocol), falling back to stderr if its socket is missing'
stderr\t'Standard error'
none\t'No log records at all'"
complete -c check-rtsp -l only-if-master -d 'Check only while ka-notify\'s state file says this node is MASTER for the VRRP instance (or sync group) NAME; otherwise print SKIPPED and exit 0. A missing or corrupt state file counts as not MASTER (logged as a warning)' -r
complete -c check-rtsp -l state-dir -d 'Where ka-notify keeps its state files (for --only-if-master)' -r -F
complete -c check-rtsp -l describe -d 'After OPTIONS, DESCRIBE the path: healthy only on 200 with an application/sdp body of exactly Content-Length bytes holding at least one m= line'
complete -c check-rtsp -l play -d 'After DESCRIBE, SETUP a media with RTP interleaved on the RTSP connection (RTP/AVP/TCP: no UDP ports), PLAY it, and wait for its first RTP packet: version 2, a payload type the SDP announced, the SSRC SETUP announced. Then TEARDOWN. Implies --describe'
complete -c check-rtsp -l insecure -d 'TLS: do not verify the server\'s certificate (the status line says so)'
complete -c check-rtsp -s v -l verbose -d 'More log detail: -v shows each stage, -vv the bytes on the wire'
complete -c check-rtsp -s h -l help -d 'Print help (see more with \'--help\')'
complete -c check-rtsp -s V -l version -d 'Print version'
