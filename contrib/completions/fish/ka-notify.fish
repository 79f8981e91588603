# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ka_notify_global_optspecs
    string join \n state-dir= instance= group= marker= history= service= start-on= stop-on= on-master= on-backup= on-fault= on-stop= action-timeout= v/verbose log= h/help V/version
end

function __fish_ka_notify_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ka_notify_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ka_notify_using_subcommand
    set -l cmd (__fish_ka_notify_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ka-notify -n "__fish_ka_notify_needs_command" -l state-dir -d 'Where state files are written (under /run, so no MASTER survives a reboot)' -r -F
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l instance -d 'The instance this invocation is about (with a lone STATE); in the other modes, only this instance\'s events drive the marker and actions (all are recorded)' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l group -d 'As --instance, for a sync group' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l marker -d 'A file that exists only while MASTER (what the seed\'s notify script touched)' -r -F
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l history -d 'Append one line per event to this file' -r -F
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l service -d 'A systemd unit to start and stop through systemctl' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l start-on -d 'States that start --service' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l stop-on -d 'States that stop --service' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l on-master -d 'Run this command on MASTER: an absolute path and arguments, split like keepalived splits scripts (quotes keep spaces), run without a shell. Repeatable' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l on-backup -d 'As --on-master, on BACKUP' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l on-fault -d 'As --on-master, on FAULT' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l on-stop -d 'As --on-master, on STOP' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l action-timeout -d 'Longest any one action may run; then its process group is killed (a stop of --service escalates to `systemctl kill --signal=SIGKILL UNIT`)' -r
complete -c ka-notify -n "__fish_ka_notify_needs_command" -l log -d 'Where log records go; auto = journald when not on a terminal and journald runs' -r -f -a "auto\t'journald when stderr is not a terminal and the journal socket exists, else stderr; on a terminal without -v, nothing beyond the status line'
journald\t'The journal (native protocol), falling back to stderr if its socket is missing'
stderr\t'Standard error'
none\t'No log records at all'"
complete -c ka-notify -n "__fish_ka_notify_needs_command" -s v -l verbose -d 'More log detail: -v shows each stage, -vv the bytes on the wire'
complete -c ka-notify -n "__fish_ka_notify_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ka-notify -n "__fish_ka_notify_needs_command" -s V -l version -d 'Print version'
complete -c ka-notify -n "__fish_ka_notify_needs_command" -a "fifo" -d 'Read events from keepalived\'s notify FIFO, in order, until SIGTERM or EOF'
complete -c ka-notify -n "__fish_ka_notify_needs_command" -a "status" -d 'Print every instance\'s and group\'s recorded state, age and priority'
complete -c ka-notify -n "__fish_ka_notify_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l state-dir -d 'Where state files are written (under /run, so no MASTER survives a reboot)' -r -F
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l instance -d 'The instance this invocation is about (with a lone STATE); in the other modes, only this instance\'s events drive the marker and actions (all are recorded)' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l group -d 'As --instance, for a sync group' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l marker -d 'A file that exists only while MASTER (what the seed\'s notify script touched)' -r -F
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l history -d 'Append one line per event to this file' -r -F
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l service -d 'A systemd unit to start and stop through systemctl' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l start-on -d 'States that start --service' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l stop-on -d 'States that stop --service' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l on-master -d 'Run this command on MASTER: an absolute path and arguments, split like keepalived splits scripts (quotes keep spaces), run without a shell. Repeatable' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l on-backup -d 'As --on-master, on BACKUP' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l on-fault -d 'As --on-master, on FAULT' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l on-stop -d 'As --on-master, on STOP' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l action-timeout -d 'Longest any one action may run; then its process group is killed (a stop of --service escalates to `systemctl kill --signal=SIGKILL UNIT`)' -r
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -l log -d 'Where log records go; auto = journald when not on a terminal and journald runs' -r -f -a "auto\t'journald when stderr is not a terminal and the journal socket exists, else stderr; on a terminal without -v, nothing beyond the status line'
journald\t'The journal (native protocol), falling back to stderr if its socket is missing'
stderr\t'Standard error'
none\t'No log records at all'"
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -s v -l verbose -d 'More log detail: -v shows each stage, -vv the bytes on the wire'
complete -c ka-notify -n "__fish_ka_notify_using_subcommand fifo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ka-notify -n "__fish_ka_notify_using_subcommand status" -l state-dir -d 'Where the state files are' -r -F
complete -c ka-notify -n "__fish_ka_notify_using_subcommand status" -s h -l help -d 'Print help'
complete -c ka-notify -n "__fish_ka_notify_using_subcommand help; and not __fish_seen_subcommand_from fifo status help" -f -a "fifo" -d 'Read events from keepalived\'s notify FIFO, in order, until SIGTERM or EOF'
complete -c ka-notify -n "__fish_ka_notify_using_subcommand help; and not __fish_seen_subcommand_from fifo status help" -f -a "status" -d 'Print every instance\'s and group\'s recorded state, age and priority'
complete -c ka-notify -n "__fish_ka_notify_using_subcommand help; and not __fish_seen_subcommand_from fifo status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
