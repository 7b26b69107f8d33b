package tlsterm

import (
	"crypto/x509"
	"time"
)

const upperHex = "0123456789ABCDEF"

// appendSerial is $ssl_client_serial (i2a_ASN1_INTEGER): a "-" for a
// negative serial, then the magnitude's big-endian bytes in uppercase hex
// ("00" for zero), with OpenSSL's "\\\n" break every 35 bytes.
func appendSerial(dst []byte, c *x509.Certificate) []byte {
	n := c.SerialNumber
	if n == nil {
		return dst
	}
	if n.Sign() < 0 {
		dst = append(dst, '-')
	}
	b := n.Bytes()
	if len(b) == 0 {
		return append(dst, '0', '0')
	}
	for k, v := range b {
		if k != 0 && k%35 == 0 {
			dst = append(dst, '\\', '\n')
		}
		dst = append(dst, upperHex[v>>4], upperHex[v&15])
	}
	return dst
}

// appendASN1Time is ASN1_TIME_print: "Feb  3 00:55:52 2025 GMT".
func appendASN1Time(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "Jan _2 15:04:05 2006 GMT")
}

// sessionID returns $ssl_session_id. crypto/tls does not expose session
// IDs, so gatehouse derives a per-connection identifier from the keying
// material (lowercase hex of 32 bytes); unlike OpenSSL's it is not carried
// over to resumed connections. Empty when no keying material can be
// exported (TLS 1.2 without extended master secret).
func (i *Info) sessionID() []byte {
	i.sidOnce.Do(func() {
		k, err := i.cs.ExportKeyingMaterial("EXPORTER-gatehouse-session-id", nil, 32)
		if err != nil {
			return
		}
		const lower = "0123456789abcdef"
		i.sid = make([]byte, 0, 64)
		for _, b := range k {
			i.sid = append(i.sid, lower[b>>4], lower[b&15])
		}
	})
	return i.sid
}
