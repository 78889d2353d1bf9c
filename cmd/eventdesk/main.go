// Command eventdesk runs the Eventdesk engine: `eventdesk serve` serves
// HTTP (the native API, the vendor-compatible surfaces, health and
// metrics) and runs the projections; `migrate` brings the schema up to
// date; `tenant create|list` manages tenants and their credentials;
// `agent create` and `group create` add a tenant's members;
// `projections status|rebuild` inspects and rebuilds read models; `bench`
// measures. It is configured only through EVENTDESK_* environment
// variables (see README).
//
// This package is the only one that wires concrete implementations
// together; nothing imports it.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// subcommands builds each subcommand. Adding one is one line here and a
// file with a func(*cli) *cobra.Command beside this one.
var subcommands = []func(*cli) *cobra.Command{
	serveCmd,
	migrateCmd,
	tenantCmd,
	agentCmd,
	groupCmd,
	projectionsCmd,
	benchCmd,
	benchSocketsCmd,
	testclusterCmd,
	streamCmd,
	drillCmd,
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "eventdesk:", line)
		}
		os.Exit(1)
	}
}

// cli is what every subcommand is given. Cfg and Log are set after flag
// parsing, before the subcommand's RunE runs; subcommands must not read the
// environment themselves, nor set a PersistentPreRunE of their own (it
// would replace the root's, which loads Cfg).
type cli struct {
	Cfg    config
	Log    *slog.Logger // JSON to stderr, at Cfg.LogLevel
	Stdout io.Writer    // for a subcommand's results
	Stderr io.Writer
}

// run executes the command line args (without the program name). The
// context ends on SIGINT or SIGTERM; a second signal kills the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // restore default handling for the second signal

	a := &cli{Stdout: stdout, Stderr: stderr}
	root := &cobra.Command{
		Use:           "eventdesk",
		Short:         "Event-sourced ticket and CRM engine",
		Long:          "Eventdesk is an event-sourced ticket and CRM engine.\nIt is configured through EVENTDESK_* environment variables; see the README.",
		SilenceUsage:  true, // a failing command is not a usage error
		SilenceErrors: true, // main prints the error once
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Name() == "help" { // help works whatever the environment
				return nil
			}
			cfg, err := loadConfig(getenv)
			if err != nil {
				return err
			}
			a.Cfg = cfg
			a.Log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
			return nil
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, sub := range subcommands {
		root.AddCommand(sub(a))
	}
	return root.ExecuteContext(ctx)
}
