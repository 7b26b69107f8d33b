package certs

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
)

// shortNames maps attribute OIDs to OpenSSL's short names.
var shortNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "serialNumber",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "street",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "title",
	"2.5.4.42":                   "GN",
	"2.5.4.43":                   "initials",
	"2.5.4.46":                   "dnQualifier",
	"2.5.4.65":                   "pseudonym",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1":       "emailAddress",
	"2.5.4.17":                   "postalCode",
	"2.5.4.97":                   "organizationIdentifier",
	"1.3.6.1.4.1.311.60.2.1.3":   "jurisdictionC",
	"2.5.4.15":                   "businessCategory",
}

// FormatDN formats a distinguished name the way OpenSSL's
// X509_NAME_print_ex(XN_FLAG_RFC2253) does, which is what nginx's
// $ssl_client_s_dn and $ssl_client_i_dn show: last RDN first, comma
// separated, RFC 2253 escaping, bytes above 0x7e escaped as \XX.
func FormatDN(rdns pkix.RDNSequence) string {
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i != len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, atv := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeATV(&b, atv)
		}
	}
	return b.String()
}

// RawDN parses a DER-encoded name and formats it with FormatDN; on a parse
// failure it returns the empty string.
func RawDN(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return ""
	}
	return FormatDN(rdns)
}

func writeATV(b *strings.Builder, atv pkix.AttributeTypeAndValue) {
	oid := atv.Type.String()
	name, known := shortNames[oid]
	if !known {
		name = oid
	}
	b.WriteString(name)
	b.WriteByte('=')
	s, ok := atv.Value.(string)
	if !ok || !known {
		// Unknown fields and non-string values print as #hex of their DER
		// (XN_FLAG_DUMP_UNKNOWN_FIELDS, ASN1_STRFLGS_DUMP_DER).
		der, err := asn1.Marshal(atv.Value)
		if err != nil {
			fmt.Fprintf(b, "%v", atv.Value)
			return
		}
		b.WriteByte('#')
		b.WriteString(strings.ToUpper(hex.EncodeToString(der)))
		return
	}
	escapeRFC2253(b, s)
}

func escapeRFC2253(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == '#' && i == 0) || (c == ' ' && (i == 0 || i == len(s)-1)):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(b, "\\%02X", c)
		default:
			b.WriteByte(c)
		}
	}
}
