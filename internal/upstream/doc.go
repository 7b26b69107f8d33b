// Package upstream holds upstream groups: their peers, nginx's load-balancing
// methods (smooth weighted round robin, least_conn, ip_hash, hash, hash
// consistent, random, random two), passive health accounting, the per-request
// retry decision of proxy_next_upstream, and keep-alive pools of idle
// upstream connections.
//
// # Shape
//
// A [Group] is built once per configuration generation from plain [Options]
// (the config package's types are mapped onto them by the server package).
// Each resolved address of a server directive becomes one [Peer]; a host name
// with several addresses gives several peers that share the parameters and
// the ketama server string.
//
// One proxied request uses one [Attempt]: [Attempt.Reset] binds it to a group
// and fixes the request's hash key, client address, try limit and retry mask;
// [Group.Pick] chooses the next peer; [Attempt.Fail] applies nginx's
// proxy_next_upstream procedure to a failure and says whether to retry;
// [Attempt.Done] releases the peer after a completed response.
//
// The architecture sketches the seam as Balancer.Pick(key, skip). nginx's
// hash-based methods keep per-request state across retries (ip_hash's running
// hash and try count, the generic hash's rehash counter, the ketama point
// index, the switch to the backup set), which a (key, skip) signature cannot
// carry without losing exactness. So the per-request state lives in the
// [Attempt], which is also the "skip" predicate: it holds the tried bitset and
// is consulted together with down, max_fails/fail_timeout and max_conns.
// Balancers never look at anything else. Picking allocates nothing.
//
// # Reload
//
// A reload builds new groups beside the old ones. [Group.CarryFrom] copies
// passive health state of the peers that remain (by group name and peer
// address) and can be called while building; [Group.AdoptIdle] moves idle
// keep-alive connections once the new generation is committed. [CarryOver]
// does both for whole generations.
//
// # Keep-alive pool size
//
// nginx's "keepalive N" caches up to N idle connections in each worker
// process (ngx_http_upstream_keepalive_module keeps its cache per
// worker), so an nginx with worker_processes W keeps up to N × W in all,
// each worker seeing about 1/W of the concurrent requests. gatehouse is one
// process serving what all W workers would, so its pool keeps N × W
// ([Keepalive.Workers]; the server package maps worker_processes onto it,
// "auto" being the number of CPUs, as in nginx). Dividing the load by W and
// the cache by W, as nginx does, or neither, as gatehouse does, gives the
// same number of idle connections for the same load; one pool of N for all
// of it would, under a steady load of more than N concurrent requests,
// close connections the next requests open again, each with a TLS
// handshake. The same applies to the keepalive that "defaults secure"
// supplies.
//
// An adaptive limit (keep whatever the recent peak concurrency needs) was
// not chosen: it would let idle connections exceed N × W, and nginx's
// keepalive is also how an operator bounds the idle connections a backend
// must hold open for the proxy.
//
// Idle connections are reused most recently used first (LIFO, like
// nginx's cache), so under a falling load the surplus ones gather at the
// least recently used end and keepalive_timeout closes them. [Pool.Stats]
// counts connections made (with full and resumed TLS handshakes), reused,
// kept, and closed by reason.
//
// # Time
//
// Failure accounting uses whole seconds, as nginx does (ngx_time()), read from
// the injected clock in [Env]. Tests drive the clock by hand.
//
// # Concurrency
//
// A Group's peer state is guarded by one mutex per group; a [Pool] has its
// own. An [Attempt] belongs to one request and is not safe for concurrent use.
package upstream
