complete -c check-sip -l transport -d 'Transport to use, overriding the URI\'s ;transport= (default udp; tls for sips:)' -r -f -a "udp\t'UDP, with RFC 3261 Timer A retransmissions'
tcp\t'TCP, framed by Content-Length'
tls\t'TLS over TCP (port 5061 unless the URI gives one)'"
complete -c check-sip -l user -d 'Put this user part in the Request-URI (sip:NAME@HOST)' -r
complete -c check-sip -l accept -d 'Status codes that count as healthy: codes and classes (200,404,4xx) or "any" (any final response means the SIP stack is alive)' -r
complete -c check-sip -l t1 -d 'UDP retransmission timer T1, for RFC 3261\'s schedule: resend after T1, then 2*T1, 4*T1... capped at 4s. Without it the resends are spread over --timeout: the first after a twentieth of it, doubling up to an eighth (9 sends in 1s), so one or two lost datagrams never fail the check' -r
complete -c check-sip -l ca-file -d 'TLS: trust the CA certificates in this PEM file instead of the system\'s store' -r -F
complete -c check-sip -l sni -d 'TLS: send NAME as SNI and verify the certificate against it, instead of the target\'s host (a check by address of a server whose certificate names the service)' -r
complete -c check-sip -l cert -d 'TLS: a client certificate chain (PEM), for servers that require one; with --key' -r -F
complete -c check-sip -l key -d 'TLS: the client certificate\'s key (PEM, not encrypted); with --cert' -r -F
complete -c check-sip -l min-cert-days -d 'TLS: unhealthy when the server\'s certificate ends in fewer than DAYS days. Off by default: both nodes of a pair usually share a certificate, so it would not help a failover; the days left are in the JSON details and nagios perfdata either way' -r
complete -c check-sip -s t -l timeout -d 'Hard end-to-end deadline over resolve, connect, send and receive (e.g. 800ms, 2s). The process exits by then whatever the server does' -r
complete -c check-sip -l source -d 'Local address to connect from (LVS and VIP-on-loopback setups)' -r
complete -c check-sip -l format -d 'Output: one text line, one JSON object, or the text line with Nagios exit statuses' -r -f -a "text\t'One monitoring-plugins style line; exit 0 healthy, 1 otherwise'
json\t'One JSON object on one line; exit 0 healthy, 1 otherwise'
nagios\t'The text line with Nagios/Icinga exit statuses: 0 OK, 2 CRITICAL, 3 UNKNOWN'"
complete -c check-sip -l log -d 'Where log records go; auto = journald when not on a terminal and journald runs' -r -f -a "auto\t'journald when stderr is not a terminal and the journal socket exists, else stderr; on a terminal without -v, nothing beyond the status line'
journald\t'The journal (native protocol), falling back to stderr if its socket is missing'
stderr\t'Standard error'
none\t'No log records at all'"
complete -c check-sip -l only-if-master -d 'Check only while ka-notify\'s state file says this node is MASTER for the VRRP instance (or sync group) NAME; otherwise print SKIPPED and exit 0. A missing or corrupt state file counts as not MASTER (logged as a warning)' -r
complete -c check-sip -l state-dir -d 'Where ka-notify keeps its state files (for --only-if-master)' -r -F
complete -c check-sip -l insecure -d 'TLS: do not verify the server\'s certificate (the status line says so)'
complete -c check-sip -s v -l verbose -d 'More log detail: -v shows each stage, -vv the bytes on the wire'
complete -c check-sip -s h -l help -d 'Print help (see more with \'--help\')'
complete -c check-sip -s V -l version -d 'Print version'
