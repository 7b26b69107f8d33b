package certs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"syscall"
)

// FileError is a failure to use a password or ticket key file, worded as
// nginx words it (without "[emerg] " and without the directive's
// position, which the caller adds): `open() "/p" failed (2: No such file
// or directory)`, `too long line in "/p"`, `"/k" must be 48 or 80 bytes`.
type FileError struct {
	Path string
	Msg  string
	Err  error
}

// Error returns nginx's message.
func (e *FileError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// Causes of a FileError, for errors.Is.
var (
	// ErrPasswordLine: a line of a password file is too long.
	ErrPasswordLine = errors.New("password file line too long")
	// ErrTicketKeySize: a session ticket key file is not 48 or 80 bytes.
	ErrTicketKeySize = errors.New("session ticket key file must be 48 or 80 bytes")
)

// openErr is nginx's text for a file its ngx_open_file could not open.
func openErr(path string, err error) *FileError {
	var no syscall.Errno
	why := err.Error()
	if errors.As(err, &no) {
		text := no.Error()
		if text != "" && text[0] >= 'a' && text[0] <= 'z' {
			text = string(text[0]-'a'+'A') + text[1:]
		}
		why = strconv.Itoa(int(no)) + ": " + text
	}
	return &FileError{Path: path, Msg: `open() "` + path + `" failed (` + why + `)`, Err: err}
}

// passwordBufferSize is NGX_SSL_PASSWORD_BUFFER_SIZE: a password line
// must be shorter.
const passwordBufferSize = 4096

// ParsePasswords splits a password file into its passwords as
// ngx_ssl_read_password_file does: one per line, a trailing CR dropped,
// empty lines skipped, and a file without any password yields one empty
// password. A line of 4096 bytes or more fails with nginx's "too long
// line" text.
func ParsePasswords(path string, data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		line := data
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) >= passwordBufferSize {
			return nil, &FileError{Path: path, Msg: `too long line in "` + path + `"`, Err: ErrPasswordLine}
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > 0 {
			out = append(out, bytes.Clone(line))
		}
	}
	if len(out) == 0 {
		out = [][]byte{{}}
	}
	return out, nil
}

// TicketKey is the crypto/tls session ticket key made from an
// ssl_session_ticket_key file.
type TicketKey = [32]byte

// ParseTicketKey turns the content of an ssl_session_ticket_key file (48
// or 80 bytes, as ngx_ssl_session_ticket_keys requires) into a crypto/tls
// ticket key: SHA-256 over the whole file content. crypto/tls's ticket
// format is not OpenSSL's, so a ticket made by nginx never resumes with
// gatehouse nor the other way round; gatehouse instances sharing the file
// resume each other's tickets.
func ParseTicketKey(path string, data []byte) (TicketKey, error) {
	if len(data) != 48 && len(data) != 80 {
		return TicketKey{}, &FileError{Path: path, Msg: `"` + path + `" must be 48 or 80 bytes`, Err: fmt.Errorf("%w: %d bytes", ErrTicketKeySize, len(data))}
	}
	return sha256.Sum256(data), nil
}
