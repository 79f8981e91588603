# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_keepalived_checkd_global_optspecs
    string join \n c/config= v/verbose log= h/help V/version
end

function __fish_keepalived_checkd_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_keepalived_checkd_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_keepalived_checkd_using_subcommand
    set -l cmd (__fish_keepalived_checkd_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -s c -l config -d 'The configuration file (TOML)' -r -F
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -l log -d 'Where log records go; auto = journald when not on a terminal and journald runs' -r -f -a "auto\t'journald when stderr is not a terminal and the journal socket exists, else stderr; on a terminal without -v, nothing beyond the status line'
journald\t'The journal (native protocol), falling back to stderr if its socket is missing'
stderr\t'Standard error'
none\t'No log records at all'"
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -s v -l verbose -d 'More log detail: -v shows each stage, -vv the bytes on the wire'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -s V -l version -d 'Print version'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -f -a "check-config" -d 'Validate a configuration: every error as FILE:LINE: reason, exit 1 if there is one'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -f -a "status" -d 'Print each check\'s verdict, since when, the last probe\'s status line and rtt, as the running daemon knows them'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand check-config" -s h -l help -d 'Print help'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand status" -l socket -d 'The daemon\'s status socket (default: the configuration\'s status_socket, or /run/keepalived-checks/checkd.sock)' -r -F
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand status" -s c -l config -d 'The configuration file naming the status socket' -r -F
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand status" -l format -d 'Output: lines for people, or one JSON object' -r -f -a "text\t'Two lines per check'
json\t'One JSON object'"
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand help; and not __fish_seen_subcommand_from check-config status help" -f -a "check-config" -d 'Validate a configuration: every error as FILE:LINE: reason, exit 1 if there is one'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand help; and not __fish_seen_subcommand_from check-config status help" -f -a "status" -d 'Print each check\'s verdict, since when, the last probe\'s status line and rtt, as the running daemon knows them'
complete -c keepalived-checkd -n "__fish_keepalived_checkd_using_subcommand help; and not __fish_seen_subcommand_from check-config status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
