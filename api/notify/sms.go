package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/api/app"
)

// IdempotencyHeader is the header that carries a message's idempotency
// key; Twilio-compatible providers send a message once per key.
const IdempotencyHeader = "I-Twilio-Idempotency-Token"

// Twilio sends SMS through Twilio-compatible HTTP APIs: POST
// {base}/2010-04-01/Accounts/{sid}/Messages.json with the form fields To,
// From and Body, basic auth sid:token. It is safe for concurrent use.
type Twilio struct {
	// Client is the HTTP client; nil means one with a 30 s timeout.
	Client *http.Client
}

var _ app.SMSSender = (*Twilio)(nil)

// SendSMS implements app.SMSSender. A 4xx answer (the provider refuses
// this message: a bad number, a bad sender) is app.ErrUndeliverable, except
// 408 and 429; 5xx answers and transport errors may be retried. The answer's
// "sid" is the provider id.
func (t *Twilio) SendSMS(ctx context.Context, p app.SMSConfig, s app.SMS) (string, error) {
	c := t.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	endpoint := strings.TrimRight(p.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(p.AccountSID) + "/Messages.json"
	form := url.Values{"To": {s.To}, "From": {p.From}, "Body": {s.Body}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms provider: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(IdempotencyHeader, s.IdempotencyKey)
	req.SetBasicAuth(p.AccountSID, p.AuthToken)
	res, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("sms provider: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		msg := fmt.Sprintf("sms provider answered %s: %.300s", res.Status, strings.TrimSpace(string(body)))
		if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != 408 && res.StatusCode != 429 {
			return "", fmt.Errorf("%s: %w", msg, app.ErrUndeliverable)
		}
		return "", fmt.Errorf("%s", msg)
	}
	var ans struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal(body, &ans) // a provider that answers no sid still sent it
	return ans.SID, nil
}
