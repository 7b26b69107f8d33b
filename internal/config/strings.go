package config

import "strings"

func (k LocationKind) String() string {
	switch k {
	case LocPrefix:
		return ""
	case LocExact:
		return "="
	case LocPrefixNoRegex:
		return "^~"
	case LocRegex:
		return "~"
	case LocRegexCaseless:
		return "~*"
	case LocNamed:
		return "@"
	}
	return "?"
}

func (m BalanceMethod) String() string {
	switch m {
	case RoundRobin:
		return "round_robin"
	case LeastConn:
		return "least_conn"
	case IPHash:
		return "ip_hash"
	case Hash:
		return "hash"
	case HashConsistent:
		return "hash consistent"
	case Random:
		return "random"
	case RandomTwo:
		return "random two"
	case RandomTwoLeastConn:
		return "random two least_conn"
	}
	return "?"
}

func (v VerifyClient) String() string {
	for _, e := range verifyClientEnum {
		if e.val == uint64(v) {
			return e.name
		}
	}
	return "?"
}

func (v HTTPVersion) String() string {
	if v == HTTP11 {
		return "1.1"
	}
	return "1.0"
}

// String lists the protocols as nginx's directive would, e.g. "TLSv1.2 TLSv1.3".
func (p Protocols) String() string { return strings.Join(protocolNames(p), " ") }

// String lists the conditions as proxy_next_upstream would.
func (n NextUpstream) String() string {
	var out []string
	for _, e := range nextUpstreamBits {
		if uint64(n)&e.val != 0 {
			out = append(out, e.name)
		}
	}
	return strings.Join(out, " ")
}
