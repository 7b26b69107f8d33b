package certs

import (
	"crypto/tls"
	"strings"
)

// cipher attribute bits, after OpenSSL's SSL_k*, SSL_a*, SSL_e*, SSL_m*.
const (
	kRSA uint32 = 1 << iota
	kECDHE
	aRSA
	aECDSA
	e3DES
	eRC4
	eAES128
	eAES256
	eAES128GCM
	eAES256GCM
	eCHACHA20
	mSHA1
	mSHA256
	mSHA384
	mAEAD
	sHIGH
	sMEDIUM
	sNotDefault
	vSSL3 // minimum protocol SSLv3
	vTLS1 // minimum protocol TLSv1
	vTLS12
	sFIPS
)

type cipherInfo struct {
	id      uint16
	name    string // OpenSSL name
	std     string // IANA name
	attrs   uint32
	bits    int
	insecur bool // no forward secrecy or a weak cipher
}

// cipherTable lists the TLS 1.2-and-below suites crypto/tls implements, in
// the order OpenSSL 3 ranks them before any rule string is applied (the
// order `openssl ciphers -v ALL` prints). RC4 suites are left out because
// OpenSSL 3 builds do not include them (no rule string can select them).
var cipherTable = []cipherInfo{
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", kECDHE | aECDSA | eAES256GCM | mAEAD | sHIGH | vTLS12 | sFIPS, 256, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", kECDHE | aRSA | eAES256GCM | mAEAD | sHIGH | vTLS12 | sFIPS, 256, false},
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", kECDHE | aECDSA | eCHACHA20 | mAEAD | sHIGH | vTLS12, 256, false},
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", kECDHE | aRSA | eCHACHA20 | mAEAD | sHIGH | vTLS12, 256, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", kECDHE | aECDSA | eAES128GCM | mAEAD | sHIGH | vTLS12 | sFIPS, 128, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", kECDHE | aRSA | eAES128GCM | mAEAD | sHIGH | vTLS12 | sFIPS, 128, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", kECDHE | aECDSA | eAES128 | mSHA256 | sHIGH | vTLS12 | sFIPS, 128, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", kECDHE | aRSA | eAES128 | mSHA256 | sHIGH | vTLS12 | sFIPS, 128, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", kECDHE | aECDSA | eAES256 | mSHA1 | sHIGH | vTLS1 | sFIPS, 256, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", kECDHE | aRSA | eAES256 | mSHA1 | sHIGH | vTLS1 | sFIPS, 256, false},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", kECDHE | aECDSA | eAES128 | mSHA1 | sHIGH | vTLS1 | sFIPS, 128, false},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", kECDHE | aRSA | eAES128 | mSHA1 | sHIGH | vTLS1 | sFIPS, 128, false},
	{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-RSA-DES-CBC3-SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", kECDHE | aRSA | e3DES | mSHA1 | sMEDIUM | sNotDefault | vTLS1 | sFIPS, 112, true},
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", kRSA | aRSA | eAES256GCM | mAEAD | sHIGH | vTLS12 | sFIPS, 256, true},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256", kRSA | aRSA | eAES128GCM | mAEAD | sHIGH | vTLS12 | sFIPS, 128, true},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256", kRSA | aRSA | eAES128 | mSHA256 | sHIGH | vTLS12 | sFIPS, 128, true},
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA", kRSA | aRSA | eAES256 | mSHA1 | sHIGH | vSSL3 | sFIPS, 256, true},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", kRSA | aRSA | eAES128 | mSHA1 | sHIGH | vSSL3 | sFIPS, 128, true},
	{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", kRSA | aRSA | e3DES | mSHA1 | sMEDIUM | sNotDefault | vSSL3 | sFIPS, 112, true},
}

const allCiphers = ^uint32(0)

// cipherAliases maps OpenSSL's cipher-string aliases to attribute tests:
// a cipher matches when attrs&any != 0 for each non-zero group. Aliases
// OpenSSL knows that select no suite crypto/tls implements map to zero.
var cipherAliases = map[string][]uint32{
	"ALL":                 {allCiphers},
	"COMPLEMENTOFALL":     {0},
	"COMPLEMENTOFDEFAULT": {sNotDefault},
	"kRSA":                {kRSA},
	"RSA":                 {kRSA},
	"aRSA":                {aRSA},
	"kECDHE":              {kECDHE},
	"kEECDH":              {kECDHE},
	"ECDHE":               {kECDHE},
	"EECDH":               {kECDHE},
	"ECDH":                {kECDHE},
	"aECDSA":              {aECDSA},
	"ECDSA":               {aECDSA},
	"3DES":                {e3DES},
	"RC4":                 {0},
	"AES":                 {eAES128 | eAES256 | eAES128GCM | eAES256GCM},
	"AES128":              {eAES128 | eAES128GCM},
	"AES256":              {eAES256 | eAES256GCM},
	"AESGCM":              {eAES128GCM | eAES256GCM},
	"CHACHA20":            {eCHACHA20},
	"SHA1":                {mSHA1},
	"SHA":                 {mSHA1},
	"SHA256":              {mSHA256},
	"SHA384":              {mSHA384},
	"HIGH":                {sHIGH},
	"MEDIUM":              {sMEDIUM},
	"FIPS":                {sFIPS},
	"SSLv3":               {vSSL3},
	"TLSv1":               {vTLS1},
	"TLSv1.0":             {vTLS1},
	"TLSv1.2":             {vTLS12},
	// Known to OpenSSL, but no crypto/tls suite has these properties.
	"LOW": {0}, "EXP": {0}, "EXPORT": {0}, "eNULL": {0}, "NULL": {0}, "aNULL": {0},
	"ADH": {0}, "AECDH": {0}, "kDHE": {0}, "kEDH": {0}, "DH": {0}, "DHE": {0}, "EDH": {0},
	"aDSS": {0}, "DSS": {0}, "aPSK": {0}, "kPSK": {0}, "kECDHEPSK": {0}, "kDHEPSK": {0},
	"kRSAPSK": {0}, "PSK": {0}, "SRP": {0}, "kSRP": {0}, "aSRP": {0}, "MD5": {0},
	"CAMELLIA": {0}, "CAMELLIA128": {0}, "CAMELLIA256": {0}, "ARIA": {0}, "ARIA128": {0},
	"ARIA256": {0}, "ARIAGCM": {0}, "SEED": {0}, "IDEA": {0}, "DES": {0}, "AESCCM": {0},
	"AESCCM8": {0}, "CCM": {0}, "CHACHA20POLY1305": {0}, "GOST94": {0}, "GOST89MAC": {0},
	"aGOST": {0}, "aGOST01": {0}, "kGOST": {0}, "aECDH": {0}, "kECDH": {0},
}

// cipherSet is a bitmask over cipherTable.
type cipherSet uint32

func aliasSet(groups []uint32) cipherSet {
	var s cipherSet
	for i, c := range cipherTable {
		ok := true
		for _, g := range groups {
			if c.attrs&g == 0 {
				ok = false
				break
			}
		}
		if ok {
			s |= 1 << i
		}
	}
	return s
}

func lookupWord(w string) (set cipherSet, explicit bool, found bool) {
	if g, ok := cipherAliases[w]; ok {
		return aliasSet(g), false, true
	}
	for i, c := range cipherTable {
		if c.name == w || c.std == w {
			return 1 << i, true, true
		}
	}
	return 0, false, false
}

// CipherError is a cipher string OpenSSL would reject, worded as nginx logs
// it: `SSL_CTX_set_cipher_list("X") failed (SSL: error:0A0000B9:SSL
// routines::no cipher match)`.
type CipherError struct {
	Ciphers string
	Reason  string // OpenSSL error queue text
}

// Error returns nginx's message for the rejected cipher string.
func (e *CipherError) Error() string {
	return `SSL_CTX_set_cipher_list("` + e.Ciphers + `") failed (SSL: ` + e.Reason + `)`
}

const (
	reasonNoCipherMatch  = "error:0A0000B9:SSL routines::no cipher match"
	reasonInvalidCommand = "error:0A000118:SSL routines::invalid command"
)

// CipherList is a compiled OpenSSL cipher string.
type CipherList struct {
	// IDs are the selected crypto/tls suite IDs in OpenSSL's order.
	// (crypto/tls ignores the order of Config.CipherSuites; it is kept for
	// reporting.)
	IDs []uint16
}

// ParseCiphers compiles an OpenSSL cipher string (ssl_ciphers,
// proxy_ssl_ciphers) into crypto/tls suite IDs with OpenSSL's semantics:
// elements separated by ':' (or ' ', ',', ';'), "A+B" intersections,
// prefixes '!' (remove for good), '-' (remove), '+' (move to the end),
// "@STRENGTH", "@SECLEVEL=n", a leading "DEFAULT", single cipher names
// (OpenSSL or IANA). Unknown words are ignored as OpenSSL ignores them; a
// string selecting no suite fails like SSL_CTX_set_cipher_list. TLS 1.3
// suites are not affected (crypto/tls does not make them configurable).
func ParseCiphers(s string) (*CipherList, error) {
	l := newCipherOrder()
	rest := s
	if strings.HasPrefix(rest, "DEFAULT") {
		if err := l.apply("ALL:!COMPLEMENTOFDEFAULT:!eNULL"); err != "" {
			return nil, &CipherError{Ciphers: s, Reason: err}
		}
		rest = strings.TrimPrefix(rest[len("DEFAULT"):], ":")
	}
	if err := l.apply(rest); err != "" {
		return nil, &CipherError{Ciphers: s, Reason: err}
	}
	ids := l.active()
	if len(ids) == 0 {
		return nil, &CipherError{Ciphers: s, Reason: reasonNoCipherMatch}
	}
	return &CipherList{IDs: ids}, nil
}

// Names returns the OpenSSL names of the selected suites, in order.
func (c *CipherList) Names() []string {
	out := make([]string, 0, len(c.IDs))
	for _, id := range c.IDs {
		out = append(out, CipherName(id))
	}
	return out
}

// Weak lists why the selection is weak: suites without forward secrecy
// (RSA key exchange) or with 3DES. Nil when it is not weak.
func (c *CipherList) Weak() []string {
	var rsa, des bool
	for _, id := range c.IDs {
		for _, ci := range cipherTable {
			if ci.id != id {
				continue
			}
			rsa = rsa || ci.attrs&kRSA != 0
			des = des || ci.attrs&e3DES != 0
		}
	}
	var out []string
	if rsa {
		out = append(out, "cipher suites without forward secrecy (RSA key exchange)")
	}
	if des {
		out = append(out, "3DES cipher suites")
	}
	return out
}

type cipherEntry struct {
	idx    int
	active bool
	dead   bool
}

// cipherOrder is OpenSSL's doubly linked co_list, as a slice.
type cipherOrder struct{ list []cipherEntry }

func newCipherOrder() *cipherOrder {
	l := &cipherOrder{list: make([]cipherEntry, len(cipherTable))}
	for i := range l.list {
		l.list[i].idx = i
	}
	return l
}

func (l *cipherOrder) active() []uint16 {
	var ids []uint16
	for _, e := range l.list {
		if e.active && !e.dead {
			ids = append(ids, cipherTable[e.idx].id)
		}
	}
	return ids
}

func isSep(c byte) bool { return c == ':' || c == ' ' || c == ';' || c == ',' }

func isWordChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '='
}

type cipherRule int

const (
	ruleAdd cipherRule = iota
	ruleKill
	ruleDel
	ruleOrd
	ruleSpecial
)

// apply processes a rule string (ssl_cipher_process_rulestr). It returns a
// non-empty OpenSSL reason when the string is invalid.
func (l *cipherOrder) apply(s string) string {
	retErr := ""
	i := 0
	for i < len(s) {
		c := s[i]
		rule := ruleAdd
		switch c {
		case '-':
			rule = ruleDel
			i++
		case '!':
			rule = ruleKill
			i++
		case '+':
			rule = ruleOrd
			i++
		case '@':
			rule = ruleSpecial
			i++
		}
		if i < len(s) && isSep(s[i]) {
			i++
			continue
		}
		var set cipherSet
		found := true
		first := true
		explicit := false
		invalid := false
		start := i
		for {
			j := i
			for j < len(s) && isWordChar(s[j]) {
				j++
			}
			if j == i {
				// Not a word, separator or prefix: OpenSSL's "invalid command".
				retErr = reasonInvalidCommand
				found = false
				invalid = true
				if i < len(s) {
					i++
				}
				break
			}
			word := s[i:j]
			i = j
			if rule == ruleSpecial {
				break
			}
			ws, exp, ok := lookupWord(word)
			if !ok {
				found = false
				break
			}
			switch {
			case exp:
				set, explicit = ws, true
			case explicit:
				// An explicit suite name wins over aliases combined with it.
			case first:
				set = ws
			default:
				set &= ws
			}
			first = false
			if i < len(s) && s[i] == '+' {
				i++
				continue
			}
			break
		}
		if invalid {
			// Already reported.
		} else if rule == ruleSpecial {
			switch word := s[start:i]; {
			case word == "STRENGTH":
				l.strengthSort()
			case strings.HasPrefix(word, "SECLEVEL=") && len(word) == len("SECLEVEL=")+1 && word[len(word)-1] >= '0' && word[len(word)-1] <= '5':
				// Security levels do not change crypto/tls suites.
			default:
				retErr = reasonInvalidCommand
			}
		} else if found {
			l.applyRule(rule, set)
		}
		// Skip to the next separator.
		for i < len(s) && !isSep(s[i]) {
			i++
		}
		for i < len(s) && isSep(s[i]) {
			i++
		}
	}
	return retErr
}

// applyRule is ssl_cipher_apply_rule.
func (l *cipherOrder) applyRule(rule cipherRule, set cipherSet) {
	match := func(e cipherEntry) bool { return !e.dead && set&(1<<e.idx) != 0 }
	switch rule {
	case ruleAdd:
		// Matching inactive ciphers move to the end, in list order.
		var keep, moved []cipherEntry
		for _, e := range l.list {
			if match(e) && !e.active {
				e.active = true
				moved = append(moved, e)
			} else {
				keep = append(keep, e)
			}
		}
		l.list = append(keep, moved...)
	case ruleOrd:
		var keep, moved []cipherEntry
		for _, e := range l.list {
			if match(e) && e.active {
				moved = append(moved, e)
			} else {
				keep = append(keep, e)
			}
		}
		l.list = append(keep, moved...)
	case ruleDel:
		// Deleted ciphers move to the head, keeping their order.
		var moved, keep []cipherEntry
		for _, e := range l.list {
			if match(e) && e.active {
				e.active = false
				moved = append(moved, e)
			} else {
				keep = append(keep, e)
			}
		}
		l.list = append(moved, keep...)
	case ruleKill:
		for i, e := range l.list {
			if match(e) {
				l.list[i].active = false
				l.list[i].dead = true
			}
		}
	}
}

// strengthSort is ssl_cipher_strength_sort: a stable sort of the active
// ciphers by strength bits, strongest first.
func (l *cipherOrder) strengthSort() {
	for bits := 256; bits >= 0; bits-- {
		var set cipherSet
		for i, c := range cipherTable {
			if c.bits == bits {
				set |= 1 << i
			}
		}
		if set != 0 {
			l.applyRule(ruleOrd, set)
		}
	}
}

// CipherName returns OpenSSL's name for a crypto/tls suite ID, as
// $ssl_cipher shows it ("ECDHE-RSA-AES128-GCM-SHA256",
// "TLS_AES_128_GCM_SHA256"); "" for an unknown ID.
func CipherName(id uint16) string {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case tls.TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	case tls.TLS_RSA_WITH_RC4_128_SHA:
		return "RC4-SHA"
	case tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA:
		return "ECDHE-ECDSA-RC4-SHA"
	case tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA:
		return "ECDHE-RSA-RC4-SHA"
	}
	for _, c := range cipherTable {
		if c.id == id {
			return c.name
		}
	}
	return ""
}
