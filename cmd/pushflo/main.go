// Command pushflo is the pushflo server and its command-line client.
//
//	pushflo serve      run a node (the default)
//	pushflo cluster    start a local N-node cluster, or manage members
//	pushflo publish    publish a message over REST
//	pushflo history    print a channel's history
//	pushflo subscribe  print a channel's messages as they arrive
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(args)
	case "cluster":
		err = runCluster(args)
	case "publish":
		err = runPublish(args)
	case "history":
		err = runHistory(args)
	case "subscribe":
		err = runSubscribe(args)
	case "version":
		fmt.Println("pushflo", version)
	case "help", "-h", "--help":
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
  version     print the version

Every flag may also be set as an environment variable PUSHFLO_<FLAG>, e.g.
PUSHFLO_HTTP_ADDR=0.0.0.0:8080. Run 'pushflo <command> -h' for its flags.
`)
}

// newFlagSet makes a flag set whose flags default to PUSHFLO_<FLAG> from
// the environment when set there.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return fs
}

// parseFlags applies environment defaults, then parses args.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := "PUSHFLO_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Flags may come before, between or after the positional arguments
	// (pushflo publish CHANNEL '{…}' --event x): parse, set the first
	// positional aside, and go on with the rest.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}
