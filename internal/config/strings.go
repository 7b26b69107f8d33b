package config

import "strings"

// String is the ssl_verify_client word.
func (v VerifyClient) String() string {
	for _, e := range verifyClientEnum {
		if e.val == uint64(v) {
			return e.name
		}
	}
	return "?"
}

// String is the proxy_http_version value.
func (v HTTPVersion) String() string {
	if v == HTTP11 {
		return "1.1"
	}
	return "1.0"
}

// String lists the protocols as nginx's directive would, e.g. "TLSv1.2 TLSv1.3".
func (p Protocols) String() string { return strings.Join(protocolNames(p), " ") }
