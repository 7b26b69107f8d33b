package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestDirectivesResponsesAlloc checks that answering with return,
// error_page and add_header (values with variables) and typing the body
// by its extension allocate nothing per request. Allocations are counted
// for the whole process, the client's included.
func TestDirectivesResponsesAlloc(t *testing.T) {
	if directivesRace {
		t.Skip("allocation counts are meaningless under -race; the test script reruns *Alloc* tests without it")
	}
	port := freePort(t)
	conf := strings.ReplaceAll(directivesConf, "PORT", strconv.Itoa(port))
	conf = strings.Replace(conf, "access_log off;", "access_log off;\n    keepalive_requests 10000000;", 1)
	start(t, conf)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	body := make([]byte, 512)
	for _, target := range []string{"/text.html", "/own/x.json", "/ep/404", "/ep/500", "/rel", "/abs", "/notfound", "/rel HTTP/1.0"} {
		// "PATH HTTP/1.0" is sent without Host: $host falls back to
		// the server name and the redirect names the local address.
		req := []byte("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if path, ok := strings.CutSuffix(target, " HTTP/1.0"); ok {
			req = []byte("GET " + path + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		}
		assertNoAllocsPerRequest(t, c, br, body, target, req, -1)
	}
}
