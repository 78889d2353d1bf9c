package main

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// defaultPublicURL is where a newcomer's engine answers (EVENTDESK_PUBLIC_URL
// unset): the base of webhook listener URLs.
const defaultPublicURL = "http://localhost:8080"

// listenerConfig reads what the webhook listeners need:
// EVENTDESK_PUBLIC_URL, the absolute base of their URLs (http or https, no
// query), and EVENTDESK_TRUSTED_PROXIES, comma-separated addresses or
// CIDRs of the proxies whose X-Forwarded-For a listener's IP allow-list
// believes (none by default: the connection's address counts).
func listenerConfig(p *parser) (publicURL string, proxies []netip.Prefix) {
	publicURL = strings.TrimRight(p.str("EVENTDESK_PUBLIC_URL", defaultPublicURL), "/")
	if u, err := url.Parse(publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p.check("EVENTDESK_PUBLIC_URL", fmt.Errorf("%q is not an absolute http(s) URL (want e.g. https://desk.example.com)", publicURL))
	}
	for _, s := range strings.Split(p.str("EVENTDESK_TRUSTED_PROXIES", ""), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		var pr netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			pr, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				pr = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
		}
		if err != nil {
			p.check("EVENTDESK_TRUSTED_PROXIES", fmt.Errorf("%q is not an IP address or CIDR", s))
			continue
		}
		proxies = append(proxies, pr.Masked())
	}
	return publicURL, proxies
}
