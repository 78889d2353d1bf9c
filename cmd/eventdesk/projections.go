package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/eventdesk/eventdesk/eventstore/postgres"
	"github.com/eventdesk/eventdesk/projections"
)

// allProjections is every read model the engine maintains. Names are
// persisted checkpoints: renaming one replays everything.
func allProjections() []projections.Projection {
	return []projections.Projection{projections.Tickets{}, projections.Contacts{}, projections.Deals{}, projections.Outbox{}}
}

func projectionsCmd(c *cli) *cobra.Command {
	root := &cobra.Command{Use: "projections", Short: "Inspect and rebuild read models"}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show each projection's position and lag behind the log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRunner(cmd.Context(), c, func(r *projections.Runner) error {
				sts, err := r.Status(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tPOSITION\tHEAD\tLAG")
				for _, s := range sts {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s.Name, s.Position, s.Head, s.Lag)
				}
				return tw.Flush()
			})
		},
	}
	rebuild := &cobra.Command{
		Use:   "rebuild NAME",
		Short: "Replay the log into shadow tables, then swap them in atomically",
		Long: "Rebuild replays the whole log into shadow copies of the projection's tables while the\n" +
			"live ones keep serving (and a running server keeps them current), then swaps them in\n" +
			"one transaction. Progress goes to stderr: a bar on a terminal, lines otherwise.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRunner(cmd.Context(), c, func(r *projections.Runner) error {
				start := time.Now()
				report := progressReporter(c.Stderr)
				if err := r.Rebuild(cmd.Context(), args[0], report); err != nil {
					return err
				}
				fmt.Fprintf(c.Stdout, "rebuilt %s in %s\n", args[0], time.Since(start).Round(time.Millisecond))
				return nil
			})
		},
	}
	root.AddCommand(status, rebuild)
	return root
}

// progressReporter shows rebuild progress on w: a bar with rate and ETA
// on a terminal, a plain line every second otherwise.
func progressReporter(w io.Writer) func(projections.Progress) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		return func(p projections.Progress) {
			if bar == nil {
				bar = progressbar.NewOptions64(p.Total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("rebuild"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
					progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
			}
			bar.ChangeMax64(p.Total)
			_ = bar.Set64(p.Done)
			if p.Done >= p.Total {
				_ = bar.Finish()
			}
		}
	}
	var last time.Time
	return func(p projections.Progress) {
		if time.Since(last) < time.Second && p.Done < p.Total {
			return
		}
		last = time.Now()
		rate := float64(p.Done) / max(p.Elapsed.Seconds(), 1e-9)
		eta := "-"
		if rate > 0 {
			eta = (time.Duration(float64(p.Total-p.Done)/rate) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(w, "rebuild: %d/%d events, %.0f events/s, eta %s\n", p.Done, p.Total, rate, eta)
	}
}

func withRunner(ctx context.Context, c *cli, fn func(*projections.Runner) error) error {
	return withStore(ctx, c, func(db *database, store *postgres.Store) error {
		return fn(projections.NewRunner(db.DB.DB, store, store, c.Log, c.Cfg.PollInterval, allProjections()...))
	})
}
