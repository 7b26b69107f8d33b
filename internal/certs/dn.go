package certs

import (
	"encoding/asn1"
	"errors"
	"math/big"
	"strconv"
)

// RawDN formats a DER-encoded name with AppendDN; on a malformed name it
// returns the empty string.
func RawDN(der []byte) string {
	b, err := AppendDN(nil, der)
	if err != nil {
		return ""
	}
	return string(b)
}

// ErrMalformedName reports a distinguished name that cannot be parsed or
// printed the way OpenSSL prints it; nginx then fails the variable.
var ErrMalformedName = errors.New("certs: malformed distinguished name")

// ava is one attribute of a relative distinguished name, kept raw so that
// the string type (and the DER, for dumps) survives.
type ava struct {
	Type  asn1.RawValue
	Value asn1.RawValue
}

// rdnSET is one RDN; the SET suffix makes encoding/asn1 expect a SET OF.
type rdnSET []ava

// parseName parses a DER Name (a SEQUENCE OF RDN). It never panics.
func parseName(der []byte) ([]rdnSET, error) {
	var seq []rdnSET
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return nil, errors.Join(ErrMalformedName, err)
	}
	if len(rest) != 0 {
		return nil, ErrMalformedName
	}
	for _, rdn := range seq {
		for _, a := range rdn {
			if a.Type.Class != asn1.ClassUniversal || a.Type.Tag != asn1.TagOID || a.Type.IsCompound || len(a.Type.Bytes) == 0 {
				return nil, ErrMalformedName
			}
		}
	}
	return seq, nil
}

// shortNames maps attribute OIDs (DER content bytes) to OpenSSL's short
// names (OBJ_nid2sn), the names X509_NAME_print_ex and X509_NAME_oneline use.
var shortNames = func() map[string]string {
	m := map[string]string{}
	add := func(name string, arcs ...int) {
		b, err := asn1.Marshal(asn1.ObjectIdentifier(arcs))
		if err != nil {
			return
		}
		var rv asn1.RawValue
		if _, err := asn1.Unmarshal(b, &rv); err != nil {
			return
		}
		m[string(rv.Bytes)] = name
	}
	x520 := func(n int, name string) { add(name, 2, 5, 4, n) }
	x520(0, "objectClass")
	x520(1, "aliasedEntryName")
	x520(2, "knowledgeInformation")
	x520(3, "CN")
	x520(4, "SN")
	x520(5, "serialNumber")
	x520(6, "C")
	x520(7, "L")
	x520(8, "ST")
	x520(9, "street")
	x520(10, "O")
	x520(11, "OU")
	x520(12, "title")
	x520(13, "description")
	x520(14, "searchGuide")
	x520(15, "businessCategory")
	x520(16, "postalAddress")
	x520(17, "postalCode")
	x520(18, "postOfficeBox")
	x520(19, "physicalDeliveryOfficeName")
	x520(20, "telephoneNumber")
	x520(21, "telexNumber")
	x520(22, "teletexTerminalIdentifier")
	x520(23, "facsimileTelephoneNumber")
	x520(24, "x121Address")
	x520(25, "internationaliSDNNumber")
	x520(26, "registeredAddress")
	x520(27, "destinationIndicator")
	x520(28, "preferredDeliveryMethod")
	x520(29, "presentationAddress")
	x520(30, "supportedApplicationContext")
	x520(31, "member")
	x520(32, "owner")
	x520(33, "roleOccupant")
	x520(34, "seeAlso")
	x520(35, "userPassword")
	x520(36, "userCertificate")
	x520(37, "cACertificate")
	x520(38, "authorityRevocationList")
	x520(39, "certificateRevocationList")
	x520(40, "crossCertificatePair")
	x520(41, "name")
	x520(42, "GN")
	x520(43, "initials")
	x520(44, "generationQualifier")
	x520(45, "x500UniqueIdentifier")
	x520(46, "dnQualifier")
	x520(47, "enhancedSearchGuide")
	x520(48, "protocolInformation")
	x520(49, "distinguishedName")
	x520(50, "uniqueMember")
	x520(51, "houseIdentifier")
	x520(52, "supportedAlgorithms")
	x520(53, "deltaRevocationList")
	x520(54, "dmdName")
	x520(65, "pseudonym")
	x520(72, "role")
	x520(97, "organizationIdentifier")
	pkcs9 := func(n int, name string) { add(name, 1, 2, 840, 113549, 1, 9, n) }
	pkcs9(1, "emailAddress")
	pkcs9(2, "unstructuredName")
	pkcs9(7, "challengePassword")
	pkcs9(8, "unstructuredAddress")
	ldap := func(n int, name string) { add(name, 0, 9, 2342, 19200300, 100, 1, n) }
	ldap(1, "UID")
	ldap(3, "mail")
	ldap(25, "DC")
	ev := func(n int, name string) { add(name, 1, 3, 6, 1, 4, 1, 311, 60, 2, 1, n) }
	ev(1, "jurisdictionL")
	ev(2, "jurisdictionST")
	ev(3, "jurisdictionC")
	return m
}()

// appendOID appends the dotted form of DER OID content bytes, as
// OBJ_obj2txt(..., 1) prints it (arcs of any size).
func appendOID(dst, content []byte) []byte {
	var arcs []*big.Int
	var small []uint64
	cur := uint64(0)
	var curBig *big.Int
	for i, b := range content {
		if curBig != nil {
			curBig.Lsh(curBig, 7)
			curBig.Or(curBig, big.NewInt(int64(b&0x7f)))
		} else if cur > (1<<57)-1 {
			curBig = new(big.Int).SetUint64(cur)
			curBig.Lsh(curBig, 7)
			curBig.Or(curBig, big.NewInt(int64(b&0x7f)))
		} else {
			cur = cur<<7 | uint64(b&0x7f)
		}
		if b&0x80 == 0 || i == len(content)-1 {
			if curBig != nil {
				arcs = append(arcs, curBig)
				small = append(small, 0)
			} else {
				arcs = append(arcs, nil)
				small = append(small, cur)
			}
			cur, curBig = 0, nil
		}
	}
	for i := range arcs {
		if i == 0 {
			// The first subidentifier encodes two arcs.
			if arcs[0] == nil {
				v := small[0]
				switch {
				case v < 40:
					dst = append(dst, '0', '.')
					dst = strconv.AppendUint(dst, v, 10)
				case v < 80:
					dst = append(dst, '1', '.')
					dst = strconv.AppendUint(dst, v-40, 10)
				default:
					dst = append(dst, '2', '.')
					dst = strconv.AppendUint(dst, v-80, 10)
				}
			} else {
				dst = append(dst, '2', '.')
				dst = append(dst, new(big.Int).Sub(arcs[0], big.NewInt(80)).String()...)
			}
			continue
		}
		dst = append(dst, '.')
		if arcs[i] != nil {
			dst = append(dst, arcs[i].String()...)
		} else {
			dst = strconv.AppendUint(dst, small[i], 10)
		}
	}
	return dst
}

const upperHex = "0123456789ABCDEF"

// Escaping classes of ASN1_STRFLGS_RFC2253 (OpenSSL's charmap.h, reduced to
// the flags that RFC 2253 printing uses).
const (
	escBackslash = 1 << iota // , + " \ < > ;
	escCtrl                  // control bytes, written as \XX
	escFirst                 // space and # at the start
	escLast                  // space at the end
)

func charClass(c byte) int {
	switch {
	case c < 0x20 || c == 0x7f:
		return escCtrl
	case c == ' ':
		return escFirst | escLast
	case c == '#':
		return escFirst
	case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';':
		return escBackslash
	}
	return 0
}

// appendEscByte is do_esc_char for one byte; pos carries escFirst/escLast.
func appendEscByte(dst []byte, c byte, pos int) []byte {
	if c > 0x7f {
		return append(dst, '\\', upperHex[c>>4], upperHex[c&15])
	}
	cl := charClass(c) & (escBackslash | escCtrl | pos)
	switch {
	case cl&(escBackslash|escFirst|escLast) != 0:
		return append(dst, '\\', c)
	case cl&escCtrl != 0:
		return append(dst, '\\', upperHex[c>>4], upperHex[c&15])
	}
	return append(dst, c)
}

// appendUTF8 is OpenSSL's UTF8_putc (which also encodes values beyond
// Unicode's range in up to six bytes). Surrogates are refused.
func appendUTF8(dst []byte, c uint32) ([]byte, bool) {
	switch {
	case c < 0x80:
		return append(dst, byte(c)), true
	case c < 0x800:
		return append(dst, byte(0xc0|c>>6), byte(0x80|c&0x3f)), true
	case c < 0x10000:
		if c >= 0xd800 && c <= 0xdfff {
			return dst, false
		}
		return append(dst, byte(0xe0|c>>12), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f)), true
	case c < 0x200000:
		return append(dst, byte(0xf0|c>>18), byte(0x80|(c>>12)&0x3f), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f)), true
	case c < 0x4000000:
		return append(dst, byte(0xf8|c>>24), byte(0x80|(c>>18)&0x3f), byte(0x80|(c>>12)&0x3f), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f)), true
	case c < 0x80000000:
		return append(dst, byte(0xfc|c>>30), byte(0x80|(c>>24)&0x3f), byte(0x80|(c>>18)&0x3f), byte(0x80|(c>>12)&0x3f), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f)), true
	}
	return dst, false
}

// charWidth is OpenSSL's tag2nbyte: bytes per character of a string type,
// 0 for UTF8String (printed byte by byte) and -1 for types that are dumped.
func charWidth(v *asn1.RawValue) int {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return -1
	}
	switch v.Tag {
	case asn1.TagUTF8String:
		return 0
	case asn1.TagNumericString, asn1.TagPrintableString, asn1.TagT61String,
		asn1.TagIA5String, asn1.TagUTCTime, asn1.TagGeneralizedTime, 26: // ISO646String
		return 1
	case 28: // UniversalString
		return 4
	case asn1.TagBMPString:
		return 2
	}
	return -1
}

func appendDump(dst []byte, der []byte) []byte {
	dst = append(dst, '#')
	for _, b := range der {
		dst = append(dst, upperHex[b>>4], upperHex[b&15])
	}
	return dst
}

// appendRFC2253Value is do_print_ex with ASN1_STRFLGS_RFC2253.
func appendRFC2253Value(dst []byte, v *asn1.RawValue, dumpAll bool) ([]byte, error) {
	w := charWidth(v)
	if dumpAll || w < 0 {
		return appendDump(dst, v.FullBytes), nil
	}
	data := v.Bytes
	step := w
	if w == 0 {
		step = 1
	}
	if len(data)%step != 0 {
		return dst, ErrMalformedName
	}
	n := len(data) / step
	var tmp [6]byte
	for i := 0; i < n; i++ {
		pos := 0
		if i == 0 {
			pos = escFirst
		}
		if i == n-1 {
			pos = escLast // OpenSSL overwrites the first-character flag
		}
		var c uint32
		for _, b := range data[i*step : (i+1)*step] {
			c = c<<8 | uint32(b)
		}
		if w == 0 {
			dst = appendEscByte(dst, byte(c), pos)
			continue
		}
		enc, ok := appendUTF8(tmp[:0], c)
		if !ok {
			if w == 4 {
				return dst, ErrMalformedName
			}
			continue
		}
		for _, b := range enc {
			dst = appendEscByte(dst, b, pos)
		}
	}
	return dst, nil
}

// AppendDN appends a DER Name printed as OpenSSL's
// X509_NAME_print_ex(XN_FLAG_RFC2253), which is what nginx's
// $ssl_client_s_dn and $ssl_client_i_dn show: RDNs and the attributes
// inside a multi-valued RDN in reverse order, "," and "+" separators,
// OpenSSL short names, RFC 2253 escaping with bytes above 0x7F as \XX, and
// unknown attributes (or values that are not strings) as dotted OID "=#"
// DER hex. On a malformed name it returns ErrMalformedName.
func AppendDN(dst, der []byte) ([]byte, error) {
	rdns, err := parseName(der)
	if err != nil {
		return dst, err
	}
	first := true
	for i := len(rdns) - 1; i >= 0; i-- {
		for j := len(rdns[i]) - 1; j >= 0; j-- {
			a := &rdns[i][j]
			if !first {
				if j == len(rdns[i])-1 {
					dst = append(dst, ',')
				} else {
					dst = append(dst, '+')
				}
			}
			first = false
			sn, known := shortNames[string(a.Type.Bytes)]
			if known {
				dst = append(dst, sn...)
			} else {
				dst = appendOID(dst, a.Type.Bytes)
			}
			dst = append(dst, '=')
			if dst, err = appendRFC2253Value(dst, &a.Value, !known); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// AppendLegacyDN appends a DER Name printed as OpenSSL 3's
// X509_NAME_oneline, nginx's $ssl_client_s_dn_legacy form: "/" before each RDN and "+" between the attributes
// of a multi-valued RDN, in certificate order; short names; raw value bytes
// with "/" and "+" backslash-escaped and bytes outside 0x20..0x7E as \xHH.
func AppendLegacyDN(dst, der []byte) ([]byte, error) {
	rdns, err := parseName(der)
	if err != nil {
		return dst, err
	}
	for _, rdn := range rdns {
		for k := range rdn {
			a := &rdn[k]
			if k == 0 {
				dst = append(dst, '/')
			} else {
				dst = append(dst, '+')
			}
			if sn, ok := shortNames[string(a.Type.Bytes)]; ok {
				dst = append(dst, sn...)
			} else {
				dst = appendOID(dst, a.Type.Bytes)
			}
			dst = append(dst, '=')
			data := a.Value.Bytes
			if a.Value.Class != asn1.ClassUniversal || a.Value.IsCompound {
				data = a.Value.FullBytes
			}
			// A GeneralString whose length is a multiple of four and whose
			// bytes are zero except every fourth is printed from those
			// bytes only (OpenSSL's gs_doit).
			step, first := 1, 0
			if a.Value.Class == asn1.ClassUniversal && a.Value.Tag == asn1.TagGeneralString && len(data)%4 == 0 {
				nonzero := [4]bool{}
				for j, b := range data {
					if b != 0 {
						nonzero[j&3] = true
					}
				}
				if !nonzero[0] && !nonzero[1] && !nonzero[2] {
					step, first = 4, 3
				}
			}
			for j := first; j < len(data); j += step {
				b := data[j]
				switch {
				case b < ' ' || b > '~':
					dst = append(dst, '\\', 'x', upperHex[b>>4], upperHex[b&15])
				case b == '/' || b == '+':
					dst = append(dst, '\\', b)
				default:
					dst = append(dst, b)
				}
			}
		}
	}
	return dst, nil
}
