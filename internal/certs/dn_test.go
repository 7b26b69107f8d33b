package certs

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"

	"gatehouse/internal/testpki"
)

// Attribute OIDs used by the DN tests.
var (
	oidC     = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU    = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidCN    = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSN    = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidUID   = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidDC    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidOrgID = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidOdd   = asn1.ObjectIdentifier{1, 2, 3, 4}
)

// tv is one attribute for a hand-built name: its OID, string tag and
// content bytes.
type tv struct {
	oid asn1.ObjectIdentifier
	tag int
	val string
}

func utf8(oid asn1.ObjectIdentifier, v string) tv { return tv{oid, asn1.TagUTF8String, v} }
func prn(oid asn1.ObjectIdentifier, v string) tv  { return tv{oid, asn1.TagPrintableString, v} }

// buildName encodes RDNs in exactly the given order (no DER sorting of
// multi-valued RDNs, so the printer's ordering is what is tested).
func buildName(t testing.TB, rdns ...[]tv) []byte {
	t.Helper()
	var seq []byte
	for _, rdn := range rdns {
		var set []byte
		for _, a := range rdn {
			oid, err := asn1.Marshal(a.oid)
			if err != nil {
				t.Fatal(err)
			}
			val, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: a.tag, Bytes: []byte(a.val)})
			if err != nil {
				t.Fatal(err)
			}
			ava, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(oid, val...)})
			if err != nil {
				t.Fatal(err)
			}
			set = append(set, ava...)
		}
		s, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: set})
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, s...)
	}
	out, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: seq})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func one(a tv) []tv { return []tv{a} }

func TestDistinguishedNames(t *testing.T) {
	tests := []struct {
		name    string
		der     []byte
		rfc2253 string
		legacy  string
	}{
		{"typical", buildName(t, one(prn(oidC, "US")), one(utf8(oidO, "Example Inc")), one(utf8(oidOU, "Eng")), one(utf8(oidCN, "client.example.com"))),
			"CN=client.example.com,OU=Eng,O=Example Inc,C=US", "/C=US/O=Example Inc/OU=Eng/CN=client.example.com"},
		{"multi-valued RDN is reversed too", buildName(t, one(prn(oidC, "US")), []tv{utf8(oidCN, "a"), utf8(oidUID, "b")}),
			"UID=b+CN=a,C=US", "/C=US/CN=a+UID=b"},
		{"special characters", buildName(t, one(utf8(oidCN, `a,b+c"d\e<f>g;h=i`))),
			`CN=a\,b\+c\"d\\e\<f\>g\;h=i`, `/CN=a,b\+c"d\e<f>g;h=i`},
		{"slash", buildName(t, one(utf8(oidCN, "a/b"))), "CN=a/b", `/CN=a\/b`},
		{"GeneralString of UCS-4 code units", buildName(t, one(tv{oidCN, asn1.TagGeneralString, "\x00\x00\x00h\x00\x00\x00i"})), "CN=#1B08000000680000006" + "9", "/CN=hi"},
		{"leading hash", buildName(t, one(utf8(oidCN, "#hash"))), `CN=\#hash`, "/CN=#hash"},
		{"inner hash", buildName(t, one(utf8(oidCN, "a#b"))), "CN=a#b", "/CN=a#b"},
		{"leading and trailing space", buildName(t, one(utf8(oidCN, " mid dle "))), `CN=\ mid dle\ `, "/CN= mid dle "},
		{"single hash is not escaped (OpenSSL quirk)", buildName(t, one(utf8(oidCN, "#"))), "CN=#", "/CN=#"},
		{"single space", buildName(t, one(utf8(oidCN, " "))), `CN=\ `, "/CN= "},
		{"UTF-8 bytes", buildName(t, one(utf8(oidCN, "café"))), `CN=caf\C3\A9`, `/CN=caf\xC3\xA9`},
		{"control byte", buildName(t, one(utf8(oidCN, "a\x01b\x7f"))), `CN=a\01b\7F`, `/CN=a\x01b\x7F`},
		{"emailAddress", buildName(t, one(tv{oidEmail, asn1.TagIA5String, "a@b.example"}), one(utf8(oidCN, "x"))),
			"CN=x,emailAddress=a@b.example", "/emailAddress=a@b.example/CN=x"},
		{"domain components", buildName(t, one(tv{oidDC, asn1.TagIA5String, "example"}), one(tv{oidDC, asn1.TagIA5String, "com"}), one(utf8(oidCN, "x"))),
			"CN=x,DC=com,DC=example", "/DC=example/DC=com/CN=x"},
		{"organizationIdentifier", buildName(t, one(utf8(oidOrgID, "VATDE-1"))), "organizationIdentifier=VATDE-1", "/organizationIdentifier=VATDE-1"},
		{"unknown OID dumps DER", buildName(t, one(utf8(oidOdd, "hi"))), "1.2.3.4=#0C026869", "/1.2.3.4=hi"},
		{"T61String is Latin-1", buildName(t, one(tv{oidCN, asn1.TagT61String, "\xe9t\xe9"})), `CN=\C3\A9t\C3\A9`, `/CN=\xE9t\xE9`},
		{"BMPString", buildName(t, one(tv{oidCN, asn1.TagBMPString, "\x00A\x00\xe9\x20\xac"})), `CN=A\C3\A9\E2\82\AC`, `/CN=\x00A\x00\xE9 \xAC`},
		{"UniversalString", buildName(t, one(tv{oidCN, 28, "\x00\x00\x00Z\x00\x01\xf6\x00"})), `CN=Z\F0\9F\98\80`, `/CN=\x00\x00\x00Z\x00\x01\xF6\x00`},
		{"known attribute with a non-string value is dumped", buildName(t, one(tv{oidSN, asn1.TagInteger, "\x05"})), "serialNumber=#020105", `/serialNumber=\x05`},
		{"empty name", buildName(t), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendDN(nil, tt.der)
			if err != nil || string(got) != tt.rfc2253 {
				t.Errorf("RFC 2253 = %q, %v; want %q", got, err, tt.rfc2253)
			}
			got, err = AppendLegacyDN(nil, tt.der)
			if err != nil || string(got) != tt.legacy {
				t.Errorf("legacy = %q, %v; want %q", got, err, tt.legacy)
			}
		})
	}
}

func TestDistinguishedNameErrors(t *testing.T) {
	tests := map[string][]byte{
		"empty input":                 {},
		"trailing data":               append(buildName(t, one(utf8(oidCN, "x"))), 0),
		"not a sequence":              {0x04, 0x00},
		"odd-length BMPString":        buildName(t, one(tv{oidCN, asn1.TagBMPString, "\x00"})),
		"truncated":                   buildName(t, one(utf8(oidCN, "xyz")))[:8],
		"attribute type is not OID":   {0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x0c, 0x01, 'x', 0x0c, 0x02, 'h', 'i'},
		"UniversalString of 5 bytes":  buildName(t, one(tv{oidCN, 28, "\x00\x00\x00Z\x00"})),
		"UniversalString beyond 2^31": buildName(t, one(tv{oidCN, 28, "\x80\x00\x00\x00"})),
	}
	for name, der := range tests {
		if got, err := AppendDN(nil, der); err == nil {
			t.Errorf("%s: printed %q without error", name, got)
		}
	}
}

func TestOIDText(t *testing.T) {
	for _, oid := range []asn1.ObjectIdentifier{{1, 2, 3, 4}, {2, 999, 1}, {0, 39}, {1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3}} {
		b, err := asn1.Marshal(oid)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendOID(nil, b[2:])); got != oid.String() {
			t.Errorf("appendOID = %q, want %q", got, oid.String())
		}
	}
	// An arc beyond 64 bits is printed in full, as OBJ_obj2txt does.
	big := []byte{0x2a, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}
	if got := string(appendOID(nil, big)); got != "1.2.2361183241434822606848" {
		t.Errorf("big arc = %q", got)
	}
}

func FuzzDistinguishedName(f *testing.F) {
	f.Add(buildName(f, one(prn(oidC, "US")), []tv{utf8(oidCN, "a"), utf8(oidUID, "b")}))
	f.Add(buildName(f, one(tv{oidCN, asn1.TagBMPString, "\x00A"}), one(utf8(oidOdd, "#x "))))
	f.Add(buildName(f, one(tv{oidCN, 28, "\x00\x00\x00Z"})))
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, der []byte) {
		a, errA := AppendDN(nil, der)
		b, errB := AppendLegacyDN(nil, der)
		if errA == nil && errB != nil {
			t.Fatalf("legacy failed (%v) where RFC 2253 printed %q", errB, a)
		}
		_ = b
	})
}

// unescapeRFC2253 reverses the printer's escaping of one value and reports
// whether every special character was escaped.
func unescapeRFC2253(s string) ([]byte, bool) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if strings.IndexByte(",+\"\\<>;", c) >= 0 || c < 0x20 || c >= 0x7f {
				return nil, false
			}
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, false
		}
		if i+2 < len(s) && strings.IndexByte(upperHex, s[i+1]) >= 0 && strings.IndexByte(upperHex, s[i+2]) >= 0 {
			hi, lo := strings.IndexByte(upperHex, s[i+1]), strings.IndexByte(upperHex, s[i+2])
			out = append(out, byte(hi<<4|lo))
			i += 2
			continue
		}
		out = append(out, s[i+1])
		i++
	}
	return out, true
}

func FuzzRFC2253RoundTrip(f *testing.F) {
	for _, s := range []string{"plain", `a,b+c"d\e<f>g;h`, "#x", " x ", "caf\xc3\xa9", "\x00\x1f\x7f", "#", " ", "A1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		out, err := AppendDN(nil, buildName(t, one(utf8(oidCN, s))))
		if err != nil {
			t.Fatalf("print %q: %v", s, err)
		}
		val, ok := strings.CutPrefix(string(out), "CN=")
		if !ok {
			t.Fatalf("output %q lacks CN=", out)
		}
		got, ok := unescapeRFC2253(val)
		if !ok || string(got) != s {
			t.Fatalf("value %q printed as %q, which reads back as %q (clean %v)", s, val, got, ok)
		}
		if len(s) > 1 && (s[0] == ' ' || s[0] == '#') && val[0] != '\\' {
			t.Fatalf("leading %q not escaped in %q", s[0], val)
		}
		if s[len(s)-1] == ' ' && !strings.HasSuffix(val, `\ `) {
			t.Fatalf("trailing space not escaped in %q", val)
		}
	})
}

func BenchmarkAppendDN(b *testing.B) {
	root := testpki.NewCA(b, testpki.WithOrg("Example Inc"))
	leaf := root.Leaf(testpki.WithCN("client.example.com"), testpki.WithOrg("Example Inc"))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendDN(buf[:0], leaf.Cert.RawSubject)
	}
}

// TestRawDNFromGo prints a name as Go's encoder writes it (SET members in
// DER order, Go's choice of string types).
func TestRawDNFromGo(t *testing.T) {
	rdns := pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "DE"}},
		{{Type: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: "x"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: " Müller#"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "#a"}},
	}
	want := `CN=\ M\C3\BCller#+OU=\#a,1.2.3.4=#130178,C=DE`
	der, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	if got := RawDN(der); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
