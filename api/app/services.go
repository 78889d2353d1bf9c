package app

import (
	"database/sql"
	"time"

	"github.com/eventdesk/eventdesk/eventstore"
)

// Config is what the application services need besides the store.
type Config struct {
	// FilesDir is where attachments are kept, content-addressed.
	FilesDir string
	// MaxUploadBytes bounds one attachment.
	MaxUploadBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SMS is the SMS provider of tenants that configure none
	// (EVENTDESK_SMS_*); zero: none, such tenants send on trial.
	SMS SMSConfig
}

// Services are the application services of one engine, built over one
// store and one database. cmd and the test harness (api/apitest) both build
// them with NewServices, so tests run exactly what production wires.
type Services struct {
	Tickets   *Tickets
	Tenants   *Tenants
	Files     *Files
	Forms     *Forms
	Rooms     *VideoRooms
	Agents    *Agents
	Groups    *Groups
	CRM       *CRM
	Pipelines *Pipelines
	Deals     *Deals
	Customers *Customers
	Outbox    *Outbox
	// Listeners are the webhook listeners of seed 004.
	Listeners *Listeners
}

// NewServices wires every application service over store; db holds what
// the log does not (ticket number sequences, credentials, the attachment
// index).
func NewServices(store eventstore.Store, db *sql.DB, cfg Config) *Services {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Services{Tickets: NewTickets(store, db, now), Tenants: NewTenants(db, store, now)}
	s.Files = NewFiles(cfg.FilesDir, cfg.MaxUploadBytes, db, s.Tickets)
	s.Forms = NewForms(store, s.Tickets, now)
	s.Rooms = NewVideoRooms(store, s.Tickets, s.Tenants, now)
	s.Agents = NewAgents(store, s.Tenants, now)
	s.Groups = NewGroups(store, s.Agents, now)
	s.CRM = NewCRM(store, now)
	s.Pipelines = NewPipelines(store, now)
	s.Customers = NewCustomers(store, db, s.CRM, s.Agents, s.Groups, now)
	s.Customers.relink = relinkTickets(s.Tickets, s.Customers)
	s.Deals = NewDeals(store, s.CRM, s.Pipelines, s.Agents, s.Groups, now)
	s.Deals.resolve, s.Deals.link = s.Customers.resolveCustomers, s.Customers.dealLinks
	s.Outbox = NewOutbox(store, db, s.CRM, cfg.SMS, now)
	s.Listeners = NewListeners(store, db, now)
	return s
}
