package config

// String is the proxy_http_version value.
func (v HTTPVersion) String() string {
	if v == HTTP11 {
		return "1.1"
	}
	return "1.0"
}
