package main

import (
	"strings"
	"testing"
)

func TestListenerConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	p := parser{getenv: env()}
	if u, proxies := listenerConfig(&p); u != "http://localhost:8080" || len(proxies) != 0 || len(p.errs) != 0 {
		t.Errorf("defaults = %q, %v, %v", u, proxies, p.errs)
	}
	p = parser{getenv: env("EVENTDESK_PUBLIC_URL", "https://desk.example.com/", "EVENTDESK_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16,::1")}
	u, proxies := listenerConfig(&p)
	if u != "https://desk.example.com" || len(proxies) != 3 || proxies[0].String() != "10.0.0.1/32" || proxies[2].String() != "::1/128" || len(p.errs) != 0 {
		t.Errorf("got %q, %v, %v", u, proxies, p.errs)
	}
	p = parser{getenv: env("EVENTDESK_PUBLIC_URL", "desk.example.com", "EVENTDESK_TRUSTED_PROXIES", "10.0.0.300")}
	listenerConfig(&p)
	if len(p.errs) != 2 || !strings.Contains(p.errs[0].Error(), "EVENTDESK_PUBLIC_URL") || !strings.Contains(p.errs[1].Error(), "EVENTDESK_TRUSTED_PROXIES") {
		t.Errorf("errors = %v, want one per variable", p.errs)
	}
}
