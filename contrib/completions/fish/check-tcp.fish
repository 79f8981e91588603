complete -c check-tcp -s s -l send -d 'Send this after connecting; \\r \\n \\t \\0 \\\\ and \\xHH escapes are understood' -r
complete -c check-tcp -s e -l expect -d 'Healthy only if the reply contains this (same escapes as --send). A mismatch is CRITICAL under --format nagios, where check_tcp says WARNING: a server that answers the wrong thing is down for a failover' -r
complete -c check-tcp -l max-bytes -d 'Read at most this many bytes while looking for --expect' -r
complete -c check-tcp -l ca-file -d 'TLS: trust the CA certificates in this PEM file instead of the system\'s store' -r -F
complete -c check-tcp -l sni -d 'TLS: send NAME as SNI and verify the certificate against it, instead of the target\'s host (a check by address of a server whose certificate names the service)' -r
complete -c check-tcp -l cert -d 'TLS: a client certificate chain (PEM), for servers that require one; with --key' -r -F
complete -c check-tcp -l key -d 'TLS: the client certificate\'s key (PEM, not encrypted); with --cert' -r -F
complete -c check-tcp -l min-cert-days -d 'TLS: unhealthy when the server\'s certificate ends in fewer than DAYS days. Off by default: both nodes of a pair usually share a certificate, so it would not help a failover; the days left are in the JSON details and nagios perfdata either way' -r
complete -c check-tcp -s t -l timeout -d 'Hard end-to-end deadline over resolve, connect, send and receive (e.g. 800ms, 2s). The process exits by then whatever the server does' -r
complete -c check-tcp -l source -d 'Local address to connect from (LVS and VIP-on-loopback setups)' -r
complete -c check-tcp -l format -d 'Output: one text line, one JSON object, or the text line with Nagios exit statuses' -r -f -a "text\t'One monitoring-plugins style line; exit 0 healthy, 1 otherwise'
json\t'One JSON object on one line; exit 0 healthy, 1 otherwise'
nagios\t'The text line with Nagios/Icinga exit statuses: 0 OK, 2 CRITICAL, 3 UNKNOWN'"
complete -c check-tcp -l log -d 'Where log records go; auto = journald when not on a terminal and journald runs' -r -f -a "auto\t'journald when stderr is not a terminal and the journal socket exists, else stderr; on a terminal without -v, nothing beyond the status line'
journald\t'The journal (native protocol), falling back to stderr if its socket is missing'
stderr\t'Standard error'
none\t'No log records at all'"
complete -c check-tcp -l only-if-master -d 'Check only while ka-notify\'s state file says this node is MASTER for the VRRP instance (or sync group) NAME; otherwise print SKIPPED and exit 0. A missing or corrupt state file counts as not MASTER (logged as a warning)' -r
complete -c check-tcp -l state-dir -d 'Where ka-notify keeps its state files (for --only-if-master)' -r -F
complete -c check-tcp -l tls -d 'Speak TLS after connecting (like check_tcp -S): healthy when the handshake succeeds and the certificate verifies; --send and --expect then go inside TLS'
complete -c check-tcp -l insecure -d 'TLS: do not verify the server\'s certificate (the status line says so)'
complete -c check-tcp -s v -l verbose -d 'More log detail: -v shows each stage, -vv the bytes on the wire'
complete -c check-tcp -s h -l help -d 'Print help (see more with \'--help\')'
complete -c check-tcp -s V -l version -d 'Print version'
