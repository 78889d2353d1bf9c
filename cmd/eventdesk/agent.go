package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/group"
	"github.com/eventdesk/eventdesk/eventstore/postgres"
)

// byCLI is who the CLI's writes are attributed to.
var byCLI = app.Meta{By: domain.Actor{Kind: domain.ActorSystem, ID: "cli"}, Source: domain.SourceAPI}

func agentCmd(c *cli) *cobra.Command {
	root := &cobra.Command{Use: "agent", Short: "Create a tenant's agents"}
	var tenant, email, name, role string
	create := &cobra.Command{
		Use:   "create --tenant ID --email E --name N [--role admin|agent]",
		Short: "Create an agent; prints it as one JSON object",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withMembers(cmd.Context(), c, tenant, func(as *app.Agents, _ *app.Groups) error {
				a, _, err := as.Create(cmd.Context(), tenant, agent.CreateAgent{Email: email, Name: name, Role: agent.Role(role)}, byCLI)
				if err != nil {
					return err
				}
				return printJSON(c, a)
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "the tenant's id (required)")
	create.Flags().StringVar(&email, "email", "", "the agent's e-mail address, unique in the tenant (required)")
	create.Flags().StringVar(&name, "name", "", "the agent's name (required)")
	create.Flags().StringVar(&role, "role", "agent", "admin or agent")
	for _, f := range []string{"tenant", "email", "name"} {
		_ = create.MarkFlagRequired(f)
	}
	root.AddCommand(create)
	return root
}

func groupCmd(c *cli) *cobra.Command {
	root := &cobra.Command{Use: "group", Short: "Create a tenant's groups of agents"}
	var tenant, name string
	var members []string
	create := &cobra.Command{
		Use:   "create --tenant ID --name N [--member AGENT_ID]...",
		Short: "Create a group; prints it as one JSON object",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withMembers(cmd.Context(), c, tenant, func(_ *app.Agents, gs *app.Groups) error {
				g, _, err := gs.Create(cmd.Context(), tenant, group.CreateGroup{Name: name, Members: members}, byCLI)
				if err != nil {
					return err
				}
				return printJSON(c, g)
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "the tenant's id (required)")
	create.Flags().StringVar(&name, "name", "", "the group's name, unique in the tenant (required)")
	create.Flags().StringArrayVar(&members, "member", nil, "an agent id to add (repeatable)")
	for _, f := range []string{"tenant", "name"} {
		_ = create.MarkFlagRequired(f)
	}
	root.AddCommand(create)
	return root
}

// withMembers opens the store and runs fn with the agent and group
// services, once tenant is known to exist.
func withMembers(ctx context.Context, c *cli, tenant string, fn func(*app.Agents, *app.Groups) error) error {
	return withStore(ctx, c, func(db *database, store *postgres.Store) error {
		ts := app.NewTenants(db.DB.DB, store, time.Now)
		if _, err := ts.ByID(ctx, tenant); err != nil {
			return domain.NotFoundf("no tenant %q", tenant)
		}
		as := app.NewAgents(store, ts, time.Now)
		return fn(as, app.NewGroups(store, as, time.Now))
	})
}
