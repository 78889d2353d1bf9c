package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func migrateCmd(a *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database if missing and apply pending migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := openDatabase(cmd.Context(), a.Cfg, a.Log)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "applied %d migration(s) to %s; the schema is current\n", db.Applied, redact(db.URL))
			sctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), a.Cfg.ShutdownTimeout)
			defer cancel()
			return db.Close(sctx)
		},
	}
}
