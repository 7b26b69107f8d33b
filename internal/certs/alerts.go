package certs

import "fmt"

// alertReasons are OpenSSL's reason strings for received TLS alerts
// (SSL_AD_REASON_OFFSET + alert number, ssl/ssl_err.c).
var alertReasons = map[uint8]string{
	10:  "sslv3 alert unexpected message",
	20:  "sslv3 alert bad record mac",
	21:  "tlsv1 alert decryption failed",
	22:  "tlsv1 alert record overflow",
	30:  "sslv3 alert decompression failure",
	40:  "sslv3 alert handshake failure",
	41:  "sslv3 alert no certificate",
	42:  "sslv3 alert bad certificate",
	43:  "sslv3 alert unsupported certificate",
	44:  "sslv3 alert certificate revoked",
	45:  "sslv3 alert certificate expired",
	46:  "sslv3 alert certificate unknown",
	47:  "sslv3 alert illegal parameter",
	48:  "tlsv1 alert unknown ca",
	49:  "tlsv1 alert access denied",
	50:  "tlsv1 alert decode error",
	51:  "tlsv1 alert decrypt error",
	60:  "tlsv1 alert export restriction",
	70:  "tlsv1 alert protocol version",
	71:  "tlsv1 alert insufficient security",
	80:  "tlsv1 alert internal error",
	86:  "tlsv1 alert inappropriate fallback",
	90:  "tlsv1 alert user cancelled",
	100: "tlsv1 alert no renegotiation",
	109: "tls alert missing extension",
	110: "tlsv1 unsupported extension",
	111: "tlsv1 certificate unobtainable",
	112: "tlsv1 unrecognized name",
	113: "tlsv1 bad certificate status response",
	114: "tlsv1 bad certificate hash value",
	115: "tlsv1 alert unknown psk identity",
	116: "tlsv13 alert certificate required",
	120: "tlsv1 alert no application protocol",
}

// alertOpenSSL formats a received alert as OpenSSL 3 puts it in the error
// queue: "error:0A000410:SSL routines::sslv3 alert handshake failure:SSL
// alert number 40".
func alertOpenSSL(a uint8) string {
	reason, ok := alertReasons[a]
	if !ok {
		reason = fmt.Sprintf("reason(%d)", 1000+int(a))
	}
	code := 0x0A000000 | (1000 + int(a))
	return fmt.Sprintf("error:%08X:SSL routines::%s:SSL alert number %d", code, reason, a)
}
