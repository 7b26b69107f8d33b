package request

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/errorlog"
	"gatehouse/internal/http1"
)

// recorder is a ResponseWriter that keeps what it is sent: a producer of
// its own, which is all the phases need.
type recorder struct {
	hdr     http1.ResponseHeader
	status  int
	body    bytes.Buffer
	aborted bool
}

func (w *recorder) Header() *http1.ResponseHeader { return &w.hdr }
func (w *recorder) WriteHeader() error {
	w.status = w.hdr.Status
	return nil
}
func (w *recorder) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *recorder) Flush() error                { return nil }
func (w *recorder) WriteErrorPage(status int) error {
	w.status = status
	return nil
}
func (w *recorder) Abort()                            { w.aborted = true }
func (w *recorder) Hijack() (net.Conn, []byte, error) { return nil, nil, errors.ErrUnsupported }
func (w *recorder) Apply(*http1.Limits) error         { return nil }
func (w *recorder) Status() int                       { return w.status }
func (w *recorder) BytesSent() int64                  { return int64(w.body.Len()) }
func (w *recorder) BodyBytesSent() int64              { return int64(w.body.Len()) }
func (w *recorder) KeepAlive() bool                   { return true }
func (w *recorder) ConnID() uint64                    { return 7 }
func (w *recorder) Requests() int                     { return 1 }

// site is a toy configuration: one server whose find-config handler
// picks a location by path prefix from locs.
type site struct {
	engine *Engine
	level  *Location
	locs   map[string]*Location
	finds  int
}

func newSite(locs map[string]*Location, serverRewrite ...Handler) *site {
	return newSiteLevel(NewLocation(LocationPhases{}, nil, nil), locs, serverRewrite...)
}

// newSiteLevel is newSite with the server's own level given.
func newSiteLevel(level *Location, locs map[string]*Location, serverRewrite ...Handler) *site {
	s := &site{locs: locs, level: level}
	srv := NewServer(s.level, serverRewrite, HandlerFunc(func(x *Ctx) Status {
		s.finds++
		for _, n := range []string{"/deny", "/a", "/b", "/loop", "/"} {
			if l := s.locs[n]; l != nil && strings.HasPrefix(string(x.URI.Path), n) {
				x.Enter(l)
				return Continue
			}
		}
		return Continue
	}))
	s.engine = NewEngine(HandlerFunc(func(x *Ctx) Status {
		x.EnterServer(srv)
		return Continue
	}))
	return s
}

// serve runs one request for target through s and returns the response
// and what the error log got.
func (s *site) serve(t *testing.T, target string) (*recorder, *Ctx, string) {
	t.Helper()
	var logged bytes.Buffer
	log, err := errorlog.New([]errorlog.Target{{Path: "stderr", Level: errorlog.Info}}, errorlog.Options{Stderr: &logged})
	if err != nil {
		t.Fatal(err)
	}
	w := &recorder{}
	x := &Ctx{Env: &Env{Now: time.Now, Log: log}, Conn: &Conn{RemoteIP: []byte("192.0.2.1")}}
	x.Reset(w)
	x.Req = Request{Line: []byte("GET " + target + " HTTP/1.1"), Method: []byte("GET"), Target: []byte(target), ContentLength: -1}
	if !x.Normalize(true) {
		t.Fatalf("%q does not normalise", target)
	}
	s.engine.Run(x)
	return w, x, logged.String()
}

// status is a content handler answering code with body.
func status(code int, body string) Handler {
	return HandlerFunc(func(x *Ctx) Status {
		h := x.W.Header()
		h.Status = code
		h.ContentLength = int64(len(body))
		if x.W.WriteHeader() == nil {
			_, _ = x.W.Write([]byte(body))
		}
		return Done
	})
}

// TestToyHandlers plugs an access handler and a content handler into a
// location through the public phase API, and checks the order the phases
// run in and that the log phase sees every request.
func TestToyHandlers(t *testing.T) {
	var trace []string
	mark := func(name string, st Status) Handler {
		return HandlerFunc(func(x *Ctx) Status { trace = append(trace, name); return st })
	}
	deny := HandlerFunc(func(x *Ctx) Status {
		trace = append(trace, "access")
		if strings.HasPrefix(string(x.URI.Path), "/deny") {
			x.Error(403)
			return Done
		}
		return Continue
	})
	var logged []int
	logStatus := HandlerFunc(func(x *Ctx) Status { logged = append(logged, x.W.Status()); return Continue })
	phases := LocationPhases{
		Rewrite:    []Handler{mark("rewrite", Continue)},
		PreAccess:  []Handler{mark("pre-access", Continue)},
		Access:     []Handler{deny, mark("skipped", Continue)},
		PreContent: []Handler{mark("pre-content", Continue)},
		Content:    status(200, "toy"),
		Log:        []Handler{logStatus},
	}
	// NextPhase out of the first access handler skips the second.
	phases.Access[1] = mark("access-2", Continue)
	phases.Access = append([]Handler{mark("access-1", NextPhase)}, phases.Access...)
	loc := NewLocation(phases, nil, nil)
	s := newSite(map[string]*Location{"/": loc})

	w, _, _ := s.serve(t, "/hello")
	if w.status != 200 || w.body.String() != "toy" {
		t.Errorf("/hello: %d %q, want 200 \"toy\"", w.status, w.body.String())
	}
	if got := strings.Join(trace, " "); got != "rewrite pre-access access-1 pre-content" {
		t.Errorf("phases ran %q", got)
	}

	trace = nil
	phases.Access = []Handler{deny}
	s.locs["/"] = NewLocation(phases, nil, nil)
	w, _, _ = s.serve(t, "/deny/x")
	if w.status != 403 || w.body.Len() != 0 {
		t.Errorf("/deny/x: %d %q, want the 403 page", w.status, w.body.String())
	}
	if got := strings.Join(trace, " "); got != "rewrite pre-access access" {
		t.Errorf("phases ran %q", got)
	}
	if len(logged) != 2 || logged[0] != 200 || logged[1] != 403 {
		t.Errorf("log phase saw %v, want [200 403]", logged)
	}
}

// TestNoContentHandler: a location without a content handler answers
// 404, and a request answered in server-rewrite is logged by the server's
// level without looking for a location.
func TestNoContentHandler(t *testing.T) {
	s := newSite(map[string]*Location{"/": NewLocation(LocationPhases{}, nil, nil)})
	if w, _, _ := s.serve(t, "/x"); w.status != 404 {
		t.Errorf("status %d, want 404", w.status)
	}
	var logged int
	level := NewLocation(LocationPhases{Log: []Handler{HandlerFunc(func(x *Ctx) Status { logged = x.W.Status(); return Continue })}}, nil, nil)
	s = newSiteLevel(level, nil, HandlerFunc(func(x *Ctx) Status { x.Error(410); return Done }))
	if w, _, _ := s.serve(t, "/x"); w.status != 410 || s.finds != 0 || logged != 410 {
		t.Errorf("status %d after %d location lookups, logged %d; want 410, 0, 410", w.status, s.finds, logged)
	}
}

// TestInternalRedirect: a content handler's redirect re-enters location
// matching with the new URI; a rewrite-phase SetURI does so after the
// rewrite phase.
func TestInternalRedirect(t *testing.T) {
	var seen string
	b := NewLocation(LocationPhases{Content: HandlerFunc(func(x *Ctx) Status {
		seen = string(x.URI.Path) + "|" + string(x.URI.Args)
		return status(200, "b").Handle(x)
	})}, nil, nil)
	a := NewLocation(LocationPhases{Content: HandlerFunc(func(x *Ctx) Status {
		return x.InternalRedirect([]byte("/b/from-a?k=v"))
	})}, nil, nil)
	rw := NewLocation(LocationPhases{
		Rewrite: []Handler{
			HandlerFunc(func(x *Ctx) Status { x.SetURI([]byte("/b/rewritten")); return Continue }),
		},
		Content: status(500, "not reached"),
	}, nil, nil)
	s := newSite(map[string]*Location{"/a": a, "/b": b, "/": rw})
	if w, _, _ := s.serve(t, "/a/x"); w.status != 200 || w.body.String() != "b" || seen != "/b/from-a|k=v" {
		t.Errorf("/a/x: %d %q, saw %q", w.status, w.body.String(), seen)
	}
	if s.finds != 2 {
		t.Errorf("%d location lookups, want 2", s.finds)
	}
	if w, _, _ := s.serve(t, "/other"); w.status != 200 || seen != "/b/rewritten|" {
		t.Errorf("/other: %d, saw %q", w.status, seen)
	}
}

// TestRedirectCycle: the eleventh internal redirect of a request is
// nginx's 500 with its error-log line; ten are allowed.
func TestRedirectCycle(t *testing.T) {
	for _, tt := range []struct {
		name   string
		phases func(n *int) LocationPhases
		while  string
	}{
		{"internal redirect", func(n *int) LocationPhases {
			return LocationPhases{Content: HandlerFunc(func(x *Ctx) Status {
				if *n++; *n > 10 && *n%100 == 0 {
					return status(200, "escaped").Handle(x)
				}
				return x.InternalRedirect([]byte("/loop"))
			})}
		}, "internally redirecting to"},
		{"rewrite", func(n *int) LocationPhases {
			return LocationPhases{Rewrite: []Handler{HandlerFunc(func(x *Ctx) Status {
				*n++
				x.SetURI([]byte("/loop"))
				return Continue
			})}}
		}, "processing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			s := newSite(map[string]*Location{"/loop": NewLocation(tt.phases(&n), nil, nil)})
			w, _, logged := s.serve(t, "/loop")
			if w.status != 500 {
				t.Errorf("status %d, want 500", w.status)
			}
			if n != 11 || s.finds != 11 {
				t.Errorf("handler ran %d times, %d location lookups; want 11, 11", n, s.finds)
			}
			want := `[error] 0#0: *7 rewrite or internal redirection cycle while ` + tt.while + ` "/loop", client: 192.0.2.1, server: , request: "GET /loop HTTP/1.1"`
			if !strings.Contains(logged, want) {
				t.Errorf("error log %q, want it to contain %q", logged, want)
			}
		})
	}

	// Ten redirects are fine.
	n := 0
	loop := NewLocation(LocationPhases{Content: HandlerFunc(func(x *Ctx) Status {
		if n++; n == 11 {
			return status(200, "ok").Handle(x)
		}
		return x.InternalRedirect([]byte("/loop"))
	})}, nil, nil)
	s := newSite(map[string]*Location{"/loop": loop})
	if w, _, logged := s.serve(t, "/loop"); w.status != 200 || logged != "" {
		t.Errorf("after 10 redirects: %d, log %q; want 200 and nothing logged", w.status, logged)
	}
}

// TestEmptyPhasesAllocs: running a request through locations whose
// phases are empty allocates nothing.
func TestEmptyPhasesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	loc := NewLocation(LocationPhases{Content: HandlerFunc(func(x *Ctx) Status { return Done })}, nil, nil)
	srv := NewServer(loc, nil, HandlerFunc(func(x *Ctx) Status { x.Enter(loc); return Continue }))
	e := NewEngine(HandlerFunc(func(x *Ctx) Status { x.EnterServer(srv); return Continue }))
	x := &Ctx{Env: &Env{Now: time.Now}, Conn: &Conn{}}
	w := &recorder{}
	n := testing.AllocsPerRun(100, func() {
		x.Reset(w)
		e.Run(x)
	})
	if n != 0 {
		t.Errorf("%v allocations per request, want 0", n)
	}
}
