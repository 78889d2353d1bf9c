package main

import (
	"strings"
	"testing"
)

func TestLoadConfig_Outbox(t *testing.T) {
	got, err := loadConfig(env(map[string]string{
		"EVENTDESK_SMTP_URL":        "smtps://desk:pw@mail.example:465?from=desk@example.com",
		"EVENTDESK_SMS_BASE_URL":    "https://api.twilio.com",
		"EVENTDESK_SMS_ACCOUNT_SID": "AC1",
		"EVENTDESK_SMS_AUTH_TOKEN":  "tok",
		"EVENTDESK_SMS_FROM":        "+15005550006",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := smsDefaults{BaseURL: "https://api.twilio.com", AccountSID: "AC1", AuthToken: "tok", From: "+15005550006"}
	if got.SMTPURL != "smtps://desk:pw@mail.example:465?from=desk@example.com" || got.SMS != want {
		t.Errorf("SMTPURL %q, SMS %+v; want the variables", got.SMTPURL, got.SMS)
	}
	if got, err := loadConfig(env(nil)); err != nil || got.SMTPURL != "" || got.SMS.Configured() {
		t.Errorf("defaults: SMTPURL %q, SMS %+v, %v; want none (files and the SMS trial)", got.SMTPURL, got.SMS, err)
	}
	for name, vars := range map[string]map[string]string{
		"EVENTDESK_SMTP_URL: ": {"EVENTDESK_SMTP_URL": "mail.example:587"},
		"EVENTDESK_SMS_*: ":    {"EVENTDESK_SMS_BASE_URL": "https://api.twilio.com", "EVENTDESK_SMS_FROM": "+1"},
	} {
		if _, err := loadConfig(env(vars)); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("loadConfig(%v) = %v, want an error starting %q", vars, err, name)
		}
	}
}
