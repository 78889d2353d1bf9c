package main

import (
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/eventdesk/eventdesk/api/app"
	"github.com/eventdesk/eventdesk/api/notify"
	"github.com/eventdesk/eventdesk/eventstore"
)

// smsDefaults is the SMS provider of tenants that configure none.
type smsDefaults = app.SMSConfig

// outboxConfig reads EVENTDESK_SMTP_URL and the EVENTDESK_SMS_* defaults.
func outboxConfig(p *parser) (smtpURL string, sms smsDefaults) {
	smtpURL = p.str("EVENTDESK_SMTP_URL", "")
	if smtpURL != "" {
		_, err := notify.NewSMTP(smtpURL, nil)
		p.check("EVENTDESK_SMTP_URL", err)
	}
	sms = smsDefaults{BaseURL: p.str("EVENTDESK_SMS_BASE_URL", ""), AccountSID: p.str("EVENTDESK_SMS_ACCOUNT_SID", ""),
		AuthToken: p.str("EVENTDESK_SMS_AUTH_TOKEN", ""), From: p.str("EVENTDESK_SMS_FROM", "")}
	if sms != (smsDefaults{}) && !sms.Configured() {
		p.check("EVENTDESK_SMS_*", errors.New("set all four of EVENTDESK_SMS_BASE_URL, EVENTDESK_SMS_ACCOUNT_SID, EVENTDESK_SMS_AUTH_TOKEN and EVENTDESK_SMS_FROM, or none"))
	}
	return smtpURL, sms
}

// newOutboxSender wires the outbox's sender: SMTP when EVENTDESK_SMTP_URL
// is set, else .eml files under DataDir/outbox; SMS through the
// Twilio-compatible API; trial SMS as files beside the e-mails.
func newOutboxSender(s *app.Services, db *sql.DB, consumer eventstore.Consumer, cfg config, log *slog.Logger) *app.OutboxSender {
	var mail app.Mailer
	var trial app.SMSSender
	files, err := notify.NewFiles(filepath.Join(cfg.DataDir, "outbox"))
	if err != nil {
		// Attempts fail (and are retried, then dead-lettered) until the
		// directory can be made; the rest of the engine runs.
		log.Error("outbox directory unusable; e-mails without SMTP and trial SMS will fail", "err", err)
	} else {
		mail, trial = files, files
	}
	if cfg.SMTPURL != "" {
		m, err := notify.NewSMTP(cfg.SMTPURL, nil)
		if err != nil { // loadConfig checked it
			log.Error("EVENTDESK_SMTP_URL unusable", "err", err)
		} else {
			mail = m
		}
	}
	return app.NewOutboxSender(s, db, consumer, mail, &notify.Twilio{}, trial, log, cfg.PollInterval)
}
