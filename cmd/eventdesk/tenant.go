package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
)

// tenantCreated is what `tenant create` prints: the tenant and its
// credentials for every surface, shown this once (only hashes are kept).
type tenantCreated struct {
	app.Tenant
	app.Credentials
	// FyndBearer is the Authorization bearer token Fynd application
	// clients send: base64(application_id:application_token).
	FyndBearer string `json:"fynd_bearer"`
}

func tenantCmd(c *cli) *cobra.Command {
	root := &cobra.Command{Use: "tenant", Short: "Create and list tenants"}
	var name string
	create := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create a tenant; prints its id and credentials as one JSON object",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenants(cmd.Context(), c, func(ts *app.Tenants) error {
				t, creds, err := ts.Create(cmd.Context(), name)
				if err != nil {
					return err
				}
				bearer := base64.StdEncoding.EncodeToString([]byte(creds.FyndApplicationID + ":" + creds.FyndApplicationToken))
				return printJSON(c, tenantCreated{t, creds, bearer})
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "the tenant's name (required)")
	_ = create.MarkFlagRequired("name")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants as a JSON array",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withTenants(cmd.Context(), c, func(ts *app.Tenants) error {
				all, err := ts.List(cmd.Context())
				if err != nil {
					return err
				}
				if all == nil {
					all = []app.Tenant{}
				}
				return printJSON(c, all)
			})
		},
	}
	root.AddCommand(create, list)
	return root
}

func withTenants(ctx context.Context, c *cli, fn func(*app.Tenants) error) error {
	return withStore(ctx, c, func(db *database, store *postgres.Store) error {
		return fn(app.NewTenants(db.DB.DB, store, time.Now))
	})
}

// withStore opens the database and the store for a one-shot subcommand and
// closes them after fn.
func withStore(ctx context.Context, c *cli, fn func(*database, *postgres.Store) error) error {
	db, err := openDatabase(ctx, c.Cfg, c.Log)
	if err != nil {
		return err
	}
	store := postgres.New(db.DB, c.Log)
	err = fn(db, store)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.Cfg.ShutdownTimeout)
	defer cancel()
	store.Close()
	if cerr := db.Close(sctx); err == nil {
		err = cerr
	}
	return err
}

func printJSON(c *cli, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.Stdout, string(b))
	return err
}
