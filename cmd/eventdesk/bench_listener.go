package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/domain"
	"github.com/eventdesk/eventdesk/domain/agent"
	"github.com/eventdesk/eventdesk/domain/listener"
	"github.com/eventdesk/eventdesk/eventstore/postgres/storebench"
)

// listenerActions is how many add-contact actions one benchmark delivery
// carries.
const listenerActions = 10

// listenerClients is how many clients deliver at once (issue 12: 16).
const listenerClients = 16

// listenerBench measures the webhook listener (figure group "listener"):
// deliveries of listenerActions add-contact actions each, over HTTP at
// listenerClients clients — actions/s and the p99 of a delivery — beside native
// contact creates (one contact per request) by the same clients in the
// same run.
func listenerBench(ctx context.Context, c *cli, o benchOptions, say func(string)) ([]storebench.Figure, error) {
	db, drop, err := scratch(ctx, c, "listener")
	if err != nil {
		return nil, err
	}
	defer drop()
	b, err := startBenchServer(ctx, c, db, "bench-listener")
	if err != nil {
		return nil, err
	}
	defer b.close()
	e, tenant := b.e, b.tenant
	m := app.Meta{By: domain.Actor{Kind: domain.ActorIntegration, ID: "api_key"}, Source: domain.SourceAPI}
	const sender = "sender@bench.example"
	if _, _, err := e.Agents.Create(ctx, tenant.ID, agent.CreateAgent{Email: sender, Name: "Sender", Role: agent.Admin}, m); err != nil {
		return nil, err
	}
	l, err := e.Listeners.Create(ctx, tenant.ID, listener.Settings{Name: "bench", Enabled: true, RateLimit: listener.MaxRateLimit}, m)
	if err != nil {
		return nil, err
	}
	hook := app.ListenerPath + l.Secret
	client := b.client(listenerClients)
	defer client.close()

	var seq atomic.Int64
	contact := func(n int64) string {
		return fmt.Sprintf(`{"name":"Customer %d","emails":[{"type":"Work","value":"c%d@example.com"}]}`, n, n)
	}
	say(fmt.Sprintf("HTTP: listener deliveries of %d add-contact actions vs native contact creates, %d clients", listenerActions, listenerClients))
	if err := storebench.Settle(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	deliveries, err := storebench.Measure(ctx, "http_listener_delivery", listenerClients, o.duration, func(ctx context.Context, w, _ int) error {
		var b strings.Builder
		b.WriteString(`{"senderUser":"` + sender + `","data":[`)
		for i := range listenerActions {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"actionType":"add-contact","data":` + contact(seq.Add(1)) + `}`)
		}
		b.WriteString(`]}`)
		status, rb, err := client.post(ctx, w, hook, []byte(b.String()))
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("POST %s: %d %s", app.ListenerPath, status, rb)
		}
		var res struct {
			Results []struct{ Status string }
		}
		if err := json.Unmarshal(rb, &res); err != nil || len(res.Results) != listenerActions || res.Results[0].Status != "created" {
			return fmt.Errorf("delivery answered %s", rb)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	deliveries.Unit = "deliveries/s"
	if err := storebench.Settle(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	natives, err := storebench.Measure(ctx, "http_contact_create_beside_listener", listenerClients, o.duration, func(ctx context.Context, w, _ int) error {
		status, rb, err := client.post(ctx, w, "/v1/contacts", []byte(contact(seq.Add(1))))
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("POST /v1/contacts: %d %s", status, rb)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	natives.Unit = "contacts/s"
	actions := deliveries.Rate * listenerActions
	deliveries.Extra = map[string]float64{"actions_per_s": actions, "native_contacts_per_s": natives.Rate, "ratio": actions / natives.Rate}
	return []storebench.Figure{deliveries, natives}, nil
}
