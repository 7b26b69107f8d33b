package certs

import (
	"crypto/x509"
	"fmt"
	"time"
)

// ExpiryWarnWithin is how close to its expiry a served or client
// certificate is reported.
const ExpiryWarnWithin = 14 * 24 * time.Hour

// ExpiryWarning returns the warning for a certificate loaded from path
// that expires within ExpiryWarnWithin of now (or has expired), e.g.
// `certificate "/etc/ssl/a.crt" (subject "CN=a.test") expires in 3 days,
// on 2026-01-02`, and false when it is not due yet.
func ExpiryWarning(path string, c *x509.Certificate, now time.Time) (string, bool) {
	left := c.NotAfter.Sub(now)
	if left > ExpiryWarnWithin {
		return "", false
	}
	subject := RawDN(c.RawSubject)
	if subject == "" {
		subject = c.Subject.String()
	}
	on := c.NotAfter.UTC().Format("2006-01-02")
	if left < 0 {
		return fmt.Sprintf(`certificate "%s" (subject "%s") expired on %s`, path, subject, on), true
	}
	in := "less than a day"
	switch days := int(left / (24 * time.Hour)); days {
	case 0:
	case 1:
		in = "1 day"
	default:
		in = fmt.Sprintf("%d days", days)
	}
	return fmt.Sprintf(`certificate "%s" (subject "%s") expires in %s, on %s`, path, subject, in, on), true
}
