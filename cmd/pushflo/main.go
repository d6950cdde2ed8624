// Command pushflo is the pushflo server and its command-line client.
//
//	pushflo serve      run a node (the default)
//	pushflo cluster    start a local N-node cluster, or manage members
//	pushflo publish    publish a message over REST
//	pushflo history    print a channel's history
//	pushflo subscribe  print a channel's messages as they arrive
//	pushflo backup     download a consistent backup from a running node
//	pushflo restore    build a new node's data directory from a backup
//	pushflo healthcheck  exit 0 when a node answers /ready (container HEALTHCHECK)
//	pushflo recover    rewrite a stopped node's cluster after a lost quorum
//	pushflo version    print the version and commit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	resolveVersion()
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch run, ok := commands[cmd]; {
	case ok:
		err = run(args)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		usage()
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue usageError
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "pushflo:", ue.msg)
		usage()
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "pushflo:", err)
		os.Exit(1)
	}
}

// commands runs each subcommand, by name, on the arguments after its name.
var commands = map[string]func(args []string) error{
	"serve":       func(args []string) error { return runServe(context.Background(), args, os.Stderr) },
	"cluster":     runCluster,
	"publish":     runPublish,
	"history":     runHistory,
	"subscribe":   runSubscribe,
	"version":     runVersion,
	"healthcheck": runHealthcheck,
	"backup":      runBackup,
	"restore":     runRestore,
	"recover":     func(args []string) error { return runRecover(args, os.Stdout) },
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage() {
	fmt.Fprint(os.Stderr, `usage: pushflo <command> [flags]

commands:
  serve       run a node (default): pushflo serve --data-dir ./data
  cluster     pushflo cluster --nodes 3        start a local cluster
              pushflo cluster status|join|remove  manage members
  publish     pushflo publish CHANNEL '{"status":"shipped"}' [--event TYPE]
  history     pushflo history CHANNEL [--page N --page-size N]
  subscribe   pushflo subscribe CHANNEL [--from ID]
  backup      pushflo backup -o FILE [--server URL]   consistent backup of a running cluster
  restore     pushflo restore --data-dir DIR [--node-id ID --raft-addr ADDR] FILE   new node from a backup
  healthcheck pushflo healthcheck [--url http://127.0.0.1:8080/ready]  exit 0 when ready
  recover     pushflo recover --data-dir DIR --node-id ID [--peers id=host:port,…] [--dry-run]
              offline: make a stopped node of a cluster that lost its quorum
              for good start in a cluster of --peers (default: itself alone)
  version     print the version and commit

Every flag may also be set as an environment variable PUSHFLO_<FLAG>, e.g.
PUSHFLO_HTTP_ADDR=0.0.0.0:8080. Run 'pushflo <command> -h' for its flags.
`)
}

// newFlagSet makes a command's flag set; parseFlags fills it from the
// command line, the environment and, for serve, the config file.
func newFlagSet(name string) *flag.FlagSet {
	return flag.NewFlagSet(name, flag.ContinueOnError)
}
