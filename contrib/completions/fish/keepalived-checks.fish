# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_keepalived_checks_global_optspecs
    string join \n h/help V/version
end

function __fish_keepalived_checks_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_keepalived_checks_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_keepalived_checks_using_subcommand
    set -l cmd (__fish_keepalived_checks_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c keepalived-checks -n "__fish_keepalived_checks_needs_command" -s h -l help -d 'Print help'
complete -c keepalived-checks -n "__fish_keepalived_checks_needs_command" -s V -l version -d 'Print version'
complete -c keepalived-checks -n "__fish_keepalived_checks_needs_command" -f -a "doctor" -d 'Read keepalived.conf and say what will silently go wrong'
complete -c keepalived-checks -n "__fish_keepalived_checks_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand doctor" -s f -l use-file -d 'keepalived\'s configuration file (as keepalived\'s -f)' -r -F
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand doctor" -l root -d 'Examine the system installed under DIR (an image, a container\'s root, a test): every path, link, user and group is looked up there' -r -F
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand doctor" -s i -l config-id -d 'keepalived\'s --config-id, which selects @ID lines (default: the short host name)' -r
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand doctor" -l checkd-config -d 'keepalived-checkd\'s configuration, for the track-file rules (ignored when absent)' -r -F
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand doctor" -l format -d 'Output: findings for people, or one JSON object' -r -f -a "text\t'One line per finding and a summary'
json\t'One JSON object'"
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand help; and not __fish_seen_subcommand_from doctor help" -f -a "doctor" -d 'Read keepalived.conf and say what will silently go wrong'
complete -c keepalived-checks -n "__fish_keepalived_checks_using_subcommand help; and not __fish_seen_subcommand_from doctor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
